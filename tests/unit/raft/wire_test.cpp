// The $NRG transport encoding (raft/wire.h) and the durable store (raft/log_store.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "raft/log_store.h"
#include "raft/raft_node.h"
#include "raft/wire.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

std::vector<Message> samples() {
  AppendEntries ae{7, 41, 6, {}, 40};
  ae.entries.push_back(Entry{7, 42, EntryType::kNoop, {}});
  ae.entries.push_back(Entry{7, 43, EntryType::kNormal, std::string("a\0b\xff", 4)});
  ae.entries.push_back(Entry{7, 44, EntryType::kConfig, wire::encode_membership(Membership{{"a", "b"}, {"c"}})});
  return {
      Message{"fjFyEjc1", "44jzkV9D", VoteRequest{3, 10, 2, true}},
      Message{"44jzkV9D", "fjFyEjc1", VoteResponse{3, true, true}},
      Message{"fjFyEjc1", "BXScrY9i", VoteRequest{1ull << 40, 0, 0, false}},
      Message{"BXScrY9i", "fjFyEjc1", VoteResponse{9, false, false}},
      Message{"fjFyEjc1", "BXScrY9i", ae},
      Message{"fjFyEjc1", "BXScrY9i", AppendEntries{5, 0, 0, {}, 0}},
      Message{"BXScrY9i", "fjFyEjc1", AppendResponse{7, true, 43}},
      Message{"BXScrY9i", "fjFyEjc1", AppendResponse{~0ull, false, 0}},
      Message{"fjFyEjc1", "BXScrY9i", VoteRequest{4, 10, 3, false, true}},
      Message{"fjFyEjc1", "BXScrY9i",
              InstallSnapshot{4, 100, 3, Membership{{"fjFyEjc1", "BXScrY9i"}, {"44jzkV9D"}}, 0, "blob", false}},
      Message{"fjFyEjc1", "BXScrY9i", InstallSnapshot{4, 100, 3, {}, 1ull << 33, std::string("\0\xff", 2), true}},
      Message{"BXScrY9i", "fjFyEjc1", SnapshotResponse{4, 100, 4}},
      Message{"fjFyEjc1", "BXScrY9i", TimeoutNow{4}},
  };
}

bool same(const Message& a, const Message& b) { return a == b; }

TEST(RaftWire, RoundTripsEveryMessageKind) {
  for (const auto& m : samples()) {
    auto buf = wire::encode(m);
    EXPECT_EQ(buf[0], wire::kVersion);
    auto back = wire::decode(buf);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(same(m, *back));
  }
}

TEST(RaftWire, HeartbeatIsCompact) {
  // from/to ids, kind and small varints: a heartbeat stays far below a Go-style fixed layout.
  auto buf = wire::encode(Message{"fjFyEjc1", "44jzkV9D", AppendEntries{5, 100, 5, {}, 100}});
  EXPECT_LE(buf.size(), 28u);
}

TEST(RaftWire, RejectsEveryTruncationAndTrailingBytes) {
  for (const auto& m : samples()) {
    auto buf = wire::encode(m);
    for (size_t n = 0; n < buf.size(); ++n) EXPECT_FALSE(wire::decode(buf.substr(0, n)).has_value()) << n;
    EXPECT_FALSE(wire::decode(buf + "x").has_value());
  }
}

TEST(RaftWire, RejectsBadVersionKindAndFlags) {
  auto buf = wire::encode(samples()[0]);
  auto bad = buf;
  bad[0] = 2;
  EXPECT_FALSE(wire::decode(bad).has_value());
  bad = buf;
  bad[1] = 9;
  EXPECT_FALSE(wire::decode(bad).has_value());
  bad = buf;
  bad.back() = 2;  // pre_vote must be 0 or 1
  EXPECT_FALSE(wire::decode(bad).has_value());
  // An entry count far beyond the buffer is refused without allocating for it.
  std::string huge;
  huge.push_back(static_cast<char>(wire::kVersion));
  huge.push_back(3);
  wire::put_str(huge, "a");
  wire::put_str(huge, "b");
  for (int i = 0; i < 4; ++i) wire::put_uvarint(huge, 1);
  wire::put_uvarint(huge, 1ull << 60);
  EXPECT_FALSE(wire::decode(huge).has_value());
}

TEST(RaftWire, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string b(rng() % 40, '\0');
    for (auto& c : b) c = static_cast<char>(rng());
    if (i % 2 && !b.empty()) b[0] = static_cast<char>(wire::kVersion);
    (void)wire::decode(b);
  }
  SUCCEED();
}

TEST(RaftWire, MutatedMessagesNeverCrash) {
  // Every kind, with random bytes overwritten: decode either fails or yields a whole message
  // that survives a round trip (varints may have been non-minimal, so bytes can differ).
  std::mt19937_64 rng(9);
  for (const auto& m : samples()) {
    const std::string good = wire::encode(m);
    for (int i = 0; i < 2000; ++i) {
      std::string b = good;
      for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) b[rng() % b.size()] = static_cast<char>(rng());
      auto back = wire::decode(b);
      if (back) {
        EXPECT_EQ(wire::decode(wire::encode(*back)), back);
      }
    }
  }
}

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("raftstore-" + std::to_string(::getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

std::vector<Entry> entries(Index from, Index to, Term term) {
  std::vector<Entry> v;
  for (Index i = from; i <= to; ++i) v.push_back(Entry{term, i, EntryType::kNormal, "e" + std::to_string(i)});
  return v;
}

TEST_F(LogStoreTest, PersistsTermVoteLogAndPeers) {
  {
    LogStore s(dir_ + "/a/b");
    EXPECT_TRUE(s.load().log.empty());
    EXPECT_FALSE(s.load_peers().has_value());
    s.save_hard_state(HardState{4, "44jzkV9D"});
    s.append(entries(1, 3, 1));
    s.append(entries(4, 5, 2));
    s.save_peers(PeerState{3, {"44jzkV9D", "BXScrY9i", "fjFyEjc1"}});
  }
  LogStore s(dir_ + "/a/b");
  auto ps = s.load();
  EXPECT_EQ(ps.hard_state, (HardState{4, "44jzkV9D"}));
  ASSERT_EQ(ps.log.size(), 5u);
  EXPECT_EQ(ps.log[3].term, 2u);
  EXPECT_EQ(ps.log[4].data, "e5");
  auto peers = s.load_peers();
  ASSERT_TRUE(peers.has_value());
  EXPECT_EQ(peers->cluster_size, 3);
  EXPECT_EQ(peers->peers.size(), 3u);
}

TEST_F(LogStoreTest, OverwritesAConflictingSuffix) {
  {
    LogStore s(dir_);
    s.load();
    s.append(entries(1, 5, 1));
    s.append(entries(3, 4, 2));  // a new leader replaced 3..5
    s.append(entries(5, 5, 2));
  }
  LogStore s(dir_);
  auto log = s.load().log;
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[1].term, 1u);
  EXPECT_EQ(log[2].term, 2u);
  EXPECT_EQ(log[4].term, 2u);
}

TEST_F(LogStoreTest, CutsATornTailAndKeepsAppending) {
  {
    LogStore s(dir_);
    s.load();
    s.append(entries(1, 3, 1));
  }
  // A crash in the middle of the next append: half a record at the end.
  auto path = dir_ + "/log.dat";
  auto size = std::filesystem::file_size(path);
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write("\x20\x00\x00\x00\x01\x02", 6);
  }
  {
    LogStore s(dir_);
    EXPECT_EQ(s.load().log.size(), 3u);
    EXPECT_EQ(std::filesystem::file_size(path), size);
    s.append(entries(4, 4, 1));
  }
  LogStore s(dir_);
  EXPECT_EQ(s.load().log.size(), 4u);
}

TEST_F(LogStoreTest, RefusesAGap) {
  LogStore s(dir_);
  s.load();
  EXPECT_THROW(s.append(entries(3, 3, 1)), std::runtime_error);
}

Snapshot snapshot_at(Index index, Term term) {
  return Snapshot{index, term, Membership{{"A", "B", "C"}, {"D"}}, "state@" + std::to_string(index)};
}

void copy_file(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

TEST_F(LogStoreTest, SnapshotDropsTheLogPrefixItCovers) {
  {
    LogStore s(dir_);
    s.load();
    s.append(entries(1, 10, 1));
    s.save_snapshot(snapshot_at(6, 1), false);
    EXPECT_THROW(s.append(entries(6, 6, 1)), std::runtime_error);  // inside the snapshot
    s.append(entries(11, 12, 2));
  }
  LogStore s(dir_);
  auto ps = s.load();
  ASSERT_TRUE(ps.snapshot.has_value());
  EXPECT_EQ(*ps.snapshot, snapshot_at(6, 1));
  ASSERT_EQ(ps.log.size(), 6u);
  EXPECT_EQ(ps.log.front().index, 7u);
  EXPECT_EQ(ps.log.back().term, 2u);
  // Conflict truncation still works above the snapshot.
  s.append(entries(9, 9, 3));
  EXPECT_EQ(s.load().log.size(), 3u);
}

TEST_F(LogStoreTest, SnapshotThatDiscardsTheLog) {
  {
    LogStore s(dir_);
    s.load();
    s.append(entries(1, 4, 1));
    s.save_snapshot(snapshot_at(20, 5), true);
    s.append(entries(21, 21, 5));
  }
  LogStore s(dir_);
  auto ps = s.load();
  EXPECT_EQ(ps.snapshot->index, 20u);
  ASSERT_EQ(ps.log.size(), 1u);
  EXPECT_EQ(ps.log[0].index, 21u);
}

TEST_F(LogStoreTest, CrashBeforeTheRenameLeavesTheOldState) {
  {
    LogStore s(dir_);
    s.load();
    s.append(entries(1, 8, 1));
    s.save_snapshot(snapshot_at(3, 1), false);
  }
  // A crash after writing the temporary files of the next snapshot and log rewrite, before
  // renaming them: complete or partial, they must not be read.
  copy_file(dir_ + "/snapshot.dat", dir_ + "/snapshot.dat.tmp");
  { std::ofstream(dir_ + "/snapshot.dat.tmp", std::ios::binary | std::ios::app) << "torn"; }
  { std::ofstream(dir_ + "/log.dat.tmp", std::ios::binary) << "half a log"; }
  {
    LogStore s(dir_);
    auto ps = s.load();
    EXPECT_EQ(*ps.snapshot, snapshot_at(3, 1));
    ASSERT_EQ(ps.log.size(), 5u);
    EXPECT_EQ(ps.log.front().index, 4u);
    s.save_snapshot(snapshot_at(5, 1), false);  // the next save replaces the leftovers
  }
  LogStore s(dir_);
  auto ps = s.load();
  EXPECT_EQ(ps.snapshot->index, 5u);
  EXPECT_EQ(ps.log.size(), 3u);
}

TEST_F(LogStoreTest, CrashBetweenSnapshotAndLogRewriteIsRepairedAtLoad) {
  // Kept suffix: the old log still holds the covered prefix; load drops just that.
  {
    LogStore s(dir_);
    s.load();
    s.append(entries(1, 8, 1));
  }
  copy_file(dir_ + "/log.dat", dir_ + "/old-log");
  {
    LogStore s(dir_);
    s.load();
    s.save_snapshot(snapshot_at(5, 1), false);
  }
  copy_file(dir_ + "/old-log", dir_ + "/log.dat");
  {
    LogStore s(dir_);
    auto ps = s.load();
    ASSERT_EQ(ps.log.size(), 3u);
    EXPECT_EQ(ps.log.front().index, 6u);
    s.append(entries(9, 9, 1));
  }
  {
    LogStore s(dir_);
    EXPECT_EQ(s.load().log.size(), 4u);
  }
  // Discarded log: the old log disagrees with the snapshot at its index, so none of it is used.
  {
    LogStore s(dir_);
    s.load();
    s.save_snapshot(snapshot_at(7, 4), true);
  }
  copy_file(dir_ + "/old-log", dir_ + "/log.dat");
  LogStore s(dir_);
  auto ps = s.load();
  EXPECT_EQ(ps.snapshot->index, 7u);
  EXPECT_TRUE(ps.log.empty());
  s.append(entries(8, 8, 4));
  EXPECT_EQ(s.load().log.size(), 1u);
}

TEST_F(LogStoreTest, CorruptSnapshotIsAnError) {
  {
    LogStore s(dir_);
    s.load();
    s.save_snapshot(snapshot_at(3, 1), false);
  }
  { std::ofstream(dir_ + "/snapshot.dat", std::ios::binary | std::ios::app) << "x"; }
  LogStore s(dir_);
  EXPECT_THROW(s.load(), std::runtime_error);
}

TEST_F(LogStoreTest, NodeRestartsFromWhatPersistWrote) {
  // A one-node group: proposals commit at once; compact, propose more, restart from disk.
  Config c;
  c.id = "A";
  c.peers = {"A"};
  std::vector<std::string> applied;
  auto drain = [&](RaftNode& n, LogStore& store) {
    while (n.has_output()) {
      Output out = n.get_output();
      store.persist(out);
      if (out.snapshot_to_apply) applied = {out.snapshot_to_apply->data};
      for (const auto& e : out.committed)
        if (e.type == EntryType::kNormal) applied.push_back(e.data);
    }
  };
  {
    LogStore store(dir_);
    RaftNode n(c, store.load());
    n.campaign_now();
    drain(n, store);
    ASSERT_EQ(n.role(), Role::kLeader);
    for (int i = 0; i < 5; ++i) n.propose("p" + std::to_string(i));
    drain(n, store);
    ASSERT_TRUE(n.compact(n.commit_index() - 1, "state-before-p4"));
    n.propose("p5");
    drain(n, store);
  }
  LogStore store(dir_);
  PersistedState ps = store.load();
  ASSERT_TRUE(ps.snapshot.has_value());
  EXPECT_EQ(ps.snapshot->data, "state-before-p4");
  ASSERT_EQ(ps.log.size(), 2u);
  applied.clear();
  RaftNode n(c, std::move(ps));
  n.campaign_now();
  drain(n, store);
  EXPECT_EQ(applied, (std::vector<std::string>{"state-before-p4", "p4", "p5"}));
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
