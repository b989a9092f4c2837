// JetStream used from another account through imports, against the reference 2.9.10: an
// account importing A's "$JS.API.>" (with or without JetStream of its own) gets exactly one
// answer per API request, creates in A, and a watcher it creates on A's KV bucket (push
// consumer delivering on an imported stream subject) sees updates put through "$KV.>".
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// Every answer to one request within `wait_ms` of silence.
std::vector<std::string> answers(natsConnection* nc, const std::string& subject, const std::string& body,
                                 int wait_ms = 400) {
  static int seq = 0;
  std::string inbox = "_INBOX.xacc." + std::to_string(++seq);
  SubPtr sub;
  std::vector<std::string> out;
  if (natsConnection_SubscribeSync(&sub.p, nc, inbox.c_str()) != NATS_OK) return {"<sub failed>"};
  natsConnection_Flush(nc);
  natsConnection_PublishRequest(nc, subject.c_str(), inbox.c_str(), body.data(), static_cast<int>(body.size()));
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, wait_ms) != NATS_OK) break;
    out.push_back(m.data());
  }
  return out;
}

// A short summary of an API answer: its type, error code or the name it is about.
std::string summary(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return "<not json>";
  std::string s = j.value("type", "");
  if (j.contains("error")) s += " err " + std::to_string(j["error"].value("err_code", 0));
  if (j.contains("config") && j["config"].contains("name")) s += " " + j["config"]["name"].get<std::string>();
  if (j.contains("streams"))  // a count in account info, the names in STREAM.NAMES
    s += " streams " + (j["streams"].is_array() ? j["streams"].dump() : std::to_string(j.value("streams", 0)));
  return s;
}

// The cross-account walk, as A (the exporter) and B (the importer) connections.
std::vector<std::string> exercise(natsConnection* a, natsConnection* b) {
  std::vector<std::string> log;
  auto record = [&](const std::string& what, const std::vector<std::string>& got) {
    log.push_back(what + ": " + std::to_string(got.size()) + " answer(s)");
    for (auto& g : got) log.push_back("  " + summary(g));
  };
  record("B account info", answers(b, "$JS.API.INFO", ""));
  record("B creates KV_cfg",
         answers(b, "$JS.API.STREAM.CREATE.KV_cfg",
                 R"({"name":"KV_cfg","subjects":["$KV.cfg.>"],"storage":"memory","max_msgs_per_subject":1,)"
                 R"("allow_rollup_hdrs":true,"deny_delete":true,"allow_direct":true})"));
  record("A stream names", answers(a, "$JS.API.STREAM.NAMES", ""));
  record("B stream info", answers(b, "$JS.API.STREAM.INFO.KV_cfg", ""));
  record("B missing stream", answers(b, "$JS.API.STREAM.INFO.NOPE", ""));

  // A watcher of B's: an ordered-style push consumer delivering to an imported subject.
  SubPtr watch;
  EXPECT_EQ(natsConnection_SubscribeSync(&watch.p, b, "deliver.b.watch"), NATS_OK);
  natsConnection_Flush(b);
  record("B creates a watcher",
         answers(b, "$JS.API.CONSUMER.CREATE.KV_cfg",
                 R"({"stream_name":"KV_cfg","config":{"deliver_subject":"deliver.b.watch","ack_policy":"none",)"
                 R"("deliver_policy":"last_per_subject","filter_subject":"$KV.cfg.>","flow_control":false}})"));
  // Puts from B through the imported "$KV.>" and from A directly.
  record("B puts k1", answers(b, "$KV.cfg.k1", "v1"));
  request_text(a, "$KV.cfg.k2", "v2");
  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, watch.p, 3000) != NATS_OK) break;
    seen.push_back(m.subject() + "=" + m.data());
  }
  log.push_back("watcher saw:");
  for (auto& s : seen) log.push_back("  " + s);
  return log;
}

std::vector<std::string> scenario(const std::string& binary, bool b_has_jetstream) {
  TempDir store;
  std::string conf =
      "jetstream { store_dir: \"" + store.path() + "\" }\n"
      "accounts {\n"
      "  A: { jetstream: enabled, users: [{user: a, password: a}],\n"
      "       exports: [ {service: \"$JS.API.>\"}, {service: \"$KV.>\"}, {stream: \"deliver.>\"} ] }\n"
      "  B: { " + std::string(b_has_jetstream ? "jetstream: enabled, " : "") +
      "users: [{user: b, password: b}],\n"
      "       imports: [ {service: {account: A, subject: \"$JS.API.>\"}}, {service: {account: A, subject: \"$KV.>\"}},\n"
      "                  {stream: {account: A, subject: \"deliver.>\"}} ] }\n"
      "}\n";
  auto srv = start_with_config(conf, {}, binary);
  ConnPtr a, b;
  std::string url_a = "nats://a:a@127.0.0.1:" + std::to_string(srv->port());
  std::string url_b = "nats://b:b@127.0.0.1:" + std::to_string(srv->port());
  EXPECT_EQ(connect_url(a, url_a), NATS_OK);
  EXPECT_EQ(connect_url(b, url_b), NATS_OK);
  if (!a.p || !b.p) return {"<no connection>"};
  return exercise(a.p, b.p);
}

// The same accounts from account JWTs (operator mode): A has JetStream (unlimited) and
// exports; B imports, with or without JetStream of its own. Either preloaded in a MEMORY
// resolver (known at start), or pushed to a full resolver after start (registered when
// their first user connects).
std::vector<std::string> jwt_scenario(const std::string& binary, bool b_has_jetstream, bool pushed = false) {
  jwt::KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc_a = jwt::account_keys(),
               acc_b = jwt::account_keys(), user_a = jwt::user_keys(), user_b = jwt::user_keys();
  std::string op_jwt = jwt::sign(jwt::operator_claims(op, sys.pub), op);
  std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
  auto js_on = [](json& claims) {
    claims["nats"]["limits"]["mem_storage"] = -1;
    claims["nats"]["limits"]["disk_storage"] = -1;
  };
  json ca = jwt::account_claims(acc_a, "A");
  js_on(ca);
  ca["nats"]["exports"] = json::array({{{"subject", "$JS.API.>"}, {"type", "service"}},
                                       {{"subject", "$KV.>"}, {"type", "service"}},
                                       {{"subject", "deliver.>"}, {"type", "stream"}}});
  json cb = jwt::account_claims(acc_b, "B");
  if (b_has_jetstream) js_on(cb);
  cb["nats"]["imports"] = json::array({{{"subject", "$JS.API.>"}, {"account", acc_a.pub}, {"type", "service"}},
                                       {{"subject", "$KV.>"}, {"account", acc_a.pub}, {"type", "service"}},
                                       {{"subject", "deliver.>"}, {"account", acc_a.pub}, {"type", "stream"}}});
  TempDir dir;
  std::string op_file = dir.write("op.jwt", op_jwt + "\n");
  std::string jwt_a = jwt::sign(ca, op), jwt_b = jwt::sign(cb, op);
  std::string resolver = "resolver: MEMORY\nresolver_preload: {\n  " + sys.pub + ": \"" + sys_jwt + "\"\n  " +
                         acc_a.pub + ": \"" + jwt_a + "\"\n  " + acc_b.pub + ": \"" + jwt_b + "\"\n}\n";
  if (pushed)
    resolver = "resolver { type: full, dir: \"" + dir.path() + "/jwts\" }\nresolver_preload: {\n  " + sys.pub +
               ": \"" + sys_jwt + "\"\n}\n";
  auto srv = start_with_config("operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\n" + resolver +
                                   "jetstream { store_dir: \"" + dir.path() + "/js\" }\n",
                               {}, binary);
  auto connect_as = [&](ConnPtr& nc, const jwt::KeyPair& user, const jwt::KeyPair& account, const std::string& name) {
    std::string creds = dir.write(name + ".creds", jwt::creds(jwt::sign(jwt::user_claims(user, name), account), user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 2000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
    EXPECT_EQ(connect_signed(nc, srv->url(), o.p), NATS_OK);
  };
  if (pushed) {
    ConnPtr sys_nc;
    connect_as(sys_nc, jwt::user_keys(), sys, "sys");
    if (!sys_nc.p) return {"<no system connection>"};
    for (auto* token : {&jwt_a, &jwt_b}) {
      MsgPtr m;
      EXPECT_EQ(natsConnection_RequestString(&m.p, sys_nc.p, "$SYS.REQ.CLAIMS.UPDATE", token->c_str(), 3000), NATS_OK);
    }
  }
  ConnPtr a, b;
  connect_as(b, user_b, acc_b, "b");  // B first: A is registered as its exporter
  connect_as(a, user_a, acc_a, "a");
  if (!a.p || !b.p) return {"<no connection>"};
  return exercise(a.p, b.p);
}

void compare(const std::vector<std::string>& ours, const std::vector<std::string>& ref) {
  size_t n = std::max(ours.size(), ref.size());
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(i < ours.size() ? ours[i] : "<none>", i < ref.size() ? ref[i] : "<none>") << "line " << i;
}

TEST(JsCrossAccount, ImportedApiAnswersOnceWithoutOwnJetStream) {
  auto ours = scenario(server_binary(), false);
  for (auto& l : ours) std::printf("%s\n", l.c_str());
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, scenario(reference_binary(), false));
}

TEST(JsCrossAccount, ImportedApiAnswersOnceWithOwnJetStream) {
  auto ours = scenario(server_binary(), true);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, scenario(reference_binary(), true));
}

// The same from account JWTs (operator mode): one answer per request, as 2.9.10.
TEST(JsCrossAccount, JwtImportedApiAnswersOnceWithoutOwnJetStream) {
  auto ours = jwt_scenario(server_binary(), false);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, jwt_scenario(reference_binary(), false));
}

TEST(JsCrossAccount, JwtImportedApiAnswersOnceWithOwnJetStream) {
  auto ours = jwt_scenario(server_binary(), true);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, jwt_scenario(reference_binary(), true));
}

// Accounts pushed to a full resolver after start, registered on first use.
TEST(JsCrossAccount, PushedJwtAccountsAnswerOnce) {
  for (bool b_js : {false, true}) {
    auto ours = jwt_scenario(server_binary(), b_js, true);
    for (auto& l : ours) std::printf("%s\n", l.c_str());
    if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
    compare(ours, jwt_scenario(reference_binary(), b_js, true));
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
