// An account JWT update ($SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE) that adds or removes the
// JetStream limits switches JetStream on or off for that account at once, against the
// reference 2.9.10 (configJetStream): enabled, it serves the API; disabled, its streams stop
// (files kept) and every API request is answered 10039; enabled again, the streams are back.
#include <gtest/gtest.h>
#include <nats/nats.h>

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

// An answer without what differs run to run (timestamps, api counters).
json jwe_ask(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_Request(&m.p, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 2000) != NATS_OK)
    return "no answer";
  auto j = json::parse(m.data(), nullptr, false);
  if (!j.is_object()) return m.data();
  j.erase("created");
  j.erase("api");
  if (j.contains("state") && j["state"].is_object()) {
    j["state"].erase("first_ts");
    j["state"].erase("last_ts");
  }
  return j;
}

struct JweWorld {
  jwt::KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys(),
               user = jwt::user_keys(), sys_user = jwt::user_keys();
  TempDir dir;
  std::unique_ptr<ServerProcess> srv;
  ConnPtr nc, sys_nc;

  // js: whether the JWT carries JetStream limits (unlimited storage).
  std::string account_jwt(bool js) {
    json ac = jwt::account_claims(acc, "A");
    if (js) {
      ac["nats"]["limits"]["mem_storage"] = -1;
      ac["nats"]["limits"]["disk_storage"] = -1;
    }
    return jwt::sign(ac, op);
  }
  bool start(bool js, const std::string& binary) {
    std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op) + "\n");
    std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
    srv = start_with_config("operator: \"" + op_file + "\"\nsystem_account: " + sys.pub +
                                "\nresolver: MEMORY\nresolver_preload: {\n  " + sys.pub + ": \"" + sys_jwt +
                                "\"\n  " + acc.pub + ": \"" + account_jwt(js) + "\"\n}\njetstream { store_dir: \"" +
                                dir.path() + "/js\" }\n",
                            {}, binary);
    auto connect_as = [&](ConnPtr& c, const jwt::KeyPair& u, const jwt::KeyPair& a, const char* file) {
      std::string creds = dir.write(file, jwt::creds(jwt::sign(jwt::user_claims(u, "u"), a), u.seed));
      OptsPtr o;
      natsOptions_SetTimeout(o.p, 2000);
      natsOptions_SetAllowReconnect(o.p, false);
      natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
      return connect_signed(c, srv->url(), o.p);
    };
    return connect_as(nc, user, acc, "u.creds") == NATS_OK && connect_as(sys_nc, sys_user, sys, "s.creds") == NATS_OK;
  }
  json push(bool js) {
    std::string subj = "$SYS.REQ.ACCOUNT." + acc.pub + ".CLAIMS.UPDATE", token = account_jwt(js);
    MsgPtr m;
    if (natsConnection_RequestString(&m.p, sys_nc.p, subj.c_str(), token.c_str(), 3000) != NATS_OK) return "no answer";
    json j = json::parse(m.data(), nullptr, false);
    return j.is_object() && j.contains("data") ? json(j["data"].value("code", 0)) : json(m.data());
  }
};

std::vector<json> run_jwt_switch(const std::string& binary) {
  JweWorld w;
  EXPECT_TRUE(w.start(false, binary));
  if (!w.nc.p || !w.sys_nc.p) return {};
  natsConnection* nc = w.nc.p;
  std::vector<json> out;
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));  // 10039
  out.push_back(w.push(true));
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));
  out.push_back(jwe_ask(nc, "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"]})"));
  out.push_back(jwe_ask(nc, "s", "one"));
  out.push_back(w.push(false));
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));         // 10039
  out.push_back(jwe_ask(nc, "$JS.API.STREAM.NAMES"));  // 10039 too
  out.push_back(jwe_ask(nc, "s", "two"));              // the stream stopped: no answer
  out.push_back(w.push(true));
  out.push_back(jwe_ask(nc, "$JS.API.STREAM.INFO.S"));  // restored, with its message
  out.push_back(jwe_ask(nc, "s", "three"));
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));
  return out;
}

TEST(JsJwtEnable, ClaimsUpdateSwitchesJetStreamOnAndOff) {
  auto ours = run_jwt_switch(server_binary());
  ASSERT_EQ(ours.size(), 13u);
  auto err = [](const json& j) { return j.is_object() && j.contains("error") ? j["error"].value("err_code", 0) : 0; };
  EXPECT_EQ(err(ours[0]), 10039) << ours[0].dump();
  EXPECT_EQ(ours[1], 200) << ours[1].dump();
  EXPECT_EQ(err(ours[2]), 0) << ours[2].dump();
  EXPECT_EQ(ours[4].value("seq", 0), 1) << ours[4].dump();
  EXPECT_EQ(err(ours[6]), 10039) << ours[6].dump();
  EXPECT_EQ(err(ours[7]), 10039) << ours[7].dump();
  EXPECT_EQ(ours[8], "no answer") << ours[8].dump();
  EXPECT_EQ(ours[10]["state"].value("messages", 0), 1) << ours[10].dump();
  EXPECT_EQ(ours[11].value("seq", 0), 2) << ours[11].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = run_jwt_switch(reference_binary());
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "answer " << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
