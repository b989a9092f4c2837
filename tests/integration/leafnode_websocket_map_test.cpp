// A leaf over wss whose certificate names its user. As in 2.9.10 (isLeafNodeAuthorized,
// processClientOrLeafAuthentication), what maps a leaf's certificate is leafnodes { tls {
// verify_and_map } }, whichever port the leaf came in by; the websocket block's own
// verify_and_map is for websocket clients only. The certificate is the one the leaf showed in
// the websocket TLS handshake (websocket { tls { verify } } asks for it). Same scenarios on
// our hub and on 2.9.10's, our leaf dialling, same answers.
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

class LeafWebsocketMap : public TlsSuite {
 protected:
  // The account /leafz of the hub shows for the leaf, "refused" once the hub logged an
  // authentication error with no leaf connected. ws_tls / leaf: bodies of the hub's websocket
  // tls and leafnodes blocks (beside their listen lines).
  static std::string bound_account(const std::string& hub_bin, const std::string& ws_tls, const std::string& leaf) {
    Node hub, spoke;
    const int ws_port = testing_harness::free_port();
    hub.binary = hub_bin;
    hub.name = "hub";
    hub.extra = "accounts { A { users [ {user: \"CN=client\", password: \"\"} ] } }\n"
                "websocket { listen: 127.0.0.1:" + std::to_string(ws_port) + "\n tls { " + certs() + ws_tls +
                " }\n}\nleafnodes { listen: 127.0.0.1:" + std::to_string(testing_harness::free_port()) + "\n " + leaf +
                "\n}\n";
    spoke.name = "leaf";
    spoke.extra = "leafnodes { remotes [ { url: \"wss://127.0.0.1:" + std::to_string(ws_port) + "\"\n tls { cert_file: \"" +
                  pki_->client_cert + "\", key_file: \"" + pki_->client_key + "\", ca_file: \"" + pki_->ca +
                  "\" } } ] }\n";
    hub.start();
    spoke.start();
    std::string out;
    bool done = wait_for([&] {
      if (num_leafs(hub) == 1) {
        auto j = http_json(hub.http_port, "/leafz");
        out = j["leafs"][0].value("account", "?");
        return true;
      }
      if (hub.proc->log().find("authentication error") != std::string::npos) {
        out = "refused";
        return true;
      }
      return false;
    }, milliseconds(5000));
    return done ? out : "timeout: " + hub.proc->log();
  }
  static std::string certs() {
    return "cert_file: \"" + pki_->server_cert + "\", key_file: \"" + pki_->server_key + "\", ca_file: \"" + pki_->ca +
           "\", ";
  }
};

// leafnodes { tls { verify_and_map } } with a leafnodes users list: the certificate's subject
// names the user, whose account binds the leaf; a certificate naming no listed user is refused.
TEST_F(LeafWebsocketMap, LeafnodesMapNamesALeafnodesUser) {
  const std::string map = "tls { " + certs() + "verify_and_map: true }\n ";
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    EXPECT_EQ(bound_account(bin, "verify: true",
                            map + "authorization { users [ {user: \"CN=client\", password: \"\", account: A} ] }"),
              "A")
        << bin;
    EXPECT_EQ(bound_account(bin, "verify: true",
                            map + "authorization { users [ {user: \"CN=other\", password: \"\", account: A} ] }"),
              "refused")
        << bin;
  }
}

// Without leafnodes users, leafnodes' verify_and_map maps the certificate to a client user.
TEST_F(LeafWebsocketMap, LeafnodesMapNamesAClientUser) {
  const std::string map = "tls { " + certs() + "verify_and_map: true }";
  for (const auto& bin : testing_harness::binaries_to_compare()) EXPECT_EQ(bound_account(bin, "verify: true", map), "A") << bin;
}

// The websocket block's verify_and_map maps no leaf: with a leafnodes users list the leaf,
// which sends no user, is refused.
TEST_F(LeafWebsocketMap, WebsocketMapDoesNotMapALeaf) {
  for (const auto& bin : testing_harness::binaries_to_compare())
    EXPECT_EQ(bound_account(bin, "verify_and_map: true",
                            "authorization { users [ {user: \"CN=client\", password: \"\", account: A} ] }"),
              "refused")
        << bin;
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
