// tls { verify_and_map, pinned_certs } at config load. verify_and_map (the peer's certificate
// names its user) and pinned_certs are taken in every accepting block, pinned_certs checked the
// way 2.9.10 parses it. A leaf remote's tls block gets neither (2.9.10 parses and then ignores
// them there): refused, fail closed.
#include <gtest/gtest.h>

#include "config/options_loader.h"
#include "config/parser.h"
#include "test_util.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::config::NATS_TEST_FILE_ID {
namespace {

std::string tls_error(const std::string& text, Options* out = nullptr) {
  return testing::error_of([&] {
    Options o;
    apply_config(parse_config_string(text, "t.conf"), o, false);
    if (out) *out = o;
  });
}

constexpr const char* kPin = "A8F407340DCC719864214B85ED96F98D16CBFFA8F509D9FA4CA237B7BB3F9C32";

TEST(TlsMapPinOptions, VerifyAndMapOnTheLeafAcceptingSide) {
  Options o;
  EXPECT_EQ(tls_error("leafnodes {\n port: 7422\n authorization { users [ {user: \"CN=leaf\"} ] }\n"
                      " tls { cert_file: a, key_file: b, ca_file: c, verify_and_map: true }\n}",
                      &o),
            "");
  EXPECT_TRUE(o.leafnode.tls.map);
  EXPECT_TRUE(o.leafnode.tls.verify);
}

TEST(TlsMapPinOptions, VerifyAndMapInEveryAcceptingBlock) {
  Options o;
  EXPECT_EQ(tls_error("tls { cert_file: a, key_file: b, verify_and_map: true }\n"
                      "cluster { port: 6222, tls { cert_file: a, key_file: b, verify_and_map: true } }\n"
                      "gateway { name: A, port: 7222, tls { cert_file: a, key_file: b, verify_and_map: true } }\n"
                      "websocket { port: 8080, tls { cert_file: a, key_file: b, verify_and_map: true } }",
                      &o),
            "");
  for (const TlsOptions* t : {&o.tls, &o.cluster.tls, &o.gateway.tls, &o.websocket.tls}) {
    EXPECT_TRUE(t->map);
    EXPECT_TRUE(t->verify);  // verify_and_map implies verify
  }
  // As parseTLS: `verify_and_map: false` leaves an earlier `verify: true` alone.
  EXPECT_EQ(tls_error("tls { cert_file: a, key_file: b, verify: true, verify_and_map: false }", &o), "");
  EXPECT_FALSE(o.tls.map);
  EXPECT_TRUE(o.tls.verify);
  // The resolver's HTTPS client has no users to map to.
  EXPECT_NE(tls_error("resolver_tls { verify_and_map: true }"), "");
}

TEST(TlsMapPinOptions, PinnedCertsAreLowerCasedAndChecked) {
  Options o;
  EXPECT_EQ(tls_error(std::string("leafnodes { port: 7422, tls { cert_file: a, key_file: b, pinned_certs: [\"") + kPin +
                          "\"] } }",
                      &o),
            "");
  ASSERT_EQ(o.leafnode.tls.pinned_certs.size(), 1u);
  EXPECT_EQ(o.leafnode.tls.pinned_certs[0], "a8f407340dcc719864214b85ed96f98d16cbffa8f509d9fa4ca237b7bb3f9c32");
  // The reference's messages for a malformed entry and for a value that is not a list.
  EXPECT_EQ(tls_error("tls { cert_file: a, key_file: b, pinned_certs: [\"ABC\"] }"),
            "t.conf:1:34: error parsing tls config, 'pinned_certs' key abc does not look like hex-encoded sha256 "
            "of DER encoded SubjectPublicKeyInfo");
  EXPECT_EQ(tls_error("gateway { name: A, port: 7222, tls { cert_file: a, key_file: b, pinned_certs: \"x\" } }"),
            "t.conf:1:65: error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of "
            "DER encoded SubjectPublicKeyInfo");
}

TEST(TlsMapPinOptions, MappingAndPinningInARemoteAreRefused) {
  EXPECT_EQ(tls_error("leafnodes { remotes [ { url: \"nats-leaf://h:7422\", tls { verify_and_map: true } } ] }"),
            "t.conf:1:58: verify_and_map in a leafnode remote's tls block is not supported by this server");
  EXPECT_EQ(tls_error("leafnodes { remotes [ { url: \"nats-leaf://h:7422\", tls { pinned_certs: [] } } ] }"),
            "t.conf:1:58: pinned_certs in a leafnode remote's tls block is not supported by this server");
}

TEST(TlsMapPinOptions, PlainVerifyIsStillTaken) {
  EXPECT_EQ(tls_error("leafnodes { port: 7422, tls { cert_file: a, key_file: b, ca_file: c, verify: true } }"), "");
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID
