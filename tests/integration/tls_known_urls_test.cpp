// tls { verify_cert_and_check_known_urls } in the cluster and gateway blocks: an accepted
// route's or gateway's certificate must carry a DNS name matching the host of a URL this
// server was configured with (its routes, its remote gateways). The test's server
// certificate has DNS:localhost and IP:127.0.0.1: with "localhost" URLs the peers get in,
// with "127.0.0.1" URLs (an IP SAN is no DNS name) they are refused. Elsewhere (client,
// leafnodes, websocket) the setting is refused at start-up. Ours and 2.9.10, same answers.
#include <gtest/gtest.h>

#include "cluster_test_util.h"
#include "tls_peer_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

class TlsKnownUrls : public TlsSuite {
 protected:
  static std::string tls_block() {
    return "tls {\n  cert_file: \"" + pki_->server_cert + "\"\n  key_file: \"" + pki_->server_key +
           "\"\n  ca_file: \"" + pki_->ca + "\"\n  verify_cert_and_check_known_urls: true\n}\n";
  }
};

TEST_F(TlsKnownUrls, RoutesMustBeNamedByTheirCertificate) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    for (const std::string host : {"localhost", "127.0.0.1"}) {
      SCOPED_TRACE(bin + " routes to " + host);
      Node a, b;
      start_route_pair(a, b, bin, bin, "k", host, tls_block(), true);
      if (host == "localhost") {
        EXPECT_TRUE(routes_connected(a, b, milliseconds(5000))) << a.proc->log();
      } else {
        EXPECT_TRUE(logs_authentication_error(a, milliseconds(5000))) << a.proc->log();
        EXPECT_EQ(a.num_routes(), 0);
        EXPECT_EQ(b.num_routes(), 0);
      }
    }
  }
}

TEST_F(TlsKnownUrls, GatewaysMustBeNamedByTheirCertificate) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    for (const std::string host : {"localhost", "127.0.0.1"}) {
      SCOPED_TRACE(bin + " gateways at " + host);
      Node x, y;
      start_gateway_pair(x, y, bin, host, tls_block());
      if (host == "localhost") {
        EXPECT_TRUE(gateways_connected(x, y, milliseconds(5000))) << x.proc->log();
      } else {
        EXPECT_TRUE(logs_authentication_error(x, milliseconds(5000))) << x.proc->log();
        EXPECT_EQ(x.num_inbound_gateways(), 0);
      }
    }
  }
}

// Where no peer is dialled from a configured URL the setting is refused (2.9.10's parseTLS
// for a client context); `false` is accepted anywhere.
TEST_F(TlsKnownUrls, RefusedOutsideClusterAndGateway) {
  testing_harness::TempDir d;
  const std::string certs = "cert_file: \"" + pki_->server_cert + "\", key_file: \"" + pki_->server_key + "\"";
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    for (const std::string& conf :
         {"tls { " + certs + ", verify_cert_and_check_known_urls: true }\n",
          "leafnodes { port: -1, tls { " + certs + ", verify_cert_and_check_known_urls: true } }\n",
          "websocket { port: -1, tls { " + certs + ", verify_cert_and_check_known_urls: true } }\n"}) {
      std::string file = d.write("k.conf", conf);
      auto r = testing_harness::run_command("timeout 10 " + bin + " -t -c " + file);
      EXPECT_NE(r.status, 0) << bin << conf << r.output;
      EXPECT_NE(r.output.find("verify_cert_and_check_known_urls not supported in this context"), std::string::npos)
          << bin << conf << r.output;
    }
    std::string file = d.write("ok.conf", "tls { " + certs + ", verify_cert_and_check_known_urls: false }\n");
    auto r = testing_harness::run_command("timeout 10 " + bin + " -t -c " + file);
    EXPECT_EQ(r.status, 0) << bin << r.output;
  }
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
