// Distinguished names for verify_and_map, as the reference's internal/ldap package parses and
// compares them (ParseDN, DN.Equal, DN.RDNsMatch).
#include "net/dn.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::net::NATS_TEST_FILE_ID {
namespace {

TEST(Dn, ParsesRdnsAndMultiValuedOnes) {
  auto dn = parse_dn("CN=alice, O=Acme+OU=dev,C=US");
  ASSERT_TRUE(dn);
  ASSERT_EQ(dn->size(), 3u);
  EXPECT_EQ((*dn)[0][0].type, "CN");
  EXPECT_EQ((*dn)[0][0].value, "alice");
  ASSERT_EQ((*dn)[1].size(), 2u);  // O=Acme+OU=dev: one RDN
  EXPECT_EQ((*dn)[1][1].type, "OU");
  EXPECT_EQ((*dn)[2][0].value, "US");
}

TEST(Dn, UnescapesAndTrimsAsGoDoes) {
  auto dn = parse_dn("CN=a\\,b \\2C c  ,O=x\\ ");
  ASSERT_TRUE(dn);
  EXPECT_EQ((*dn)[0][0].value, "a,b , c");  // unescaped trailing spaces dropped
  EXPECT_EQ((*dn)[1][0].value, "x ");       // an escaped one kept
}

TEST(Dn, RefusesWhatParseDnRefuses) {
  EXPECT_FALSE(parse_dn("alice"));         // no type
  EXPECT_FALSE(parse_dn("CN=a,bob"));      // DN ended with incomplete type, value pair
  EXPECT_FALSE(parse_dn("CN=#0403"));      // BER
  EXPECT_FALSE(parse_dn("CN=a\\z"));       // corrupted escape (one character left)
  EXPECT_FALSE(parse_dn("CN=a\\zz"));      // not hex
  EXPECT_FALSE(parse_dn("bob@acme.test"));  // an e-mail user is no DN
  ASSERT_TRUE(parse_dn(""));
  EXPECT_TRUE(parse_dn("")->empty());
}

TEST(Dn, EqualNeedsTheOrderRdnsMatchDoesNot) {
  auto a = *parse_dn("CN=erin,O=Acme+OU=dev");
  auto same = *parse_dn("cn=erin,OU=dev+O=Acme");  // types case-insensitive, attributes of an RDN in any order
  auto reordered = *parse_dn("OU=dev+O=Acme,CN=erin");
  auto other_value = *parse_dn("CN=Erin,O=Acme+OU=dev");  // values compared exactly
  EXPECT_TRUE(dn_equal(a, same));
  EXPECT_FALSE(dn_equal(a, reordered));
  EXPECT_TRUE(dn_rdns_match(a, reordered));
  EXPECT_FALSE(dn_equal(a, other_value));
  EXPECT_FALSE(dn_rdns_match(a, other_value));
  EXPECT_FALSE(dn_rdns_match(a, *parse_dn("CN=erin")));
}

}  // namespace
}  // namespace nats::net::NATS_TEST_FILE_ID
