// Private (token_req) exports in operator mode: an import works only with an activation token
// signed by the exporter for the importing account, covering the import's subject and not
// expired nor revoked by the export; differential against the reference 2.9.10.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;

std::string activation(const KeyPair& exporter, const std::string& importer, const std::string& subject,
                       int64_t expires = 0) {
  json c = {{"sub", importer},
            {"name", "act"},
            {"nats", {{"subject", subject}, {"kind", "stream"}, {"type", "activation"}, {"version", 2}}}};
  if (expires) c["exp"] = expires;
  return jwt::sign(c, exporter);
}

// The subjects (of priv.ok, priv.expired, priv.wrong, priv.other_acc, priv.none) whose
// messages from B reach A's subscriber.
std::vector<std::string> delivered(const std::string& binary, const std::string& bad) {
  KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), a = jwt::account_keys(), b = jwt::account_keys(),
          other = jwt::account_keys(), ua = jwt::user_keys(), ub = jwt::user_keys();
  json bc = jwt::account_claims(b, "B");
  bc["nats"]["exports"] =
      json::array({{{"name", "priv"}, {"subject", "priv.>"}, {"type", "stream"}, {"token_req", true}}});
  json ac = jwt::account_claims(a, "A");
  auto imp = [&](const std::string& subj, const std::string& token) {
    json i = {{"name", subj}, {"subject", subj}, {"account", b.pub}, {"type", "stream"}};
    if (!token.empty()) i["token"] = token;
    return i;
  };
  ac["nats"]["imports"] = json::array({imp("priv.ok", activation(b, a.pub, "priv.ok"))});
  if (bad == "priv.expired") ac["nats"]["imports"].push_back(imp(bad, activation(b, a.pub, bad, jwt::now_unix() - 60)));
  if (bad == "priv.wrong") ac["nats"]["imports"].push_back(imp(bad, activation(b, a.pub, "priv.something")));
  if (bad == "priv.other_acc") ac["nats"]["imports"].push_back(imp(bad, activation(b, other.pub, bad)));
  if (bad == "priv.none") ac["nats"]["imports"].push_back(imp(bad, ""));
  if (bad == "priv.revoked") {
    // The export revokes A's tokens issued up to 30 s ago: this one (60 s old) is revoked,
    // priv.ok's (issued now) is not.
    json c = {{"sub", a.pub},
              {"name", "act"},
              {"nats", {{"subject", bad}, {"kind", "stream"}, {"type", "activation"}, {"version", 2}}}};
    ac["nats"]["imports"].push_back(imp(bad, jwt::sign(c, b, jwt::now_unix() - 60)));
    bc["nats"]["exports"][0]["revocations"] = {{a.pub, jwt::now_unix() - 30}};
  }
  testing_harness::TempDir dir;
  std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op) + "\n");
  auto srv = start_with_config("operator: \"" + op_file + "\"\nsystem_account: " + sys.pub +
                                   "\nresolver: MEMORY\nresolver_preload: {\n  " + sys.pub + ": \"" +
                                   jwt::sign(jwt::account_claims(sys, "SYS"), op) + "\"\n  " + a.pub + ": \"" +
                                   jwt::sign(ac, op) + "\"\n  " + b.pub + ": \"" + jwt::sign(bc, op) + "\"\n}\n",
                               {}, binary);
  auto connect = [&](ConnPtr& c, const KeyPair& user, const KeyPair& acc) {
    std::string creds =
        dir.write(user.pub + ".creds", jwt::creds(jwt::sign(jwt::user_claims(user, "u"), acc), user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 2000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
    return connect_signed(c, srv->url(), o.p);
  };
  ConnPtr ca, cb;
  connect(ca, ua, a);
  EXPECT_EQ(connect(cb, ub, b), NATS_OK);
  if (!ca.p || !cb.p) return {"no connection"};
  SubPtr sub;
  natsConnection_SubscribeSync(&sub.p, ca.p, "priv.>");
  natsConnection_Flush(ca.p);
  for (const char* s : {"priv.ok", "priv.expired", "priv.wrong", "priv.other_acc", "priv.none", "priv.revoked"})
    natsConnection_PublishString(cb.p, s, "x");
  natsConnection_PublishString(cb.p, "priv.ok", "end");
  natsConnection_Flush(cb.p);
  std::vector<std::string> out;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 2000) != NATS_OK) break;
    if (m.data() == "end") break;
    out.push_back(m.subject());
  }
  return out;
}

TEST(JwtActivation, PrivateExportsNeedAValidToken) {
  for (std::string bad : {"", "priv.expired", "priv.wrong", "priv.other_acc", "priv.none", "priv.revoked"}) {
    SCOPED_TRACE("with import " + bad);
    auto ours = delivered(testing_harness::server_binary(), bad);
    // A token for another subject or account makes the whole account JWT invalid (its users
    // cannot connect); an expired, missing or revoked one only drops that import.
    if (bad == "priv.wrong" || bad == "priv.other_acc") EXPECT_EQ(ours, std::vector<std::string>{"no connection"});
    else EXPECT_EQ(ours, std::vector<std::string>{"priv.ok"});
    if (!testing_harness::reference_available()) continue;
    EXPECT_EQ(ours, delivered(testing_harness::reference_binary(), bad));
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
