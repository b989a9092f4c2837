// Per-user permissions: publish/subscribe allow and deny, queue-group entries, wildcard
// subscriptions filtered by deny entries, allow_responses and account default_permissions,
// with the reference's exact -ERR texts (the connection stays open).
#include <gtest/gtest.h>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

std::string login(const std::string& u) {
  return "CONNECT {\"verbose\":false,\"user\":\"" + u + "\",\"pass\":\"" + u + "\"}\r\n";
}

std::string until_pong(RawClient& c) {
  std::string seen;
  EXPECT_TRUE(c.expect_line("PONG", milliseconds(2000), &seen)) << seen;
  return seen;
}

const char* kPermConf = R"(
authorization {
  users [
    {user: a, password: a, permissions: {
      publish: {allow: ["foo.>", "_INBOX.>"], deny: ["foo.bar"]}
      subscribe: {allow: ["foo.>", "q.* grp"], deny: ["foo.baz"]}
    }}
    {user: r, password: r, permissions: {subscribe: "req", allow_responses: {max: 2}}}
    {user: t, password: t, permissions: {subscribe: "req", publish: "ok", allow_responses: true}}
    {user: free, password: free}
  ]
}
)";

TEST(AccountsPermissions, PublishAndSubscribeDeniedWithExactErrors) {
  auto srv = start_with_config(kPermConf);
  RawClient a(srv->port());
  a.send(login("a") + "PING\r\n");
  until_pong(a);
  a.send("PUB foo.bar 1\r\nx\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Publish to \"foo.bar\"'\n");
  a.send("PUB other 1\r\nx\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Publish to \"other\"'\n");
  a.send("SUB foo.baz 1\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Subscription to \"foo.baz\"'\n");
  a.send("SUB bar 2\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Subscription to \"bar\"'\n");
  a.send("SUB foo.baz qq 3\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Subscription to \"foo.baz\" using queue \"qq\"'\n");
  // Still open and working.
  a.send("SUB foo.ok 4\r\nPUB foo.ok 2\r\nhi\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "MSG foo.ok 4 2\nhi\n");
  EXPECT_FALSE(a.closed());
}

TEST(AccountsPermissions, QueueGroupEntries) {
  auto srv = start_with_config(kPermConf);
  RawClient a(srv->port());
  a.send(login("a") + "PING\r\n");
  until_pong(a);
  a.send("SUB q.x 1\r\nPING\r\n");  // only the queue form is allowed
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Subscription to \"q.x\"'\n");
  a.send("SUB q.x grp 2\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "");
  a.send("SUB q.x other 3\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Subscription to \"q.x\" using queue \"other\"'\n");
  RawClient f(srv->port());
  f.send(login("free") + "PUB q.x 1\r\nm\r\nPING\r\n");
  until_pong(f);
  a.send("PING\r\n");
  EXPECT_EQ(until_pong(a), "MSG q.x 2 1\nm\n");
}

TEST(AccountsPermissions, WildcardSubscriptionFilteredByDeny) {
  auto srv = start_with_config(kPermConf);
  RawClient a(srv->port());
  a.send(login("a") + "SUB foo.* 1\r\nPUB foo.baz 1\r\n1\r\nPUB foo.zz 1\r\n2\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "MSG foo.zz 1 1\n2\n");
}

TEST(AccountsPermissions, AllowResponsesHonoursMax) {
  auto srv = start_with_config(kPermConf);
  RawClient req(srv->port()), r(srv->port()), t(srv->port());
  req.send(login("free") + "SUB rep.> 1\r\nPING\r\n");
  r.send(login("r") + "SUB req 1\r\nPING\r\n");
  t.send(login("t") + "SUB req 1\r\nPING\r\n");
  until_pong(req);
  until_pong(r);
  until_pong(t);
  req.send("PUB req rep.1 1\r\nx\r\nPING\r\n");
  until_pong(req);
  r.send("PING\r\n");
  EXPECT_EQ(until_pong(r), "MSG req 1 rep.1 1\nx\n");
  t.send("PING\r\n");
  EXPECT_EQ(until_pong(t), "MSG req 1 rep.1 1\nx\n");
  // r: max 2 responses; anything else is denied (no publish permissions besides replies).
  r.send("PUB rep.1 1\r\ny\r\nPUB rep.1 1\r\ny\r\nPUB rep.1 1\r\ny\r\nPUB ok 1\r\ny\r\nPING\r\n");
  EXPECT_EQ(until_pong(r),
            "-ERR 'Permissions Violation for Publish to \"rep.1\"'\n"
            "-ERR 'Permissions Violation for Publish to \"ok\"'\n");
  // t: allow_responses true means one response; "ok" stays allowed.
  t.send("PUB rep.1 1\r\nt\r\nPUB rep.1 1\r\nt\r\nPUB ok 1\r\nt\r\nPING\r\n");
  EXPECT_EQ(until_pong(t), "-ERR 'Permissions Violation for Publish to \"rep.1\"'\n");
  req.send("PING\r\n");
  EXPECT_EQ(until_pong(req), "MSG rep.1 1 1\ny\nMSG rep.1 1 1\ny\nMSG rep.1 1 1\nt\n");
  // Never-seen reply subjects are not allowed.
  r.send("PUB rep.2 1\r\ny\r\nPING\r\n");
  EXPECT_EQ(until_pong(r), "-ERR 'Permissions Violation for Publish to \"rep.2\"'\n");
}

TEST(AccountsPermissions, AllowResponsesExpire) {
  auto srv = start_with_config(
      "authorization { users [{user: free, password: free}, "
      "{user: r, password: r, permissions: {subscribe: req, allow_responses: {max: 5, expires: \"300ms\"}}}] }\n");
  RawClient req(srv->port()), r(srv->port());
  req.send(login("free") + "PING\r\n");
  r.send(login("r") + "SUB req 1\r\nPING\r\n");
  until_pong(req);
  until_pong(r);
  req.send("PUB req rep.1 1\r\nx\r\nPING\r\n");
  until_pong(req);
  r.send("PING\r\n");
  until_pong(r);
  r.send("PUB rep.1 1\r\ny\r\nPING\r\n");
  EXPECT_EQ(until_pong(r), "");
  std::this_thread::sleep_for(milliseconds(450));
  r.send("PUB rep.1 1\r\ny\r\nPING\r\n");
  EXPECT_EQ(until_pong(r), "-ERR 'Permissions Violation for Publish to \"rep.1\"'\n");
}

TEST(AccountsPermissions, AccountDefaultPermissions) {
  auto srv = start_with_config(R"(
accounts {
  A {
    users [{user: a, password: a}, {user: own, password: own, permissions: {publish: "x"}}]
    default_permissions { publish: "pa.>" }
  }
}
)");
  RawClient a(srv->port()), own(srv->port());
  a.send(login("a") + "PUB x 1\r\n1\r\nPUB pa.x 1\r\n1\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'Permissions Violation for Publish to \"x\"'\n");
  own.send(login("own") + "PUB x 1\r\n1\r\nPUB pa.x 1\r\n1\r\nPING\r\n");
  EXPECT_EQ(until_pong(own), "-ERR 'Permissions Violation for Publish to \"pa.x\"'\n");
}

TEST(AccountsLimits, AccountMaxSubscriptionsAndPayload) {
  auto srv = start_with_config(R"(
accounts { A { users [{user: a, password: a}], limits { max_subscriptions: 1, max_payload: 8 } } }
)");
  RawClient a(srv->port());
  a.send(login("a") + "SUB s1 1\r\nSUB s2 2\r\nPING\r\n");
  EXPECT_EQ(until_pong(a), "-ERR 'maximum subscriptions exceeded'\n");
  a.send("PUB s1 9\r\n123456789\r\n");
  EXPECT_EQ(a.read_line().value_or(""), "-ERR 'Maximum Payload Violation'");
  EXPECT_TRUE(a.wait_closed(milliseconds(2000)));
}

}  // namespace

namespace {

TEST(AccountsLimits, AccountMaxConnections) {
  using namespace itest;
  auto srv = start_with_config(
      "accounts { A { users [{user: a, password: a}], limits { max_connections: 1 } }, "
      "B { users [{user: b, password: b}] } }\n");
  RawClient a1(srv->port()), a2(srv->port()), b(srv->port());
  a1.send(login("a") + "PING\r\n");
  EXPECT_EQ(until_pong(a1), "");
  a2.send(login("a") + "PING\r\n");
  EXPECT_EQ(a2.read_line().value_or(""), "-ERR 'maximum account active connections exceeded'");
  EXPECT_TRUE(a2.wait_closed(milliseconds(2000)));
  b.send(login("b") + "PING\r\n");  // other accounts are not affected
  EXPECT_EQ(until_pong(b), "");
  a1.close();
  // The slot is free again once the first connection is gone.
  EXPECT_TRUE(wait_for([&] {
    RawClient a3(srv->port());
    a3.send(login("a") + "PING\r\n");
    return a3.read_line().value_or("") == "PONG";
  }));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
