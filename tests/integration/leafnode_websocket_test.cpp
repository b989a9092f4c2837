// Leaf nodes over WebSocket: a remote with ws:// or wss:// URLs dials the hub's websocket
// port, asks for the "/leafnode" path (so the hub makes it a leaf, not a client), and then
// speaks the leaf protocol in frames, masked unless the hub agreed to Nats-No-Masking,
// compressed when both ask. Our leaf with a 2.9.10 hub, a 2.9.10 leaf with our hub, and ours
// with ours over wss with compression; messages, a request and a large payload cross.
#include <gtest/gtest.h>

#include "cluster_test_util.h"
#include "leaf_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;
using ltest::num_leafs;

namespace {

class LeafWebsocket : public TlsSuite {
 protected:
  struct Pair {
    Node hub, leaf;
    int leaf_port = testing_harness::free_port();
    int ws_port = testing_harness::free_port();
  };
  // ws_block: the body of the hub's websocket block after its listen line; remote: the
  // leaf's remote block after its url.
  static void start(Pair& p, const std::string& hub_bin, const std::string& leaf_bin, const std::string& scheme,
                    const std::string& ws_block, const std::string& remote) {
    p.hub.binary = hub_bin;
    p.leaf.binary = leaf_bin;
    p.hub.name = "hub";
    p.hub.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(p.leaf_port) + " }\nwebsocket {\n listen: 127.0.0.1:" +
                  std::to_string(p.ws_port) + "\n " + ws_block + "\n}\n";
    p.leaf.name = "leaf";
    p.leaf.extra = "leafnodes { remotes [ { url: \"" + scheme + "://127.0.0.1:" + std::to_string(p.ws_port) + "\"\n " +
                   remote + "\n} ] }\n";
    p.hub.start();
    p.leaf.start();
  }
  static std::string tls_block(bool server) {
    if (server)
      return "tls {\n  cert_file: \"" + pki_->server_cert + "\"\n  key_file: \"" + pki_->server_key + "\"\n }";
    return "tls { ca_file: \"" + pki_->ca + "\" }";
  }
  static bool connected(const Pair& p) { return ltest::leafs_connected(p.hub, p.leaf); }
  static void exchange(Pair& p) { ltest::leaf_exchange(p.hub, p.leaf, "ws.svc", 200 * 1024); }
};

TEST_F(LeafWebsocket, OurLeafOnReferenceHubWebsocketPort) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  Pair p;
  start(p, testing_harness::reference_binary(), testing_harness::server_binary(), "ws", "no_tls: true\n compression: true",
        "ws_compression: true");
  ASSERT_TRUE(connected(p)) << p.leaf.proc->log();
  exchange(p);
  // The hub counts it as a leaf, not as a client (the test's clients are gone by now).
  // (Polled: the hub sees the clients' sockets close a moment later.)
  EXPECT_TRUE(wait_for([&] { return http_json(p.hub.http_port, "/connz").value("num_connections", -1) == 0; },
                       milliseconds(3000)));
}

TEST_F(LeafWebsocket, ReferenceLeafOnOurHubWebsocketPort) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  Pair p;
  start(p, testing_harness::server_binary(), testing_harness::reference_binary(), "ws", "no_tls: true\n compression: true",
        "ws_compression: true\n ws_no_masking: true");
  ASSERT_TRUE(connected(p)) << p.hub.proc->log();
  exchange(p);
  // (Polled: the hub sees the clients' sockets close a moment later.)
  EXPECT_TRUE(wait_for([&] { return http_json(p.hub.http_port, "/connz").value("num_connections", -1) == 0; },
                       milliseconds(3000)));
  EXPECT_EQ(http_json(p.hub.http_port, "/varz").value("leafnodes", -1), 1);
}

// wss: the TLS handshake before the upgrade, the leaf checking the hub's certificate with
// its CA; compression both ways.
TEST_F(LeafWebsocket, OursWithOursOverWssWithCompression) {
  Pair p;
  start(p, testing_harness::server_binary(), testing_harness::server_binary(), "wss",
        tls_block(true) + "\n compression: true", "ws_compression: true\n " + tls_block(false));
  ASSERT_TRUE(connected(p)) << p.hub.proc->log() << p.leaf.proc->log();
  exchange(p);
}

// wss with 2.9.10 on either side, without compression.
TEST_F(LeafWebsocket, WssWithTheReferenceBothWays) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  for (bool ours_hub : {true, false}) {
    Pair p;
    const std::string ours = testing_harness::server_binary(), ref = testing_harness::reference_binary();
    start(p, ours_hub ? ours : ref, ours_hub ? ref : ours, "wss", tls_block(true), tls_block(false));
    ASSERT_TRUE(connected(p)) << ours_hub << p.hub.proc->log() << p.leaf.proc->log();
    exchange(p);
  }
}

// A hub whose leafnodes block has no port accepts no leaf on its websocket port either;
// ours logs what 2.9.10 logs.
TEST_F(LeafWebsocket, HubWithoutLeafPortRefusesWebsocketLeaf) {
  for (const std::string& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (bin == testing_harness::reference_binary() && !testing_harness::reference_available()) continue;
    Pair p;
    p.hub.binary = bin;
    p.hub.name = "hub";
    p.hub.extra = "websocket {\n listen: 127.0.0.1:" + std::to_string(p.ws_port) + "\n no_tls: true\n}\n";
    p.leaf.name = "leaf";
    p.leaf.extra =
        "leafnodes { reconnect: 1, remotes [ { url: \"ws://127.0.0.1:" + std::to_string(p.ws_port) + "\" } ] }\n";
    p.hub.start();
    p.leaf.start();
    EXPECT_TRUE(wait_for([&] { return p.hub.proc->log().find("Not configured to accept leaf node connections") !=
                                      std::string::npos; },
                         milliseconds(5000)))
        << bin << p.hub.proc->log();
    EXPECT_EQ(num_leafs(p.leaf), 0) << bin;
  }
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
