// The CONNECT deadline of accepted routes, gateways and leaf nodes (2.9.10's
// getDefaultAuthTimeout as setBaselineOptions applies it to each block).
#include "config/link_auth_timeout.h"

#include <gtest/gtest.h>

namespace nats::NATS_TEST_FILE_ID {
namespace {

using namespace std::chrono_literals;

TEST(LinkAuthTimeout, ConfiguredWinsOverTheDefault) {
  TlsOptions tls;
  EXPECT_EQ(link_auth_timeout(500ms, tls), 500ms);
  tls.enabled = true;
  tls.timeout = 5s;
  EXPECT_EQ(link_auth_timeout(1500ms, tls), 1500ms);
}

TEST(LinkAuthTimeout, TwoSecondsWithoutTls) {
  TlsOptions tls;
  tls.timeout = 7s;  // a timeout of a block without TLS plays no part
  EXPECT_EQ(link_auth_timeout(0s, tls), 2s);
}

TEST(LinkAuthTimeout, TlsTimeoutPlusOneSecondWithTls) {
  TlsOptions tls;
  tls.enabled = true;
  EXPECT_EQ(link_auth_timeout(0s, tls), 3s);  // the TLS timeout's own default of 2 s
  tls.timeout = 500ms;
  EXPECT_EQ(link_auth_timeout(0s, tls), 1500ms);
}

TEST(LinkAuthTimeout, ZeroOrNegativeCountsAsUnset) {
  TlsOptions tls;
  EXPECT_EQ(link_auth_timeout(-1s, tls), 2s);
  tls.enabled = true;
  EXPECT_EQ(link_auth_timeout(-1s, tls), 3s);
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
