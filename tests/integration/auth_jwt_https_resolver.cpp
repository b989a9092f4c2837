// The URL account resolver over HTTPS (`resolver: URL("https://...")` with `resolver_tls`):
// a small HTTPS server (python3's http.server wrapped in ssl, certificates made by the test)
// serves the account JWTs, here asking for a client certificate. As 2.9.10 (observed, Go's
// HTTP client with resolver_tls as its tls.Config): the client certificate is resolver_tls's
// cert/key; the server's certificate is checked against resolver_tls's ca_file, else against
// the system's roots (SSL_CERT_FILE, set for the server process here), unless `insecure`.
// Run against our server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "jwt_test_util.h"
#include "reload_test_util.h"
#include "test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using testing_harness::ServerProcess;

// python3 -c <https server> on 127.0.0.1:<port>, serving `root`; killed by its pid.
class HttpsJwtServer {
 public:
  HttpsJwtServer(const std::string& root, const TestPki& pki, bool require_client_cert) {
    port_ = testing_harness::free_port();
    std::string script =
        "import http.server, ssl, sys\n"
        "class H(http.server.SimpleHTTPRequestHandler):\n"
        "    def log_message(self, *a): pass\n"
        "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
        "ctx.load_cert_chain(sys.argv[2], sys.argv[3])\n"
        "if sys.argv[5] == '1':\n"
        "    ctx.verify_mode = ssl.CERT_REQUIRED\n"
        "    ctx.load_verify_locations(sys.argv[4])\n"
        "h = lambda *a, **k: H(*a, directory=sys.argv[6], **k)\n"
        "s = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), h)\n"
        "s.socket = ctx.wrap_socket(s.socket, server_side=True)\n"
        "s.serve_forever()\n";
    std::vector<std::string> argv{"python3", "-c", script, std::to_string(port_), pki.server_cert, pki.server_key,
                                  pki.ca, require_client_cert ? "1" : "0", root};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(const_cast<char*>(a.c_str()));
      c.push_back(nullptr);
      ::execvp("python3", c.data());
      ::_exit(127);
    }
    ok_ = wait_for([&] { return testing_harness::port_open(port_); }, milliseconds(5000));
  }
  ~HttpsJwtServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return ok_; }
  std::string base() const { return "https://127.0.0.1:" + std::to_string(port_) + "/jwt/v1/accounts/"; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  bool ok_ = false;
};

class JwtHttpsResolver : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
    if (!pki_.ok) GTEST_SKIP() << "openssl tool not available";
    if (testing_harness::run_command("python3 -c 'import ssl'").status != 0) GTEST_SKIP() << "no python3 ssl";
    op_file_ = dir_.write("op.jwt", jwt::sign(jwt::operator_claims(op_, sys_.pub), op_));
    std::filesystem::create_directories(dir_.path() + "/www/jwt/v1/accounts");
    dir_.write("www/jwt/v1/accounts/" + sys_.pub, jwt::sign(jwt::account_claims(sys_, "SYS"), op_));
    dir_.write("www/jwt/v1/accounts/" + acc_.pub, jwt::sign(jwt::account_claims(acc_, "ACC"), op_));
  }
  std::string config(const std::string& base, const std::string& resolver_tls) const {
    return "operator: \"" + op_file_ + "\"\nsystem_account: " + sys_.pub + "\nresolver: URL(\"" + base + "\")\n" +
           resolver_tls;
  }
  // Starts the server with SSL_CERT_FILE set to the test CA (its "system roots") or unset;
  // null when it did not start (its log in `log`).
  std::unique_ptr<ServerProcess> start(const std::string& conf, bool trust_ca, std::string& log) {
    static int n = 0;
    std::string path = dir_.write("s" + std::to_string(++n) + ".conf", conf);
    auto srv = std::make_unique<ServerProcess>(std::vector<std::string>{"-c", path}, GetParam());
    if (trust_ca) ::setenv("SSL_CERT_FILE", pki_.ca.c_str(), 1);
    try {
      srv->start(true, milliseconds(6000));
    } catch (const std::exception& e) {
      log = e.what();
      srv.reset();
    }
    ::unsetenv("SSL_CERT_FILE");
    return srv;
  }
  // A user of ACC connects and gets its own message back.
  bool user_works(const ServerProcess& srv) { return user_of_works(srv, acc_); }
  // A user of `account` (its JWT served by the HTTPS server) connects and gets its own message.
  bool user_of_works(const ServerProcess& srv, const KeyPair& account) {
    KeyPair u = jwt::user_keys();
    std::string creds = dir_.write("u.creds", jwt::creds(jwt::sign(jwt::user_claims(u, "u"), account), u.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 5000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
    ConnPtr c;
    if (connect_signed(c, srv.url(), o.p) != NATS_OK) return false;
    SubPtr s;
    if (natsConnection_SubscribeSync(&s.p, c.p, "https.x") != NATS_OK) return false;
    natsConnection_PublishString(c.p, "https.x", "hi");
    MsgPtr m;
    return natsSubscription_NextMsg(&m.p, s.p, 3000) == NATS_OK;
  }
  std::string client_tls() const {
    return "resolver_tls {\n  cert_file: \"" + pki_.client_cert + "\"\n  key_file: \"" + pki_.client_key +
           "\"\n  ca_file: \"" + pki_.ca + "\"\n}\n";
  }

  TestPki pki_;
  testing_harness::TempDir dir_;
  KeyPair op_ = jwt::operator_keys(), sys_ = jwt::account_keys(), acc_ = jwt::account_keys();
  std::string op_file_;
};

// The client certificate is presented and the server's certificate trusted through ca_file:
// the system account at start-up and the user's account at its CONNECT are fetched over TLS.
TEST_P(JwtHttpsResolver, FetchesAccountsWithAClientCertificate) {
  HttpsJwtServer https(dir_.path() + "/www", pki_, true);
  ASSERT_TRUE(https.ok());
  std::string log;
  auto srv = start(config(https.base(), client_tls()), false, log);
  ASSERT_TRUE(srv) << log;
  EXPECT_TRUE(user_works(*srv)) << srv->log();
}

// Without ca_file the system's roots decide; no client certificate for a server that asks
// for one, or a server certificate nobody vouches for, refuses the start (the base URL must
// answer); `insecure` skips the server's certificate check.
TEST_P(JwtHttpsResolver, SystemRootsInsecureAndFailures) {
  HttpsJwtServer https(dir_.path() + "/www", pki_, true);
  ASSERT_TRUE(https.ok());
  std::string log;
  std::string cert_only = "resolver_tls {\n  cert_file: \"" + pki_.client_cert + "\"\n  key_file: \"" +
                          pki_.client_key + "\"\n";
  EXPECT_FALSE(start(config(https.base(), cert_only + "}\n"), false, log)) << "not trusted";
  EXPECT_FALSE(start(config(https.base(), ""), true, log)) << "no client certificate";
  auto by_roots = start(config(https.base(), cert_only + "}\n"), true, log);
  ASSERT_TRUE(by_roots) << log;
  EXPECT_TRUE(user_works(*by_roots)) << by_roots->log();
  auto insecure = start(config(https.base(), cert_only + "  insecure: true\n}\n"), false, log);
  ASSERT_TRUE(insecure) << log;
  EXPECT_TRUE(user_works(*insecure)) << insecure->log();
}

// A config reload with another resolver_tls: the next fetches use it (2.9.10's
// configureResolver gives the HTTP transport the new TLS config). Without the client
// certificate a new account's fetch fails and its user is refused; back with it, the next new
// account is fetched. A connected user stays throughout.
TEST_P(JwtHttpsResolver, ReloadedResolverTlsAppliesToTheNextFetch) {
  HttpsJwtServer https(dir_.path() + "/www", pki_, true);
  ASSERT_TRUE(https.ok());
  KeyPair acc2 = jwt::account_keys(), acc3 = jwt::account_keys();
  dir_.write("www/jwt/v1/accounts/" + acc2.pub, jwt::sign(jwt::account_claims(acc2, "ACC2"), op_));
  dir_.write("www/jwt/v1/accounts/" + acc3.pub, jwt::sign(jwt::account_claims(acc3, "ACC3"), op_));
  std::string conf = dir_.write("reload.conf", config(https.base(), client_tls()));
  ServerProcess srv(std::vector<std::string>{"-c", conf}, GetParam());
  srv.start(true, milliseconds(6000));
  KeyPair u = jwt::user_keys();
  std::string creds = dir_.write("kept.creds", jwt::creds(jwt::sign(jwt::user_claims(u, "u"), acc_), u.seed));
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 5000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
  ConnPtr kept;
  ASSERT_EQ(connect_signed(kept, srv.url(), o.p), NATS_OK);

  std::string ca_only = "resolver_tls {\n  ca_file: \"" + pki_.ca + "\"\n}\n";
  ASSERT_EQ(reload_config(srv, conf, config(https.base(), ca_only)), "") << srv.log();
  EXPECT_FALSE(user_of_works(srv, acc2)) << "fetched without the client certificate";
  ASSERT_EQ(reload_config(srv, conf, config(https.base(), client_tls())), "") << srv.log();
  EXPECT_TRUE(user_of_works(srv, acc3)) << srv.log();
  EXPECT_EQ(natsConnection_Flush(kept.p), NATS_OK);
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtHttpsResolver,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
