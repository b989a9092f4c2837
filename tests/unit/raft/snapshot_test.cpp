// Snapshots and log compaction: compact(), InstallSnapshot to a follower behind the leader's
// first kept index (in chunks), and restart from a snapshot plus a log suffix.
#include <gtest/gtest.h>

#include "raft/raft_node.h"
#include "raft/wire.h"
#include "simulator.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

using sim::NetConfig;
using sim::Simulator;

void expect_safe(const Simulator& s) {
  for (const auto& v : s.violations) ADD_FAILURE() << v;
}

std::vector<std::string> normal_data(const std::vector<Entry>& applied) {
  std::vector<std::string> v;
  for (const auto& e : applied)
    if (e.type == EntryType::kNormal) v.push_back(e.data);
  return v;
}

TEST(RaftSnapshot, LaggingFollowerCatchesUpFromSnapshotAndRestartsFromIt) {
  Simulator s(3, 11);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  int f = (l + 1) % 3, other = (l + 2) % 3;
  s.crash(f);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(s.propose("p" + std::to_string(i)));
  s.run(40);
  Index upto = s.applied(l).size();
  ASSERT_GE(upto, 31u);
  ASSERT_TRUE(s.compact(l, upto));
  ASSERT_TRUE(s.compact(other, s.applied(other).size()));
  EXPECT_EQ(s.node(l).snapshot_index(), upto);
  EXPECT_TRUE(s.node(l).log().empty());
  EXPECT_EQ(s.node(l).term_at(upto), s.node(l).term());  // the snapshot keeps its last term
  EXPECT_FALSE(s.node(l).compact(upto, "again"));        // not above the current snapshot
  EXPECT_FALSE(s.node(l).compact(upto + 5, "future"));   // not applied yet

  uint64_t before = s.snapshots_installed();
  s.restart(f);
  s.run(80);
  EXPECT_GT(s.snapshots_installed(), before);
  EXPECT_EQ(s.node(f).snapshot_index(), upto);
  EXPECT_EQ(normal_data(s.applied(f)), normal_data(s.applied(l)));

  // It continues from the snapshot with ordinary appends, and restarts from snapshot + suffix.
  ASSERT_TRUE(s.propose("after"));
  s.run(20);
  EXPECT_EQ(normal_data(s.applied(f)).back(), "after");
  EXPECT_FALSE(s.node(f).log().empty());
  s.crash(f);
  s.restart(f);
  s.run(20);
  EXPECT_EQ(s.node(f).snapshot_index(), upto);
  EXPECT_EQ(normal_data(s.applied(f)), normal_data(s.applied(l)));
  expect_safe(s);
}

TEST(RaftSnapshot, MultiMegabyteSnapshotGoesInChunks) {
  Simulator s(3, 12, NetConfig{}, 0, 256 * 1024);
  s.run(60);
  int l = s.leader();
  ASSERT_GE(l, 0);
  int f = (l + 1) % 3;
  s.crash(f);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(s.propose(std::string(512 * 1024, static_cast<char>('a' + i))));
  s.run(40);
  ASSERT_TRUE(s.compact(l, s.applied(l).size()));
  ASSERT_GT(s.node(l).snapshot().data.size(), 4u << 20);
  s.restart(f);
  s.run(200);
  EXPECT_EQ(s.node(f).snapshot_index(), s.node(l).snapshot_index());
  EXPECT_EQ(s.applied(f), s.applied(l));
  expect_safe(s);
}

Config node_config(const NodeId& id) {
  Config c;
  c.id = id;
  c.peers = {"A", "B", "C"};
  return c;
}

PersistedState three_entry_log() {
  PersistedState ps;
  ps.hard_state.term = 2;
  ps.log = {Entry{1, 1, EntryType::kNormal, "a"}, Entry{1, 2, EntryType::kNormal, "b"},
            Entry{2, 3, EntryType::kNormal, "c"}};
  return ps;
}

TEST(RaftSnapshot, InstallKeepsAMatchingSuffix) {
  RaftNode b(node_config("B"), three_entry_log());
  b.step(Message{"A", "B", InstallSnapshot{3, 2, 1, Membership{{"A", "B", "C"}, {}}, 0, "state@2", true}});
  Output out = b.get_output();
  ASSERT_TRUE(out.snapshot.has_value());
  EXPECT_FALSE(out.snapshot_discards_log);
  ASSERT_TRUE(out.snapshot_to_apply.has_value());
  EXPECT_EQ(out.snapshot_to_apply->data, "state@2");
  EXPECT_EQ(b.snapshot_index(), 2u);
  EXPECT_EQ(b.last_index(), 3u);  // index 3 agrees with the snapshot's history and stays
  EXPECT_EQ(b.commit_index(), 2u);
  EXPECT_TRUE(out.committed.empty());
  EXPECT_EQ(std::get<AppendResponse>(out.messages.back().payload), (AppendResponse{3, true, 2}));
}

TEST(RaftSnapshot, InstallDiscardsAConflictingLog) {
  RaftNode b(node_config("B"), three_entry_log());
  // Index 3 has term 3 in the leader's history, not 2: everything we hold is replaced.
  b.step(Message{"A", "B", InstallSnapshot{3, 3, 3, Membership{{"A", "B", "C"}, {}}, 0, "sta", false}});
  Output out = b.get_output();
  EXPECT_FALSE(out.snapshot.has_value());  // not complete yet
  EXPECT_EQ(std::get<SnapshotResponse>(out.messages.back().payload), (SnapshotResponse{3, 3, 3}));
  // A chunk at the wrong offset is refused with the offset expected.
  b.step(Message{"A", "B", InstallSnapshot{3, 3, 3, Membership{{"A", "B", "C"}, {}}, 7, "zz", true}});
  out = b.get_output();
  EXPECT_EQ(std::get<SnapshotResponse>(out.messages.back().payload).next_offset, 3u);
  b.step(Message{"A", "B", InstallSnapshot{3, 3, 3, Membership{{"A", "B", "C"}, {}}, 3, "te@3", true}});
  out = b.get_output();
  ASSERT_TRUE(out.snapshot.has_value());
  EXPECT_TRUE(out.snapshot_discards_log);
  EXPECT_EQ(out.snapshot->data, "state@3");
  EXPECT_EQ(b.last_index(), 3u);
  EXPECT_EQ(b.last_term(), 3u);
  EXPECT_TRUE(b.log().empty());
  // A resend after completion is acknowledged without starting over.
  b.step(Message{"A", "B", InstallSnapshot{3, 3, 3, Membership{{"A", "B", "C"}, {}}, 3, "te@3", true}});
  out = b.get_output();
  EXPECT_EQ(std::get<AppendResponse>(out.messages.back().payload), (AppendResponse{3, true, 3}));
}

TEST(RaftSnapshot, RestartHandsTheSnapshotBackFirst) {
  PersistedState ps;
  ps.hard_state.term = 4;
  ps.snapshot = Snapshot{10, 3, Membership{{"A", "B", "C"}, {}}, "state@10"};
  ps.log = {Entry{4, 11, EntryType::kNoop, {}}};
  RaftNode a(node_config("A"), ps);
  ASSERT_TRUE(a.has_output());
  Output out = a.get_output();
  ASSERT_TRUE(out.snapshot_to_apply.has_value());
  EXPECT_EQ(out.snapshot_to_apply->index, 10u);
  EXPECT_FALSE(out.snapshot.has_value());  // already durable
  EXPECT_EQ(a.commit_index(), 10u);
  EXPECT_EQ(a.last_index(), 11u);
  EXPECT_EQ(a.term_at(10), 3u);
  EXPECT_EQ(a.term_at(5), 0u);  // compacted
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
