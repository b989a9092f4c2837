// TLS on routes and gateways: a 3-node cluster whose routes verify each other's certificates,
// a cluster mixing our server and the reference over TLS routes, two clusters joined by TLS
// gateways, and a plaintext peer that cannot join a TLS cluster (the others are undisturbed).
// Routes and gateways always require and verify the peer's certificate, `verify` or not, as
// 2.9.10 (leaf nodes do not), and without a ca_file check it against the system's roots.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "both_servers_test.h"
#include "cluster_test_util.h"
#include "tls_peer_util.h"
#include "test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using namespace ctest;

std::string tls_block(const TestPki& pki, bool verify) {
  return "tls {\n    cert_file: \"" + pki.server_cert + "\"\n    key_file: \"" + pki.server_key +
         "\"\n    ca_file: \"" + pki.ca + "\"\n    timeout: 2\n" + (verify ? "    verify: true\n" : "") + "  }";
}

// A cert/key block without a ca_file (peers checked against the system's roots), `extra` inside.
std::string tls_block_no_ca(const TestPki& pki, const std::string& extra) {
  return "tls { cert_file: \"" + pki.server_cert + "\", key_file: \"" + pki.server_key + "\", timeout: 2\n" + extra +
         "\n  }";
}

// What a raw TLS peer of a route, gateway or leafnode port gets: refused (its handshake, or
// with TLS 1.3 the first read after it, fails), else the first line the server sent (for a
// leafnode port, which waits for a CONNECT, nothing is read).
struct Probe {
  bool refused = true;
  std::string first_line;
};

// cert: present the test client certificate; tls12: at most TLS 1.2, where a missing
// certificate fails the handshake itself; leaf: the INFO comes in clear before the handshake.
Probe tls_probe(int port, const TestPki& pki, bool cert, bool tls12, bool leaf = false) {
  Probe out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{4, 0};  // no read blocks the test for longer
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return out;
  }
  if (leaf) {
    char c;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n') out.first_line += c;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (tls12) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_load_verify_locations(ctx, pki.ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);  // the server's side is in order
  if (cert) {
    SSL_CTX_use_certificate_file(ctx, pki.client_cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, pki.client_key.c_str(), SSL_FILETYPE_PEM);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) == 1) {
    if (leaf) {
      out.refused = false;
    } else {
      char c;
      while (SSL_read(ssl, &c, 1) == 1) {
        out.refused = false;
        if (c == '\n') break;
        out.first_line += c;
      }
    }
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

class ClusterTls : public TlsSuite {
 protected:
  // n nodes of cluster "tls", each listing the first as its seed route.
  static std::vector<std::unique_ptr<Node>> cluster(const std::vector<std::string>& binaries, bool tls = true) {
    std::vector<std::unique_ptr<Node>> nodes;
    int seed_port = testing_harness::free_port();
    for (size_t i = 0; i < binaries.size(); ++i) {
      auto n = std::make_unique<Node>();
      n->name = "t" + std::to_string(i + 1);
      n->binary = binaries[i];
      n->cluster = "tls";
      n->cluster_port = i == 0 ? seed_port : testing_harness::free_port();
      if (i > 0) n->routes = {"nats-route://127.0.0.1:" + std::to_string(seed_port)};
      if (tls) n->cluster_extra = tls_block(*pki_, true);
      nodes.push_back(std::move(n));
    }
    for (auto& n : nodes) n->start();
    return nodes;
  }
};

TEST_F(ClusterTls, RoutesVerifyEachOtherAndCarryTraffic) {
  auto bin = testing_harness::server_binary();
  auto nodes = cluster({bin, bin, bin});
  ASSERT_TRUE(wait_for([&] {
    for (auto& n : nodes)
      if (n->num_routes() != 2) return false;
    return true;
  }, milliseconds(10000))) << nodes[1]->proc->log();
  EXPECT_TRUE(can_reach(*nodes[1], *nodes[2]));
  EXPECT_TRUE(can_reach(*nodes[2], *nodes[0]));
  // Request/reply across the TLS mesh with a large payload.
  ConnPtr svc, cli;
  ASSERT_EQ(connect_url(svc, nodes[0]->url()), NATS_OK);
  ASSERT_EQ(connect_url(cli, nodes[2]->url()), NATS_OK);
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, svc.p, "tls.echo", echo_handler, nullptr), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
  ASSERT_TRUE(wait_interest(*nodes[2], "tls.echo", 1));
  std::string body(200 * 1024, 'r');
  MsgPtr reply;
  ASSERT_EQ(natsConnection_Request(&reply.p, cli.p, "tls.echo", body.data(), static_cast<int>(body.size()), 5000),
            NATS_OK);
  EXPECT_EQ(reply.data(), "echo:" + body);
}

// cluster { tls { pinned_certs } }: routes whose certificate's key is pinned join, others are
// cut after the handshake ("certificate not pinned"), on ours and on 2.9.10 alike.
TEST_F(ClusterTls, PinnedCertsGateTheRoutes) {
  auto r = testing_harness::run_command("openssl x509 -in " + pki_->server_cert +
                                        " -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -r");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string pin = r.output.substr(0, 64);
  per_binary([&](const std::string& bin) {
    for (const std::string& p : {pin, std::string(64, '0')}) {
      std::vector<std::unique_ptr<Node>> nodes;
      int seed_port = testing_harness::free_port();
      for (int i = 0; i < 2; ++i) {
        auto n = std::make_unique<Node>();
        n->name = "p" + std::to_string(i + 1);
        n->binary = bin;
        n->cluster = "pins";
        n->cluster_port = i == 0 ? seed_port : testing_harness::free_port();
        if (i > 0) n->routes = {"nats-route://127.0.0.1:" + std::to_string(seed_port)};
        std::string block = tls_block(*pki_, true);
        n->cluster_extra = block.substr(0, block.size() - 1) + "    pinned_certs: [\"" + p + "\"]\n  }";
        n->start();
        nodes.push_back(std::move(n));
      }
      if (p == pin) {
        EXPECT_TRUE(wait_for([&] { return nodes[0]->num_routes() == 1 && nodes[1]->num_routes() == 1; },
                             milliseconds(10000)))
            << nodes[1]->proc->log();
      } else {
        EXPECT_TRUE(wait_for([&] { return nodes[0]->proc->log().find("certificate not pinned") != std::string::npos; },
                             milliseconds(10000)))
            << nodes[0]->proc->log();
        EXPECT_EQ(nodes[0]->num_routes(), 0);
      }
    }
  });
}

TEST_F(ClusterTls, PlaintextPeerCannotJoin) {
  auto bin = testing_harness::server_binary();
  auto nodes = cluster({bin, bin});
  ASSERT_TRUE(wait_for([&] { return nodes[0]->num_routes() == 1 && nodes[1]->num_routes() == 1; },
                       milliseconds(10000)));
  // A third server without TLS dials the seed: it never becomes a route.
  Node plain;
  plain.name = "plain";
  plain.cluster = "tls";
  plain.cluster_port = testing_harness::free_port();
  plain.routes = {"nats-route://127.0.0.1:" + std::to_string(nodes[0]->cluster_port)};
  plain.start();
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_EQ(plain.num_routes(), 0);
  EXPECT_EQ(nodes[0]->num_routes(), 1);
  EXPECT_TRUE(can_reach(*nodes[0], *nodes[1]));
  EXPECT_NE(nodes[0]->proc->log().find("TLS handshake"), std::string::npos) << nodes[0]->proc->log();
}

// Interop: the reference and ours in one cluster, routes over TLS with verification.
TEST_F(ClusterTls, MixedWithReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto nodes = cluster({testing_harness::reference_binary(), testing_harness::server_binary()});
  ASSERT_TRUE(wait_for([&] { return nodes[1]->num_routes() == 1; }, milliseconds(10000)))
      << nodes[1]->proc->log() << nodes[0]->proc->log();
  EXPECT_TRUE(can_reach(*nodes[0], *nodes[1]));
  EXPECT_TRUE(can_reach(*nodes[1], *nodes[0]));
}

TEST_F(ClusterTls, GatewaysOverTls) {
  per_binary([&](const std::string& peer) {
    Node x, y;
    start_gateway_pair(x, y, testing_harness::server_binary(), "127.0.0.1", tls_block(*pki_, true), peer);
    ASSERT_TRUE(wait_for([&] { return x.num_outbound_gateways() == 1 && x.num_inbound_gateways() == 1; },
                         milliseconds(10000)))
        << x.proc->log();
    ConnPtr svc, cli;
    ASSERT_EQ(connect_url(svc, x.url()), NATS_OK);
    ASSERT_EQ(connect_url(cli, y.url()), NATS_OK);
    SubPtr s;
    ASSERT_EQ(natsConnection_Subscribe(&s.p, svc.p, "gw.tls", echo_handler, nullptr), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
    MsgPtr reply;
    bool ok = wait_for([&] {
      reply.reset();
      return natsConnection_RequestString(&reply.p, cli.p, "gw.tls", "hi", 500) == NATS_OK;
    }, milliseconds(8000));
    ASSERT_TRUE(ok) << x.proc->log();
    EXPECT_EQ(reply.data(), "echo:hi");
  });
}


// A server whose cluster and gateway tls blocks have cert, key and CA but no `verify` (the
// gateway's says `verify: false`) refuses a TLS peer without a certificate on both ports, at
// TLS 1.2 (the handshake fails) and 1.3 (the alert follows the handshake), and says
// tls_verify in the INFO and /varz; its leafnodes port, with the same block, lets such a
// peer in: ours and 2.9.10 alike. A peer with the CA's client certificate gets the INFO.
TEST_F(ClusterTls, RoutesAndGatewaysRequireAPeerCertificateWithoutVerify) {
  per_binary([&](const std::string& bin) {
    const int leaf_port = testing_harness::free_port();
    Node n;
    n.binary = bin;
    n.name = "v";
    n.cluster = n.gateway = "V";
    n.cluster_port = testing_harness::free_port();
    n.gateway_port = testing_harness::free_port();
    n.cluster_extra = tls_block(*pki_, false);
    std::string gw = tls_block(*pki_, false);
    n.gateway_extra = gw.substr(0, gw.size() - 1) + "    verify: false\n  }";
    // 2.9.10 needs a system account beside gateways and leaf nodes.
    n.extra = "accounts { SYS { users [{user: sys, password: sys}] } }\nsystem_account: SYS\nleafnodes {\n  listen: "
              "127.0.0.1:" + std::to_string(leaf_port) + "\n  " + tls_block(*pki_, false) + "\n}";
    n.start();
    for (int port : {n.cluster_port, n.gateway_port}) {
      SCOPED_TRACE(port == n.cluster_port ? "cluster port" : "gateway port");
      for (bool tls12 : {true, false}) {
        SCOPED_TRACE(tls12 ? "TLS 1.2" : "TLS 1.3");
        Probe no_cert = tls_probe(port, *pki_, false, tls12);
        EXPECT_TRUE(no_cert.refused) << no_cert.first_line;
        EXPECT_EQ(no_cert.first_line, "");
        Probe with_cert = tls_probe(port, *pki_, true, tls12);
        EXPECT_FALSE(with_cert.refused);
        EXPECT_EQ(with_cert.first_line.rfind("INFO ", 0), 0u) << with_cert.first_line;
        EXPECT_NE(with_cert.first_line.find("\"tls_verify\":true"), std::string::npos) << with_cert.first_line;
      }
    }
    Probe leaf = tls_probe(leaf_port, *pki_, false, true, true);
    EXPECT_EQ(leaf.first_line.rfind("INFO ", 0), 0u) << leaf.first_line;
    EXPECT_EQ(leaf.first_line.find("tls_verify"), std::string::npos) << leaf.first_line;
    EXPECT_FALSE(leaf.refused) << n.proc->log();
    auto v = http_json(n.http_port, "/varz");
    for (const char* k : {"cluster", "gateway"}) {
      EXPECT_EQ(v[k].value("tls_required", false), true) << k << v[k].dump();
      EXPECT_EQ(v[k].value("tls_verify", false), true) << k << v[k].dump();
    }
    EXPECT_EQ(v["leaf"].value("tls_required", false), true) << v["leaf"].dump();
    EXPECT_FALSE(v["leaf"].contains("tls_verify")) << v["leaf"].dump();
  });
}

// Without `verify`, TLS routes and gateways form all the same (each side sends its
// certificate when dialling), ours with ours and ours with 2.9.10 both ways.
TEST_F(ClusterTls, RoutesAndGatewaysFormWithoutVerify) {
  per_binary([&](const std::string& peer) {
    Node a, b;
    start_route_pair(a, b, testing_harness::server_binary(), peer, "nv", "127.0.0.1", tls_block(*pki_, false), true);
    EXPECT_TRUE(routes_connected(a, b, milliseconds(10000))) << a.proc->log() << b.proc->log();
    Node x, y;
    start_gateway_pair(x, y, testing_harness::server_binary(), "127.0.0.1", tls_block(*pki_, false), peer);
    EXPECT_TRUE(gateways_connected(x, y, milliseconds(10000))) << x.proc->log() << y.proc->log();
  });
}

// Without a ca_file, a route peer's certificate is checked against the system's roots both
// ways: a certificate from a private CA never makes a route, also with `insecure` (which only
// spares the dialing side's check; the accepting side still refuses the dialer's certificate),
// ours and 2.9.10 alike.
TEST_F(ClusterTls, WithoutCaFileRoutePeersAreCheckedAgainstSystemRoots) {
  per_binary([&](const std::string& bin) {
    for (const std::string extra : {"", "insecure: true"}) {
      SCOPED_TRACE(extra);
      Node a, b;
      start_route_pair(a, b, bin, bin, "nca", "127.0.0.1", tls_block_no_ca(*pki_, extra), false);
      // The seed refuses the dialer's handshake (ours: "TLS handshake error", 2.9.10: "TLS
      // route handshake error"), or, without insecure, the dialer refuses the seed's.
      EXPECT_TRUE(wait_for([&] {
        return a.proc->log().find("handshake error") != std::string::npos ||
               b.proc->log().find("handshake error") != std::string::npos;
      }, milliseconds(8000))) << a.proc->log() << b.proc->log();
      EXPECT_EQ(a.num_routes(), 0) << a.proc->log();
      EXPECT_EQ(b.num_routes(), 0) << b.proc->log();
      if (!extra.empty()) {
        EXPECT_NE(a.proc->log().find("handshake error"), std::string::npos) << a.proc->log();
      }
    }
  });
}
}  // namespace

}  // namespace NATS_TEST_FILE_ID
