// The operator JWT's account_server_url: with no `resolver` in the config, 2.9.10 resolves
// accounts over HTTP at <account_server_url>/accounts/<key> (where nsc pushes them); a
// `resolver` given in the config takes precedence. Run against both servers.
#include <gtest/gtest.h>

#include "jwt_http_server.h"
#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;

TEST(JwtAccountServerUrl, OperatorsAccountServerUrlIsTheUrlResolver) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys(), user = jwt::user_keys();
    testing_harness::TempDir dir;
    JwtHttpServer http;
    http.serve(sys.pub, jwt::sign(jwt::account_claims(sys, "SYS"), op));
    http.serve(acc.pub, jwt::sign(jwt::account_claims(acc, "A"), op));
    http.serve("", "");  // the start-up check of the base URL
    auto oc = jwt::operator_claims(op, sys.pub);
    std::string base = http.base();  // ".../jwt/v1/accounts/"
    oc["nats"]["account_server_url"] = base.substr(0, base.size() - std::string("/accounts/").size());
    std::string op_file = dir.write("op.jwt", jwt::sign(oc, op));
    auto srv = start_with_config("operator: \"" + op_file + "\"\n", {}, bin);
    std::string creds = dir.write("u.creds", jwt::creds(jwt::sign(jwt::user_claims(user, "u"), acc), user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 5000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
    ConnPtr c;
    EXPECT_EQ(connect_signed(c, srv->url(), o.p), NATS_OK) << bin << srv->log();
    EXPECT_EQ(http.requests_for(acc.pub), 1) << bin;
  }
}

// A resolver in the config wins over the operator's account server URL.
TEST(JwtAccountServerUrl, ConfiguredResolverTakesPrecedence) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    KeyPair op = jwt::operator_keys(), sys = jwt::account_keys();
    testing_harness::TempDir dir;
    auto oc = jwt::operator_claims(op, sys.pub);
    oc["nats"]["account_server_url"] = "http://127.0.0.1:1/jwt/v1";  // nobody there
    std::string op_file = dir.write("op.jwt", jwt::sign(oc, op));
    auto srv = start_with_config("operator: \"" + op_file + "\"\nresolver: MEMORY\nresolver_preload: { " + sys.pub +
                                     ": \"" + jwt::sign(jwt::account_claims(sys, "SYS"), op) + "\" }\n",
                                 {}, bin);
    ASSERT_TRUE(srv) << bin;
    ConnPtr c;
    EXPECT_NE(connect_url(c, srv->url()), NATS_OK) << bin;  // operator mode: no anonymous users
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
