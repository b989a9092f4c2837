// Test certificates for the TLS tests (client, route and gateway TLS).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "harness.h"

namespace itest {

// A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate,
// made with the openssl tool (EC keys: quick to generate).
struct TestPki {
  testing_harness::TempDir dir;
  std::string ca, server_cert, server_key, client_cert, client_key;
  bool ok = false;

  TestPki() {
    const std::string d = dir.path();
    auto run = [&](const std::string& cmd) { return testing_harness::run_command("cd " + d + " && " + cmd).status == 0; };
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    dir.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    dir.write("client.ext", "extendedKeyUsage=clientAuth\n");
    ok = run("openssl req -x509 " + key + " -keyout ca.key -out ca.pem -days 2 -subj /CN=natscpp-test-ca") &&
         run("openssl req " + key + " -keyout server.key -out server.csr -subj /CN=localhost") &&
         run("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
             "-extfile server.ext") &&
         run("openssl req " + key + " -keyout client.key -out client.csr -subj /CN=client") &&
         run("openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 "
             "-extfile client.ext");
    ca = d + "/ca.pem";
    server_cert = d + "/server.pem";
    server_key = d + "/server.key";
    client_cert = d + "/client.pem";
    client_key = d + "/client.key";
  }
};

// A test suite with its certificates made once (each suite makes its own); tests are skipped
// where the openssl tool is missing.
class TlsSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override {
    if (!pki_->ok) GTEST_SKIP() << "openssl tool not available to make test certificates";
  }
  static inline TestPki* pki_ = nullptr;
};

}  // namespace itest
