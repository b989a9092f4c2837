// STREAM.NAMES/LIST and CONSUMER.NAMES/LIST in a 3-node cluster, against both servers: asked
// from every server right after each create answered, they already list the new asset (the
// meta leader answers from the meta assignments), with one answer each; ephemerals are listed
// too (they are meta assignments in 2.9.10), until they go for inactivity.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;
using testing_harness::reference_available;
using testing_harness::reference_binary;

std::string client_url(const JsNode& n) { return "nats://127.0.0.1:" + std::to_string(n.proc->port()); }

json one(natsConnection* nc, const std::string& subject, const std::string& payload = "") {
  auto all = collect(nc, subject, milliseconds(300), payload);
  EXPECT_EQ(all.size(), 1u) << subject << " got " << all.size() << " answers";
  return all.empty() ? json::object() : all.front();
}

std::vector<std::string> names(const json& r, const char* key) {
  std::vector<std::string> out;
  if (r.contains(key) && r[key].is_array())
    for (const auto& n : r[key]) out.push_back(n.is_string() ? n.get<std::string>() : n.value("name", ""));
  return out;
}

std::string list_names(const json& r) {
  std::string out;
  for (const auto& c : r.value("consumers", json::array())) out += c.value("name", "") + ",";
  return out;
}

// What each server answered, for the comparison of the two servers.
std::vector<std::string> run(const std::string& binary) {
  std::vector<std::string> seen;
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  EXPECT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  std::vector<ConnPtr> conns(3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(connect_url(conns[i], client_url(sc.node(i))), NATS_OK);
  json r;
  wait_for([&] {  // the meta group may still settle its first leader
    r = one(conns[0].p, "$JS.API.STREAM.CREATE.S",
            json{{"name", "S"}, {"subjects", {"s.>"}}, {"num_replicas", 3}}.dump());
    return !r.contains("error") && r.contains("config");
  }, milliseconds(15000));
  EXPECT_FALSE(r.contains("error")) << r.dump();
  for (size_t i = 0; i < 3; ++i) {
    r = one(conns[i].p, "$JS.API.STREAM.NAMES");
    EXPECT_EQ(names(r, "streams"), std::vector<std::string>{"S"}) << i << r.dump();
    EXPECT_EQ(r.value("total", -1), 1);
    seen.push_back("names " + std::to_string(i) + " " + r.dump());
  }
  r = one(conns[1].p, "$JS.API.STREAM.LIST");
  EXPECT_EQ(r.value("total", -1), 1) << r.dump();
  EXPECT_EQ(r["streams"].size(), 1u) << r.dump();
  EXPECT_FALSE(r.contains("missing")) << r.dump();

  // A replicated durable, an R1 durable, from different servers: listed everywhere at once.
  r = one(conns[0].p, "$JS.API.CONSUMER.CREATE.S.D",
          json{{"stream_name", "S"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}}.dump());
  EXPECT_FALSE(r.contains("error")) << r.dump();
  r = one(conns[2].p, "$JS.API.CONSUMER.CREATE.S.E",
          json{{"stream_name", "S"},
               {"config", {{"durable_name", "E"}, {"ack_policy", "explicit"}, {"num_replicas", 1}}}}
              .dump());
  EXPECT_FALSE(r.contains("error")) << r.dump();
  for (size_t i = 0; i < 3; ++i) {
    r = one(conns[i].p, "$JS.API.CONSUMER.NAMES.S");
    EXPECT_EQ(names(r, "consumers"), (std::vector<std::string>{"D", "E"})) << i << r.dump();
    EXPECT_EQ(r.value("total", -1), 2) << r.dump();
    EXPECT_EQ(r.value("limit", -1), 1024) << r.dump();
    r = one(conns[i].p, "$JS.API.CONSUMER.LIST.S");
    EXPECT_EQ(list_names(r), "D,E,") << i << r.dump();
    EXPECT_EQ(r.value("total", -1), 2) << r.dump();
    EXPECT_EQ(r.value("limit", -1), 256) << r.dump();
    EXPECT_FALSE(r.contains("missing")) << r.dump();
  }
  // Paging: offset past the first.
  r = one(conns[1].p, "$JS.API.CONSUMER.NAMES.S", json{{"offset", 1}}.dump());
  EXPECT_EQ(names(r, "consumers"), std::vector<std::string>{"E"}) << r.dump();
  EXPECT_EQ(r.value("offset", -1), 1);
  EXPECT_EQ(r.value("total", -1), 2);
  seen.push_back("offset " + r.dump());
  // Unknown stream: one error, from the meta leader.
  r = one(conns[2].p, "$JS.API.CONSUMER.NAMES.NOPE");
  seen.push_back("unknown names " + r.dump());
  r = one(conns[2].p, "$JS.API.CONSUMER.LIST.NOPE");
  seen.push_back("unknown list " + r.dump());

  // An ephemeral (pull) on the limits stream, created through a follower's connection.
  r = one(conns[1].p, "$JS.API.CONSUMER.CREATE.S",
          json{{"stream_name", "S"}, {"config", {{"ack_policy", "explicit"}}}}.dump());
  EXPECT_FALSE(r.contains("error")) << r.dump();
  std::string eph = r.value("name", "");
  seen.push_back("ephemeral num_replicas " + r["config"].value("num_replicas", json(-1)).dump() + " replicas " +
                 std::to_string(r.contains("cluster") ? r["cluster"].value("replicas", json::array()).size() : 99));
  for (size_t i = 0; i < 3; ++i) {
    r = one(conns[i].p, "$JS.API.CONSUMER.NAMES.S");
    auto got = names(r, "consumers");
    EXPECT_EQ(got.size(), 3u) << i << r.dump();
    EXPECT_TRUE(std::find(got.begin(), got.end(), eph) != got.end()) << eph << " " << r.dump();
  }
  r = one(conns[0].p, "$JS.API.CONSUMER.LIST.S");
  EXPECT_EQ(r.value("total", -1), 3) << r.dump();
  EXPECT_FALSE(r.contains("missing")) << r.dump();

  // An inactive ephemeral goes from the meta assignments too (its host proposes the removal).
  r = one(conns[2].p, "$JS.API.CONSUMER.CREATE.S",
          json{{"stream_name", "S"}, {"config", {{"ack_policy", "explicit"}, {"inactive_threshold", 1000000000}}}}
              .dump());
  std::string brief = r.value("name", "");
  EXPECT_FALSE(brief.empty()) << r.dump();
  bool gone = wait_for([&] {
    auto got = names(one(conns[0].p, "$JS.API.CONSUMER.NAMES.S"), "consumers");
    return std::find(got.begin(), got.end(), brief) == got.end();
  }, milliseconds(10000));
  EXPECT_TRUE(gone) << brief;
  seen.push_back(std::string("inactive ephemeral gone ") + (gone ? "yes" : "no"));
  return seen;
}

TEST(JsClusterList, NamesAndListRightAfterCreateFromEveryServer) {
  auto ours = run(testing_harness::server_binary());
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = run(reference_binary());
  EXPECT_EQ(ours, ref);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
