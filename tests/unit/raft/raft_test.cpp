#include <gtest/gtest.h>

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

TEST(Raft, ThreeNodesElectOneLeader) {
  Simulator s(3, 1);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  int leaders = 0;
  for (int i = 0; i < 3; ++i) {
    if (s.node(i).role() == Role::kLeader) ++leaders;
    EXPECT_EQ(s.node(i).leader(), s.node(l).id());
    EXPECT_EQ(s.node(i).term(), s.node(l).term());
  }
  EXPECT_EQ(leaders, 1);
  expect_safe(s);
}

TEST(Raft, LeaderReplicatesAndCommits) {
  Simulator s(3, 2);
  s.run(60);
  ASSERT_TRUE(s.propose("a"));
  ASSERT_TRUE(s.propose("b"));
  s.run(20);
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> data;
    for (const auto& e : s.applied(i))
      if (e.type == EntryType::kNormal) data.push_back(e.data);
    EXPECT_EQ(data, (std::vector<std::string>{"a", "b"})) << "node " << i;
  }
  expect_safe(s);
}

TEST(Raft, PartitionedMinorityCannotCommit) {
  Simulator s(5, 3);
  s.run(60);
  int old = s.leader();
  ASSERT_GE(old, 0);
  // Old leader plus one follower on one side, three nodes on the other.
  std::vector<int> g(5, 1);
  g[old] = 0;
  g[(old + 1) % 5] = 0;
  s.partition(g);
  Index commit_before = s.node(old).commit_index();
  ASSERT_TRUE(s.node(old).propose("lost").has_value());
  s.run(100);
  EXPECT_EQ(s.node(old).commit_index(), commit_before);
  for (const auto& e : s.committed()) EXPECT_NE(e.data, "lost");
  // The majority elected its own leader and can commit.
  int l = s.leader();
  ASSERT_GE(l, 0);
  EXPECT_NE(g[l], 0);
  ASSERT_TRUE(s.propose("kept"));
  s.run(20);
  bool kept = false;
  for (const auto& e : s.committed()) kept |= e.data == "kept";
  EXPECT_TRUE(kept);
  // After healing, the old leader's uncommitted entry is overwritten everywhere.
  s.heal();
  s.run(100);
  for (int i = 0; i < 5; ++i) {
    for (const auto& e : s.node(i).log()) EXPECT_NE(e.data, "lost") << "node " << i;
    EXPECT_EQ(s.applied(i).size(), s.committed().size()) << "node " << i;
  }
  expect_safe(s);
}

TEST(Raft, StaleLogCannotWin) {
  Simulator s(3, 4);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  int stale = (l + 1) % 3;
  s.crash(stale);
  ASSERT_TRUE(s.propose("x"));
  s.run(20);
  // Now the stale node comes back alone with the other two crashed... it can never lead,
  // and even with one up-to-date peer only that peer can win.
  int other = 3 - l - stale;
  s.crash(l);
  s.restart(stale);
  s.run(200);
  ASSERT_GE(s.leader(), 0);
  EXPECT_EQ(s.leader(), other);
  EXPECT_NE(s.node(stale).role(), Role::kLeader);
  expect_safe(s);
}

TEST(Raft, VoteRequestChecksLogDirectly) {
  // A voter with a longer log in the same term refuses; with an older last term too.
  Config c;
  c.id = "B";
  c.peers = {"A", "B", "C"};
  PersistedState ps;
  ps.hard_state.term = 2;
  ps.log = {Entry{1, 1, EntryType::kNormal, {}}, Entry{2, 2, EntryType::kNormal, {}}};
  RaftNode b(c, ps);
  b.step(Message{"A", "B", VoteRequest{3, 5, 1, false}});  // longer but older last term
  auto out = b.get_output();
  ASSERT_EQ(out.messages.size(), 1u);
  auto r = std::get<VoteResponse>(out.messages[0].payload);
  EXPECT_FALSE(r.granted);
  EXPECT_EQ(b.term(), 3u);
  b.step(Message{"C", "B", VoteRequest{3, 2, 2, false}});  // as up to date: granted
  out = b.get_output();
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(std::get<VoteResponse>(out.messages[0].payload).granted);
  ASSERT_TRUE(out.hard_state.has_value());
  EXPECT_EQ(out.hard_state->voted_for, "C");
  b.step(Message{"A", "B", VoteRequest{3, 9, 3, false}});  // already voted this term
  out = b.get_output();
  EXPECT_FALSE(std::get<VoteResponse>(out.messages[0].payload).granted);
}

// A member whose state machine is behind (a stream replica catching up from the leader after
// a snapshot) is held off campaigning: its timer, campaign_now and TimeoutNow start nothing,
// yet it still votes, so the others can elect a leader. Released, it campaigns again.
TEST(Raft, CampaignHeldNodeVotesButNeverStartsElection) {
  Config c;
  c.id = "B";
  c.peers = {"A", "B", "C"};
  c.election_timeout = 5;
  RaftNode b(c);
  b.set_campaign_allowed(false);
  auto count_vote_requests = [](const Output& out) {
    int n = 0;
    for (const auto& m : out.messages) n += std::holds_alternative<VoteRequest>(m.payload);
    return n;
  };
  for (int i = 0; i < 100; ++i) b.tick();
  b.campaign_now();
  b.step(Message{"A", "B", TimeoutNow{0}});
  auto out = b.get_output();
  EXPECT_EQ(count_vote_requests(out), 0);
  EXPECT_EQ(b.role(), Role::kFollower);
  EXPECT_EQ(b.term(), 0u);
  b.step(Message{"C", "B", VoteRequest{1, 0, 0, false}});
  out = b.get_output();
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(std::get<VoteResponse>(out.messages[0].payload).granted);
  b.set_campaign_allowed(true);
  for (int i = 0; i < 20; ++i) b.tick();
  EXPECT_GT(count_vote_requests(b.get_output()), 0);
}

TEST(Raft, FollowerTruncatesConflictingSuffix) {
  Config c;
  c.id = "B";
  c.peers = {"A", "B", "C"};
  PersistedState ps;
  ps.hard_state.term = 2;
  ps.log = {Entry{1, 1, EntryType::kNormal, {}}, Entry{2, 2, EntryType::kNormal, "old2"}, Entry{2, 3, EntryType::kNormal, "old3"}};
  RaftNode b(c, ps);
  AppendEntries a{3, 1, 1, {Entry{3, 2, EntryType::kNormal, "new2"}}, 2};
  b.step(Message{"A", "B", a});
  auto out = b.get_output();
  ASSERT_EQ(b.last_index(), 2u);
  EXPECT_EQ(b.log()[1].data, "new2");
  ASSERT_EQ(out.entries.size(), 1u);
  EXPECT_EQ(out.entries[0].index, 2u);
  ASSERT_EQ(out.committed.size(), 2u);  // commit = min(leader_commit, last new entry)
  auto r = std::get<AppendResponse>(out.messages.at(0).payload);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.index, 2u);
  // Mismatched prev term: rejected, nothing changes.
  b.step(Message{"A", "B", AppendEntries{3, 2, 2, {}, 2}});
  out = b.get_output();
  EXPECT_FALSE(std::get<AppendResponse>(out.messages.at(0).payload).success);
  EXPECT_EQ(b.last_index(), 2u);
}

TEST(Raft, PreVoteDoesNotDisturbLeader) {
  // A node partitioned away and returning must not bump terms or depose the leader.
  Simulator s(3, 5);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  Term t = s.node(l).term();
  int iso = (l + 1) % 3;
  std::vector<int> g(3, 0);
  g[iso] = 1;
  s.partition(g);
  s.run(200);
  EXPECT_EQ(s.node(iso).term(), t);  // pre-votes failed, so its term never moved
  s.heal();
  s.run(50);
  EXPECT_EQ(s.leader(), l);
  EXPECT_EQ(s.node(l).term(), t);
  expect_safe(s);
}


}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID

namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

// Drives a lone node through pre-vote and vote to leadership by hand-feeding responses.
RaftNode make_leader(PersistedState ps) {
  Config c;
  c.id = "A";
  c.peers = {"A", "B", "C"};
  RaftNode a(c, ps);
  for (int i = 0; i < 100 && a.role() == Role::kFollower; ++i) a.tick();
  EXPECT_EQ(a.role(), Role::kPreCandidate);
  a.step(Message{"B", "A", VoteResponse{ps.hard_state.term + 1, true, true}});
  EXPECT_EQ(a.role(), Role::kCandidate);
  a.step(Message{"B", "A", VoteResponse{a.term(), true, false}});
  EXPECT_EQ(a.role(), Role::kLeader);
  a.get_output();
  return a;
}

TEST(Raft, OldTermEntryNotCommittedByCountingReplicas) {
  // Figure 8: a leader of term 3 holding an uncommitted term-2 entry must not commit it just
  // because a quorum stores it; only its own-term no-op at index 3 can commit it.
  PersistedState ps;
  ps.hard_state.term = 2;
  ps.log = {Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 2, EntryType::kNormal, "b"}};
  RaftNode a = make_leader(ps);
  ASSERT_EQ(a.term(), 3u);
  ASSERT_EQ(a.last_index(), 3u);  // the no-op
  a.step(Message{"B", "A", AppendResponse{3, true, 2}});
  EXPECT_EQ(a.commit_index(), 0u);
  a.step(Message{"B", "A", AppendResponse{3, true, 3}});
  EXPECT_EQ(a.commit_index(), 3u);
  EXPECT_EQ(a.get_output().committed.size(), 3u);
}

TEST(Raft, StaleRejectionDoesNotRewindProgress) {
  PersistedState ps;
  ps.hard_state.term = 1;
  ps.log = {Entry{1, 1, EntryType::kNormal, "a"}};
  RaftNode a = make_leader(ps);
  a.step(Message{"B", "A", AppendResponse{2, true, 2}});
  EXPECT_EQ(a.commit_index(), 2u);
  // A delayed rejection from before B caught up must not trigger resending from index 1.
  a.step(Message{"B", "A", AppendResponse{2, false, 0}});
  EXPECT_TRUE(a.get_output().messages.empty());
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
