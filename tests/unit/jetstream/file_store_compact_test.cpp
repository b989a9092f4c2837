// File store block compaction: what a rewrite keeps, disk usage after removals and purges,
// crash safety at each step of the swap, and removals racing a rewrite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "jetstream/store/file_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {
class FileStoreCompactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("fstore-compact-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<FileStore> open(StoreLimits lim = {}, bool auto_compact = false, uint64_t block = 16 * 1024) {
    FileStoreConfig cfg;
    cfg.dir = dir_;
    cfg.block_size = block;
    cfg.auto_compact = auto_compact;
    StoreErr err;
    auto st = FileStore::open(cfg, lim, system_clock_ns, &err);
    EXPECT_EQ(err, StoreErr::ok);
    return st;
  }
  static std::string payload_of(uint64_t seq) { return std::string(100 + seq % 50, 'p') + std::to_string(seq); }
  static std::string subject_of(uint64_t seq) { return "c." + std::to_string(seq % 5); }
  // Stores from..to and records them in model_.
  void fill(FileStore& st, uint64_t from, uint64_t to) {
    for (uint64_t s = from; s <= to; ++s) {
      auto r = st.store_msg(subject_of(s), s % 4 == 0 ? "NATS/1.0\r\nX: y\r\n\r\n" : "", payload_of(s));
      ASSERT_EQ(r.err, StoreErr::ok);
      ASSERT_EQ(r.seq, s);
      model_[s] = payload_of(s);
    }
  }
  void remove(FileStore& st, uint64_t seq) {
    ASSERT_EQ(st.remove_msg(seq), StoreErr::ok) << seq;
    model_.erase(seq);
  }
  uint64_t disk_bytes() {
    uint64_t n = 0;
    // The compactor renames and deletes files meanwhile: one that is gone counts nothing.
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir_)) {
      auto size = fs::file_size(e.path(), ec);
      if (!ec) n += size;
    }
    return n;
  }
  size_t files_with(const std::string& ext) {
    size_t n = 0;
    for (auto& e : fs::directory_iterator(dir_))
      if (e.path().extension() == ext) ++n;
    return n;
  }
  // Every live message of the model loads with its body, the counts agree, and the removed
  // sequences in between stay removed.
  void expect_model(FileStore& st, uint64_t last_seq) {
    auto state = st.state();
    EXPECT_EQ(state.msgs, model_.size());
    EXPECT_EQ(state.last_seq, last_seq);
    if (!model_.empty()) {
      EXPECT_EQ(state.first_seq, model_.begin()->first);
    }
    for (auto& [seq, payload] : model_) {
      StoredMsg m;
      ASSERT_EQ(st.load_msg(seq, m), StoreErr::ok) << seq;
      EXPECT_EQ(m.payload, payload) << seq;
      EXPECT_EQ(m.subject, subject_of(seq)) << seq;
    }
    uint64_t first = model_.empty() ? last_seq + 1 : model_.begin()->first;
    for (uint64_t s = first; s <= last_seq; ++s) {
      if (model_.count(s)) continue;
      StoredMsg m;
      EXPECT_NE(st.load_msg(s, m), StoreErr::ok) << "removed " << s << " came back";
    }
  }

  std::string dir_;
  std::map<uint64_t, std::string> model_;
};

TEST_F(FileStoreCompactTest, SparseBlocksAreRewrittenWithTheirLiveMessages) {
  {
    auto st = open();
    fill(*st, 1, 2000);
    for (uint64_t s = 1; s <= 2000; ++s)
      if (s % 10 != 3) remove(*st, s);  // interior gaps everywhere: no block goes whole
    uint64_t before = disk_bytes();
    EXPECT_GT(st->compact_blocks(), 5u);
    auto stats = st->stats();
    EXPECT_GT(stats.compact_bytes_freed, before / 2);
    EXPECT_LT(disk_bytes(), before / 2);
    expect_model(*st, 2000);
    EXPECT_EQ(files_with(".tmp"), 0u);
    // Nothing left to do, and the store goes on.
    EXPECT_EQ(st->compact_blocks(), 0u);
    fill(*st, 2001, 2100);
    expect_model(*st, 2100);
  }
  auto st = open();
  expect_model(*st, 2100);
  EXPECT_EQ(st->recovery().truncated_bytes, 0u);
  EXPECT_EQ(st->store_msg("c.1", "", "next").seq, 2101u);
}

TEST_F(FileStoreCompactTest, RemovalsOfEarlierBlocksSurviveTheirMarkersBlockBeingRewritten) {
  {
    auto st = open();
    fill(*st, 1, 400);
    // A few removals in the first block, logged in a later one.
    remove(*st, 5);
    remove(*st, 6);
    remove(*st, 70);
    fill(*st, 401, 800);
    // Empty out the block holding those removal records (and its neighbours) but for a few.
    for (uint64_t s = 300; s <= 700; ++s)
      if (s % 50 != 0) remove(*st, s);
    EXPECT_GT(st->compact_blocks(), 0u);
    expect_model(*st, 800);
  }
  auto st = open();
  expect_model(*st, 800);
}

TEST_F(FileStoreCompactTest, KvUpdatesCompactInTheBackground) {
  StoreLimits lim;
  lim.max_msgs_per_subject = 1;
  {
    auto st = open(lim, /*auto_compact=*/true);
    for (uint64_t s = 1; s <= 3000; ++s) {
      auto r = st->store_msg("kv." + std::to_string(s % 8), "", payload_of(s));
      ASSERT_EQ(r.err, StoreErr::ok);
    }
    // Old blocks hold superseded values only: deleted whole (front) or rewritten.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (disk_bytes() > 64 * 1024 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_LE(disk_bytes(), 64u * 1024);
    EXPECT_EQ(st->state().msgs, 8u);
  }
  auto st = open(lim);
  auto state = st->state();
  EXPECT_EQ(state.msgs, 8u);
  EXPECT_EQ(state.last_seq, 3000u);
  for (uint64_t s = 2993; s <= 3000; ++s) {
    StoredMsg m;
    ASSERT_EQ(st->load_last_msg("kv." + std::to_string(s % 8), m), StoreErr::ok);
    EXPECT_EQ(m.seq, s);
    EXPECT_EQ(m.payload, payload_of(s));
  }
}

TEST_F(FileStoreCompactTest, InterleavedKvKeysKeepTheLiveOnesAcrossBlocks) {
  // One hot key updated constantly, cold keys written once in between: blocks keep the cold
  // ones and shed the hot key's old values.
  StoreLimits lim;
  lim.max_msgs_per_subject = 1;
  std::map<std::string, std::pair<uint64_t, std::string>> last;
  {
    auto st = open(lim);
    for (uint64_t s = 1; s <= 3000; ++s) {
      std::string subj = s % 20 == 0 ? "kv.cold." + std::to_string(s) : "kv.hot";
      auto r = st->store_msg(subj, "", payload_of(s));
      ASSERT_EQ(r.seq, s);
      last[subj] = {s, payload_of(s)};
    }
    uint64_t before = disk_bytes();
    EXPECT_GT(st->compact_blocks(), 5u);
    EXPECT_LT(disk_bytes(), before / 4);
  }
  auto st = open(lim);
  EXPECT_EQ(st->state().msgs, last.size());
  for (auto& [subj, v] : last) {
    StoredMsg m;
    ASSERT_EQ(st->load_last_msg(subj, m), StoreErr::ok) << subj;
    EXPECT_EQ(m.seq, v.first);
    EXPECT_EQ(m.payload, v.second);
  }
}

TEST_F(FileStoreCompactTest, PurgeBySubjectAndWithKeepGiveTheDiskBack) {
  {
    auto st = open();
    fill(*st, 1, 3000);
    uint64_t full = disk_bytes();
    // Subject c.0..c.4 round robin: purging four of them leaves a fifth of every block.
    for (int k = 1; k <= 4; ++k) EXPECT_EQ(st->purge("c." + std::to_string(k)), 600u);
    for (auto it = model_.begin(); it != model_.end();) it = it->first % 5 != 0 ? model_.erase(it) : std::next(it);
    EXPECT_GT(st->compact_blocks(), 10u);
    EXPECT_LT(disk_bytes(), full / 3);
    expect_model(*st, 3000);
    // Keep the newest 10: everything else goes (whole blocks deleted, the front one rewritten).
    EXPECT_EQ(st->purge("", 0, 10), 590u);
    while (model_.size() > 10) model_.erase(model_.begin());
    st->compact_blocks();
    EXPECT_LT(disk_bytes(), 40u * 1024);
    expect_model(*st, 3000);
  }
  auto st = open();
  expect_model(*st, 3000);
}

TEST_F(FileStoreCompactTest, FullyAckedWorkQueueLeavesAlmostNothingOnDisk) {
  {
    auto st = open({}, true, 1024 * 1024);
    fill(*st, 1, 12000);  // ~2 MiB: one sealed block and a large active one
    std::vector<uint64_t> order;
    for (uint64_t s = 1; s <= 12000; ++s) order.push_back(s);
    std::shuffle(order.begin(), order.end(), std::mt19937(3));
    for (uint64_t s : order) remove(*st, s);
    // The compactor rolls off the emptied active block (and deletes it) soon.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (disk_bytes() >= 32 * 1024 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_LT(disk_bytes(), 32u * 1024);
    EXPECT_EQ(st->state().msgs, 0u);
  }
  auto st = open({}, true, 1024 * 1024);
  auto state = st->state();
  EXPECT_EQ(state.msgs, 0u);
  EXPECT_EQ(state.last_seq, 12000u);
  EXPECT_EQ(st->store_msg("q", "", "x").seq, 12001u);
}

// A crash between the steps of a block swap (simulated by stopping there, then reopening
// as after a kill -9) leaves either the old block or the new one: nothing live is lost and
// nothing removed comes back.
class FileStoreCompactCrashTest : public FileStoreCompactTest,
                                  public ::testing::WithParamInterface<CompactStop> {};

TEST_P(FileStoreCompactCrashTest, CrashDuringTheSwapLosesNothing) {
  {
    auto st = open();
    fill(*st, 1, 1500);
    remove(*st, 2);  // a removal in the first block, logged in a later one
    for (uint64_t s = 200; s <= 1400; ++s)
      if (s % 9 != 0) remove(*st, s);
    st->set_compact_stop(GetParam());
    st->compact_blocks();
  }
  {
    auto st = open();
    EXPECT_EQ(files_with(".tmp"), 0u);
    expect_model(*st, 1500);
    // The interrupted compaction can be done again, and survives another restart.
    EXPECT_GT(st->compact_blocks(), 0u);
    expect_model(*st, 1500);
  }
  auto st = open();
  expect_model(*st, 1500);
  EXPECT_EQ(st->store_msg("c.0", "", "after").seq, 1501u);
}

INSTANTIATE_TEST_SUITE_P(Steps, FileStoreCompactCrashTest,
                         ::testing::Values(CompactStop::after_tmp_written, CompactStop::after_meta_removed,
                                           CompactStop::after_rename));

TEST_F(FileStoreCompactTest, RemovalsAndStoresRacingCompactionsAreKept) {
  std::map<uint64_t, std::string> expected;
  {
    auto st = open({}, /*auto_compact=*/true);
    fill(*st, 1, 4000);
    std::atomic<bool> done{false};
    std::thread compacting([&] {
      while (!done) {
        st->compact_blocks();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    std::mt19937 rng(11);
    for (int i = 0; i < 3000; ++i) {
      uint64_t s = 1 + rng() % 4000;
      if (model_.count(s)) remove(*st, s);
      if (i % 10 == 0) {
        StoredMsg m;
        auto it = model_.lower_bound(1 + rng() % 4000);
        if (it != model_.end()) {
          ASSERT_EQ(st->load_msg(it->first, m), StoreErr::ok) << it->first;
          EXPECT_EQ(m.payload, it->second);
        }
      }
      if (i % 100 == 0) fill(*st, 4001 + i / 100, 4001 + i / 100);
    }
    done = true;
    compacting.join();
    expect_model(*st, 4030);
  }
  auto st = open();
  expect_model(*st, 4030);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
