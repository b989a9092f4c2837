// Scaling a replicated stream down to R1 loses nothing: every message acknowledged before the
// STREAM.UPDATE (sent right after the last PubAck) is in the one copy that stays. The kept
// server is the stream's leader (as 2.9.10), and it applies the rest of its committed log
// before its Raft group stops (RaftGroup::halt_applying_rest). Repeated, since the loss it
// guards against was a race (seen about one run in four before the fix).
#include <gtest/gtest.h>

#include <string>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

TEST(JsMembers, ScaleDownToR1KeepsEveryAckedMessage) {
  Cluster c(3, 3);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  constexpr int kRounds = 8, kMsgs = 40;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = "SD" + std::to_string(round);
    const std::string subj = "sd" + std::to_string(round);
    json cfg = {{"name", name}, {"subjects", {subj + ".>"}}, {"num_replicas", 3}};
    json created = create_stream(nc.p, cfg);
    ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
    // Acknowledged one after another; the update follows the last ack at once.
    uint64_t acked = 0;
    for (int i = 1; i <= kMsgs; ++i) {
      json ack;
      wait_for([&] { return !(ack = publish(nc.p, subj + ".x", "m" + std::to_string(i))).empty(); },
               milliseconds(5000));
      ASSERT_EQ(ack.value("seq", uint64_t{0}), static_cast<uint64_t>(i)) << ack.dump();
      acked = ack.value("seq", uint64_t{0});
    }
    cfg["num_replicas"] = 1;
    json down = request(nc.p, "$JS.API.STREAM.UPDATE." + name, cfg);
    ASSERT_FALSE(down.contains("error")) << "round " << round << " " << down.dump() << c.logs();
    ASSERT_TRUE(down.contains("config")) << "round " << round << " " << down.dump() << c.logs();
    EXPECT_EQ(down["config"]["num_replicas"], 1);
    json info;
    bool single = wait_for([&] {
      info = request(nc.p, "$JS.API.STREAM.INFO." + name, nullptr);
      return info.contains("state") && replica_names(info).size() == 1;
    }, milliseconds(10000));
    ASSERT_TRUE(single) << info.dump();
    // Every acknowledged message, at its sequence: nothing deleted, so 1..acked.
    EXPECT_EQ(info["state"].value("messages", uint64_t{0}), acked) << "round " << round << " " << info.dump();
    EXPECT_EQ(info["state"].value("first_seq", uint64_t{0}), 1u) << "round " << round;
    EXPECT_EQ(info["state"].value("last_seq", uint64_t{0}), acked) << "round " << round;
    // And the one copy takes the next message after them.
    EXPECT_EQ(publish(nc.p, subj + ".x", "after").value("seq", uint64_t{0}), acked + 1) << "round " << round;
    json del = request(nc.p, "$JS.API.STREAM.DELETE." + name, nullptr);
    EXPECT_TRUE(del.value("success", false)) << del.dump();
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
