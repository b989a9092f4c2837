// Authentication from command-line flags: --user/--pass and --auth (token).
#include <gtest/gtest.h>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;

natsStatus connect_with(ConnPtr& c, const std::string& url, const char* user, const char* pass,
                        const char* token) {
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 2000);
  natsOptions_SetAllowReconnect(o.p, false);
  if (user) natsOptions_SetUserInfo(o.p, user, pass);
  if (token) natsOptions_SetToken(o.p, token);
  return connect_url(c, url, o.p);
}

TEST(CoreAuth, UserPasswordAcceptedAndRefused) {
  ServerProcess srv({"--user", "alice", "--pass", "s3cret"});
  srv.start();
  {
    ConnPtr ok;
    ASSERT_EQ(connect_with(ok, srv.url(), "alice", "s3cret", nullptr), NATS_OK);
    SubPtr sub;
    ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, ok.p, "auth.t"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(ok.p, "auth.t", "in"), NATS_OK);
    MsgPtr m;
    ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 2000), NATS_OK);
    EXPECT_EQ(m.data(), "in");
  }
  ConnPtr bad, none;
  EXPECT_EQ(connect_with(bad, srv.url(), "alice", "wrong", nullptr), NATS_CONNECTION_AUTH_FAILED);
  EXPECT_EQ(connect_with(none, srv.url(), nullptr, nullptr, nullptr), NATS_CONNECTION_AUTH_FAILED);
}

TEST(CoreAuth, UserPasswordOnTheWire) {
  ServerProcess srv({"--user", "alice", "--pass", "s3cret"});
  srv.start();
  RawClient raw(srv.port());
  EXPECT_NE(raw.info().find("\"auth_required\":true"), std::string::npos) << raw.info();
  ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"nope\"}\r\nPING\r\n"));
  EXPECT_EQ(raw.read_line(), "-ERR 'Authorization Violation'");
  EXPECT_TRUE(raw.wait_closed(milliseconds(2000)));

  // A PING before any CONNECT is also refused when auth is required.
  RawClient early(srv.port());
  ASSERT_TRUE(early.send("PING\r\n"));
  EXPECT_EQ(early.read_line(), "-ERR 'Authorization Violation'");
  EXPECT_TRUE(early.wait_closed(milliseconds(2000)));

  RawClient good(srv.port());
  ASSERT_TRUE(good.send("CONNECT {\"verbose\":true,\"user\":\"alice\",\"pass\":\"s3cret\"}\r\nPING\r\n"));
  EXPECT_EQ(good.read_line(), "+OK");
  EXPECT_EQ(good.read_line(), "PONG");
}

TEST(CoreAuth, TokenAcceptedAndRefused) {
  ServerProcess srv({"--auth", "t0ken"});
  srv.start();
  ConnPtr ok, bad, none;
  EXPECT_EQ(connect_with(ok, srv.url(), nullptr, nullptr, "t0ken"), NATS_OK);
  EXPECT_EQ(connect_with(bad, srv.url(), nullptr, nullptr, "other"), NATS_CONNECTION_AUTH_FAILED);
  EXPECT_EQ(connect_with(none, srv.url(), nullptr, nullptr, nullptr), NATS_CONNECTION_AUTH_FAILED);

  RawClient raw(srv.port());
  EXPECT_NE(raw.info().find("\"auth_required\":true"), std::string::npos) << raw.info();
  ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"auth_token\":\"other\"}\r\nPING\r\n"));
  EXPECT_EQ(raw.read_line(), "-ERR 'Authorization Violation'");
  EXPECT_TRUE(raw.wait_closed(milliseconds(2000)));
}

TEST(CoreAuth, NoAuthRequiredByDefault) {
  ServerProcess srv;
  srv.start();
  RawClient raw(srv.port());
  EXPECT_EQ(raw.info().find("auth_required"), std::string::npos) << raw.info();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
