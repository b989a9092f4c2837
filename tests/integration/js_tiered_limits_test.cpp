// Tiered JetStream limits: an account JWT's `limits.tiered_limits` (tier "R1", "R3": a
// stream's replica count picks the tier), against the reference 2.9.10 on one server in
// operator mode (MEMORY resolver): limits per tier at stream create (10027, 10028, 10047,
// and 10120 for a replica count without a tier), consumer defaults from the tier, store-time
// limits per tier, `$JS.API.INFO` with its `tiers` object (top-level limits all zero), and an
// updated JWT ($SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE) whose new tier limits apply at once.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "jwt_js_world.h"
#include "js_ask_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

json tier_stream(natsConnection* nc, const std::string& name, const char* storage, int replicas, int64_t max_bytes = -1) {
  json cfg = {{"name", name}, {"subjects", {name}}, {"storage", storage}, {"num_replicas", replicas},
              {"max_bytes", max_bytes}};
  return js_ask(nc, "$JS.API.STREAM.CREATE." + name, cfg.dump(), "did_create");
}

json tier_durable(natsConnection* nc, const std::string& stream, const std::string& name) {
  json req = {{"stream_name", stream}, {"config", {{"durable_name", name}, {"ack_policy", "explicit"}}}};
  std::string body = req.dump(), subj = "$JS.API.CONSUMER.DURABLE.CREATE." + stream + "." + name;
  json j = js_ask(nc, subj, body);
  if (j.is_object() && j.contains("config")) return j["config"]["max_ack_pending"];
  return j;
}

// The account info without its API counters.
json tier_info(natsConnection* nc) {
  json j = js_ask(nc, "$JS.API.INFO", "");
  if (j.is_object()) j.erase("api");
  return j;
}

int tier_err(const json& j) { return j.is_object() ? j.value("err_code", 0) : 0; }

// A's JWT carries `limits` (merged into its limits); `push(limits)` sends it again with new ones.
using TierWorld = JwtJsWorld;

template <class Scenario>
std::vector<json> run_tiered(const json& limits, Scenario scenario, const std::string& binary) {
  TierWorld w;
  EXPECT_TRUE(w.start(limits, binary));
  if (!w.nc.p || !w.sys_nc.p) return {};
  return scenario(w);
}

void compare_tiered(const std::vector<json>& ours, const std::vector<json>& ref) {
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "answer " << i;
}

// Only an R1 tier: 2000 bytes of memory, 3000 of file, 2 streams, 5 acks pending.
const json kR1Only = {{"tiered_limits",
                       {{"R1", {{"mem_storage", 2000}, {"disk_storage", 3000}, {"streams", 2}, {"consumer", 2},
                                {"max_ack_pending", 5}}}}}};

std::vector<json> create_scenario_tiered(TierWorld& w) {
  natsConnection* nc = w.nc.p;
  return {tier_stream(nc, "M1", "memory", 1, 1500),  // ok
          tier_stream(nc, "M2", "memory", 1, 600),   // 10028: 1500 + 600 > 2000 in R1
          tier_stream(nc, "F1", "file", 1, 3001),    // 10047
          tier_stream(nc, "R3", "file", 3),          // 10120: no R3 tier, no default
          tier_stream(nc, "F1", "file", 1),          // ok: the tier's second stream
          tier_stream(nc, "F2", "file", 1),          // 10027
          tier_durable(nc, "M1", "D1"),              // max_ack_pending: the tier's 5
          tier_info(nc)};
}

// Store time, per tier: 1000 bytes of file in R1.
std::vector<json> store_scenario_tiered(TierWorld& w) {
  natsConnection* nc = w.nc.p;
  std::vector<json> out{tier_stream(nc, "F", "file", 1)};
  for (int i = 0; i < 3; ++i) out.push_back(js_ask(nc, "F", std::string(600, 'x')));
  json state = js_ask(nc, "$JS.API.STREAM.INFO.F", "", "state");
  out.push_back(state.is_object() ? state.value("messages", json(-1)) : state);
  out.push_back(tier_info(nc));
  return out;
}

// A JWT update changes the tier's limits: a second stream refused, then allowed; then the
// R1 tier removed (an R2 one instead): creates refused with 10120, the info lists both.
std::vector<json> update_scenario_tiered(TierWorld& w) {
  natsConnection* nc = w.nc.p;
  auto tier = [](const char* name, int streams) {
    return json{{"tiered_limits", {{name, {{"mem_storage", 10000}, {"disk_storage", 10000}, {"streams", streams}}}}}};
  };
  std::vector<json> out{tier_stream(nc, "A", "file", 1), tier_stream(nc, "B", "file", 1)};
  out.push_back(w.push(tier("R1", 3)));
  out.push_back(tier_stream(nc, "B", "file", 1));
  out.push_back(tier_info(nc));
  out.push_back(w.push(tier("R2", 3)));
  out.push_back(tier_stream(nc, "C", "file", 1));
  out.push_back(js_ask(nc, "A", "after"));  // no limits for the stream's tier at store time
  out.push_back(tier_info(nc));
  // Back to untiered limits: no tiers in the info, the limits at the top.
  out.push_back(w.push(json{{"mem_storage", 5000}, {"disk_storage", 6000}}));
  out.push_back(tier_stream(nc, "C", "file", 1));
  out.push_back(tier_info(nc));
  return out;
}

TEST(JsTieredLimits, CreateAndInfo) {
  auto ours = run_tiered(kR1Only, create_scenario_tiered, server_binary());
  ASSERT_EQ(ours.size(), 8u);
  EXPECT_EQ(ours[0], true) << ours[0].dump();
  EXPECT_EQ(tier_err(ours[1]), 10028) << ours[1].dump();
  EXPECT_EQ(tier_err(ours[2]), 10047) << ours[2].dump();
  EXPECT_EQ(tier_err(ours[3]), 10120) << ours[3].dump();
  EXPECT_EQ(ours[3].value("description", ""), "no JetStream default or applicable tiered limit present");
  EXPECT_EQ(ours[4], true) << ours[4].dump();
  EXPECT_EQ(tier_err(ours[5]), 10027) << ours[5].dump();
  EXPECT_EQ(ours[6], 5) << ours[6].dump();
  EXPECT_EQ(ours[7]["limits"].value("max_memory", -1), 0) << ours[7].dump();
  EXPECT_EQ(ours[7]["tiers"]["R1"].value("streams", 0), 2) << ours[7].dump();
  EXPECT_EQ(ours[7]["tiers"]["R1"]["limits"].value("max_memory", 0), 2000) << ours[7].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare_tiered(ours, run_tiered(kR1Only, create_scenario_tiered, reference_binary()));
}

TEST(JsTieredLimits, StoreTimePerTier) {
  const json lim = {{"tiered_limits", {{"R1", {{"disk_storage", 1000}}}}}};
  auto ours = run_tiered(lim, store_scenario_tiered, server_binary());
  ASSERT_EQ(ours.size(), 6u);
  EXPECT_EQ(ours[0], true) << ours[0].dump();
  EXPECT_EQ(ours[1].value("seq", 0), 1) << ours[1].dump();
  EXPECT_EQ(tier_err(ours[2]), 10002) << ours[2].dump();
  EXPECT_EQ(ours[4], 1) << ours[4].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare_tiered(ours, run_tiered(lim, store_scenario_tiered, reference_binary()));
}

TEST(JsTieredLimits, JwtUpdateChangesTiers) {
  const json lim = {{"tiered_limits", {{"R1", {{"mem_storage", 10000}, {"disk_storage", 10000}, {"streams", 1}}}}}};
  auto ours = run_tiered(lim, update_scenario_tiered, server_binary());
  ASSERT_EQ(ours.size(), 12u);
  EXPECT_EQ(ours[0], true) << ours[0].dump();
  EXPECT_EQ(tier_err(ours[1]), 10027) << ours[1].dump();
  EXPECT_EQ(ours[2], 200) << ours[2].dump();
  EXPECT_EQ(ours[3], true) << ours[3].dump();
  EXPECT_EQ(tier_err(ours[6]), 10120) << ours[6].dump();
  EXPECT_EQ(tier_err(ours[7]), 10120) << ours[7].dump();
  EXPECT_EQ(ours[9], 200) << ours[9].dump();
  EXPECT_EQ(ours[10], true) << ours[10].dump();
  EXPECT_FALSE(ours[11].contains("tiers")) << ours[11].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare_tiered(ours, run_tiered(lim, update_scenario_tiered, reference_binary()));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
