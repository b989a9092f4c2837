// Subject mappings of an account JWT change live: an update pushed over
// $SYS.REQ.CLAIMS.UPDATE replaces, adds and removes mappings for the connected clients at
// once, as 2.9.10's updateAccountClaimsWithRefresh (run against both servers).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;

TEST(JwtLiveMappings, UpdatedMappingsApplyWithoutRestart) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), sys_user = jwt::user_keys(), acc = jwt::account_keys(),
            user = jwt::user_keys();
    testing_harness::TempDir dir;
    std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
    auto with_mappings = [&](const nlohmann::json& m) {
      auto c = jwt::account_claims(acc, "A");
      if (!m.is_null()) c["nats"]["mappings"] = m;
      return jwt::sign(c, op);
    };
    std::string first = with_mappings({{"map.in", {{{"subject", "map.one"}}}}});
    auto srv = start_with_config("operator: \"" + op_file + "\"\nsystem_account: " + sys.pub +
                                     "\nresolver { type: full, dir: \"" + dir.path() + "/jwts\" }\n" +
                                     "resolver_preload: { " + sys.pub + ": \"" +
                                     jwt::sign(jwt::account_claims(sys, "SYS"), op) + "\", " + acc.pub + ": \"" + first +
                                     "\" }\n",
                                 {}, bin);
    auto connect_as = [&](ConnPtr& c, const KeyPair& a, const KeyPair& u, const std::string& name) {
      std::string file = dir.write(name + ".creds", jwt::creds(jwt::sign(jwt::user_claims(u, name), a), u.seed));
      OptsPtr o;
      natsOptions_SetTimeout(o.p, 5000);
      natsOptions_SetAllowReconnect(o.p, false);
      natsOptions_SetUserCredentialsFromFiles(o.p, file.c_str(), nullptr);
      return connect_signed(c, srv->url(), o.p);
    };
    ConnPtr sysc, c;
    ASSERT_EQ(connect_as(sysc, sys, sys_user, "sys"), NATS_OK) << bin << srv->log();
    ASSERT_EQ(connect_as(c, acc, user, "u"), NATS_OK) << bin << srv->log();
    MsgCounter in, one, two;
    SubPtr s_in, s_one, s_two;
    ASSERT_EQ(natsConnection_Subscribe(&s_in.p, c.p, "map.in", MsgCounter::on_msg, &in), NATS_OK);
    ASSERT_EQ(natsConnection_Subscribe(&s_one.p, c.p, "map.one", MsgCounter::on_msg, &one), NATS_OK);
    ASSERT_EQ(natsConnection_Subscribe(&s_two.p, c.p, "map.two", MsgCounter::on_msg, &two), NATS_OK);
    auto publish = [&] {
      natsConnection_PublishString(c.p, "map.in", "x");
      natsConnection_PublishString(c.p, "map.extra", "x");
      natsConnection_Flush(c.p);
    };
    auto push = [&](const std::string& token) {
      MsgPtr m;
      ASSERT_EQ(natsConnection_RequestString(&m.p, sysc.p, "$SYS.REQ.CLAIMS.UPDATE", token.c_str(), 5000), NATS_OK);
      auto j = nlohmann::json::parse(m.data(), nullptr, false);
      ASSERT_TRUE(j.is_object() && j.contains("data")) << m.data();
      EXPECT_EQ(j["data"].value("code", 0), 200) << bin << m.data();
    };
    publish();
    ASSERT_TRUE(one.wait_count(1, milliseconds(3000))) << bin;
    EXPECT_EQ(in.get(), 0) << bin;

    // map.in now goes to map.two, and map.extra (new) to map.one.
    push(with_mappings({{"map.in", {{{"subject", "map.two"}}}}, {"map.extra", {{{"subject", "map.one"}}}}}));
    ASSERT_TRUE(wait_for([&] {
      publish();
      return two.get() >= 1;
    }, milliseconds(5000))) << bin << srv->log();
    int ones = one.get();
    publish();
    EXPECT_TRUE(wait_for([&] { return one.get() >= ones + 1; }, milliseconds(3000))) << bin;
    EXPECT_EQ(in.get(), 0) << bin;

    // No mappings: map.in is delivered as published.
    push(with_mappings(nullptr));
    EXPECT_TRUE(wait_for([&] {
      publish();
      return in.get() >= 1;
    }, milliseconds(5000))) << bin << srv->log();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
