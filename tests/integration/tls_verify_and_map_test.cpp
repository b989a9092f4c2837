// tls { verify_and_map } outside leafnodes, on our server and on 2.9.10 with the same
// configuration and the same certificates (made by the test), the answers compared:
//   - client port: the client certificate names the user (an e-mail SAN; the subject as Go
//     prints it, "CN=..,OU=..,O=..,C=.."; the subject as an RFC 2253 DN, in order or with its
//     RDNs reordered), whose permissions then apply and whom /connz shows as authorized_user;
//     a certificate naming no user gets -ERR 'Authorization Violation'; no certificate, no
//     connection;
//   - websocket { tls { verify_and_map } }: the same for WebSocket clients (wss), and /varz
//     shows websocket.tls_map;
//   - cluster and gateway tls: the peer's certificate must name the block's authorization user.
// The TLS clients are raw (OpenSSL over a blocking socket) so that every protocol line the
// server sends can be compared.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <functional>
#include <map>
#include <set>

#include "cluster_test_util.h"
#include "reload_test_util.h"
#include "tls_peer_util.h"
#include "tls_test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

// A blocking TLS client socket with a receive timeout (so a silent server ends a read).
class TlsClient {
 public:
  ~TlsClient() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  // Connects to 127.0.0.1:port; plain_info: read the INFO line in clear first (the client
  // port), else TLS starts at once (wss). cert: file stem of the client certificate in dir,
  // empty for none.
  bool open(int port, bool plain_info, const std::string& dir, const std::string& ca, const std::string& cert) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{3, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    if (plain_info) {
      std::string line;
      char c;
      while (::recv(fd_, &c, 1, 0) == 1 && c != '\n') line += c;
      if (line.rfind("INFO ", 0) != 0) return false;
    }
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!cert.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, (dir + "/" + cert + ".pem").c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, (dir + "/" + cert + ".key").c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1;
  }
  bool send(const std::string& s) { return SSL_write(ssl_, s.data(), static_cast<int>(s.size())) > 0; }
  // Reads until `done` holds for what was read, or the connection ends / goes silent.
  std::string read_until(const std::function<bool(const std::string&)>& done) {
    std::string got;
    char buf[4096];
    while (!done(got)) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        got += "<closed>";
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// The server's lines up to its PONG, or up to the connection's end.
bool pong_or_err_end(const std::string& s) {
  return s.find("PONG\r\n") != std::string::npos || s.find("Authorization Violation'\r\n") != std::string::npos;
}

class TlsVerifyAndMap : public TlsSuite {
 protected:
  static void SetUpTestSuite() {
    TlsSuite::SetUpTestSuite();
    if (!pki_->ok) return;
    const std::string d = pki_->dir.path();
    auto run = [&](const std::string& cmd) { return testing_harness::run_command("cd " + d + " && " + cmd).status == 0; };
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    pki_->dir.write("bob.ext", "extendedKeyUsage=clientAuth\nsubjectAltName=email:bob@acme.test\n");
    // stem, subject, extensions file
    const std::vector<std::array<std::string, 3>> certs = {
        {"alice", "/C=US/O=Acme/OU=dev/CN=alice", "client.ext"},  // by Go's subject string
        {"bob", "/CN=bob-mail", "bob.ext"},                       // by e-mail SAN
        {"carol", "/CN=carol/O=Acme", "client.ext"},              // by DN "O=Acme,CN=carol"
        {"erin", "/O=Acme/CN=erin", "client.ext"},                // by the DN's RDNs reordered
        // by Go's subject string (its e-mail attribute makes no DN, and is no e-mail SAN)
        {"dave", "/CN=dave/emailAddress=dave@acme.test", "client.ext"}};
    for (const auto& [stem, subj, ext] : certs) {
      if (!run("openssl req " + key + " -keyout " + stem + ".key -out " + stem + ".csr -subj " + subj) ||
          !run("openssl x509 -req -in " + stem + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + stem +
               ".pem -days 2 -extfile " + ext))
        pki_->ok = false;
    }
  }

  static std::string tls_block(const std::string& extra) {
    return "tls {\n  cert_file: \"" + pki_->server_cert + "\"\n  key_file: \"" + pki_->server_key +
           "\"\n  ca_file: \"" + pki_->ca + "\"\n  " + extra + "\n}\n";
  }
  // Each user may only use subjects under its own prefix.
  static std::string users() {
    auto u = [](const std::string& name, const std::string& prefix) {
      return "  {user: \"" + name + "\", permissions: {publish: \"" + prefix + ".>\", subscribe: \"" + prefix +
             ".>\"}}\n";
    };
    return "authorization { users [\n" + u("CN=alice,OU=dev,O=Acme,C=US", "alice") + u("bob@acme.test", "bob") +
           u("O=Acme,CN=carol", "carol") + u("O=Acme,CN=erin", "erin") + u("CN=dave", "dave") + "] }\n";
  }

  // A NATS session with certificate `cert` ("" for none): what the server answers to a
  // CONNECT, a subscription outside the user's prefix and a PING.
  static std::string session(int port, bool websocket, const std::string& cert) {
    TlsClient c;
    if (!c.open(port, !websocket, pki_->dir.path(), pki_->ca, cert)) return "<no tls>";
    const std::string ops = "CONNECT {\"verbose\":false,\"protocol\":1}\r\nSUB forbidden 1\r\nPING\r\n";
    if (!websocket) {
      if (!c.send(ops)) return "<send failed>";
      return c.read_until(pong_or_err_end);
    }
    if (!c.send(upgrade_request(port))) return "<send failed>";
    std::string head = c.read_until([](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
    if (head.find(" 101 ") == std::string::npos) return "<no upgrade> " + head;
    std::string rest = head.substr(head.find("\r\n\r\n") + 4);
    if (!c.send(client_frame(0x82, ops))) return "<send failed>";
    // The frames' payloads (the server's frames are small and unmasked: 2-byte headers).
    std::string raw = c.read_until([](const std::string& s) { return pong_or_err_end(s); });
    raw = rest + raw;
    std::string text;
    size_t i = 0;
    while (i + 2 <= raw.size()) {
      size_t len = static_cast<unsigned char>(raw[i + 1]) & 0x7F;
      size_t hdr = 2;
      if (len == 126 && i + 4 <= raw.size()) {
        len = (static_cast<unsigned char>(raw[i + 2]) << 8) | static_cast<unsigned char>(raw[i + 3]);
        hdr = 4;
      }
      if ((raw[i] & 0x0F) != 0x08) text += raw.substr(i + hdr, len);  // not a close frame
      i += hdr + len;
    }
    if (raw.find("<closed>") != std::string::npos) text += "<closed>";
    // The INFO frame differs between servers (ids, versions): only the rest is compared.
    if (text.rfind("INFO ", 0) == 0) text = text.substr(text.find("\r\n") + 2);
    return text;
  }
};

const char* const kViolation = "-ERR 'Permissions Violation for Subscription to \"forbidden\"'\r\nPONG\r\n";

TEST_F(TlsVerifyAndMap, ClientCertificateNamesTheUser) {
  std::vector<nlohmann::json> peer_certs;  // per server: authorized_user -> tls_peer_certs
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    int http = testing_harness::free_port();
    auto srv = start_with_config("http_port: " + std::to_string(http) + "\n" + users() +
                                     tls_block("timeout: 2\n  verify_and_map: true"),
                                 {}, bin);
    // Sessions stay open so /connz lists them with their users.
    std::vector<std::unique_ptr<TlsClient>> open;
    for (const std::string cert : {"alice", "bob", "carol", "erin", "dave"}) {
      EXPECT_EQ(session(srv->port(), false, cert), kViolation) << cert << "\n" << srv->log();
      auto c = std::make_unique<TlsClient>();
      ASSERT_TRUE(c->open(srv->port(), true, pki_->dir.path(), pki_->ca, cert));
      c->send("CONNECT {\"verbose\":false}\r\nPING\r\n");
      EXPECT_EQ(c->read_until(pong_or_err_end), "PONG\r\n") << cert;
      open.push_back(std::move(c));
    }
    // No user for CN=client; no certificate at all fails the handshake or gets cut.
    EXPECT_EQ(session(srv->port(), false, "client"), "-ERR 'Authorization Violation'\r\n") << srv->log();
    std::string none = session(srv->port(), false, "");
    EXPECT_TRUE(none == "<no tls>" || none == "<closed>") << none;
    std::set<std::string> users;
    nlohmann::json connz;
    nlohmann::json certs;
    // The refused session is closed on both servers, but it may still be listed for a moment after its
    // socket closed (both register a client before its handshake): the five open ones are what stays.
    wait_for([&] {
      users.clear();
      certs = nlohmann::json::object();
      connz = http_json(http, "/connz?auth=1");
      for (const auto& c : connz["connections"]) {
        users.insert(c.value("authorized_user", ""));
        certs[c.value("authorized_user", "")] = c.value("tls_peer_certs", nlohmann::json());
      }
      return users.size() == 5 && !users.count("");
    }, milliseconds(3000));
    peer_certs.push_back(certs);
    EXPECT_EQ(users, (std::set<std::string>{"CN=alice,OU=dev,O=Acme,C=US", "bob@acme.test", "O=Acme,CN=carol",
                                            "O=Acme,CN=erin", "CN=dave"}))
        << connz.dump();
    // Go's pkix.Name.String(), with the e-mail attribute Go has no name for last.
    EXPECT_EQ(certs["CN=dave"][0].value("subject", ""),
              "CN=dave,1.2.840.113549.1.9.1=#0c0e646176654061636d652e74657374")
        << certs.dump();
  }
  // The same subjects and digests from both servers.
  if (peer_certs.size() == 2) {
    EXPECT_EQ(peer_certs[0], peer_certs[1]);
  }
}

TEST_F(TlsVerifyAndMap, WebsocketCertificateNamesTheUser) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    int http = testing_harness::free_port(), ws = testing_harness::free_port();
    auto srv = start_with_config("http_port: " + std::to_string(http) + "\n" + users() +
                                     "websocket {\n listen: \"127.0.0.1:" + std::to_string(ws) + "\"\n" +
                                     tls_block("verify_and_map: true") + "}\n",
                                 {}, bin);
    EXPECT_EQ(session(ws, true, "alice"), kViolation) << srv->log();
    EXPECT_EQ(session(ws, true, "carol"), kViolation) << srv->log();
    EXPECT_EQ(session(ws, true, "client"), "-ERR 'Authorization Violation'\r\n") << srv->log();
    EXPECT_EQ(http_json(http, "/varz")["websocket"].value("tls_map", false), true);
  }
}

// verify_and_map cannot be turned on or off by a reload: 2.9.10 refuses it (its tlsOption
// leaves TLSMap out), and so do we, with its words; the mapping in effect stays.
TEST_F(TlsVerifyAndMap, ReloadRefusesToChangeMapping) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    testing_harness::TempDir dir;
    auto conf = [&](const std::string& tls_extra) {
      return "authorization { users [ {user: \"CN=client\"} ] }\n" + tls_block("timeout: 2\n  " + tls_extra);
    };
    const std::string path = dir.write("map.conf", conf("verify_and_map: true"));
    testing_harness::ServerProcess srv({"-c", path}, bin);
    srv.start();
    EXPECT_EQ(session(srv.port(), false, "client"), "PONG\r\n") << srv.log();
    EXPECT_EQ(reload_config(srv, path, conf("verify: true")),
              "config reload not supported for TLSMap: old=true, new=false");
    EXPECT_EQ(session(srv.port(), false, "client"), "PONG\r\n") << srv.log();
  }
}

// cluster { tls { verify_and_map } authorization { user } }: the route's certificate (the
// test's server certificate: DNS SAN "localhost", subject "CN=localhost") must name the user.
// Also ours with 2.9.10, each checking the other's certificate.
TEST_F(TlsVerifyAndMap, RoutesMapThePeersCertificate) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& bin : testing_harness::binaries_to_compare()) pairs.emplace_back(bin, bin);
  if (pairs.size() == 2) pairs.emplace_back(pairs[0].first, pairs[1].first);
  for (const auto& [bin_a, bin_b] : pairs) {
    for (const std::string user : {"localhost", "CN=nobody"}) {
      SCOPED_TRACE(bin_a + " with " + bin_b + ", cluster user " + user);
      const bool ok = user != "CN=nobody";
      const std::string block =
          "authorization { user: \"" + user + "\", password: pw }\n  " + tls_block("verify_and_map: true");
      Node a, b;
      start_route_pair(a, b, bin_a, bin_b, "m", "127.0.0.1", block, false);
      if (ok) {
        EXPECT_TRUE(routes_connected(a, b, milliseconds(10000))) << a.proc->log();
      } else {
        EXPECT_TRUE(logs_authentication_error(a, milliseconds(10000))) << a.proc->log();
        EXPECT_EQ(a.num_routes(), 0);
      }
    }
  }
}

// The same for gateways: x's certificate must name y's gateway user, and back.
TEST_F(TlsVerifyAndMap, GatewaysMapThePeersCertificate) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    for (const std::string user : {"CN=localhost", "CN=nobody"}) {
      SCOPED_TRACE(bin + " gateway user " + user);
      const bool ok = user != "CN=nobody";
      const std::string block =
          "authorization { user: \"" + user + "\", password: pw }\n  " + tls_block("verify_and_map: true");
      Node x, y;
      start_gateway_pair(x, y, bin, "127.0.0.1", block);
      if (ok) {
        EXPECT_TRUE(gateways_connected(x, y, milliseconds(10000))) << x.proc->log();
      } else {
        EXPECT_TRUE(logs_authentication_error(x, milliseconds(10000))) << x.proc->log();
        EXPECT_EQ(x.num_inbound_gateways(), 0);
      }
    }
  }
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
