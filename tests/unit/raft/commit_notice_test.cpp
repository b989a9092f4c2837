#include <gtest/gtest.h>

#include <map>

#include "raft/raft_node.h"

// Config::notify_commit: a leader tells its followers a new commit index in the output right
// after the acks that moved it, instead of with the next append or heartbeat.
// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

// A leader "A" of {A, B, C} whose followers have everything so far.
RaftNode leader(bool notify) {
  Config c;
  c.id = "A";
  c.peers = {"A", "B", "C"};
  c.notify_commit = notify;
  RaftNode a(c);
  a.campaign_now();
  a.step(Message{"B", "A", VoteResponse{1, true, true}});
  a.step(Message{"B", "A", VoteResponse{1, true, false}});
  EXPECT_EQ(a.role(), Role::kLeader);
  a.get_output();
  for (const char* p : {"B", "C"}) a.step(Message{p, "A", AppendResponse{1, true, a.last_index()}});
  a.get_output();
  return a;
}

// leader_commit of each AppendEntries in `out`, by recipient.
std::map<NodeId, Index> commits_sent(const Output& out) {
  std::map<NodeId, Index> m;
  for (const auto& msg : out.messages)
    if (const auto* ae = std::get_if<AppendEntries>(&msg.payload)) m[msg.to] = ae->leader_commit;
  return m;
}

TEST(RaftCommitNotice, FollowersAreToldAtOnce) {
  RaftNode a = leader(true);
  auto idx = a.propose("x");
  ASSERT_TRUE(idx);
  auto out = a.get_output();
  for (const auto& [to, commit] : commits_sent(out)) EXPECT_LT(commit, *idx) << to;
  // B's ack makes a quorum: B hears the new commit in the next output. C, whose ack has
  // not come, is known to have only what came before: nothing new it could commit.
  a.step(Message{"B", "A", AppendResponse{1, true, *idx}});
  out = a.get_output();
  ASSERT_EQ(out.committed.size(), 1u);
  EXPECT_EQ(commits_sent(out), (std::map<NodeId, Index>{{"B", *idx}}));
  // C's ack, after the commit: C is told at once too.
  a.step(Message{"C", "A", AppendResponse{1, true, *idx}});
  EXPECT_EQ(commits_sent(a.get_output()), (std::map<NodeId, Index>{{"C", *idx}}));
  // The same ack again: nothing new to tell.
  a.step(Message{"C", "A", AppendResponse{1, true, *idx}});
  EXPECT_TRUE(a.get_output().messages.empty());
}

TEST(RaftCommitNotice, AFollowerToldByAnAppendGetsNoNotice) {
  RaftNode a = leader(true);
  auto first = a.propose("x");
  a.get_output();
  // A second proposal waits in the same output as the commit of the first: its appends
  // carry the new commit, and no separate notice goes out.
  a.step(Message{"B", "A", AppendResponse{1, true, *first}});
  auto second = a.propose("y");
  auto out = a.get_output();
  EXPECT_EQ(commits_sent(out), (std::map<NodeId, Index>{{"B", *first}, {"C", *first}}));
  size_t appends = 0;
  for (const auto& msg : out.messages) appends += std::holds_alternative<AppendEntries>(msg.payload);
  EXPECT_EQ(appends, 2u);  // one per follower, with entry `second`
  (void)second;
}

TEST(RaftCommitNotice, OffByDefault) {
  RaftNode a = leader(false);
  auto idx = a.propose("x");
  a.get_output();
  a.step(Message{"B", "A", AppendResponse{1, true, *idx}});
  auto out = a.get_output();
  ASSERT_EQ(out.committed.size(), 1u);
  // B had nothing new to receive: it hears of the commit with the next append or heartbeat.
  EXPECT_TRUE(commits_sent(out).empty());
  a.step(Message{"C", "A", AppendResponse{1, true, *idx}});
  EXPECT_TRUE(commits_sent(a.get_output()).empty());
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
