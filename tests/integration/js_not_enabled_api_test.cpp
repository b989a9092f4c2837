// API answers for accounts without JetStream on a JetStream server, against the reference 2.9.10:
//  - an account that never had JetStream imports the whole API (configJetStream's
//    enableJetStreamInfoServiceImportOnly imports `$JS.API.>`): each handler answers 10039 in
//    its response's shape (paging fields, null or empty lists, "purged", "deliver_subject"),
//    snapshots, restores and message gets too; the leader step-downs and peer removal first
//    need clustering (10010); DIRECT.GET is never answered;
//  - the system account: only `$JS.API.INFO` is answered (10039), every other API request is
//    dropped (the requester times out, there are responders);
// and, on the JetStream account, the stream advisories of a template's stream name the
// template ("template"), created and deleted.
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

// The whole answer, or what kind of silence: "timeout" (someone listens, nobody answers) or
// "no responders".
json nea_ask(natsConnection* nc, const std::string& subj, int timeout_ms = 3000) {
  MsgPtr m;
  natsStatus st = natsConnection_RequestString(&m.p, nc, subj.c_str(), "{}", timeout_ms);
  if (st == NATS_TIMEOUT) return "timeout";
  if (st == NATS_NO_RESPONDERS) return "no responders";
  if (st != NATS_OK) return "error " + std::to_string(st);
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_object() ? j : json(m.data());
}

// An advisory without what differs run to run.
json nea_advisory(natsMsg* m) {
  auto j = json::parse(std::string(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m))), nullptr, false);
  if (!j.is_object()) return "bad json";
  j.erase("id");
  j.erase("timestamp");
  return json{{"subject", natsMsg_GetSubject(m)}, {"body", j}};
}

struct NeaResult {
  std::vector<json> answers;     // by the account without JetStream, then the system account
  std::vector<json> advisories;  // the template's stream's
};

NeaResult nea_run(const std::string& binary) {
  NeaResult out;
  TempDir dir;
  auto srv = start_with_config("jetstream { store_dir: \"" + dir.path() +
                                   "/js\" }\n"
                                   "accounts {\n"
                                   "  A: { jetstream: enabled, users: [{user: a, password: a}] }\n"
                                   "  B: { users: [{user: b, password: b}] }\n"
                                   "  SYS: { users: [{user: s, password: s}] }\n"
                                   "}\n"
                                   "system_account: SYS\n",
                               {}, binary);
  std::string hostport = srv->url().substr(7);
  ConnPtr a, b, s;
  EXPECT_EQ(connect_url(a, "nats://a:a@" + hostport), NATS_OK);
  EXPECT_EQ(connect_url(b, "nats://b:b@" + hostport), NATS_OK);
  EXPECT_EQ(connect_url(s, "nats://s:s@" + hostport), NATS_OK);
  if (!a.p || !b.p || !s.p) return out;

  for (const char* subj : {"$JS.API.INFO", "$JS.API.STREAM.CREATE.X", "$JS.API.STREAM.UPDATE.X",
                           "$JS.API.STREAM.INFO.X", "$JS.API.STREAM.DELETE.X", "$JS.API.STREAM.PURGE.X",
                           "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST", "$JS.API.STREAM.MSG.GET.X",
                           "$JS.API.STREAM.MSG.DELETE.X", "$JS.API.STREAM.SNAPSHOT.X", "$JS.API.STREAM.RESTORE.X",
                           "$JS.API.STREAM.LEADER.STEPDOWN.X", "$JS.API.STREAM.PEER.REMOVE.X",
                           "$JS.API.CONSUMER.CREATE.X", "$JS.API.CONSUMER.CREATE.X.Y",
                           "$JS.API.CONSUMER.DURABLE.CREATE.X.Y", "$JS.API.CONSUMER.INFO.X.Y",
                           "$JS.API.CONSUMER.DELETE.X.Y", "$JS.API.CONSUMER.NAMES.X", "$JS.API.CONSUMER.LIST.X",
                           "$JS.API.CONSUMER.LEADER.STEPDOWN.X.Y", "$JS.API.STREAM.TEMPLATE.CREATE.T",
                           "$JS.API.STREAM.TEMPLATE.INFO.T", "$JS.API.STREAM.TEMPLATE.DELETE.T",
                           "$JS.API.STREAM.TEMPLATE.NAMES"})
    out.answers.push_back(nea_ask(b.p, subj));
  // Silences: short waits (an answer, if any, would come at once).
  out.answers.push_back(nea_ask(b.p, "$JS.API.DIRECT.GET.X", 500));
  out.answers.push_back(nea_ask(s.p, "$JS.API.INFO"));
  out.answers.push_back(nea_ask(s.p, "$JS.API.STREAM.NAMES", 500));

  // A template's stream, created by a message and deleted with the template.
  SubPtr adv;
  EXPECT_EQ(natsConnection_SubscribeSync(&adv.p, a.p, "$JS.EVENT.ADVISORY.STREAM.>"), NATS_OK);
  natsConnection_Flush(a.p);
  MsgPtr m;
  std::string tpl = R"({"name":"T","config":{"subjects":["tpl.*"],"storage":"memory"},"max_streams":1})";
  EXPECT_EQ(natsConnection_RequestString(&m.p, a.p, "$JS.API.STREAM.TEMPLATE.CREATE.T", tpl.c_str(), 3000), NATS_OK);
  m.reset();
  EXPECT_EQ(natsConnection_RequestString(&m.p, a.p, "tpl.a", "x", 3000), NATS_OK);  // the PubAck
  m.reset();
  EXPECT_EQ(natsConnection_RequestString(&m.p, a.p, "$JS.API.STREAM.TEMPLATE.DELETE.T", "", 3000), NATS_OK);
  for (int i = 0; i < 2; ++i) {
    MsgPtr am;
    if (natsSubscription_NextMsg(&am.p, adv.p, 3000) != NATS_OK) break;
    out.advisories.push_back(nea_advisory(am.p));
  }
  return out;
}

TEST(JsNotEnabledApi, AccountsWithoutJetStreamAndTemplateAdvisoriesAsTheReference) {
  auto ours = nea_run(server_binary());
  ASSERT_EQ(ours.answers.size(), 29u);
  auto err = [](const json& j) { return j.is_object() && j.contains("error") ? j["error"].value("err_code", 0) : 0; };
  EXPECT_EQ(err(ours.answers[0]), 10039) << ours.answers[0].dump();
  EXPECT_EQ(ours.answers[5].value("purged", -1), 0) << ours.answers[5].dump();
  EXPECT_EQ(err(ours.answers[8]), 10039) << ours.answers[8].dump();    // MSG.GET
  EXPECT_EQ(err(ours.answers[10]), 10039) << ours.answers[10].dump();  // SNAPSHOT
  EXPECT_EQ(err(ours.answers[12]), 10010) << ours.answers[12].dump();  // STREAM.LEADER.STEPDOWN
  EXPECT_EQ(ours.answers[26], "timeout");                              // DIRECT.GET
  EXPECT_EQ(err(ours.answers[27]), 10039) << ours.answers[27].dump();  // the system account's INFO
  EXPECT_EQ(ours.answers[28], "timeout");                              // its other API requests
  ASSERT_EQ(ours.advisories.size(), 2u);
  EXPECT_EQ(ours.advisories[0]["body"].value("template", ""), "T") << ours.advisories[0].dump();
  EXPECT_EQ(ours.advisories[1]["body"].value("template", ""), "T") << ours.advisories[1].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = nea_run(reference_binary());
  ASSERT_EQ(ours.answers.size(), ref.answers.size());
  for (size_t i = 0; i < ours.answers.size(); ++i) EXPECT_EQ(ours.answers[i], ref.answers[i]) << "answer " << i;
  EXPECT_EQ(ours.advisories, ref.advisories);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
