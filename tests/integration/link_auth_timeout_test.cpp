// `authorization { timeout }` of the cluster and gateway blocks, against our server and
// 2.9.10 with the same expectations: a peer that dials the cluster port (of a cluster that asks
// for a user) or the gateway port (always) and never sends CONNECT gets
// `-ERR 'Authentication Timeout'` and is closed after the timeout; unset, the timeout is 2 s
// whatever the client authorization timeout (leaf nodes too); real routes and gateways with a
// short timeout form and stay; config reload takes a new cluster timeout and refuses a new
// gateway one. The servers of both binaries run side by side, so each test waits once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <future>
#include <nlohmann/json.hpp>

#include "both_servers_test.h"
#include "cluster_test_util.h"
#include "harness.h"
#include "reload_test_util.h"
#include "test_util.h"
#include "tls_test_util.h"

namespace NATS_TEST_FILE_ID {
namespace {

using ctest::Node;
using itest::Clock;
using itest::milliseconds;
using itest::RawClient;
using itest::per_binary;
using testing_harness::free_port;

// A raw socket that dialled a link port, read its INFO and then says nothing.
struct Silent {
  std::string what;  // for failure messages: binary and port kind
  Clock::time_point t0;
  std::unique_ptr<RawClient> c;
  long closed_after_ms = -1;  // -1: still open
};

Silent dial(const std::string& what, int port) {
  Silent s;
  s.what = what;
  s.t0 = Clock::now();
  s.c = std::make_unique<RawClient>(port);
  return s;
}

// Polls every socket of `groups` until `want_closed` of them are closed or `until` passes,
// noting when each closed (a few ms of resolution, so an early close is not hidden by a late
// read).
void watch(std::initializer_list<std::vector<Silent>*> groups, size_t want_closed, Clock::time_point until) {
  std::vector<Silent*> ss;
  for (auto* g : groups)
    for (auto& s : *g) ss.push_back(&s);
  for (;;) {
    size_t closed = 0;
    for (auto* s : ss) {
      if (s->closed_after_ms < 0 && s->c->wait_closed(milliseconds(2)))
        s->closed_after_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - s->t0).count();
      if (s->closed_after_ms >= 0) ++closed;
    }
    if (closed >= want_closed || Clock::now() >= until) return;
  }
}

// What the server sent after its INFO, PINGs left out (2.9.10 pings a new link at about 1 s).
std::string after_info(const Silent& s) {
  std::string out, rest = s.c->buffered();
  for (size_t p; (p = rest.find("\r\n")) != std::string::npos; rest.erase(0, p + 2))
    if (rest.compare(0, p, "PING") != 0) out += rest.substr(0, p + 2);
  return out + rest;
}

// Cut after about `expect_ms`: with the reference's -ERR, not before, and not much later
// (generous: CI runs this under ASan on two loaded cores).
void expect_cut(const Silent& s, long expect_ms) {
  EXPECT_EQ(after_info(s), "-ERR 'Authentication Timeout'\r\n") << s.what;
  EXPECT_GE(s.closed_after_ms, expect_ms - 100) << s.what;
  EXPECT_LT(s.closed_after_ms, expect_ms + 1500) << s.what;
}

Node node(const std::string& bin, const std::string& name) {
  Node n;
  n.binary = bin;
  n.name = name;
  return n;
}

// A server of cluster and supercluster X with a route user and 0.5 s on both link ports.
Node short_timeout_x_node(const std::string& bin, const std::string& name) {
  Node n = node(bin, name);
  n.cluster = n.gateway = "X";
  n.cluster_port = free_port();
  n.gateway_port = free_port();
  n.cluster_extra = "authorization { user: ru, password: rp, timeout: 0.5 }";
  n.gateway_extra = "authorization { timeout: 0.5 }";
  return n;
}

// The cluster port of a cluster with a user, and the gateway port, both with 0.5 s: a peer
// that never sends CONNECT is cut with 2.9.10's -ERR after half a second. /varz shows both.
TEST(LinkAuthTimeout, SilentRouteAndGatewayPeersAreCut) {
  auto nodes = per_binary([](const std::string& bin) { return short_timeout_x_node(bin, "A"); });
  for (auto& [bin, n] : nodes) n.start();
  std::vector<Silent> ss;
  for (auto& [bin, n] : nodes) {
    ss.push_back(dial(bin + " cluster port", n.cluster_port));
    ss.push_back(dial(bin + " gateway port", n.gateway_port));
  }
  watch({&ss}, ss.size(), Clock::now() + milliseconds(4000));
  for (auto& s : ss) expect_cut(s, 500);
  for (auto& [bin, n] : nodes) {
    auto v = ctest::http_json(n.http_port, "/varz");
    EXPECT_EQ(v["cluster"].value("auth_timeout", 0.0), 0.5) << n.binary << v["cluster"].dump();
    EXPECT_EQ(v["gateway"].value("auth_timeout", 0.0), 0.5) << n.binary << v["gateway"].dump();
    EXPECT_EQ(v["cluster"]["tls_timeout"].dump(), "2") << n.binary;
    EXPECT_NE(n.proc->log().find("Router connection closed: Authentication Timeout"), std::string::npos)
        << n.binary << n.proc->log();
  }
}

// Unset, a gateway's and a leaf node's timeout is 2 s, not the client authorization timeout
// (4 s here); a cluster that asks for no user arms no timer at all.
TEST(LinkAuthTimeout, DefaultIsTwoSecondsAndARouteWithoutAUserHasNone) {
  struct WithLeafs {
    Node n;
    int leaf_port;
  };
  auto nodes = per_binary([](const std::string& bin) {
    WithLeafs w{node(bin, "A"), free_port()};
    w.n.cluster = w.n.gateway = "X";
    w.n.cluster_port = free_port();
    w.n.gateway_port = free_port();
    // Leaf nodes beside gateways need a system account.
    w.n.extra = "accounts { SYS { users: [{user: s, password: s}] } }\nsystem_account: SYS\n"
                "authorization { users: [{user: a, password: b}], timeout: 4 }\nleafnodes { listen: 127.0.0.1:" +
                std::to_string(w.leaf_port) + " }";
    return w;
  });
  for (auto& [bin, w] : nodes) w.n.start();
  std::vector<Silent> cut, kept;
  for (auto& [bin, w] : nodes) {
    cut.push_back(dial(bin + " gateway port", w.n.gateway_port));
    cut.push_back(dial(bin + " leafnode port", w.leaf_port));
    kept.push_back(dial(bin + " cluster port", w.n.cluster_port));
  }
  watch({&cut, &kept}, cut.size(), Clock::now() + milliseconds(5000));
  // The routes get a further half second past the others' cut.
  watch({&cut, &kept}, cut.size() + kept.size(), Clock::now() + milliseconds(500));
  for (auto& s : cut) expect_cut(s, 2000);
  for (auto& s : kept) {
    EXPECT_EQ(s.closed_after_ms, -1) << s.what;
    EXPECT_EQ(after_info(s), "") << s.what;
  }
}

// A real cluster and supercluster whose accepted routes and gateways have 0.5 s form, and
// are still up well after that (the timers were cancelled by their CONNECTs): A and B in
// cluster X with a route user, C alone in cluster Y, gateways both ways (B's found by gossip).
TEST(LinkAuthTimeout, RoutesAndGatewaysWithAShortTimeoutFormAndStay) {
  struct World {
    Node a, b, c;
  };
  auto worlds = per_binary([](const std::string& bin) {
    World w{short_timeout_x_node(bin, "A"), short_timeout_x_node(bin, "B"), node(bin, "C")};
    w.c.cluster = w.c.gateway = "Y";
    w.c.cluster_port = free_port();
    w.c.gateway_port = free_port();
    w.c.gateway_extra = "authorization { timeout: 0.5 }";
    w.b.routes = {"nats-route://ru:rp@127.0.0.1:" + std::to_string(w.a.cluster_port)};
    const std::string gy = "nats://127.0.0.1:" + std::to_string(w.c.gateway_port);
    w.a.gateways = w.b.gateways = {{"Y", gy}};
    w.c.gateways = {{"X", "nats://127.0.0.1:" + std::to_string(w.a.gateway_port)}};
    return w;
  });
  for (auto& [bin, w] : worlds)
    for (Node* n : {&w.a, &w.b, &w.c}) n->start();
  // Routes: one each way. Gateways: A and B each dial C, C dials one of them (2.9.10 may
  // pick B, learnt from A's gossip).
  auto inbound_from_x = [](const Node& n) {
    auto j = ctest::http_json(n.http_port, "/gatewayz");
    return j.contains("inbound_gateways") && j["inbound_gateways"].contains("X")
               ? static_cast<int>(j["inbound_gateways"]["X"].size())
               : 0;
  };
  auto formed = [&](World& w) {
    return w.a.num_routes() == 1 && w.b.num_routes() == 1 && w.a.num_outbound_gateways() == 1 &&
           w.b.num_outbound_gateways() == 1 && w.c.num_outbound_gateways() == 1 && inbound_from_x(w.c) == 2 &&
           w.a.num_inbound_gateways() + w.b.num_inbound_gateways() == 1;
  };
  auto counts = [&](World& w) {
    return "routes A/B " + std::to_string(w.a.num_routes()) + "/" + std::to_string(w.b.num_routes()) +
           ", outbound gateways A/B/C " + std::to_string(w.a.num_outbound_gateways()) + "/" +
           std::to_string(w.b.num_outbound_gateways()) + "/" + std::to_string(w.c.num_outbound_gateways()) +
           ", inbound A/B " + std::to_string(w.a.num_inbound_gateways()) + "/" +
           std::to_string(w.b.num_inbound_gateways()) + ", C from X " +
           std::to_string(inbound_from_x(w.c));
  };
  for (auto& [bin, w] : worlds)
    EXPECT_TRUE(itest::wait_for([&] { return formed(w); }, milliseconds(8000))) << bin << ": " << counts(w);
  std::this_thread::sleep_for(milliseconds(800));  // past every link's 0.5 s
  for (auto& [bin, w] : worlds) {
    EXPECT_TRUE(formed(w)) << bin << ": " << counts(w);
    EXPECT_TRUE(ctest::can_reach(w.c, w.b)) << bin;
    EXPECT_TRUE(ctest::can_reach(w.b, w.c)) << bin;
    for (Node* n : {&w.a, &w.b, &w.c}) {
      std::string log = n->proc->log();
      EXPECT_EQ(log.find("Authentication Timeout"), std::string::npos) << n->binary << " " << n->name << log;
    }
  }
}

// Config reload: 2.9.10 reloads the cluster block but its host and port, so a new cluster
// timeout applies to the next accepted route; the gateway block is not reloaded, so a new
// gateway timeout is refused.
TEST(LinkAuthTimeout, ReloadTakesTheClusterTimeoutAndRefusesTheGatewayOne) {
  struct Srv {
    std::string bin;
    testing_harness::TempDir dir;
    std::string conf;
    int cluster_port = free_port(), gateway_port = free_port(), http_port = free_port();
    std::unique_ptr<testing_harness::ServerProcess> proc;
    std::string text(const std::string& cluster_timeout, const std::string& gateway_timeout) const {
      return "http_port: " + std::to_string(http_port) + "\ncluster { name: X, listen: 127.0.0.1:" +
             std::to_string(cluster_port) + ", authorization { user: ru, password: rp, timeout: " + cluster_timeout +
             " } }\ngateway { name: X, listen: 127.0.0.1:" + std::to_string(gateway_port) +
             ", authorization { timeout: " + gateway_timeout + " } }\n";
    }
  };
  auto srvs = per_binary([](const std::string& bin) {
    auto s = std::make_unique<Srv>();
    s->bin = bin;
    s->conf = s->dir.write("s.conf", s->text("3", "3"));
    s->proc = std::make_unique<testing_harness::ServerProcess>(std::vector<std::string>{"-c", s->conf}, bin);
    s->proc->start();
    return s;
  });
  std::vector<Silent> ss;
  for (auto& [bin, s] : srvs) {
    EXPECT_EQ(itest::reload_config(*s->proc, s->conf, s->text("0.5", "3")), "") << s->bin;
    auto v = ctest::http_json(s->http_port, "/varz");
    EXPECT_EQ(v["cluster"].value("auth_timeout", 0.0), 0.5) << s->bin << v["cluster"].dump();
    ss.push_back(dial(s->bin + " cluster port", s->cluster_port));
  }
  watch({&ss}, ss.size(), Clock::now() + milliseconds(3000));
  for (auto& s : ss) expect_cut(s, 500);
  for (auto& [bin, s] : srvs) {
    const std::string err = itest::reload_config(*s->proc, s->conf, s->text("0.5", "1"));
    EXPECT_EQ(err.rfind("config reload not supported for Gateway", 0), 0u) << s->bin << ": " << err;
  }
}

// A route peer over TLS that waits `delay` before its handshake (with the client certificate
// 2.9.10 requires on a cluster port) and then sends nothing: what it read, and when the
// handshake ended and the server closed, in ms from the TCP connect (-1: did not happen).
struct TlsSilent {
  std::string text;
  long handshake_ms = -1, closed_ms = -1;
};

TlsSilent tls_silent_peer(int port, const itest::TestPki& pki, milliseconds delay) {
  TlsSilent out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{6, 0};  // no read blocks the test for longer
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto t0 = Clock::now();
  auto since = [&] { return static_cast<long>(std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count()); };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::this_thread::sleep_for(delay);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_use_certificate_file(ctx, pki.client_cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, pki.client_key.c_str(), SSL_FILETYPE_PEM);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      out.handshake_ms = since();
      char buf[4096];
      for (int n; (n = SSL_read(ssl, buf, sizeof buf)) > 0;) out.text.append(buf, static_cast<size_t>(n));
      out.closed_ms = since();
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  ::close(fd);
  return out;
}

class LinkAuthTimeoutTls : public itest::TlsSuite {};

// With TLS and no timeout set, 2.9.10 gives an accepted route the TLS timeout plus one
// second, counted from the end of its handshake (which has its own timeout): a peer that
// took 0.6 s to start its handshake is cut about 2 s after it, not 2 s after connecting.
TEST_F(LinkAuthTimeoutTls, ARouteTimerStartsAfterTheHandshake) {
  auto nodes = per_binary([&](const std::string& bin) {
    Node n = node(bin, "A");
    n.cluster = "X";
    n.cluster_port = free_port();
    n.cluster_extra = "authorization { user: ru, password: rp }\n  tls { cert_file: \"" + pki_->server_cert +
                      "\", key_file: \"" + pki_->server_key + "\", ca_file: \"" + pki_->ca + "\", timeout: 1 }";
    return n;
  });
  for (auto& [bin, n] : nodes) n.start();
  std::map<std::string, std::future<TlsSilent>> peers;
  for (auto& [bin, n] : nodes)
    peers[bin] = std::async(std::launch::async, tls_silent_peer, n.cluster_port, std::cref(*pki_), milliseconds(600));
  for (auto& [bin, peer] : peers) {
    TlsSilent p = peer.get();
    ASSERT_GE(p.handshake_ms, 0) << bin << nodes[bin].proc->log();
    std::string rest = p.text.substr(std::min(p.text.find("\r\n") + 2, p.text.size()));  // after the INFO
    for (size_t q; (q = rest.find("PING\r\n")) != std::string::npos;) rest.erase(q, 6);  // 2.9.10 pings at 1 s
    EXPECT_EQ(rest, "-ERR 'Authentication Timeout'\r\n") << bin << ": " << p.text;
    ASSERT_GE(p.closed_ms, 0) << bin;
    EXPECT_GE(p.closed_ms - p.handshake_ms, 1900) << bin;
    EXPECT_LT(p.closed_ms - p.handshake_ms, 3500) << bin;
  }
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
