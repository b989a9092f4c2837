// Config reload of what the reference 2.9.10 changes at run time beyond users (reload.go):
// the limits (/varz and INFO show the new values, existing clients get the new max_payload,
// a lower max_connections closes the excess), the client TLS certificate and TLS on/off (new
// handshakes use the new setting, connected clients stay), permissions that now deny a subscription (removed
// with the reference's -ERR), auth_required in INFO, and the refusals (max_pending, JetStream
// limits) with the reference's texts and the running config kept. Each test runs against our
// server and the reference with the same expectations.
#include <gtest/gtest.h>

#include <cstdio>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "reload_test_util.h"
#include "test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

class ReloadLive : public ReloadServerTest {
 protected:
  static std::string login(RawClient& c, const std::string& user = "") {
    std::string creds = user.empty() ? "" : ",\"user\":\"" + user + "\",\"pass\":\"pw\"";
    c.send("CONNECT {\"verbose\":false,\"protocol\":1" + creds + "}\r\nPING\r\n");
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
};

std::string limits(int payload, int conns, const std::string& ping, int ping_max, const std::string& deadline,
                   int control_line) {
  return "max_payload: " + std::to_string(payload) + "\nmax_connections: " + std::to_string(conns) +
         "\nping_interval: \"" + ping + "\"\nping_max: " + std::to_string(ping_max) + "\nwrite_deadline: \"" +
         deadline + "\"\nmax_control_line: " + std::to_string(control_line) + "\n";
}

TEST_P(ReloadLive, LimitsApplyToVarzInfoAndConnectedClients) {
  start(limits(4096, 100, "2m", 2, "10s", 4096));
  RawClient kept(srv_->port()), big(srv_->port());
  ASSERT_EQ(login(kept), "PONG");
  ASSERT_EQ(login(big), "PONG");
  ASSERT_EQ(reload(limits(1024, 50, "30s", 3, "3s", 512)), "") << srv_->log();
  auto v = varz();
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.value("max_payload", 0), 1024);
  EXPECT_EQ(v.value("max_connections", 0), 50);
  EXPECT_EQ(v.value("ping_interval", int64_t{0}), 30'000'000'000);
  EXPECT_EQ(v.value("ping_max", 0), 3);
  EXPECT_EQ(v.value("write_deadline", int64_t{0}), 3'000'000'000);
  EXPECT_EQ(v.value("max_control_line", 0), 512);
  RawClient fresh(srv_->port());
  EXPECT_NE(fresh.info().find("\"max_payload\":1024"), std::string::npos) << fresh.info();
  // A connected client gets the new max_payload too. An async INFO may come first (clients
  // that send protocol >= 1 accept one at any time): skipped, but reported, because under load
  // (about 5 runs in 30, also before session 9) one arrives here carrying the old max_payload
  // 4096, which is not understood yet.
  auto next_non_info = [](RawClient& c, const char* who) {
    for (;;) {
      auto l = c.read_line(milliseconds(3000));
      if (!l || l->rfind("INFO ", 0) != 0) return l.value_or("");
      std::fprintf(stderr, "[ reload ] %s got an async INFO: %s\n", who, l->c_str());
    }
  };
  big.send("PUB x 2000\r\n" + std::string(2000, 'x') + "\r\n");
  EXPECT_EQ(next_non_info(big, "big"), "-ERR 'Maximum Payload Violation'");
  kept.send("PUB x 1000\r\n" + std::string(1000, 'x') + "\r\nPING\r\n");
  EXPECT_EQ(next_non_info(kept, "kept"), "PONG");
}

TEST_P(ReloadLive, LowerMaxConnectionsClosesTheExcess) {
  start("max_connections: 10\n");
  RawClient c[3];
  for (auto& x : c) {
    ASSERT_TRUE(x.connect(srv_->port()));
    ASSERT_EQ(login(x), "PONG");
  }
  ASSERT_EQ(reload("max_connections: 2\n"), "") << srv_->log();
  int closed = 0;
  for (auto& x : c) {
    x.send("PING\r\n");
    auto l = x.read_line(milliseconds(2000));
    if (l && *l == "PONG") continue;
    EXPECT_EQ(l.value_or(""), "-ERR 'maximum connections exceeded'");
    EXPECT_TRUE(x.wait_closed(milliseconds(3000)));
    ++closed;
  }
  EXPECT_EQ(closed, 1);
}

TEST_P(ReloadLive, SubscriptionsTheNewPermissionsDenyAreRemoved) {
  auto conf = [](const std::string& alice_perms) {
    return "authorization {\n  users: [\n    {user: alice, password: pw" + alice_perms + "}\n  ]\n}\n";
  };
  start(conf(""));
  RawClient alice(srv_->port());
  ASSERT_EQ(login(alice, "alice"), "PONG");
  alice.send("SUB a.x 1\r\nSUB b.x 2\r\nSUB b.y q 3\r\nPING\r\n");
  ASSERT_EQ(alice.read_line(milliseconds(3000)).value_or(""), "PONG");
  ASSERT_EQ(reload(conf(", permissions: {subscribe: {allow: [\"a.>\"]}}")), "") << srv_->log();
  std::set<std::string> errs;
  for (int i = 0; i < 2; ++i) errs.insert(alice.read_line(milliseconds(3000)).value_or(""));
  EXPECT_EQ(errs, (std::set<std::string>{"-ERR 'Permissions Violation for Subscription to \"b.x\" (sid \"2\")'",
                                         "-ERR 'Permissions Violation for Subscription to \"b.y\" (sid \"3\")'"}));
  // Still connected, and the allowed subscription still delivers.
  alice.send("PUB a.x 2\r\nhi\r\nPUB b.x 2\r\nno\r\nPING\r\n");
  EXPECT_EQ(alice.read_line(milliseconds(3000)).value_or(""), "MSG a.x 1 2");
  EXPECT_EQ(alice.read_line(milliseconds(3000)).value_or(""), "hi");
  EXPECT_EQ(alice.read_line(milliseconds(3000)).value_or(""), "PONG");
}

TEST_P(ReloadLive, AuthRequiredInInfoFollowsTheUsers) {
  start("max_payload: 4096\n");
  RawClient before(srv_->port());
  EXPECT_EQ(before.info().find("auth_required"), std::string::npos) << before.info();
  ASSERT_EQ(reload("max_payload: 4096\nauthorization {\n  users: [{user: alice, password: pw}]\n}\n"), "")
      << srv_->log();
  RawClient after(srv_->port());
  EXPECT_NE(after.info().find("\"auth_required\":true"), std::string::npos) << after.info();
  EXPECT_EQ(login(after, "alice"), "PONG");
}

TEST_P(ReloadLive, MaxPendingIsRefusedAndTheConfigKept) {
  start("max_pending: 2000000\nmax_payload: 4096\n");
  EXPECT_EQ(reload("max_pending: 3000000\nmax_payload: 2048\n"),
            "config reload not supported for MaxPending: old=2000000, new=3000000");
  EXPECT_EQ(varz().value("max_payload", 0), 4096);
}

TEST_P(ReloadLive, JetStreamLimitsAreRefusedAsTheReference) {
  TempDir store;
  auto js = [&](const std::string& limits) {
    return "jetstream {\n  store_dir: \"" + store.path() + "\"\n" + limits + "}\n";
  };
  start(js("  max_memory_store: 1073741824\n  max_file_store: 1073741824\n"));
  EXPECT_EQ(reload(js("  max_memory_store: 2147483648\n  max_file_store: 1073741824\n")),
            "config reload not supported for jetstream max memory and store");
  EXPECT_EQ(reload(js("  max_file_store: 1073741824\n")),
            "config reload not supported for jetstream max memory and max store");
  TempDir other;
  EXPECT_EQ(reload("jetstream {\n  store_dir: \"" + other.path() +
                   "\"\n  max_memory_store: 1073741824\n  max_file_store: 1073741824\n}\n"),
            "config reload not supported for jetstream storage directory");
}

// Routes: the server under test (ours or the reference) routes to B; the reload replaces B
// with C: the route to B is closed and not retried, C is solicited, the client stays.
TEST_P(ReloadLive, RoutesAreAddedAndRemoved) {
  auto listen = [](int port) { return "127.0.0.1:" + std::to_string(port); };
  int pb = testing_harness::free_port(), pc = testing_harness::free_port(), pa = testing_harness::free_port();
  int hb = testing_harness::free_port(), hc = testing_harness::free_port();
  TempDir peers;
  ServerProcess b({"-c", peers.write("b.conf", "server_name: B\ncluster { name: c1, listen: \"" + listen(pb) + "\" }\n"),
                   "-m", std::to_string(hb)});
  ServerProcess c({"-c", peers.write("c.conf", "server_name: C\ncluster { name: c1, listen: \"" + listen(pc) + "\" }\n"),
                   "-m", std::to_string(hc)});
  b.start();
  c.start();
  auto conf = [&](int peer) {
    return "server_name: A\ncluster {\n  name: c1\n  listen: \"" + listen(pa) + "\"\n  routes: [\"nats-route://" +
           listen(peer) + "\"]\n}\n";
  };
  auto routes_of = [](int http) {
    auto r = testing_harness::run_command("curl -s http://127.0.0.1:" + std::to_string(http) + "/routez");
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    return j.is_object() ? j.value("num_routes", -1) : -1;
  };
  start(conf(pb));
  ASSERT_TRUE(wait_for([&] { return routes_of(hb) == 1; }, milliseconds(5000))) << srv_->log();
  RawClient kept(srv_->port());
  ASSERT_EQ(login(kept), "PONG");
  ASSERT_EQ(reload(conf(pc)), "") << srv_->log();
  EXPECT_TRUE(wait_for([&] { return routes_of(hc) == 1 && routes_of(hb) == 0; }, milliseconds(5000))) << srv_->log();
  EXPECT_EQ(routes_of(http_port_), 1);
  kept.send("PING\r\n");
  // The route changes come to the client as async INFOs (connect_urls) before the PONG.
  std::string line;
  do line = kept.read_line(milliseconds(3000)).value_or("<none>");
  while (line.rfind("INFO ", 0) == 0);
  EXPECT_EQ(line, "PONG");
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadLive,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

// The TLS certificate: two test CAs; after the reload a client trusting only the second CA
// connects, one trusting only the first no longer does, and the client connected before stays.
class ReloadTls : public ReloadLive {};

natsStatus connect_tls(ConnPtr& c, const std::string& url, const std::string& ca) {
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 3000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetSecure(o.p, true);
  natsOptions_LoadCATrustedCertificates(o.p, ca.c_str());
  return connect_url(c, url, o.p);
}

TEST_P(ReloadTls, NewHandshakesUseTheNewCertificate) {
  TestPki first, second;
  if (!first.ok || !second.ok) GTEST_SKIP() << "openssl tool not available to make test certificates";
  auto conf = [](const TestPki& p) {
    return "tls {\n  cert_file: \"" + p.server_cert + "\"\n  key_file: \"" + p.server_key + "\"\n  timeout: 2\n}\n";
  };
  start(conf(first));
  ConnPtr before;
  ASSERT_EQ(connect_tls(before, srv_->url(), first.ca), NATS_OK) << srv_->log();
  ASSERT_EQ(reload(conf(second)), "") << srv_->log();
  ConnPtr with_second, with_first;
  EXPECT_EQ(connect_tls(with_second, srv_->url(), second.ca), NATS_OK);
  EXPECT_NE(connect_tls(with_first, srv_->url(), first.ca), NATS_OK);
  EXPECT_EQ(natsConnection_Flush(before.p), NATS_OK);
}

// TLS turned on, then off again: new clients follow (INFO's tls_required, a plain client
// refused while it is on), the clients connected before stay.
TEST_P(ReloadTls, TlsIsTurnedOnAndOff) {
  TestPki pki;
  if (!pki.ok) GTEST_SKIP() << "openssl tool not available to make test certificates";
  const std::string with_tls = "tls {\n  cert_file: \"" + pki.server_cert + "\"\n  key_file: \"" + pki.server_key +
                               "\"\n  timeout: 2\n}\n";
  auto tls_required = [&] {
    RawClient probe(srv_->port());
    auto j = nlohmann::json::parse(probe.info_json(), nullptr, false);
    return j.is_object() && j.value("tls_required", false);
  };
  start("");
  RawClient before(srv_->port());
  ASSERT_EQ(login(before), "PONG");
  EXPECT_FALSE(tls_required());
  ASSERT_EQ(reload(with_tls), "") << srv_->log();
  EXPECT_TRUE(tls_required());
  EXPECT_EQ(varz().value("tls_required", false), true);
  ConnPtr secure, refused;
  EXPECT_EQ(connect_tls(secure, srv_->url(), pki.ca), NATS_OK) << srv_->log();
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 2000);
  natsOptions_SetAllowReconnect(o.p, false);
  EXPECT_NE(connect_url(refused, srv_->url(), o.p), NATS_OK);
  before.send("PING\r\n");
  EXPECT_EQ(before.read_line(milliseconds(3000)).value_or("<none>"), "PONG");
  ASSERT_EQ(reload(""), "") << srv_->log();
  EXPECT_FALSE(tls_required());
  EXPECT_EQ(varz().value("tls_required", false), false);
  ConnPtr plain_again;
  EXPECT_EQ(connect_url(plain_again, srv_->url(), o.p), NATS_OK);
  EXPECT_EQ(natsConnection_Flush(secure.p), NATS_OK);
}

// tls { timeout } reloaded (30 s, then 1 s): /varz shows the new value and a client that
// never starts its handshake is cut by the new timeout, not the old one.
TEST_P(ReloadTls, HandshakeTimeoutIsReloaded) {
  TestPki pki;
  if (!pki.ok) GTEST_SKIP() << "openssl tool not available to make test certificates";
  auto conf = [&](const std::string& timeout) {
    return "tls {\n  cert_file: \"" + pki.server_cert + "\"\n  key_file: \"" + pki.server_key +
           "\"\n  timeout: " + timeout + "\n}\n";
  };
  start(conf("30"));
  EXPECT_EQ(varz().value("tls_timeout", 0.0), 30.0);
  ASSERT_EQ(reload(conf("1")), "") << srv_->log();
  EXPECT_EQ(varz().value("tls_timeout", 0.0), 1.0);
  RawClient silent(srv_->port());
  ASSERT_TRUE(silent.connected());
  silent.read_until_close(milliseconds(10000));
  EXPECT_TRUE(silent.closed()) << srv_->log();
  ConnPtr c;
  EXPECT_EQ(connect_tls(c, srv_->url(), pki.ca), NATS_OK) << srv_->log();
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadTls,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
