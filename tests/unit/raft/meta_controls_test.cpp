// The controls the meta group adds on top of the Raft core: campaign_now() for a freshly
// bootstrapped group, step_down() for $JS.API.META.LEADER.STEPDOWN, match_index() for lag.
#include <gtest/gtest.h>

#include "raft/raft_node.h"
#include "simulator.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

using sim::Simulator;

TEST(RaftControls, CampaignNowStartsAnElectionAtOnce) {
  // Message delays of 1-3 ticks make a two-round (pre-vote, vote) election take up to 12
  // ticks, so the others' timers (10-19 ticks) sometimes race it; the early start must
  // still win most of the time, and every run must end with one leader.
  int won = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Simulator s(3, seed);
    s.node(1).campaign_now();
    EXPECT_NE(s.node(1).role(), Role::kFollower);
    s.run(60);
    ASSERT_GE(s.leader(), 0) << "seed " << seed;
    if (s.leader() == 1) ++won;
    for (const auto& v : s.violations) ADD_FAILURE() << v;
  }
  EXPECT_GE(won, 12);
}

TEST(RaftControls, StepDownHandsLeadershipToAnotherNode) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Simulator s(3, seed);
    s.run(60);
    int old = s.leader();
    ASSERT_GE(old, 0);
    s.node(old).step_down();
    EXPECT_NE(s.node(old).role(), Role::kLeader);
    s.run(60);
    int now = s.leader();
    ASSERT_GE(now, 0) << "seed " << seed;
    EXPECT_NE(now, old) << "seed " << seed;
    for (const auto& v : s.violations) ADD_FAILURE() << v;
  }
}

TEST(RaftControls, MatchIndexTracksFollowers) {
  Simulator s(3, 3);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  ASSERT_TRUE(s.propose("x"));
  s.run(20);
  for (int i = 0; i < 3; ++i) {
    if (i != l) {
      EXPECT_EQ(s.node(l).match_index(s.node(i).id()), s.node(l).last_index());
    }
  }
  EXPECT_EQ(s.node(l).match_index("nobody"), 0u);
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
