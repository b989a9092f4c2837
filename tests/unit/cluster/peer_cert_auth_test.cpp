// verify_cert_and_check_known_urls: DNS names against the hosts of configured URLs, with the
// reference's rules (dnsAltNameMatches), and the certificate rule as a whole.
#include <gtest/gtest.h>

#include "cluster/peer_cert_auth.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::cluster;

TEST(PeerCertAuth, UrlHostnameAsGo) {
  EXPECT_EQ(url_hostname("nats-route://user:pw@Host.Example.com:6222/"), "Host.Example.com");
  EXPECT_EQ(url_hostname("nats://[::1]:7222"), "::1");
  EXPECT_EQ(url_hostname("nats://gw.example.com"), "gw.example.com");
  EXPECT_EQ(url_hostname("tls://10.0.0.1:4222?x=1"), "10.0.0.1");
}

TEST(PeerCertAuth, DnsNamesMatchLabelByLabel) {
  EXPECT_TRUE(dns_name_matches_url("localhost", "nats-route://localhost:6222"));
  EXPECT_TRUE(dns_name_matches_url("Srv.Example.COM", "nats://srv.example.com:6222"));
  EXPECT_TRUE(dns_name_matches_url("*.example.com", "nats://a.example.com:6222"));
  EXPECT_FALSE(dns_name_matches_url("*.example.com", "nats://a.b.example.com:6222"));  // one label only
  EXPECT_FALSE(dns_name_matches_url("*.example.com", "nats://example.com:6222"));
  EXPECT_FALSE(dns_name_matches_url("a.*.com", "nats://a.example.com:6222"));  // leftmost only
  EXPECT_FALSE(dns_name_matches_url("localhost", "nats-route://127.0.0.1:6222"));
}

TEST(PeerCertAuth, RuleAsTheReference) {
  nats::net::PeerCertNames cert;
  cert.subject = "CN=localhost";
  cert.dns_names = {"localhost"};
  const std::vector<std::string> by_name{"nats-route://localhost:1"}, by_ip{"nats-route://127.0.0.1:1"};
  EXPECT_TRUE(peer_cert_authorized(cert, {false, "", true, &by_name}));
  EXPECT_FALSE(peer_cert_authorized(cert, {false, "", true, &by_ip}));
  // With verify_and_map as well, the user still lets it in.
  EXPECT_TRUE(peer_cert_authorized(cert, {true, "CN=localhost", true, &by_ip}));
  EXPECT_FALSE(peer_cert_authorized(cert, {true, "CN=other", true, &by_ip}));
  // No e-mail, subject or URI: the reference looks no further, DNS names or not.
  nats::net::PeerCertNames bare;
  bare.dns_names = {"localhost"};
  EXPECT_FALSE(peer_cert_authorized(bare, {false, "", true, &by_name}));
}

}  // namespace NATS_TEST_FILE_ID
