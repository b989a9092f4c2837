// The certificate chain a TLS client is sent: exactly the certificates of cert_file, as the
// reference sends them (Go's tls.Certificate as loaded), even when ca_file holds the issuer
// that OpenSSL could append on its own (SSL_MODE_NO_AUTO_CHAIN; it also spares a chain
// build on every handshake).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "test_util.h"
#include "tls_test_util.h"

namespace NATS_TEST_FILE_ID {

namespace {

using testing_harness::ServerProcess;
using testing_harness::TempDir;

// Connects, reads the clear-text INFO line, then makes the TLS handshake (no verification:
// only the chain's length is of interest). Returns the number of certificates the server
// sent, or -1 on failure.
int peer_chain_length(int port) {
  int fd = itest::dial_loopback(port, 10);
  if (fd < 0) return -1;
  int result = -1;
  // Up to the INFO line's end, so no TLS byte is consumed here.
  if (itest::read_clear_line(fd).rfind("INFO ", 0) == 0) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);  // client side: includes the leaf
      result = chain ? sk_X509_num(chain) : 0;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  ::close(fd);
  return result;
}

class TlsCertChain : public itest::TlsSuite {};

// server.pem is issued by ca.pem, which is also the server's ca_file: the leaf alone goes out.
TEST_F(TlsCertChain, SendsOnlyTheCertFileLikeTheReference) {
  TempDir cfg_dir;
  std::string conf = "tls {\n  cert_file: \"" + pki_->server_cert + "\"\n  key_file: \"" + pki_->server_key +
                     "\"\n  ca_file: \"" + pki_->ca + "\"\n}\n";
  std::string path = cfg_dir.write("tls.conf", conf);
  std::vector<std::string> binaries{testing_harness::server_binary()};
  if (testing_harness::reference_available()) binaries.push_back(testing_harness::reference_binary());
  for (const auto& bin : binaries) {
    ServerProcess srv({"-c", path}, bin);
    srv.start();
    EXPECT_EQ(peer_chain_length(srv.port()), 1) << bin << "\n" << srv.log();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
