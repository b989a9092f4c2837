// Leadership transfer (TimeoutNow) and single-server membership changes.
#include <gtest/gtest.h>

#include <algorithm>

#include "raft/raft_node.h"
#include "simulator.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

using sim::NetConfig;
using sim::Simulator;

void expect_safe(const Simulator& s) {
  for (const auto& v : s.violations) ADD_FAILURE() << v;
}

bool applied_data(const Simulator& s, int i, const std::string& data) {
  for (const auto& e : s.applied(i))
    if (e.type == EntryType::kNormal && e.data == data) return true;
  return false;
}

TEST(RaftTransfer, NamedFollowerTakesOverInTheNextTerm) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Simulator s(3, seed);
    s.run(60);
    int l = s.leader();
    ASSERT_GE(l, 0);
    Term t = s.node(l).term();
    int target = (l + 1) % 3;
    ASSERT_TRUE(s.node(l).transfer_leadership(s.node(target).id()));
    EXPECT_TRUE(s.node(l).transferring());
    EXPECT_FALSE(s.node(l).propose("refused").has_value());  // no proposals while handing over
    // Well below an election timeout: the target campaigns at once and followers grant the
    // vote although they heard from the old leader moments ago.
    s.run(9);
    ASSERT_EQ(s.leader(), target) << "seed " << seed;
    EXPECT_EQ(s.node(target).term(), t + 1);
    expect_safe(s);
  }
}

TEST(RaftTransfer, LaggingTargetIsBroughtUpToDateFirst) {
  Simulator s(3, 20);  // seed % 3 == 2: appends carry up to 8 entries
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  int target = (l + 1) % 3;
  s.crash(target);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(s.propose("p" + std::to_string(i)));
  s.run(5);
  s.restart(target);
  ASSERT_TRUE(s.node(l).transfer_leadership(s.node(target).id()));
  s.run(40);
  ASSERT_EQ(s.leader(), target);
  EXPECT_TRUE(applied_data(s, target, "p5"));
  expect_safe(s);
}

TEST(RaftTransfer, DefaultTargetIsAnUpToDateFollower) {
  Simulator s(3, 22);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  ASSERT_TRUE(s.node(l).transfer_leadership());
  s.run(20);
  ASSERT_GE(s.leader(), 0);
  EXPECT_NE(s.leader(), l);
  EXPECT_FALSE(s.node(l).transfer_leadership("nobody"));  // not leader any more
  expect_safe(s);
}

TEST(RaftTransfer, GivesUpAfterAnElectionTimeout) {
  Simulator s(3, 23);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  Term t = s.node(l).term();
  int target = (l + 1) % 3;
  const NodeId target_id = s.node(target).id();
  s.crash(target);
  EXPECT_FALSE(s.node(l).transfer_leadership(s.node(l).id()));  // not to itself
  ASSERT_TRUE(s.node(l).transfer_leadership(target_id));
  s.run(11);
  EXPECT_EQ(s.leader(), l);
  EXPECT_EQ(s.node(l).term(), t);
  EXPECT_FALSE(s.node(l).transferring());
  EXPECT_TRUE(s.propose("back to normal"));
  expect_safe(s);
}

TEST(RaftTransfer, StepDownHandsOverWithinOneElectionTimeout) {
  int fast = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Simulator s(3, seed);
    s.run(60);
    int l = s.leader();
    ASSERT_GE(l, 0);
    s.node(l).step_down();
    EXPECT_NE(s.node(l).role(), Role::kLeader);
    s.run(10);  // the minimum election timeout: only TimeoutNow elects this fast
    if (s.leader() >= 0 && s.leader() != l) ++fast;
    expect_safe(s);
  }
  EXPECT_GE(fast, 18);
}

TEST(RaftMembership, AddedServerJoinsAsLearnerThenVotes) {
  Simulator s(3, 31, NetConfig{}, 1);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  ASSERT_TRUE(s.propose("before"));
  s.run(10);
  const NodeId& joiner = s.node(3).id();
  EXPECT_TRUE(s.node(3).peers().empty());
  auto idx = s.node(l).add_peer(joiner);
  ASSERT_TRUE(idx.has_value());
  EXPECT_TRUE(s.node(l).membership().is_learner(joiner));
  EXPECT_EQ(s.node(l).peers().size(), 3u);
  EXPECT_FALSE(s.node(l).add_peer("another").has_value());  // one change at a time
  s.run(60);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s.node(i).peers().size(), 4u) << i;
    EXPECT_TRUE(s.node(i).membership().is_voter(joiner)) << i;
    EXPECT_TRUE(s.node(i).membership().learners.empty()) << i;
  }
  EXPECT_TRUE(applied_data(s, 3, "before"));
  // Four voters: the quorum is three, so with two down nothing commits.
  int a = (l + 1) % 4, b = (l + 2) % 4;
  s.crash(a);
  s.crash(b);
  int l2 = s.leader();
  ASSERT_GE(l2, 0);
  Index c = s.node(l2).commit_index();
  s.node(l2).propose("needs three");
  s.run(10);
  EXPECT_EQ(s.node(l2).commit_index(), c);
  expect_safe(s);
}

TEST(RaftMembership, RemovedFollowerStopsCountingAndDisturbsNobody) {
  Simulator s(3, 32);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  Term t = s.node(l).term();
  int gone = (l + 1) % 3;
  ASSERT_TRUE(s.node(l).remove_peer(s.node(gone).id()).has_value());
  s.run(20);
  EXPECT_EQ(s.node(l).peers().size(), 2u);
  EXPECT_FALSE(s.node(gone).membership().contains(s.node(gone).id()));
  s.run(200);  // it hears nothing more; it must not depose the leader
  EXPECT_EQ(s.leader(), l);
  EXPECT_EQ(s.node(l).term(), t);
  ASSERT_TRUE(s.propose("two voters"));
  s.run(10);
  EXPECT_TRUE(applied_data(s, (l + 2) % 3, "two voters"));
  expect_safe(s);
}

TEST(RaftMembership, RemovedLeaderStepsDownOnceCommitted) {
  Simulator s(3, 33);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  const NodeId self = s.node(l).id();
  ASSERT_TRUE(s.node(l).remove_peer(self).has_value());
  EXPECT_EQ(s.node(l).role(), Role::kLeader);  // leads until the removal commits
  s.run(40);
  int now = s.leader();
  ASSERT_GE(now, 0);
  EXPECT_NE(now, l);
  EXPECT_FALSE(s.node(now).membership().contains(self));
  EXPECT_EQ(s.node(now).peers().size(), 2u);
  ASSERT_TRUE(s.propose("without the old leader"));
  s.run(10);
  EXPECT_TRUE(applied_data(s, now, "without the old leader"));
  expect_safe(s);
}

TEST(RaftMembership, JoinerLearnsTheConfigurationFromASnapshot) {
  Simulator s(3, 34, NetConfig{}, 1);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.propose("p" + std::to_string(i)));
  s.run(20);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.compact(i, s.applied(i).size()));
  ASSERT_TRUE(s.node(l).add_peer(s.node(3).id()).has_value());
  s.run(80);
  EXPECT_GT(s.node(3).snapshot_index(), 0u);
  EXPECT_EQ(s.node(3).peers().size(), 4u);
  EXPECT_TRUE(applied_data(s, 3, "p9"));
  // The snapshot carries the membership across a restart of the joiner.
  s.crash(3);
  s.restart(3);
  EXPECT_TRUE(s.node(3).membership().contains(s.node(3).id()));
  // And a compaction past the config entry keeps it in the snapshot.
  s.run(20);
  int l2 = s.leader();
  ASSERT_GE(l2, 0);
  ASSERT_TRUE(s.compact(l2, s.applied(l2).size()));
  EXPECT_TRUE(s.node(l2).snapshot().membership.is_voter(s.node(3).id()));
  expect_safe(s);
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
