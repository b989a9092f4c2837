// Leaf TLS `verify_and_map` and `pinned_certs`, on our hub and on 2.9.10's with the same
// configuration and the same certificates (made by the test), each answer compared:
//   - verify_and_map: the leaf's client certificate names a leafnodes authorization user (by
//     an e-mail SAN, or by its subject printed as Go prints it: "CN=..,OU=..,O=.."), which
//     binds the leaf to that user's account; a certificate naming no user is refused;
//   - pinned_certs: the SHA-256 of the DER SubjectPublicKeyInfo of the peer's certificate must
//     be listed: checked by the hub on the leaf's certificate, and by a leaf on the hub's
//     (leafnodes { tls { pinned_certs } } applies to its remotes, as 2.9.10).
// Refusals are observed through the log line that names them, so no test sleeps.
#include <gtest/gtest.h>

#include "cluster_test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

class LeafTlsMapPin : public TlsSuite {
 protected:
  static void SetUpTestSuite() {
    TlsSuite::SetUpTestSuite();
    if (!pki_->ok) return;
    const std::string d = pki_->dir.path();
    auto run = [&](const std::string& cmd) { return testing_harness::run_command("cd " + d + " && " + cmd); };
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    pki_->dir.write("mail.ext", "extendedKeyUsage=clientAuth\nsubjectAltName=email:leaf@acme.test\n");
    bool ok = run("openssl req " + key + " -keyout subj.key -out subj.csr -subj /C=US/O=Acme/OU=edge/CN=leaf1").status == 0 &&
              run("openssl x509 -req -in subj.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out subj.pem -days 2 "
                  "-extfile client.ext").status == 0 &&
              run("openssl req " + key + " -keyout mail.key -out mail.csr -subj /CN=mailer").status == 0 &&
              run("openssl x509 -req -in mail.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out mail.pem -days 2 "
                  "-extfile mail.ext").status == 0;
    auto pin = [&](const std::string& pem) {
      auto r = run("openssl x509 -in " + pem + " -pubkey -noout | openssl pkey -pubin -outform der | "
                   "openssl dgst -sha256 -r");
      return r.status == 0 && r.output.size() >= 64 ? r.output.substr(0, 64) : std::string();
    };
    client_pin_ = pin("client.pem");
    server_pin_ = pin("server.pem");
    if (!ok || client_pin_.empty() || server_pin_.empty()) pki_->ok = false;
  }
  static inline std::string client_pin_, server_pin_;
  static constexpr const char* kOtherPin = "0000000000000000000000000000000000000000000000000000000000000000";

  struct Pair {
    Node hub, leaf;
    int leaf_port = testing_harness::free_port();
  };
  // hub_tls: extra lines of the hub's leafnodes tls block; hub_auth: its authorization block
  // (may be empty). cert: the leaf's client certificate ("client", "subj" or "mail");
  // leaf_pins: the leaf's own leafnodes { tls { pinned_certs } } (empty: none).
  static void start(Pair& p, const std::string& hub_bin, const std::string& hub_tls, const std::string& hub_auth,
                    const std::string& cert, const std::string& leaf_pins = "",
                    const std::string& leaf_bin = testing_harness::server_binary()) {
    const std::string d = pki_->dir.path() + "/";
    p.hub.binary = hub_bin;
    p.leaf.binary = leaf_bin;
    p.hub.name = "hub";
    // The accounts the mapped users bind to (only then: their users would make the hub
    // require credentials of every leaf).
    p.hub.extra = (hub_auth.empty() ? std::string()
                                    : "accounts { A { users [ {user: a, password: a} ] }, B { users [ {user: b, "
                                      "password: b} ] } }\n") +
                  "leafnodes {\n listen: 127.0.0.1:" + std::to_string(p.leaf_port) + "\n " + hub_auth +
                  "\n tls {\n  cert_file: \"" + pki_->server_cert + "\"\n  key_file: \"" + pki_->server_key +
                  "\"\n  ca_file: \"" + pki_->ca + "\"\n  " + hub_tls + "\n }\n}\n";
    p.leaf.name = "leaf";
    std::string own_tls;
    if (!leaf_pins.empty())
      own_tls = " tls { cert_file: \"" + pki_->server_cert + "\", key_file: \"" + pki_->server_key +
                "\", pinned_certs: [\"" + leaf_pins + "\"] }\n";
    p.leaf.extra = "leafnodes {\n" + own_tls + " remotes [ { url: \"tls://127.0.0.1:" + std::to_string(p.leaf_port) +
                   "\"\n tls { cert_file: \"" + d + cert + ".pem\", key_file: \"" + d + cert + ".key\", ca_file: \"" +
                   pki_->ca + "\" } } ]\n}\n";
    p.hub.start();
    p.leaf.start();
  }
  static nlohmann::json leafz(const Node& n) { return http_json(n.http_port, "/leafz"); }
  // The account the hub bound the leaf to, once connected; empty if it never connected.
  static std::string bound_account(const Pair& p) {
    std::string acc;
    wait_for([&] {
      auto j = leafz(p.hub);
      if (!j.contains("leafs") || j["leafs"].empty()) return false;
      acc = j["leafs"][0].value("account", "");
      return true;
    }, milliseconds(10000));
    return acc;
  }
  // The node's log says `text` (a refusal), and no leaf got in on either side.
  static void expect_refused(const Pair& p, const Node& logger, const std::string& text) {
    EXPECT_TRUE(wait_for([&] { return logger.proc->log().find(text) != std::string::npos; }, milliseconds(10000)))
        << text << "\n" << logger.proc->log();
    EXPECT_EQ(leafz(p.hub).value("leafnodes", -1), 0);
    EXPECT_EQ(leafz(p.leaf).value("leafnodes", -1), 0);
  }
  // Ours, and 2.9.10 when installed.
  static std::vector<std::string> hubs() {
    std::vector<std::string> v{testing_harness::server_binary()};
    if (testing_harness::reference_available()) v.push_back(testing_harness::reference_binary());
    return v;
  }
  static const char* users() {
    return "authorization { users [ {user: \"CN=leaf1,OU=edge,O=Acme,C=US\", account: A},"
           " {user: \"leaf@acme.test\", account: B} ] }";
  }
};

TEST_F(LeafTlsMapPin, VerifyAndMapBindsTheCertificatesUserAccount) {
  for (const auto& bin : hubs()) {
    SCOPED_TRACE(bin);
    Pair by_subject, by_email, unknown;
    start(by_subject, bin, "verify_and_map: true", users(), "subj");
    start(by_email, bin, "verify_and_map: true", users(), "mail");
    start(unknown, bin, "verify_and_map: true", users(), "client");  // CN=client: no such user
    EXPECT_EQ(bound_account(by_subject), "A") << by_subject.hub.proc->log();
    EXPECT_EQ(bound_account(by_email), "B") << by_email.hub.proc->log();
    expect_refused(unknown, unknown.hub, "uthentication error");
  }
}

TEST_F(LeafTlsMapPin, TheHubChecksTheLeafsPinnedCertificate) {
  for (const auto& bin : hubs()) {
    SCOPED_TRACE(bin);
    Pair pinned, other;
    start(pinned, bin, "verify: true\n  pinned_certs: [\"" + client_pin_ + "\"]", "", "client");
    start(other, bin, std::string("verify: true\n  pinned_certs: [\"") + kOtherPin + "\"]", "", "client");
    EXPECT_EQ(bound_account(pinned), "$G") << pinned.hub.proc->log();
    expect_refused(other, other.hub, "certificate not pinned");
  }
}

TEST_F(LeafTlsMapPin, TheLeafChecksTheHubsPinnedCertificate) {
  for (const auto& bin : hubs()) {  // the leaf: ours, then 2.9.10; the hub is ours
    SCOPED_TRACE(bin);
    Pair pinned, other;
    start(pinned, testing_harness::server_binary(), "verify: true", "", "client", server_pin_, bin);
    start(other, testing_harness::server_binary(), "verify: true", "", "client", kOtherPin, bin);
    EXPECT_EQ(bound_account(pinned), "$G") << pinned.leaf.proc->log();
    expect_refused(other, other.leaf, "certificate not pinned");
  }
}

// The same check on client connections: tls { verify, pinned_certs } at the top level.
TEST_F(LeafTlsMapPin, ClientConnectionsArePinnedToo) {
  for (const auto& bin : hubs()) {
    SCOPED_TRACE(bin);
    for (const std::string& pin : {client_pin_, std::string(kOtherPin)}) {
      const std::string conf = "tls {\n cert_file: \"" + pki_->server_cert + "\"\n key_file: \"" +
                               pki_->server_key + "\"\n ca_file: \"" + pki_->ca +
                               "\"\n verify: true\n pinned_certs: [\"" + pin + "\"]\n}\n";
      auto srv = start_with_config(conf, {}, bin);
      OptsPtr o;
      natsOptions_SetTimeout(o.p, 3000);
      natsOptions_SetAllowReconnect(o.p, false);
      natsOptions_SetSecure(o.p, true);
      natsOptions_LoadCATrustedCertificates(o.p, pki_->ca.c_str());
      natsOptions_LoadCertificatesChain(o.p, pki_->client_cert.c_str(), pki_->client_key.c_str());
      ConnPtr c;
      natsStatus st = connect_url(c, srv->url(), o.p);
      if (pin == client_pin_) {
        EXPECT_EQ(st, NATS_OK);
      } else {
        EXPECT_NE(st, NATS_OK);
        EXPECT_TRUE(wait_for([&] { return srv->log().find("certificate not pinned") != std::string::npos; },
                             milliseconds(5000)))
            << srv->log();
      }
    }
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
