// Leaf nodes over TLS: the hub sends its INFO in clear with tls_required, then the leaf
// starts the handshake. Our hub with a 2.9.10 leaf, a 2.9.10 hub with our leaf and ours with
// ours, each with the hub verifying the leaf's client certificate and the leaf checking the
// hub's against its CA; a leaf without a client certificate is refused by a verifying hub,
// and a leaf with no tls block checks the hub's certificate against the system's roots (so a
// private CA fails), as the reference's does.
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

class LeafTls : public TlsSuite {
 protected:
  struct Pair {
    Node hub, leaf;
    int leaf_port = testing_harness::free_port();
  };
  // hub_verify: the hub requires a client certificate. remote_tls: the body of the leaf's
  // remote tls block (empty: none). scheme: of the remote URL.
  static void start(Pair& p, const std::string& hub_bin, const std::string& leaf_bin, bool hub_verify,
                    const std::string& remote_tls, const std::string& scheme = "tls") {
    p.hub.binary = hub_bin;
    p.leaf.binary = leaf_bin;
    p.hub.name = "hub";
    p.hub.extra = "leafnodes {\n listen: 127.0.0.1:" + std::to_string(p.leaf_port) + "\n tls {\n  cert_file: \"" +
                  pki_->server_cert + "\"\n  key_file: \"" + pki_->server_key + "\"\n  ca_file: \"" + pki_->ca +
                  "\"\n  timeout: 2\n" + (hub_verify ? "  verify: true\n" : "") + " }\n}\n";
    p.leaf.name = "leaf";
    p.leaf.extra = "leafnodes { remotes [ { url: \"" + scheme + "://127.0.0.1:" + std::to_string(p.leaf_port) +
                   "\"\n" + (remote_tls.empty() ? "" : " tls { " + remote_tls + " }\n") + "} ] }\n";
    p.hub.start();
    p.leaf.start();
  }
  static std::string client_cert_tls() {
    return "cert_file: \"" + pki_->client_cert + "\"\n key_file: \"" + pki_->client_key + "\"\n ca_file: \"" +
           pki_->ca + "\"\n";
  }
  static bool connected(const Pair& p) { return ltest::leafs_connected(p.hub, p.leaf); }
  static void exchange(Pair& p) { ltest::leaf_exchange(p.hub, p.leaf, "tls.svc", 100 * 1024); }
};

TEST_F(LeafTls, ReferenceLeafWithClientCertificateOnOurVerifyingHub) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  Pair p;
  start(p, testing_harness::server_binary(), testing_harness::reference_binary(), true, client_cert_tls());
  ASSERT_TRUE(connected(p)) << p.hub.proc->log() << p.leaf.proc->log();
  exchange(p);
}

TEST_F(LeafTls, OurLeafWithClientCertificateOnAReferenceVerifyingHub) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  Pair p;
  start(p, testing_harness::reference_binary(), testing_harness::server_binary(), true, client_cert_tls());
  ASSERT_TRUE(connected(p)) << p.leaf.proc->log();
  exchange(p);
}

TEST_F(LeafTls, OurLeafOnOurHubAndTheInfoSaysTls) {
  Pair p;
  start(p, testing_harness::server_binary(), testing_harness::server_binary(), true, client_cert_tls());
  ASSERT_TRUE(connected(p)) << p.hub.proc->log() << p.leaf.proc->log();
  exchange(p);
  // The hub's INFO on the leafnode port says TLS is required and verified.
  RawClient raw(p.leaf_port);
  auto info = nlohmann::json::parse(raw.info_json());
  EXPECT_EQ(info.value("tls_required", false), true) << raw.info();
  EXPECT_EQ(info.value("tls_verify", false), true) << raw.info();
}

TEST_F(LeafTls, ANonVerifyingHubTakesALeafWithOnlyItsCa) {
  // A nats-leaf:// URL: the hub's INFO alone turns TLS on; the leaf's block holds its CA.
  Pair p;
  start(p, testing_harness::server_binary(), testing_harness::server_binary(), false,
        "ca_file: \"" + pki_->ca + "\"", "nats-leaf");
  ASSERT_TRUE(connected(p)) << p.hub.proc->log() << p.leaf.proc->log();
  exchange(p);
}

// Neither leaf gets in: ours without a client certificate (the hub verifies), and ours with
// no tls block at all (the hub's certificate is not from a system root). The reference
// behaves the same in both cases.
TEST_F(LeafTls, LeafsThatCannotCompleteTheHandshakeStayOut) {
  for (const std::string& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (bin == testing_harness::reference_binary() && !testing_harness::reference_available()) continue;
    Pair no_cert, no_block;
    start(no_cert, testing_harness::server_binary(), bin, true, "ca_file: \"" + pki_->ca + "\"");
    start(no_block, testing_harness::server_binary(), bin, false, "");
    std::this_thread::sleep_for(milliseconds(3000));
    EXPECT_EQ(num_leafs(no_cert.hub), 0) << bin;
    EXPECT_EQ(num_leafs(no_cert.leaf), 0) << bin;
    EXPECT_EQ(num_leafs(no_block.hub), 0) << bin;
    EXPECT_EQ(num_leafs(no_block.leaf), 0) << bin;
  }
}

// tls { insecure }: a remote with neither a CA nor the system's trust in the hub's certificate
// gets in anyway, ours as 2.9.10's; a server with a leafnodes port and such a remote logs
// 2.9.10's warning.
TEST_F(LeafTls, InsecureRemoteSkipsTheHubCertificateCheck) {
  const std::string warning =
      "TLS certificate chain and hostname of solicited leafnodes will not be verified. DO NOT USE IN PRODUCTION!";
  for (const std::string& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (bin == testing_harness::reference_binary() && !testing_harness::reference_available()) continue;
    Pair p;
    start(p, testing_harness::server_binary(), bin, false, "insecure: true");
    EXPECT_TRUE(connected(p)) << bin << p.leaf.proc->log();
    EXPECT_EQ(p.leaf.proc->log().find(warning), std::string::npos) << bin;  // no leafnodes port: no warning
    Node other;
    other.binary = bin;
    other.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(testing_harness::free_port()) +
                  "\n remotes [ { url: \"tls://127.0.0.1:" + std::to_string(p.leaf_port) +
                  "\", tls { insecure: true } } ] }\n";
    other.start();
    EXPECT_TRUE(wait_for([&] { return other.proc->log().find(warning) != std::string::npos; }, milliseconds(3000)))
        << bin << other.proc->log();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
