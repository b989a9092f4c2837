// TLS on routes and gateways: a 3-node cluster whose routes verify each other's certificates,
// a cluster mixing our server and the reference over TLS routes, two clusters joined by TLS
// gateways, and a plaintext peer that cannot join a TLS cluster (the others are undisturbed).
#include <gtest/gtest.h>

#include "cluster_test_util.h"
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
  std::vector<std::string> bins{testing_harness::server_binary()};
  if (testing_harness::reference_available()) bins.push_back(testing_harness::reference_binary());
  for (const auto& bin : bins) {
    SCOPED_TRACE(bin);
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
  }
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
  for (const std::string& peer : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (peer == testing_harness::reference_binary() && !testing_harness::reference_available()) continue;
    SCOPED_TRACE(peer);
    Node east, west;
    east.name = "e1";
    west.name = "w1";
    west.binary = peer;
    east.gateway = "east";
    west.gateway = "west";
    east.gateway_port = testing_harness::free_port();
    west.gateway_port = testing_harness::free_port();
    east.gateways = {{"west", "nats://127.0.0.1:" + std::to_string(west.gateway_port)}};
    west.gateways = {{"east", "nats://127.0.0.1:" + std::to_string(east.gateway_port)}};
    east.gateway_extra = tls_block(*pki_, true);
    west.gateway_extra = tls_block(*pki_, true);
    east.start();
    west.start();
    ASSERT_TRUE(wait_for([&] { return east.num_outbound_gateways() == 1 && east.num_inbound_gateways() == 1; },
                         milliseconds(10000)))
        << east.proc->log();
    ConnPtr svc, cli;
    ASSERT_EQ(connect_url(svc, east.url()), NATS_OK);
    ASSERT_EQ(connect_url(cli, west.url()), NATS_OK);
    SubPtr s;
    ASSERT_EQ(natsConnection_Subscribe(&s.p, svc.p, "gw.tls", echo_handler, nullptr), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
    MsgPtr reply;
    bool ok = wait_for([&] {
      reply.reset();
      return natsConnection_RequestString(&reply.p, cli.p, "gw.tls", "hi", 500) == NATS_OK;
    }, milliseconds(8000));
    ASSERT_TRUE(ok) << east.proc->log();
    EXPECT_EQ(reply.data(), "echo:hi");
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
