// What the config-reload tests of the server-to-server blocks share (reload_links_test,
// reload_link_tls_test): a fixture run against our server and the reference 2.9.10 (the test
// parameter is the server binary) that starts servers from config files it can rewrite, the
// same with two certificate authorities, and a TLS probe of a listener.
#pragma once

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "both_servers_test.h"
#include "cluster_test_util.h"
#include "test_util.h"
#include "tls_test_util.h"

namespace itest {

// Whether a listener sends its INFO line in clear before the TLS handshake (leafnode listeners
// do): `if_sent` skips one if it starts within 300 ms.
enum class ClearInfo { none, first, if_sent };

// A TLS handshake with 127.0.0.1:port, the server's certificate verified against `ca` (with a
// client certificate when `cert` is given). With read_line, the first line read over TLS then;
// "" if the handshake verified, "<handshake failed>" if not.
inline std::string tls_first_line(int port, const std::string& ca, ClearInfo info, bool read_line = true,
                                  const std::string& cert = "", const std::string& key = "") {
  int fd = dial_loopback(port);
  if (fd < 0) return "<no connection>";
  if (info == ClearInfo::first) {
    read_clear_line(fd);
  } else if (info == ClearInfo::if_sent) {
    pollfd p{fd, POLLIN, 0};
    char first = 0;
    if (::poll(&p, 1, 300) == 1 && ::recv(fd, &first, 1, MSG_PEEK) == 1 && first == 'I') read_clear_line(fd);
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_file(ctx, cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string out = "<handshake failed>";
  if (SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK) {
    out.clear();
    char ch;
    while (read_line && out.size() < 65536 && SSL_read(ssl, &ch, 1) == 1) {
      out += ch;
      if (out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0) break;
    }
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

// Servers started from config files in the test's temp dir, against our server and 2.9.10.
class ReloadLinksTest : public BothServersTest {
 protected:
  // A server from `text` (config file `name`), with monitoring on `http` when given.
  std::unique_ptr<testing_harness::ServerProcess> start(const std::string& name, const std::string& text,
                                                        int http = 0) {
    std::vector<std::string> args{"-c", dir_.write(name, text)};
    if (http) args.insert(args.end(), {"-m", std::to_string(http)});
    auto s = std::make_unique<testing_harness::ServerProcess>(args, GetParam());
    s->start();
    return s;
  }
  std::string conf(const std::string& name) { return dir_.path() + "/" + name; }
  static int varz_count(int http, const char* field) { return ctest::http_json(http, "/varz").value(field, -1); }

  testing_harness::TempDir dir_;
};

// The same with two certificate authorities, each with a server certificate for 127.0.0.1
// (made once per suite; skipped without the openssl tool).
class ReloadLinksTlsTest : public ReloadLinksTest {
 protected:
  static void SetUpTestSuite() {
    one_ = new TestPki();
    two_ = new TestPki();
  }
  static void TearDownTestSuite() {
    delete one_;
    delete two_;
    one_ = two_ = nullptr;
  }
  void SetUp() override {
    ReloadLinksTest::SetUp();
    if (!IsSkipped() && !(one_->ok && two_->ok)) GTEST_SKIP() << "openssl tool not available";
  }
  // A server tls block with `p`'s certificate, `extra` options appended.
  static std::string tls(const TestPki& p, const std::string& extra = "") {
    return "tls { cert_file: \"" + p.server_cert + "\", key_file: \"" + p.server_key + "\"" + extra + " }";
  }
  static inline TestPki* one_ = nullptr;
  static inline TestPki* two_ = nullptr;
};

}  // namespace itest
