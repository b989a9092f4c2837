// One server in operator mode (MEMORY resolver) with JetStream, an account A whose JWT carries
// the given limits, a user of A and a system user, and the account JWT update
// ($SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE): the set-up of the tests that switch JetStream and its
// limits through account JWTs (js_jwt_enable, js_tiered_limits), on ours or the reference.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "jwt_test_util.h"
#include "test_util.h"

namespace itest {

struct JwtJsWorld {
  jwt::KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys(),
               user = jwt::user_keys(), sys_user = jwt::user_keys();
  testing_harness::TempDir dir;
  std::unique_ptr<testing_harness::ServerProcess> srv;
  ConnPtr nc, sys_nc;

  // A's JWT, `limits` merged into its limits.
  std::string account_jwt(const nlohmann::json& limits) {
    nlohmann::json ac = jwt::account_claims(acc, "A");
    for (const auto& [k, v] : limits.items()) ac["nats"]["limits"][k] = v;
    return jwt::sign(ac, op);
  }
  // Starts `binary` and connects both users; false when either could not connect.
  bool start(const nlohmann::json& limits, const std::string& binary) {
    std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op) + "\n");
    std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
    srv = start_with_config(
        "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver: MEMORY\nresolver_preload: {\n  " +
            sys.pub + ": \"" + sys_jwt + "\"\n  " + acc.pub + ": \"" + account_jwt(limits) +
            "\"\n}\njetstream { store_dir: \"" + dir.path() + "/js\" }\n",
        {}, binary);
    auto connect_as = [&](ConnPtr& c, const jwt::KeyPair& u, const jwt::KeyPair& a, const char* file) {
      std::string creds = dir.write(file, jwt::creds(jwt::sign(jwt::user_claims(u, "u"), a), u.seed));
      OptsPtr o;
      natsOptions_SetTimeout(o.p, 5000);  // as connect_url: a loaded CI machine's ASan server can take over 2 s
      natsOptions_SetAllowReconnect(o.p, false);
      natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
      return connect_signed(c, srv->url(), o.p);
    };
    return connect_as(nc, user, acc, "u.creds") == NATS_OK && connect_as(sys_nc, sys_user, sys, "s.creds") == NATS_OK;
  }
  // Sends A's JWT again with `limits`: the update's answer code (200: applied).
  nlohmann::json push(const nlohmann::json& limits) {
    std::string subj = "$SYS.REQ.ACCOUNT." + acc.pub + ".CLAIMS.UPDATE", token = account_jwt(limits);
    MsgPtr m;
    if (natsConnection_RequestString(&m.p, sys_nc.p, subj.c_str(), token.c_str(), 3000) != NATS_OK) return "no answer";
    nlohmann::json j = nlohmann::json::parse(m.data(), nullptr, false);
    return j.is_object() && j.contains("data") ? nlohmann::json(j["data"].value("code", 0)) : nlohmann::json(m.data());
  }
};

}  // namespace itest
