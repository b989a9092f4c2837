// The URL account resolver (`resolver: URL("<base>")`): account JWTs fetched over HTTP with a
// GET of <base><account public key> when an account is first needed (the system account at
// start-up, a user's account at its CONNECT, the accounts it imports from). A small HTTP
// server in the test serves the JWTs; it can answer late or not at all. While a CONNECT waits
// for its account the server reads nothing more from that client, then handles what followed
// in order; a fetch that fails or times out (1.9 s) refuses the user with "Authorization
// Violation"; an account whose JWT has expired is fetched again at a CONNECT. Run against our
// server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "jwt_http_server.h"
#include "jwt_fixture.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;
using testing_harness::ServerProcess;
using itest::JwtHttpServer;

class JwtUrlResolver : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    http_.serve(sys_.pub, sys_jwt_);
    http_.serve("", "");  // both servers check at start-up that the base URL answers
  }
  std::string config() const { return operator_config() + "resolver: URL(\"" + http_.base() + "\")\n"; }
  std::unique_ptr<ServerProcess> start() { return start_with_config(config(), {}, GetParam()); }
  // A raw client's CONNECT for `user` of `account` (signing the INFO's nonce).
  static std::string raw_connect(RawClient& rc, const KeyPair& account, const KeyPair& user) {
    std::string nonce = json::parse(rc.info_json()).value("nonce", "");
    std::string ujwt = jwt::sign(jwt::user_claims(user, "u"), account, jwt::now_unix() - 60);
    return "CONNECT {\"verbose\":false,\"protocol\":1,\"jwt\":\"" + ujwt + "\",\"sig\":\"" +
           jwt::base64url(nats::nkey::sign(user.seed, nonce)) + "\"}\r\n";
  }

  KeyPair acc_ = jwt::account_keys(), exp_ = jwt::account_keys(), user_ = jwt::user_keys(),
          exp_user_ = jwt::user_keys();
  JwtHttpServer http_;
};

// The user's account and the account it imports a stream from are fetched at the CONNECT;
// the import works; the account is fetched once (registered from then on).
TEST_P(JwtUrlResolver, FetchesAccountAndItsExporterAtConnect) {
  json exporter = feed_exporter(exp_, "EXP"), importer = feed_importer(acc_, "ACC", exp_.pub);
  http_.serve(exp_.pub, jwt::sign(exporter, op_));
  http_.serve(acc_.pub, jwt::sign(importer, op_));
  auto srv = start();
  EXPECT_GE(http_.requests_for(sys_.pub), 1);
  ConnPtr imp, exp, again;
  ASSERT_EQ(connect_user(imp, srv->url(), acc_, user_), NATS_OK) << srv->log();
  ASSERT_EQ(connect_user(exp, srv->url(), exp_, exp_user_), NATS_OK) << srv->log();
  ASSERT_EQ(connect_user(again, srv->url(), acc_, jwt::user_keys()), NATS_OK) << srv->log();
  MsgCounter got;
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, imp.p, "feed.x", MsgCounter::on_msg, &got), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(imp.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(exp.p, "feed.x", "hi"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(exp.p), NATS_OK);
  EXPECT_TRUE(got.wait_count(1, milliseconds(3000)));
  EXPECT_EQ(http_.requests_for(acc_.pub), 1);
  EXPECT_EQ(http_.requests_for(exp_.pub), 1);
}

// An account the URL does not have (404) refuses its user; so does one whose answer comes
// after the fetch timeout, and meanwhile other clients are served as usual.
TEST_P(JwtUrlResolver, MissingOrLateAccountRefusesTheUser) {
  http_.serve(exp_.pub, jwt::sign(jwt::account_claims(exp_, "EXP"), op_));
  auto srv = start();
  ConnPtr other;
  ASSERT_EQ(connect_user(other, srv->url(), exp_, exp_user_), NATS_OK) << srv->log();

  RawClient missing(srv->port());
  missing.send(raw_connect(missing, acc_, user_) + "PING\r\n");
  EXPECT_EQ(missing.read_line(milliseconds(5000)).value_or("<none>"), "-ERR 'Authorization Violation'");
  EXPECT_GE(http_.requests_for(acc_.pub), 1);

  KeyPair late = jwt::account_keys();
  http_.serve(late.pub, jwt::sign(jwt::account_claims(late, "LATE"), op_), milliseconds(4000));
  RawClient waiting(srv->port());
  auto t0 = Clock::now();
  waiting.send(raw_connect(waiting, late, jwt::user_keys()) + "PING\r\n");
  // The other client is not held up by the fetch under way.
  std::this_thread::sleep_for(milliseconds(300));
  auto p0 = Clock::now();
  EXPECT_EQ(natsConnection_FlushTimeout(other.p, 1000), NATS_OK);
  EXPECT_LT(Clock::now() - p0, milliseconds(1000));
  EXPECT_EQ(waiting.read_line(milliseconds(6000)).value_or("<none>"), "-ERR 'Authorization Violation'");
  auto waited = Clock::now() - t0;
  EXPECT_GE(waited, milliseconds(1500));
  EXPECT_LT(waited, milliseconds(3900));  // the timeout (1.9 s), not the answer (4 s)
}

// What a client sends while its CONNECT waits for the account is handled after it, in order:
// a SUB and a PUB sent during the fetch give the message, then the PONG.
TEST_P(JwtUrlResolver, InputAfterConnectWaitsForTheAccountInOrder) {
  http_.serve(acc_.pub, jwt::sign(jwt::account_claims(acc_, "ACC"), op_), milliseconds(700));
  auto srv = start();
  RawClient rc(srv->port());
  rc.send(raw_connect(rc, acc_, user_));
  std::this_thread::sleep_for(milliseconds(200));
  rc.send("SUB feed 1\r\nPUB feed 2\r\nhi\r\n");
  std::this_thread::sleep_for(milliseconds(100));
  rc.send("PING\r\n");
  EXPECT_EQ(rc.read_line(milliseconds(5000)).value_or("<none>"), "MSG feed 1 2");
  EXPECT_EQ(rc.read_line(milliseconds(2000)).value_or("<none>"), "hi");
  EXPECT_EQ(rc.read_line(milliseconds(2000)).value_or("<none>"), "PONG");
}

// An account whose JWT expires while registered is fetched again when a user of it connects,
// as 2.9.10's lookupAccount does for an expired account: the URL still serving the expired
// JWT refuses the user, a renewed JWT there lets the next one in. About 3 s per server.
TEST_P(JwtUrlResolver, ExpiredAccountIsFetchedAgainAtConnect) {
  json claims = jwt::account_claims(acc_, "ACC");
  int64_t exp = jwt::now_unix() + 2;
  claims["exp"] = exp;
  http_.serve(acc_.pub, jwt::sign(claims, op_));
  auto srv = start();
  auto login = [&] {
    RawClient rc(srv->port());
    rc.send(raw_connect(rc, acc_, jwt::user_keys()) + "PING\r\n");
    return rc.read_line(milliseconds(5000)).value_or("<none>");
  };
  ASSERT_EQ(login(), "PONG") << srv->log();
  EXPECT_EQ(http_.requests_for(acc_.pub), 1);
  // Past the expiry (2.9.10 marks the account expired by a timer of whole seconds).
  while (jwt::now_unix() <= exp) std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(login(), "-ERR 'Authorization Violation'") << srv->log();
  EXPECT_EQ(http_.requests_for(acc_.pub), 2);
  claims.erase("exp");
  http_.serve(acc_.pub, jwt::sign(claims, op_));
  EXPECT_EQ(login(), "PONG") << srv->log();
  EXPECT_EQ(http_.requests_for(acc_.pub), 3);
  // Registered again with a JWT that has not expired: not fetched any more.
  EXPECT_EQ(login(), "PONG") << srv->log();
  EXPECT_EQ(http_.requests_for(acc_.pub), 3);
}

// A base URL that does not answer 200 stops the server at start-up with the fetch's error.
TEST_P(JwtUrlResolver, BaseUrlMustAnswerAtStartUp) {
  std::string conf = config();
  auto at = conf.find("/jwt/v1/accounts/");
  conf.replace(at, std::string("/jwt/v1/accounts/").size(), "/nothing/here/");
  std::string file = dir_->write("bad.conf", conf);
  auto r = testing_harness::run_command("timeout 10 " + GetParam() + " -p -1 -c " + file + " 2>&1");
  EXPECT_NE(r.status, 0) << r.output;
  std::string base = http_.base();
  base.replace(base.find("/jwt/v1/accounts/"), std::string("/jwt/v1/accounts/").size(), "/nothing/here/");
  EXPECT_NE(r.output.find("nats-server: could not fetch <\"" + base + "\">: 404 Not Found"), std::string::npos)
      << r.output;
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtUrlResolver,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
