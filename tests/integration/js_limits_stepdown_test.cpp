// The step-down 2.9.10 adds to the 10023 refusal (processClusteredInboundMsg): the leader of
// a replicated stream whose server holds more than max_memory_store/max_file_store answers
// the publish with 10023 and gives up its leadership ("Stepdown regardless"), so that a
// replica on a server with room may take over.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// expect_new_leader: another replica answers as leader afterwards (ours). 2.9.10 leaves the
// stream without a leader answering STREAM.INFO for at least 15 s here (every replica is
// over the limit); both give up the leadership.
void stepdown_scenario(const std::string& binary, bool expect_new_leader) {
  jsc::JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->js_extra = "max_memory_store: 1000";
    n->binary = binary;
  }
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(1).proc->port())), NATS_OK);
  auto request = [&](const std::string& subj, const std::string& body) {
    MsgPtr m;
    if (natsConnection_Request(&m.p, nc.p, subj.c_str(), body.data(), static_cast<int>(body.size()), 2000) != NATS_OK)
      return json();
    return json::parse(m.data(), nullptr, false);
  };
  json cfg = {{"name", "S"}, {"subjects", {"s"}}, {"storage", "memory"}, {"num_replicas", 3}};
  json created;
  ASSERT_TRUE(wait_for([&] {  // 10008 while the meta group forms
    created = request("$JS.API.STREAM.CREATE.S", cfg.dump());
    return created.is_object() && !created.contains("error");
  }, milliseconds(20000))) << created.dump();
  auto leader = [&] {
    json info = request("$JS.API.STREAM.INFO.S", "");
    return info.is_object() && info.contains("cluster") ? info["cluster"].value("leader", std::string()) : std::string();
  };
  std::string before;
  ASSERT_TRUE(wait_for([&] { return !(before = leader()).empty(); }, milliseconds(10000)));
  std::vector<json> acks;
  for (int i = 0; i < 3; ++i) {
    json ack;
    wait_for([&] {  // right after the election the leader's subscription may still be on its way
      ack = request("s", std::string(600, 'x'));
      return ack.is_object();
    }, milliseconds(10000));
    acks.push_back(ack);
  }
  EXPECT_EQ(acks[1].value("seq", 0), 2) << acks[1].dump();  // 1200 bytes stored: over the limit now
  ASSERT_TRUE(acks[2].contains("error")) << acks[2].dump();
  EXPECT_EQ(acks[2]["error"].value("err_code", 0), 10023) << acks[2].dump();
  // The leader that refused it has given up its leadership.
  std::string after;
  EXPECT_TRUE(wait_for([&] {
    after = leader();
    return after != before && (!expect_new_leader || !after.empty());
  }, milliseconds(15000))) << "leader stayed " << before;
}

TEST(JsLimitsStepDown, LeaderStepsDownAfterInsufficientResources) {
  stepdown_scenario(server_binary(), true);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  stepdown_scenario(reference_binary(), false);  // 2.9.10 steps down too
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
