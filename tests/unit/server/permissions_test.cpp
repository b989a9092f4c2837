// ClientPermissions, import validation and subject mapping, without a running server.
#include <gtest/gtest.h>

#include <thread>

#include "server/auth.h"
#include "server/imports.h"
#include "server/permissions.h"

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

Permissions perms(std::vector<std::string> pub_allow, std::vector<std::string> pub_deny,
                  std::vector<std::string> sub_allow, std::vector<std::string> sub_deny) {
  Permissions p;
  if (!pub_allow.empty() || !pub_deny.empty()) p.publish = SubjectPermission{pub_allow, pub_deny};
  if (!sub_allow.empty() || !sub_deny.empty()) p.subscribe = SubjectPermission{sub_allow, sub_deny};
  return p;
}

TEST(Permissions, PublishAllowDenyAndCache) {
  ClientPermissions cp(perms({"foo.>", "bar"}, {"foo.secret"}, {}, {}));
  for (int round = 0; round < 2; ++round) {  // second round is served from the cache
    EXPECT_TRUE(cp.can_publish("foo.a"));
    EXPECT_TRUE(cp.can_publish("bar"));
    EXPECT_FALSE(cp.can_publish("foo.secret"));
    EXPECT_FALSE(cp.can_publish("baz"));
  }
  // More distinct subjects than the cache holds: decisions stay right.
  for (int i = 0; i < 300; ++i) EXPECT_TRUE(cp.can_publish("foo." + std::to_string(i)));
  EXPECT_FALSE(cp.can_publish("foo.secret"));
}

TEST(Permissions, DenyOnlyPublish) {
  ClientPermissions cp(perms({}, {">"}, {}, {}));
  EXPECT_FALSE(cp.can_publish("anything"));
  ClientPermissions none(Permissions{});
  EXPECT_TRUE(none.can_publish("anything"));
  EXPECT_TRUE(none.can_subscribe("x.>", ""));
}

TEST(Permissions, SubscribeQueueEntries) {
  ClientPermissions cp(perms({}, {}, {"foo.>", "q.* grp", "w.* g.*"}, {"foo.baz", "foo.q bad"}));
  EXPECT_TRUE(cp.can_subscribe("foo.x", ""));
  EXPECT_TRUE(cp.can_subscribe("foo.*", ""));
  EXPECT_FALSE(cp.can_subscribe("foo.baz", ""));
  EXPECT_FALSE(cp.can_subscribe("foo.baz", "any"));
  EXPECT_FALSE(cp.can_subscribe("q.x", ""));
  EXPECT_TRUE(cp.can_subscribe("q.x", "grp"));
  EXPECT_FALSE(cp.can_subscribe("q.x", "other"));
  EXPECT_TRUE(cp.can_subscribe("w.x", "g.1"));  // queue names match as patterns
  EXPECT_FALSE(cp.can_subscribe("w.x", "h.1"));
  EXPECT_TRUE(cp.can_subscribe("foo.q", "good"));
  EXPECT_FALSE(cp.can_subscribe("foo.q", "bad"));
  EXPECT_TRUE(cp.can_subscribe("foo.q", ""));
  EXPECT_FALSE(cp.can_subscribe(">", ""));
  EXPECT_FALSE(cp.can_deliver("foo.baz"));
  EXPECT_TRUE(cp.can_deliver("foo.bar"));
}

TEST(Permissions, DeliveryFilterOnlyAfterOverlappingWildcardSub) {
  ClientPermissions cp(perms({}, {}, {}, {"a.secret"}));
  EXPECT_TRUE(cp.can_deliver("a.secret"));  // nothing subscribed that could carry it
  EXPECT_TRUE(cp.can_subscribe("b.*", ""));
  EXPECT_TRUE(cp.can_deliver("a.secret"));  // b.* cannot overlap a.secret
  EXPECT_TRUE(cp.can_subscribe("a.*", ""));
  EXPECT_FALSE(cp.can_deliver("a.secret"));
  EXPECT_TRUE(cp.can_deliver("a.open"));
}

TEST(Permissions, ResponsesMaxAndExpiry) {
  Permissions p;
  p.subscribe = SubjectPermission{{"req"}, {}};
  p.response = ResponsePermission{2, std::chrono::milliseconds(100)};
  ClientPermissions cp(p);
  EXPECT_FALSE(cp.can_publish("ok"));  // responses only
  EXPECT_FALSE(cp.can_publish("r.1"));
  cp.record_reply("r.1");
  EXPECT_TRUE(cp.can_publish("r.1"));
  EXPECT_TRUE(cp.can_publish("r.1"));
  EXPECT_FALSE(cp.can_publish("r.1"));
  cp.record_reply("r.2");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(cp.can_publish("r.2"));
}

TEST(Imports, MapSubject) {
  EXPECT_EQ(map_subject("call.*", "svc.*", "call.q"), "svc.q");
  EXPECT_EQ(map_subject("a.*.*", "b.*.x.*", "a.1.2"), "b.1.x.2");
  EXPECT_EQ(map_subject("a.>", "b.>", "a.1.2.3"), "b.1.2.3");
  EXPECT_EQ(map_subject("one", "uno", "one"), "uno");
}

AccountConfig acc(std::string name) {
  AccountConfig a;
  a.name = std::move(name);
  return a;
}

TEST(Imports, Validation) {
  auto a = acc("A"), b = acc("B"), c = acc("C");
  a.stream_imports.push_back(StreamImport{"B", "foo.bar", "", ""});
  EXPECT_EQ(validate_account_imports({a, b, c}), "Error adding stream import \"foo.bar\": stream import not authorized");
  b.stream_exports.push_back(StreamExport{"foo.*", {"C"}});
  EXPECT_EQ(validate_account_imports({a, b, c}), "Error adding stream import \"foo.bar\": stream import not authorized");
  b.stream_exports.back().accounts.push_back("A");
  EXPECT_EQ(validate_account_imports({a, b, c}), "");
  a.service_imports.push_back(ServiceImport{"Z", "svc", ""});
  EXPECT_EQ(validate_account_imports({a, b, c}), "\"Z\" account not defined for service import");
  a.service_imports.back().account = "B";
  b.service_exports.push_back(ServiceExport{"svc", {}, "Singleton", {}, {}});
  EXPECT_EQ(validate_account_imports({a, b, c}), "");
  // B imports it back from A: a cycle.
  a.service_exports.push_back(ServiceExport{"svc", {}, "Singleton", {}, {}});
  b.service_imports.push_back(ServiceImport{"A", "svc", ""});
  EXPECT_EQ(validate_account_imports({a, b, c}), "Error adding service import \"svc\": import forms a cycle");
}

TEST(Auth, BcryptAndPlain) {
  EXPECT_TRUE(password_matches("$2a$06$rplqoC6KTnPtlHW626RcouR6Kh/pXLcv9oMPpD5hmlSlcef9n1TC.", "bpass"));
  EXPECT_FALSE(password_matches("$2a$06$rplqoC6KTnPtlHW626RcouR6Kh/pXLcv9oMPpD5hmlSlcef9n1TC.", "x"));
  EXPECT_TRUE(password_matches("plain", "plain"));
  EXPECT_FALSE(password_matches("plain", "plai"));
}

TEST(Auth, ImplicitNoAuthUserOnlyWithSysAccount) {
  Options o;
  AccountConfig sys = acc("$SYS");
  User u;
  u.username = "sys";
  u.password = "pass";
  sys.users.push_back(u);
  o.accounts.push_back(sys);
  Authenticator a(o);
  auto anon = a.authenticate({});
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->account, "$G");
  auto login = [](const char* user, const char* pass) {
    ClientCredentials c;
    c.user = user;
    c.pass = pass;
    return c;
  };
  auto s = a.authenticate(login("sys", "pass"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->account, "$SYS");
  EXPECT_FALSE(a.authenticate(login("sys", "bad")));

  o.accounts.push_back(acc("A"));  // another account: no implicit user any more
  Authenticator b(o);
  EXPECT_FALSE(b.authenticate({}));
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
