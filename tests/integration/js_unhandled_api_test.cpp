// API requests of a JetStream account that this server has no full handler for, against the
// reference 2.9.10. None may go unanswered (a client would wait for its timeout):
//  - STREAM.LEADER.STEPDOWN and STREAM.PEER.REMOVE need a cluster: 10010 on one server;
//  - STREAM.SNAPSHOT and STREAM.RESTORE answer the reference's first checks as it does (empty
//    request 10003, snapshot of a missing stream 10059, restore onto an existing stream 10130);
//    what follows them is tested in js_snapshot_test.cpp;
//  - the same order of checks for a message get: empty request before the stream's existence.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// The answer's error (or what kind of silence).
json unhandled_ask(natsConnection* nc, const std::string& subj, const std::string& body) {
  MsgPtr m;
  natsStatus st = natsConnection_RequestString(&m.p, nc, subj.c_str(), body.c_str(), 3000);
  if (st == NATS_TIMEOUT) return "timeout";
  if (st == NATS_NO_RESPONDERS) return "no responders";
  if (st != NATS_OK) return "error " + std::to_string(st);
  auto j = json::parse(m.data(), nullptr, false);
  if (!j.is_object()) return json(m.data());
  return json{{"type", j.value("type", "")}, {"error", j.value("error", json())}};
}

const char* const kRestoreBody =
    R"({"config":{"name":"S","subjects":["s.>"],"retention":"limits","storage":"file","num_replicas":1},)"
    R"("state":{"messages":0,"bytes":0,"first_seq":0,"last_seq":0,"consumer_count":0}})";

std::vector<json> unhandled_run(const std::string& binary) {
  std::vector<json> out;
  TempDir dir;
  auto srv = start_with_config("jetstream { store_dir: \"" + dir.path() + "/js\" }\n", {}, binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
  if (!nc.p) return out;
  auto created = unhandled_ask(nc.p, "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"]})");
  EXPECT_TRUE(created.is_object() && created["error"].is_null()) << created.dump();
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.S", ""));
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.PEER.REMOVE.S", R"({"peer":"x"})"));
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.SNAPSHOT.S", ""));
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.SNAPSHOT.NONE", R"({"deliver_subject":"snap.in"})"));
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.RESTORE.S", ""));
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.RESTORE.S", kRestoreBody));
  // Not unhandled, but the same class of check order: an empty message get of a missing stream.
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.MSG.GET.NONE", "{}"));
  out.push_back(unhandled_ask(nc.p, "$JS.API.STREAM.MSG.GET.NONE", R"({"seq":1})"));
  return out;
}

TEST(JsUnhandledApi, StepDownPeerRemoveSnapshotAndRestoreChecksAsTheReference) {
  if (!reference_available()) GTEST_SKIP() << "no reference server";
  auto ours = unhandled_run(server_binary());
  auto ref = unhandled_run(reference_binary());
  ASSERT_EQ(ours.size(), 8u);
  ASSERT_EQ(ref.size(), ours.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "answer " << i;
  EXPECT_EQ(ours[0]["error"]["err_code"], 10010);
  EXPECT_EQ(ours[2]["error"]["err_code"], 10003);
  EXPECT_EQ(ours[3]["error"]["err_code"], 10059);
  EXPECT_EQ(ours[5]["error"]["err_code"], 10130);
  EXPECT_EQ(ours[6]["error"]["err_code"], 10003);
  EXPECT_EQ(ours[7]["error"]["err_code"], 10059);
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
