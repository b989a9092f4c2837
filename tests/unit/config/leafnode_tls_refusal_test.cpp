// leafnodes TLS settings this server does not implement: certificate-to-user mapping
// (verify_and_map; 2.9.10 maps a leaf's client certificate to a leafnodes authorization user)
// and pinned_certs (2.9.10 checks the peer's SPKI hash on both sides of a leaf link). Both
// are refused at config load, in the accepting block and in a remote's, so that a leaf hub
// never runs with weaker checks than its configuration asks for (fail closed).
#include <gtest/gtest.h>

#include "config/options_loader.h"
#include "config/parser.h"
#include "test_util.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::config::NATS_TEST_FILE_ID {
namespace {

std::string leaf_tls_error(const std::string& text) {
  return testing::error_of([&] {
    Options o;
    apply_config(parse_config_string(text, "t.conf"), o, false);
  });
}

TEST(LeafTlsRefusal, VerifyAndMapOnTheAcceptingSideIsRefused) {
  EXPECT_EQ(leaf_tls_error("leafnodes {\n port: 7422\n authorization { users [ {user: \"CN=leaf\"} ] }\n"
                           " tls { cert_file: a, key_file: b, ca_file: c, verify_and_map: true }\n}"),
            "t.conf:4:47: verify_and_map is not supported by this server");
}

TEST(LeafTlsRefusal, PinnedCertsOnTheAcceptingSideIsRefused) {
  EXPECT_EQ(leaf_tls_error("leafnodes { port: 7422, tls { cert_file: a, key_file: b, pinned_certs: "
                           "[\"a8f407340dcc719864214b85ed96f98d16cbffa8f509d9fa4ca237b7bb3f9c32\"] } }"),
            "t.conf:1:58: pinned_certs is not supported by this server");
}

TEST(LeafTlsRefusal, MappingAndPinningInARemoteAreRefused) {
  EXPECT_EQ(leaf_tls_error("leafnodes { remotes [ { url: \"nats-leaf://h:7422\", tls { verify_and_map: true } } ] }"),
            "t.conf:1:58: verify_and_map is not supported by this server");
  EXPECT_EQ(leaf_tls_error("leafnodes { remotes [ { url: \"nats-leaf://h:7422\", tls { pinned_certs: [] } } ] }"),
            "t.conf:1:58: pinned_certs is not supported by this server");
}

TEST(LeafTlsRefusal, PlainVerifyIsStillTaken) {
  EXPECT_EQ(leaf_tls_error("leafnodes { port: 7422, tls { cert_file: a, key_file: b, ca_file: c, verify: true } }"), "");
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID
