// Delete tracking of the file store (SlotIndex chunks, run summaries): every kind of removal,
// checked against a MemoryStore model (with the file store's byte accounting) before and after
// reopening, with torn tails and records larger than the restart scan buffer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <random>

#include "jetstream/store/file_store.h"
#include "jetstream/store/memory_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {
class FileStoreDeletesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("fsdel-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<FileStore> open(StoreLimits lim = {}) {
    FileStoreConfig cfg;
    cfg.dir = dir_;
    cfg.block_size = 64 * 1024;  // many blocks, so summaries and the last-block scan both matter
    // Block files as the deletes leave them: a background compaction could otherwise add a
    // block (its marker record) between a test's writes and its cut of the last block.
    cfg.auto_compact = false;
    StoreErr err;
    auto st = FileStore::open(cfg, lim, [this] { return now_; }, &err);
    EXPECT_EQ(err, StoreErr::ok);
    return st;
  }
  std::unique_ptr<MemoryStore> model(StoreLimits lim = {}) {
    auto m = std::make_unique<MemoryStore>(lim, [this] { return now_; });
    m->use_file_sizes();
    return m;
  }
  // Same counts, range, removed sequences, subjects, and every live message's subject/body.
  void expect_same(MessageStore& st, MessageStore& want) {
    StoreState a = st.state(), b = want.state();
    ASSERT_EQ(a.msgs, b.msgs);
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(a.first_seq, b.first_seq);
    EXPECT_EQ(a.last_seq, b.last_seq);
    EXPECT_EQ(a.num_subjects, b.num_subjects);
    EXPECT_EQ(a.deleted, b.deleted);
    auto sa = st.subjects_state(">"), sb = want.subjects_state(">");
    ASSERT_EQ(sa.size(), sb.size());
    for (auto& [name, s] : sb) {
      EXPECT_EQ(sa[name].msgs, s.msgs) << name;
      EXPECT_EQ(sa[name].first, s.first) << name;
      EXPECT_EQ(sa[name].last, s.last) << name;
    }
    StoredMsg m, w;
    uint64_t seq = 0;
    while (want.load_next_msg({}, seq, w) == StoreErr::ok) {
      ASSERT_EQ(st.load_next_msg({}, seq, m), StoreErr::ok) << seq;
      ASSERT_EQ(m.seq, w.seq);
      ASSERT_EQ(m.subject, w.subject);
      ASSERT_EQ(m.payload, w.payload);
      seq = w.seq + 1;
    }
    EXPECT_NE(st.load_next_msg({}, seq, m), StoreErr::ok);
  }
  // Stores the same message in both.
  void put(MessageStore& st, MessageStore& want, const std::string& subj, size_t len, char fill = 'x') {
    std::string p(len, fill);
    auto r = st.store_msg(subj, "", p);
    auto w = want.store_msg(subj, "", p);
    ASSERT_EQ(r.err, w.err);
    ASSERT_EQ(r.seq, w.seq);
  }
  std::string last_block() {
    uint64_t bi = 0;
    for (auto& e : fs::directory_iterator(dir_))
      if (e.path().extension() == ".blk") bi = std::max<uint64_t>(bi, std::stoull(e.path().stem().string()));
    return dir_ + "/" + std::to_string(bi) + ".blk";
  }
  std::string dir_;
  int64_t now_ = 5'000'000'000'000;
};

TEST_F(FileStoreDeletesTest, RandomRemovalsPurgesAndCompactsSurviveReopen) {
  auto st = open();
  auto want = model();
  std::mt19937 rng(7);
  // A long uniform stretch (one subject, one size: run summaries, uniform chunks), then
  // mixed subjects and sizes.
  for (int i = 0; i < 9000; ++i) put(*st, *want, "orders.new", 64);
  for (int i = 0; i < 9000; ++i) put(*st, *want, "s." + std::to_string(rng() % 6), 20 + rng() % 50);
  for (int k = 0; k < 3000; ++k) {
    uint64_t seq = 1 + rng() % 18000;
    EXPECT_EQ(st->remove_msg(seq), want->remove_msg(seq));
  }
  // Every sequence of one whole chunk range and a few around it.
  for (uint64_t seq = 4000; seq < 8300; ++seq) EXPECT_EQ(st->remove_msg(seq), want->remove_msg(seq));
  expect_same(*st, *want);
  EXPECT_EQ(st->purge("s.2"), want->purge("s.2"));
  EXPECT_EQ(st->purge("s.3", 15000), want->purge("s.3", 15000));
  EXPECT_EQ(st->purge("s.4", 0, 10), want->purge("s.4", 0, 10));
  EXPECT_EQ(st->compact(2500), want->compact(2500));
  expect_same(*st, *want);
  st->close();
  st = open();
  expect_same(*st, *want);
  // Stored after the reopen, then reopened again (summaries of blocks sealed meanwhile).
  for (int i = 0; i < 2000; ++i) put(*st, *want, "orders.new", 64);
  EXPECT_EQ(st->remove_msg(18500), want->remove_msg(18500));
  st->close();
  st = open();
  expect_same(*st, *want);
  EXPECT_EQ(st->purge({}, 0, 100), want->purge({}, 0, 100));
  st->close();
  st = open();
  expect_same(*st, *want);
}

TEST_F(FileStoreDeletesTest, TornTailAfterRemovalsKeepsEarlierRemovals) {
  auto st = open();
  auto want = model();
  for (int i = 0; i < 3000; ++i) put(*st, *want, "a", 100);
  for (uint64_t seq = 10; seq < 3000; seq += 7) EXPECT_EQ(st->remove_msg(seq), want->remove_msg(seq));
  // The last record goes to the store only: it is torn below.
  ASSERT_EQ(st->store_msg("a", "", std::string(100, 'y')).err, StoreErr::ok);
  st->close();
  fs::resize_file(last_block(), fs::file_size(last_block()) - 5);
  st = open();
  EXPECT_GT(st->recovery().truncated_bytes, 0u);
  expect_same(*st, *want);
  // The sequence of the torn message is free again.
  EXPECT_EQ(st->store_msg("a", "", std::string(100, 'z')).seq, 3001u);
}

TEST_F(FileStoreDeletesTest, RecordLargerThanTheScanBufferThenTornTail) {
  auto st = open();
  auto want = model();
  put(*st, *want, "big", 300 * 1024, 'b');  // its own block, larger than the 256 KiB scan buffer
  put(*st, *want, "small", 10);
  put(*st, *want, "big", 600 * 1024, 'c');
  EXPECT_EQ(st->remove_msg(2), want->remove_msg(2));
  ASSERT_EQ(st->store_msg("big", "", std::string(400 * 1024, 'd')).err, StoreErr::ok);
  st->close();
  st = open();
  StoredMsg m;
  ASSERT_EQ(st->load_msg(4, m), StoreErr::ok);
  EXPECT_EQ(m.payload, std::string(400 * 1024, 'd'));
  st->close();
  fs::resize_file(last_block(), fs::file_size(last_block()) - 1000);
  st = open();
  expect_same(*st, *want);
}

TEST_F(FileStoreDeletesTest, LimitEvictionsSurviveReopen) {
  StoreLimits lim;
  lim.max_msgs = 5000;
  lim.max_msgs_per_subject = 300;
  lim.max_age_ns = 1'000'000'000;
  auto st = open(lim);
  auto want = model(lim);
  std::mt19937 rng(3);
  for (int i = 0; i < 12000; ++i) {
    put(*st, *want, i % 3 == 0 ? "kv." + std::to_string(rng() % 40) : "log", 40);
    if (i % 1000 == 0) now_ += 100'000'000;
  }
  expect_same(*st, *want);
  st->close();
  st = open(lim);
  expect_same(*st, *want);
  // Age: everything older than a second goes, on reopen too.
  now_ += 600'000'000;
  st->expire_msgs();
  want->expire_msgs();
  expect_same(*st, *want);
  st->close();
  st = open(lim);
  expect_same(*st, *want);
  // max_bytes lowered with discard old.
  lim.max_bytes = 40'000;
  st->update_limits(lim);
  want->update_limits(lim);
  expect_same(*st, *want);
}

TEST_F(FileStoreDeletesTest, WorkQueueAckedOutOfOrderEmptiesAndReopensEmpty) {
  auto st = open();
  auto want = model();
  for (int i = 0; i < 20000; ++i) put(*st, *want, "jobs", 80);
  std::vector<uint64_t> order(20000);
  for (uint64_t i = 0; i < order.size(); ++i) order[i] = i + 1;
  std::shuffle(order.begin(), order.end(), std::mt19937(5));
  for (size_t i = 0; i < order.size(); ++i) {
    ASSERT_EQ(st->remove_msg(order[i]), StoreErr::ok);
    want->remove_msg(order[i]);
    if (i == order.size() / 2) {
      expect_same(*st, *want);
    }
  }
  expect_same(*st, *want);
  EXPECT_EQ(st->state().first_seq, 20001u);
  EXPECT_GT(st->stats().blocks_removed, 0u);
  st->close();
  st = open();
  expect_same(*st, *want);
  EXPECT_EQ(st->store_msg("jobs", "", "n").seq, 20001u);
}

TEST_F(FileStoreDeletesTest, KvHistoryOneKeepsOneMessagePerKey) {
  StoreLimits lim;
  lim.max_msgs_per_subject = 1;
  auto st = open(lim);
  auto want = model(lim);
  for (int i = 0; i < 30000; ++i) put(*st, *want, "kv.k" + std::to_string(i % 3000), 30);
  EXPECT_EQ(st->state().msgs, 3000u);
  expect_same(*st, *want);
  st->close();
  st = open(lim);
  expect_same(*st, *want);
}

TEST_F(FileStoreDeletesTest, InterestStyleRemovalsAndCompactPastTheEnd) {
  auto st = open();
  auto want = model();
  for (int i = 0; i < 6000; ++i) put(*st, *want, i % 2 ? "ev.a" : "ev.b", 50);
  // Interest retention: messages leave as every consumer acks, roughly in order with stragglers.
  for (uint64_t seq = 1; seq <= 5000; ++seq) {
    if (seq % 97 != 0) {
      EXPECT_EQ(st->remove_msg(seq), want->remove_msg(seq));
    }
  }
  expect_same(*st, *want);
  EXPECT_EQ(st->compact(7000), want->compact(7000));
  expect_same(*st, *want);
  st->close();
  st = open();
  expect_same(*st, *want);
  EXPECT_EQ(st->store_msg("ev.a", "", "x").seq, 7000u);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
