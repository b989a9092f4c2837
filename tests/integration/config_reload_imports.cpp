// Config reload of config accounts' imports and exports, as 2.9.10's reloadAuthorization sets
// the accounts up again: imports added by a reload flow at once, removed ones stop, an
// unchanged import keeps delivering exactly once, and every client stays connected. Each test
// runs against our server and the reference with the same expectations.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>

#include "reload_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

// Accounts A (exporter) and B (importer); `exports` and `imports` are the blocks' contents.
std::string reload_imports_conf(const std::string& exports, const std::string& imports) {
  return "accounts {\n  A { users [{user: a, password: pw}]\n    exports [" + exports +
         "]\n  }\n  B { users [{user: b, password: pw}]\n    imports [" + imports + "]\n  }\n}\n";
}

// The next message as "subject reply payload" (reply "-" when none), skipping PINGs and PONGs;
// "<none>" when nothing comes.
std::string reload_imports_next(RawClient& c, milliseconds wait = milliseconds(3000)) {
  for (;;) {
    auto l = c.read_line(wait);
    if (!l) return "<none>";
    if (*l == "PING") {
      c.send("PONG\r\n");
      continue;
    }
    if (*l == "PONG") continue;
    if (l->rfind("MSG ", 0) != 0) return *l;
    std::vector<std::string> f;
    for (size_t p = 0, q; p <= l->size(); p = q + 1) {
      q = l->find(' ', p);
      if (q == std::string::npos) q = l->size();
      f.push_back(l->substr(p, q - p));
    }
    size_t n = std::stoul(f.back());
    auto body = c.read_exact(n + 2, wait);
    if (!body) return "<cut>";
    return f[1] + " " + (f.size() == 5 ? f[3] : "-") + " " + body->substr(0, n);
  }
}

class ReloadImports : public ReloadServerTest {
 protected:
  void start(const std::string& text) { ReloadServerTest::start(text, "imports.conf", false); }
  // Logs in as `user` and waits for the PONG that proves it.
  void login(RawClient& c, const std::string& user) {
    ASSERT_TRUE(c.connect(srv_->port()));
    c.send("CONNECT {\"verbose\":false,\"user\":\"" + user + "\",\"pass\":\"pw\"}\r\nPING\r\n");
    ASSERT_EQ(c.read_line(milliseconds(3000)).value_or("<none>"), "PONG");
  }
  // A round trip on the same socket: the connection survived.
  static bool alive(RawClient& c) {
    c.send("PING\r\n");
    return c.expect_line("PONG", milliseconds(3000));
  }
};

TEST_P(ReloadImports, AddedImportsFlowUnchangedOnesKeepDeliveringOnce) {
  start(reload_imports_conf(R"({stream: "s.>"})", R"({stream: {account: A, subject: "s.>"}, prefix: "in"})"));
  RawClient a, b;
  login(a, "a");
  login(b, "b");
  b.send("SUB in.s.> 1\r\nSUB t.> 2\r\nSUB _INBOX.b 3\r\nPING\r\n");
  ASSERT_TRUE(b.expect_line("PONG"));
  a.send("PUB s.1 2\r\nv1\r\nPING\r\n");
  ASSERT_TRUE(a.expect_line("PONG"));
  EXPECT_EQ(reload_imports_next(b), "in.s.1 - v1");

  // A stream and a service import added, the first import unchanged.
  ASSERT_EQ(reload(reload_imports_conf(R"({stream: "s.>"}, {stream: "t.>"}, {service: "svc.>"})",
                                       R"({stream: {account: A, subject: "s.>"}, prefix: "in"},
                                          {stream: {account: A, subject: "t.>"}},
                                          {service: {account: A, subject: "svc.>"}})")),
            "");
  EXPECT_TRUE(alive(a));
  EXPECT_TRUE(alive(b));
  a.send("SUB svc.> 7\r\nPUB s.2 2\r\nv2\r\nPUB t.1 6\r\nmarker\r\nPING\r\n");
  ASSERT_TRUE(a.expect_line("PONG"));
  // Exactly once: the marker comes right after the one copy.
  EXPECT_EQ(reload_imports_next(b), "in.s.2 - v2");
  EXPECT_EQ(reload_imports_next(b), "t.1 - marker");

  b.send("PUB svc.x _INBOX.b 3\r\nreq\r\n");
  std::string at_a = reload_imports_next(a);
  ASSERT_EQ(at_a.substr(0, 6), "svc.x ") << at_a;
  std::string reply = at_a.substr(6, at_a.find(' ', 6) - 6);
  EXPECT_NE(reply, "_INBOX.b");  // mapped, as every service import's reply
  a.send("PUB " + reply + " 3\r\nrep\r\n");
  EXPECT_EQ(reload_imports_next(b), "_INBOX.b - rep");
}

TEST_P(ReloadImports, RemovedImportsStopAndClientsStay) {
  std::string both = R"({stream: {account: A, subject: "s.>"}, prefix: "in"},
                        {stream: {account: A, subject: "t.>"}},
                        {service: {account: A, subject: "svc.>"}})";
  start(reload_imports_conf(R"({stream: "s.>"}, {stream: "t.>"}, {service: "svc.>"})", both));
  RawClient a, b;
  login(a, "a");
  login(b, "b");
  a.send("SUB svc.> 7\r\nPING\r\n");
  ASSERT_TRUE(a.expect_line("PONG"));
  b.send("SUB in.s.> 1\r\nSUB t.> 2\r\nPING\r\n");
  ASSERT_TRUE(b.expect_line("PONG"));

  // The s.> import and the service (with its export) go; t.> stays.
  ASSERT_EQ(reload(reload_imports_conf(R"({stream: "s.>"}, {stream: "t.>"})",
                                       R"({stream: {account: A, subject: "t.>"}})")),
            "");
  EXPECT_TRUE(alive(a));
  EXPECT_TRUE(alive(b));
  b.send("PUB svc.x 3\r\nreq\r\nPING\r\n");
  ASSERT_TRUE(b.expect_line("PONG"));
  a.send("PUB s.3 2\r\nv3\r\nPUB t.2 6\r\nmarker\r\nPING\r\n");
  std::string before_pong;
  EXPECT_TRUE(a.expect_line("PONG", milliseconds(3000), &before_pong));
  EXPECT_EQ(before_pong, "");  // no svc.x request reached A
  EXPECT_EQ(reload_imports_next(b), "t.2 - marker");

  // Put back: flows again.
  ASSERT_EQ(reload(reload_imports_conf(R"({stream: "s.>"}, {stream: "t.>"}, {service: "svc.>"})", both)), "");
  a.send("PUB s.4 2\r\nv4\r\nPING\r\n");
  ASSERT_TRUE(a.expect_line("PONG"));
  EXPECT_EQ(reload_imports_next(b), "in.s.4 - v4");
  b.send("PUB svc.y 3\r\nreq\r\n");
  EXPECT_EQ(reload_imports_next(a), "svc.y - req");
}

TEST_P(ReloadImports, AnImportTheExportNoLongerAllowsIsRefused) {
  start(reload_imports_conf(R"({stream: "s.>"})", R"({stream: {account: A, subject: "s.>"}})"));
  RawClient b;
  login(b, "b");
  std::string err = reload(reload_imports_conf(R"({stream: "s.>", accounts: [C]})",
                                               R"({stream: {account: A, subject: "s.>"}})"));
  EXPECT_NE(err, "");
  EXPECT_NE(err, "<no outcome>");
  EXPECT_TRUE(alive(b));
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadImports, ::testing::ValuesIn(testing_harness::binaries_to_compare()));

}  // namespace

}  // namespace NATS_TEST_FILE_ID
