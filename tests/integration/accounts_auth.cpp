// Users and authentication from the config file: users lists with plain and bcrypt passwords,
// tokens, auth timeout, no_auth_user and the reference's implicit no-auth user (sys.conf).
#include <gtest/gtest.h>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

// "bpass", bcrypt cost 6.
constexpr const char* kBcrypt = "$2a$06$rplqoC6KTnPtlHW626RcouR6Kh/pXLcv9oMPpD5hmlSlcef9n1TC.";

std::string connect_line(const std::string& fields) { return "CONNECT {\"verbose\":false" + fields + "}\r\nPING\r\n"; }

// Sends CONNECT+PING; true if PONG came back, false on -ERR 'Authorization Violation' + close.
bool raw_auth(int port, const std::string& fields) {
  RawClient c(port);
  c.send(connect_line(fields));
  auto l = c.read_line();
  if (l && *l == "PONG") return true;
  EXPECT_EQ(l.value_or("<none>"), "-ERR 'Authorization Violation'");
  EXPECT_TRUE(c.wait_closed(milliseconds(2000)));
  return false;
}

TEST(AccountsAuth, UsersListPlainAndBcrypt) {
  auto srv = start_with_config(std::string("authorization { users: [\n") +
                               "  {user: alice, password: apass}\n"
                               "  {user: bob, password: \"" + kBcrypt + "\"}\n]}\n");
  EXPECT_TRUE(raw_auth(srv->port(), ",\"user\":\"alice\",\"pass\":\"apass\""));
  EXPECT_TRUE(raw_auth(srv->port(), ",\"user\":\"bob\",\"pass\":\"bpass\""));
  EXPECT_FALSE(raw_auth(srv->port(), ",\"user\":\"bob\",\"pass\":\"apass\""));
  EXPECT_FALSE(raw_auth(srv->port(), ",\"user\":\"carol\",\"pass\":\"apass\""));
  EXPECT_FALSE(raw_auth(srv->port(), ""));

  ConnPtr ok, bad;
  OptsPtr o;
  natsOptions_SetUserInfo(o.p, "bob", "bpass");
  natsOptions_SetAllowReconnect(o.p, false);
  EXPECT_EQ(connect_url(ok, srv->url(), o.p), NATS_OK);
  OptsPtr o2;
  natsOptions_SetUserInfo(o2.p, "bob", "wrong");
  natsOptions_SetAllowReconnect(o2.p, false);
  EXPECT_EQ(connect_url(bad, srv->url(), o2.p), NATS_CONNECTION_AUTH_FAILED);
}

TEST(AccountsAuth, TokenAndSingleUserInConfig) {
  auto tok = start_with_config("authorization { token: s3cr3t }\n");
  EXPECT_TRUE(raw_auth(tok->port(), ",\"auth_token\":\"s3cr3t\""));
  EXPECT_FALSE(raw_auth(tok->port(), ",\"auth_token\":\"nope\""));
  EXPECT_FALSE(raw_auth(tok->port(), ""));

  auto single = start_with_config("authorization { user: u, password: p }\n");
  EXPECT_TRUE(raw_auth(single->port(), ",\"user\":\"u\",\"pass\":\"p\""));
  EXPECT_FALSE(raw_auth(single->port(), ",\"user\":\"u\",\"pass\":\"x\""));
}

TEST(AccountsAuth, AuthTimeoutClosesSilentClient) {
  auto srv = start_with_config("authorization { user: u, password: p, timeout: 0.5 }\n");
  RawClient c(srv->port());
  auto start = Clock::now();
  EXPECT_EQ(c.read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'Authentication Timeout'");
  EXPECT_TRUE(c.wait_closed(milliseconds(2000)));
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  EXPECT_GE(took, 400);
  EXPECT_LT(took, 1500);
}

TEST(AccountsAuth, NoAuthUserLandsInItsAccount) {
  auto srv = start_with_config(
      "accounts { A { users [{user: a, password: a}] }, B { users [{user: b, password: b}] } }\n"
      "no_auth_user: b\n");
  RawClient anon(srv->port()), b(srv->port()), a(srv->port());
  ASSERT_TRUE(anon.send(connect_line("") + "SUB t 1\r\nPING\r\n"));
  ASSERT_TRUE(a.send(connect_line(",\"user\":\"a\",\"pass\":\"a\"") + "SUB t 1\r\nPING\r\n"));
  EXPECT_TRUE(anon.expect_line("PONG"));
  EXPECT_TRUE(anon.expect_line("PONG"));
  EXPECT_TRUE(a.expect_line("PONG"));
  EXPECT_TRUE(a.expect_line("PONG"));
  ASSERT_TRUE(b.send(connect_line(",\"user\":\"b\",\"pass\":\"b\"") + "PUB t 2\r\nhi\r\nPING\r\n"));
  EXPECT_TRUE(b.expect_line("PONG"));
  EXPECT_EQ(anon.read_line().value_or(""), "MSG t 1 2");  // anon is in B
  EXPECT_FALSE(a.read_line(milliseconds(200)).has_value());
}

// The seed's sys.conf: only $SYS is defined, so clients without credentials land in $G and
// the sys user in $SYS.
TEST(AccountsAuth, ImplicitNoAuthUserWithSysConf) {
  int http = testing_harness::free_port();
  auto srv = start_with_config("accounts { $SYS { users: [{user: sys, password: pass}] } }\nhttp: " +
                               std::to_string(http) + "\n");
  RawClient anon1(srv->port()), anon2(srv->port()), sys(srv->port());
  ASSERT_TRUE(anon1.send(connect_line("") + "SUB t 1\r\nPING\r\n"));
  EXPECT_TRUE(anon1.expect_line("PONG"));
  EXPECT_TRUE(anon1.expect_line("PONG"));
  ASSERT_TRUE(sys.send(connect_line(",\"user\":\"sys\",\"pass\":\"pass\"") + "SUB t 1\r\nPING\r\n"));
  EXPECT_TRUE(sys.expect_line("PONG"));
  EXPECT_TRUE(sys.expect_line("PONG"));
  ASSERT_TRUE(anon2.send(connect_line("") + "PUB t 2\r\nhi\r\nPING\r\n"));
  EXPECT_TRUE(anon2.expect_line("PONG"));
  EXPECT_EQ(anon1.read_line().value_or(""), "MSG t 1 2");
  EXPECT_FALSE(sys.read_line(milliseconds(200)).value_or("").starts_with("MSG"));
  // Wrong sys password is still refused.
  EXPECT_FALSE(raw_auth(srv->port(), ",\"user\":\"sys\",\"pass\":\"bad\""));

  auto r = testing_harness::run_command("curl -s 'http://127.0.0.1:" + std::to_string(http) +
                                        "/connz?auth=true&acc=%24SYS'");
  EXPECT_NE(r.output.find("\"authorized_user\": \"sys\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"num_connections\": 1,"), std::string::npos) << r.output;
  r = testing_harness::run_command("curl -s 'http://127.0.0.1:" + std::to_string(http) + "/connz?acc=%24G'");
  EXPECT_NE(r.output.find("\"num_connections\": 2,"), std::string::npos) << r.output;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
