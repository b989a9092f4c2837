// TLS for client connections: the `tls` block and the --tls flags, with libnats connecting
// over TLS (server certificate checked against a test CA), client certificates under
// `verify`, large messages in both directions, a plaintext client refused, a client that never
// starts the handshake cut at the timeout, and the monitoring fields. Same answers from the
// reference where it is installed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;
using itest::TestPki;

natsStatus connect_tls(ConnPtr& c, const std::string& url, const TestPki& pki, bool with_client_cert) {
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 3000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetSecure(o.p, true);
  natsOptions_LoadCATrustedCertificates(o.p, pki.ca.c_str());
  if (with_client_cert) natsOptions_LoadCertificatesChain(o.p, pki.client_cert.c_str(), pki.client_key.c_str());
  return connect_url(c, url, o.p);
}

std::string tls_config(const TestPki& pki, bool verify, int http_port) {
  std::string c = "http_port: " + std::to_string(http_port) + "\n";
  c += "tls {\n  cert_file: \"" + pki.server_cert + "\"\n  key_file: \"" + pki.server_key + "\"\n";
  c += "  ca_file: \"" + pki.ca + "\"\n  timeout: 1\n";
  if (verify) c += "  verify: true\n";
  c += "}\n";
  return c;
}

class CoreTls : public TlsSuite {};

TEST_F(CoreTls, PubSubOverTlsWithLargeMessages) {
  int http = testing_harness::free_port();
  TempDir cfg_dir;
  ServerProcess srv({"-c", cfg_dir.write("tls.conf", tls_config(*pki_, false, http))});
  srv.start();
  ConnPtr a, b;
  ASSERT_EQ(connect_tls(a, srv.url(), *pki_, false), NATS_OK) << srv.log();
  ASSERT_EQ(connect_tls(b, srv.url(), *pki_, false), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, b.p, "tls.big"), NATS_OK);
  natsSubscription_SetPendingLimits(sub.p, -1, -1);
  ASSERT_EQ(natsConnection_Flush(b.p), NATS_OK);
  // Messages larger than a TLS record and a burst larger than socket buffers: partial
  // writes and decrypted data buffered inside OpenSSL are both exercised.
  std::string big(900 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    big[0] = static_cast<char>('A' + i % 26);
    ASSERT_EQ(natsConnection_Publish(a.p, "tls.big", big.data(), static_cast<int>(big.size())), NATS_OK);
  }
  ASSERT_EQ(natsConnection_Flush(a.p), NATS_OK);
  for (int i = 0; i < n; ++i) {
    MsgPtr m;
    ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 5000), NATS_OK) << "message " << i;
    big[0] = static_cast<char>('A' + i % 26);
    ASSERT_EQ(m.data(), big) << "message " << i;
  }
  // Request/reply, many small ones.
  SubPtr svc;
  ASSERT_EQ(natsConnection_SubscribeSync(&svc.p, b.p, "tls.svc"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(b.p), NATS_OK);
  for (int i = 0; i < 50; ++i) {
    std::string inbox = "_INBOX.tls." + std::to_string(i);
    SubPtr r;
    ASSERT_EQ(natsConnection_SubscribeSync(&r.p, a.p, inbox.c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishRequestString(a.p, "tls.svc", inbox.c_str(), "q"), NATS_OK);
    MsgPtr q;
    ASSERT_EQ(natsSubscription_NextMsg(&q.p, svc.p, 3000), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(b.p, natsMsg_GetReply(q.p), "a"), NATS_OK);
    MsgPtr ans;
    ASSERT_EQ(natsSubscription_NextMsg(&ans.p, r.p, 3000), NATS_OK);
  }
  // Monitoring shows the TLS settings and each connection's protocol and cipher.
  auto varz = ctest::http_json(http, "/varz");
  EXPECT_EQ(varz.value("tls_required", false), true) << varz.dump();
  EXPECT_EQ(varz.value("tls_timeout", 0.0), 1.0);
  auto connz = ctest::http_json(http, "/connz");
  ASSERT_EQ(connz["connections"].size(), 2u) << connz.dump();
  for (auto& c : connz["connections"]) {
    EXPECT_EQ(c.value("tls_version", ""), "1.3") << c.dump();
    EXPECT_FALSE(c.value("tls_cipher_suite", "").empty()) << c.dump();
  }
}

TEST_F(CoreTls, InfoIsClearThenPlaintextClientIsCut) {
  ServerProcess srv({"--tls", "--tlscert", pki_->server_cert, "--tlskey", pki_->server_key});
  srv.start();
  RawClient raw(srv.port());
  auto info = nlohmann::json::parse(raw.info_json());
  EXPECT_EQ(info.value("tls_required", false), true) << raw.info();
  EXPECT_FALSE(info.contains("tls_verify"));
  // Plain text where the ClientHello should be: the handshake fails and the server closes.
  ASSERT_TRUE(raw.send("CONNECT {}\r\nPING\r\n"));
  EXPECT_TRUE(raw.wait_closed(milliseconds(3000)));
  // A client that says nothing at all is cut when the handshake timeout passes.
  RawClient silent(srv.port());
  EXPECT_TRUE(silent.wait_closed(milliseconds(5000)));
  // libnats without TLS refuses a server that requires it; with TLS it gets in.
  ConnPtr plain, secure;
  OptsPtr o;
  natsOptions_SetAllowReconnect(o.p, false);
  EXPECT_NE(connect_url(plain, srv.url(), o.p), NATS_OK);
  EXPECT_EQ(connect_tls(secure, srv.url(), *pki_, false), NATS_OK);
  // Other clients were not disturbed: the secure one still works.
  EXPECT_EQ(natsConnection_Flush(secure.p), NATS_OK);
  EXPECT_NE(srv.log().find("TLS handshake"), std::string::npos) << srv.log();
}

TEST_F(CoreTls, VerifyRequiresAClientCertificate) {
  int http = testing_harness::free_port();
  TempDir cfg_dir;
  ServerProcess srv({"-c", cfg_dir.write("tls.conf", tls_config(*pki_, true, http))});
  srv.start();
  RawClient raw(srv.port());
  auto info = nlohmann::json::parse(raw.info_json());
  EXPECT_EQ(info.value("tls_verify", false), true) << raw.info();
  ConnPtr without, with;
  EXPECT_NE(connect_tls(without, srv.url(), *pki_, false), NATS_OK);
  ASSERT_EQ(connect_tls(with, srv.url(), *pki_, true), NATS_OK) << srv.log();
  EXPECT_EQ(natsConnection_Flush(with.p), NATS_OK);
}

// The reference, given the same flags and certificates, announces the same INFO fields and
// reports the same TLS version and cipher suite for the same client.
TEST_F(CoreTls, SameAsReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  struct Seen {
    std::set<std::string> info_keys;
    std::string tls_version;
    std::string cipher;
  };
  auto observe = [&](const std::string& binary, Seen& seen) {
    int http = testing_harness::free_port();
    ServerProcess srv({"-m", std::to_string(http), "--tls", "--tlscert", pki_->server_cert, "--tlskey", pki_->server_key},
                      binary);
    srv.start();
    RawClient raw(srv.port());
    auto info = nlohmann::json::parse(raw.info_json());
    for (auto& [k, _] : info.items()) seen.info_keys.insert(k);
    raw.close();
    ConnPtr c;
    ASSERT_EQ(connect_tls(c, srv.url(), *pki_, false), NATS_OK);
    nlohmann::json connz;
    ASSERT_TRUE(wait_for([&] {
      connz = ctest::http_json(http, "/connz");
      return connz.contains("connections") && connz["connections"].size() == 1;
    }, milliseconds(3000)));
    seen.tls_version = connz["connections"][0].value("tls_version", "");
    seen.cipher = connz["connections"][0].value("tls_cipher_suite", "");
  };
  Seen ours, ref;
  observe(testing_harness::server_binary(), ours);
  observe(testing_harness::reference_binary(), ref);
  EXPECT_EQ(ours.info_keys, ref.info_keys);
  EXPECT_EQ(ours.tls_version, ref.tls_version);
  // The server picks the suite in its own order (Go's: AES-128-GCM first), not the client's
  // (libnats, like any OpenSSL client, offers AES-256-GCM-SHA384 first).
  EXPECT_FALSE(ours.cipher.empty());
  EXPECT_EQ(ours.cipher, ref.cipher);
}

// Configuration errors name what is wrong and the server exits non-zero; a TLS block on a
// route or gateway is refused rather than silently ignored.
TEST_F(CoreTls, BadTlsConfigurationStopsTheServer) {
  TempDir d;
  auto check = [&](const std::string& conf, const std::string& expect) {
    auto r = testing_harness::run_command(testing_harness::server_binary() + " -t -c " + d.write("bad.conf", conf));
    EXPECT_NE(r.status, 0) << conf;
    EXPECT_NE(r.output.find(expect), std::string::npos) << r.output;
  };
  check("tls { key_file: \"" + pki_->server_key + "\" }\n", "missing 'cert_file' in TLS configuration");
  check("tls { cert_file: \"" + pki_->server_cert + "\", key_file: \"" + pki_->server_key + "\", bogus: 1 }\n",
        "bogus");
  check("cluster { port: -1, tls { cert_file: \"a\" } }\n", "missing 'key_file' in TLS configuration");
  check("gateway { name: x, port: -1, gateways: [{name: y, url: \"nats://127.0.0.1:1\", tls { cert_file: a, key_file: b }}] }\n",
        ": tls is not supported by this server");  // per-remote TLS
  auto r = testing_harness::run_command("timeout 10 " + testing_harness::server_binary() + " -p -1 --tls --tlscert /nonexistent.pem --tlskey " +
                                        pki_->server_key);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("/nonexistent.pem"), std::string::npos) << r.output;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
