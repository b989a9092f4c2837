// An account JWT's JetStream limits: untiered (`limits.mem_storage`, ...) or per tier
// (`limits.tiered_limits`), decoded as the reference maps them (0 per-stream byte limits and
// max_ack_pending become -1; untiered limits win; JetStream on when a tier has storage).
#include <gtest/gtest.h>

#include "../../integration/jwt_test_util.h"
#include "server/jwt_claims.h"

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

using json = nlohmann::json;

std::variant<AccountClaims, std::string> tiered_account(const json& limits) {
  auto op = itest::jwt::operator_keys(), acc = itest::jwt::account_keys();
  json c = itest::jwt::account_claims(acc, "A");
  for (const auto& [k, v] : limits.items()) c["nats"]["limits"][k] = v;
  return decode_account_claims(itest::jwt::sign(c, op));
}

TEST(JwtTieredLimits, DecodesTiers) {
  auto r = tiered_account({{"tiered_limits",
                            {{"R1", {{"mem_storage", 100}, {"disk_storage", -1}, {"streams", 2}, {"consumer", 3},
                                     {"max_ack_pending", 7}, {"disk_max_stream_bytes", 50}, {"max_bytes_required", true}}},
                             {"R3", {{"disk_storage", 1000}}}}}});
  ASSERT_TRUE(std::holds_alternative<AccountClaims>(r)) << std::get<std::string>(r);
  const auto& ac = std::get<AccountClaims>(r);
  EXPECT_TRUE(ac.jetstream_limits);
  ASSERT_EQ(ac.js_tiers.size(), 2u);
  const JsAccountLimits& r1 = ac.js_tiers.at("R1");
  EXPECT_EQ(r1.max_memory, 100);
  EXPECT_EQ(r1.max_store, -1);
  EXPECT_EQ(r1.max_streams, 2);
  EXPECT_EQ(r1.max_consumers, 3);
  EXPECT_EQ(r1.max_ack_pending, 7);
  EXPECT_EQ(r1.memory_max_stream_bytes, -1);
  EXPECT_EQ(r1.store_max_stream_bytes, 50);
  EXPECT_TRUE(r1.max_bytes_required);
  EXPECT_EQ(ac.js_tiers.at("R3").max_memory, 0);
  EXPECT_EQ(ac.js_tiers.at("R3").max_store, 1000);
}

TEST(JwtTieredLimits, UntieredWinsAndTiersWithoutStorageDisable) {
  auto both = tiered_account({{"mem_storage", 10}, {"tiered_limits", {{"R1", {{"mem_storage", 100}}}}}});
  ASSERT_TRUE(std::holds_alternative<AccountClaims>(both));
  EXPECT_TRUE(std::get<AccountClaims>(both).js_tiers.empty());
  EXPECT_EQ(std::get<AccountClaims>(both).js_limits.max_memory, 10);
  // No tier with memory or disk: JetStream stays off for the account (jwt's IsJSEnabled).
  auto none = tiered_account({{"tiered_limits", {{"R1", {{"streams", 4}}}}}});
  ASSERT_TRUE(std::holds_alternative<AccountClaims>(none));
  EXPECT_FALSE(std::get<AccountClaims>(none).jetstream_limits);
  EXPECT_TRUE(std::get<AccountClaims>(none).js_tiers.empty());
}

TEST(JwtTieredLimits, RefusesMalformedTiers) {
  for (const json& bad : {json{{"tiered_limits", "R1"}}, json{{"tiered_limits", {{"R1", 5}}}},
                          json{{"tiered_limits", {{"R1", {{"mem_storage", "lots"}}}}}}}) {
    auto r = tiered_account(bad);
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << bad.dump();
    EXPECT_EQ(std::get<std::string>(r), "invalid account claims");
  }
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
