// File store write batching, disk reads, crash copies, sync and block removal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "jetstream/store/crc32c.h"
#include "jetstream/store/file_store.h"
#include "store_test_dir.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {
class FileStoreIoTest : public store_test::StoreDirTest {
 protected:
  FileStoreIoTest() : StoreDirTest("fstore-io") {}
  std::unique_ptr<FileStore> open(const std::string& dir, StoreLimits lim = {}, uint64_t block = 64 * 1024,
                                  bool sync_always = false, uint32_t flush_ms = 2) {
    FileStoreConfig cfg;
    cfg.dir = dir;
    cfg.block_size = block;
    cfg.sync_always = sync_always;
    cfg.flush_delay_ms = flush_ms;
    StoreErr err;
    auto st = FileStore::open(cfg, lim, system_clock_ns, &err);
    EXPECT_EQ(err, StoreErr::ok);
    return st;
  }
  size_t block_files(const std::string& dir) {
    size_t n = 0;
    for (auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".blk") ++n;
    return n;
  }
  uint64_t bytes_on_disk(const std::string& dir) {
    uint64_t n = 0;
    // The flusher may remove files meanwhile: one that is gone counts nothing.
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir)) {
      auto size = fs::file_size(e.path(), ec);
      if (!ec) n += size;
    }
    return n;
  }
  static std::string payload_for(uint64_t seq) {
    return std::string(10 + seq % 300, static_cast<char>('a' + seq % 26)) + std::to_string(seq);
  }
  static std::string subject_for(uint64_t seq) { return "s." + std::to_string(seq % 7); }
  static std::string headers_for(uint64_t seq) {
    return seq % 3 == 0 ? "NATS/1.0\r\nN: " + std::to_string(seq) + "\r\n\r\n" : "";
  }
  void store_range(FileStore& st, uint64_t from, uint64_t to) {
    for (uint64_t s = from; s <= to; ++s) {
      auto r = st.store_msg(subject_for(s), headers_for(s), payload_for(s));
      ASSERT_EQ(r.err, StoreErr::ok);
      ASSERT_EQ(r.seq, s);
    }
  }
  void expect_msg(FileStore& st, uint64_t seq) {
    StoredMsg m;
    ASSERT_EQ(st.load_msg(seq, m), StoreErr::ok) << seq;
    EXPECT_EQ(m.seq, seq);
    EXPECT_EQ(m.subject, subject_for(seq));
    EXPECT_EQ(m.headers, headers_for(seq));
    EXPECT_EQ(m.payload, payload_for(seq));
  }
};

TEST(Crc32c, MatchesBitwiseDefinition) {
  // Whatever implementation is picked (SSE4.2 or table) must equal the bitwise one for
  // all lengths and alignments.
  auto slow = [](const std::string& s) {
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char ch : s) {
      c ^= ch;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
    }
    return ~c;
  };
  std::mt19937 rng(7);
  std::string buf(300, '\0');
  for (auto& ch : buf) ch = static_cast<char>(rng());
  for (size_t off = 0; off < 9; ++off)
    for (size_t len : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 100u, 255u}) {
      std::string s = buf.substr(off, len);
      EXPECT_EQ(crc32c(s.data(), s.size()), slow(s)) << off << "/" << len;
    }
}

TEST_F(FileStoreIoTest, ManyMessagesAcrossBlocksReopen) {
  StoreState before;
  {
    auto st = open(dir_);
    store_range(*st, 1, 3000);
    for (uint64_t s = 10; s <= 3000; s += 97) ASSERT_EQ(st->remove_msg(s), StoreErr::ok);
    before = st->state();
  }
  EXPECT_GT(block_files(dir_), 5u);
  auto st = open(dir_);
  auto after = st->state();
  EXPECT_EQ(after.msgs, before.msgs);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.first_seq, before.first_seq);
  EXPECT_EQ(after.last_seq, before.last_seq);
  EXPECT_EQ(after.deleted, before.deleted);
  EXPECT_EQ(after.num_subjects, before.num_subjects);
  for (uint64_t s = 1; s <= 3000; ++s) {
    if (s >= 10 && (s - 10) % 97 == 0) {
      StoredMsg m;
      EXPECT_EQ(st->load_msg(s, m), StoreErr::not_found);
    } else {
      expect_msg(*st, s);
    }
  }
  EXPECT_EQ(st->store_msg("x", "", "next").seq, 3001u);
  StoredMsg last;
  ASSERT_EQ(st->load_last_msg("s.3", last), StoreErr::ok);
  EXPECT_EQ(subject_for(last.seq), "s.3");
  EXPECT_EQ(last.payload, payload_for(last.seq));
}

TEST_F(FileStoreIoTest, LoadsAfterCacheEvictionReadFromDisk) {
  auto st = open(dir_);
  store_range(*st, 1, 2000);
  // Just written: served from the in-memory tail, no disk read.
  auto before = st->stats().disk_reads;
  expect_msg(*st, 2000);
  EXPECT_EQ(st->stats().disk_reads, before);
  st->drop_caches();
  before = st->stats().disk_reads;
  for (uint64_t s = 1; s <= 2000; ++s) expect_msg(*st, s);
  auto reads = st->stats().disk_reads - before;
  EXPECT_GT(reads, 0u);
  EXPECT_LT(reads, 200u);  // chunked: far fewer preads than messages
  // Forward iteration with a filter also reads bodies.
  StoredMsg m;
  ASSERT_EQ(st->load_next_msg("s.4", 1, m), StoreErr::ok);
  EXPECT_EQ(m.payload, payload_for(m.seq));
}

TEST_F(FileStoreIoTest, UnflushedMessagesAreReadable) {
  // A long flush delay: the records stay in the buffer, loads still see them.
  auto st = open(dir_, {}, 1 << 20, false, 10'000);
  store_range(*st, 1, 20);
  for (uint64_t s = 1; s <= 20; ++s) expect_msg(*st, s);
  EXPECT_EQ(st->stats().writes, 0u);
  ASSERT_EQ(st->flush(), StoreErr::ok);
  EXPECT_EQ(st->stats().writes, 1u);  // one write() for the batch
}

TEST_F(FileStoreIoTest, LoneMessageReachesFileSoon) {
  auto st = open(dir_, {}, 1 << 20, false, 2);
  ASSERT_EQ(st->store_msg("a", "", "lonely").err, StoreErr::ok);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (bytes_on_disk(dir_) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_GT(bytes_on_disk(dir_), 0u);
  EXPECT_GE(st->stats().writes, 1u);
}

TEST_F(FileStoreIoTest, CrashCopyKeepsFlushedMessages) {
  auto st = open(dir_);
  store_range(*st, 1, 1500);
  ASSERT_EQ(st->remove_msg(5), StoreErr::ok);
  ASSERT_EQ(st->flush(), StoreErr::ok);
  auto before = st->state();
  // The process "dies" here: copy the files as they are, without close() or sync().
  fs::copy(dir_, dir_ + "-copy", fs::copy_options::recursive);
  auto copy = open(dir_ + "-copy");
  auto after = copy->state();
  EXPECT_EQ(after.msgs, before.msgs);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.last_seq, 1500u);
  EXPECT_EQ(after.deleted, std::vector<uint64_t>{5});
  EXPECT_EQ(copy->recovery().truncated_bytes, 0u);
  expect_msg(*copy, 1);
  expect_msg(*copy, 1500);
}

TEST_F(FileStoreIoTest, SyncAlwaysSyncsEveryStore) {
  auto st = open(dir_, {}, 64 * 1024, true);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(st->store_msg("a", "", "x").err, StoreErr::ok);
  EXPECT_GE(st->stats().syncs, 5u);
  // Already on disk without close.
  fs::copy(dir_, dir_ + "-copy", fs::copy_options::recursive);
  auto copy = open(dir_ + "-copy");
  EXPECT_EQ(copy->state().msgs, 5u);
}

TEST_F(FileStoreIoTest, SyncAlwaysGroupCommitOneSyncForAHeldBatch) {
  auto st = open(dir_, {}, 64 * 1024, true);
  st->hold_syncs(true);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(st->store_msg("a", "", "x").err, StoreErr::ok);
  // Another thread's store is not part of the batch: it syncs at once (and covers the
  // batch's records written before it).
  std::thread([&] { ASSERT_EQ(st->store_msg("b", "", "y").err, StoreErr::ok); }).join();
  uint64_t other = st->stats().syncs;
  EXPECT_GE(other, 1u);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(st->store_msg("a", "", "x").err, StoreErr::ok);
  EXPECT_EQ(st->stats().syncs, other);
  st->hold_syncs(false);
  ASSERT_EQ(st->sync(), StoreErr::ok);
  EXPECT_EQ(st->stats().syncs, other + 1);
  fs::copy(dir_, dir_ + "-copy", fs::copy_options::recursive);
  auto copy = open(dir_ + "-copy");
  EXPECT_EQ(copy->state().msgs, 101u);
}

TEST_F(FileStoreIoTest, RollDoesNotSyncButSyncCoversRolledBlocks) {
  auto st = open(dir_, {}, 4096, false, 10'000);
  store_range(*st, 1, 200);
  ASSERT_GT(block_files(dir_), 3u);
  EXPECT_EQ(st->stats().syncs, 0u);
  ASSERT_EQ(st->sync(), StoreErr::ok);
  EXPECT_GE(st->stats().syncs, block_files(dir_));
  auto n = st->stats().syncs;
  ASSERT_EQ(st->sync(), StoreErr::ok);  // nothing new written
  EXPECT_EQ(st->stats().syncs, n);
}

TEST_F(FileStoreIoTest, BlocksBelowFirstSequenceAreRemoved) {
  StoreLimits lim;
  lim.max_msgs = 100;
  StoreState before;
  {
    auto st = open(dir_, lim, 8192);
    store_range(*st, 1, 3000);
    EXPECT_GT(st->stats().blocks_removed, 10u);
    before = st->state();
    EXPECT_EQ(before.first_seq, 2901u);
  }
  EXPECT_LT(block_files(dir_), 15u);
  {
    auto st = open(dir_, lim, 8192);
    auto after = st->state();
    EXPECT_EQ(after.msgs, 100u);
    EXPECT_EQ(after.bytes, before.bytes);
    EXPECT_EQ(after.first_seq, 2901u);
    EXPECT_EQ(after.last_seq, 3000u);
    for (uint64_t s = 2901; s <= 3000; ++s) expect_msg(*st, s);
    // Purge everything and roll on: the last sequence must survive with no messages left.
    EXPECT_EQ(st->purge(), 100u);
    for (int i = 0; i < 50; ++i) st->store_msg("big", "", std::string(1000, 'q'));
    EXPECT_EQ(st->purge(), 50u);
    for (int i = 0; i < 20; ++i) st->store_msg("big", "", std::string(1000, 'q'));
    EXPECT_EQ(st->purge(), 20u);
    before = st->state();
    EXPECT_EQ(before.last_seq, 3070u);
  }
  auto st = open(dir_, lim, 8192);
  EXPECT_EQ(st->state().msgs, 0u);
  EXPECT_EQ(st->state().last_seq, 3070u);
  EXPECT_EQ(st->state().first_seq, 3071u);
  EXPECT_EQ(st->store_msg("a", "", "b").seq, 3071u);
}

TEST_F(FileStoreIoTest, LoadsWhileTheFlusherWrites) {
  // 3 MiB blocks (one roll, tail trimmed past 2 MiB) and a 1 ms flusher: loads race with background writes, rolls and tail
  // trimming; every body must come back intact.
  auto st = open(dir_, {}, 3 << 20, false, 1);
  std::atomic<uint64_t> stored{0};
  std::atomic<bool> bad{false};
  std::thread reader([&] {
    std::mt19937 rng(3);
    while (stored.load() < 20000) {
      uint64_t n = stored.load();
      if (n == 0) continue;
      uint64_t seq = 1 + rng() % n;
      StoredMsg m;
      if (st->load_msg(seq, m) != StoreErr::ok || m.payload != payload_for(seq)) bad = true;
    }
  });
  for (uint64_t s = 1; s <= 20000; ++s) {
    auto r = st->store_msg(subject_for(s), headers_for(s), payload_for(s));
    if (r.err != StoreErr::ok) bad = true;
    stored = s;
  }
  reader.join();
  EXPECT_FALSE(bad.load());
  st->close();
  auto again = open(dir_, {}, 3 << 20);
  EXPECT_EQ(again->state().msgs, 20000u);
  expect_msg(*again, 1);
  expect_msg(*again, 20000);
}

TEST_F(FileStoreIoTest, SealedBlockOffsetsCacheIsBoundedAndReloads) {
  // Tiny blocks: many sealed blocks, each with its own offsets. Reading every message goes
  // through all of them; the cache keeps a bounded number of bytes and reloads what it dropped.
  auto st = open(dir_, {}, 4 * 1024);
  store_range(*st, 1, 3000);
  st->drop_caches();
  for (uint64_t s = 1; s <= 3000; ++s) expect_msg(*st, s);
  EXPECT_LE(st->cache_bytes(), 8u * 1024 * 1024);
  for (int64_t s = 3000; s >= 1; s -= 37) expect_msg(*st, static_cast<uint64_t>(s));  // backwards: reloads evicted blocks
}

TEST_F(FileStoreIoTest, IdleCachesAreDroppedAndLoadsStillWork) {
  FileStoreConfig cfg;
  cfg.dir = dir_;
  cfg.block_size = 16 * 1024;
  cfg.cache_idle = std::chrono::milliseconds(50);
  StoreErr err;
  auto st = FileStore::open(cfg, {}, system_clock_ns, &err);
  ASSERT_EQ(err, StoreErr::ok);
  store_range(*st, 1, 500);
  for (uint64_t s = 1; s <= 500; s += 3) expect_msg(*st, s);
  EXPECT_GT(st->cache_bytes(), 0u);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (st->cache_bytes() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(st->cache_bytes(), 0u);
  // Everything is read back from the files, including the active block's newest records.
  auto before = st->stats().disk_reads;
  for (uint64_t s = 1; s <= 500; ++s) expect_msg(*st, s);
  EXPECT_GT(st->stats().disk_reads, before);
  store_range(*st, 501, 520);  // appending after the tail was dropped
  for (uint64_t s = 480; s <= 520; ++s) expect_msg(*st, s);
  st->close();
  auto re = open(dir_, {}, 16 * 1024);
  EXPECT_EQ(re->state().msgs, 520u);
  for (uint64_t s = 1; s <= 520; s += 7) expect_msg(*re, s);
}

TEST_F(FileStoreIoTest, DeletesInSealedBlocksSurviveATornTailRestart) {
  std::vector<uint64_t> removed;
  {
    auto st = open(dir_, {}, 8 * 1024);
    store_range(*st, 1, 1000);
    for (uint64_t s = 2; s <= 1000; s += 9) {
      ASSERT_EQ(st->remove_msg(s), StoreErr::ok);
      removed.push_back(s);
    }
    st->close();
  }
  // A write cut short by a crash: half a record at the end of the last block.
  uint64_t last_block = 0;
  for (auto& e : fs::directory_iterator(dir_))
    if (e.path().extension() == ".blk") last_block = std::max<uint64_t>(last_block, std::stoull(e.path().stem()));
  {
    FILE* f = std::fopen((dir_ + "/" + std::to_string(last_block) + ".blk").c_str(), "ab");
    ASSERT_NE(f, nullptr);
    const char junk[] = "\x40\x00\x00\x00\x01partial-record";
    std::fwrite(junk, 1, sizeof(junk) - 1, f);
    std::fclose(f);
  }
  auto st = open(dir_, {}, 8 * 1024);
  EXPECT_GT(st->recovery().truncated_bytes, 0u);
  auto s = st->state();
  EXPECT_EQ(s.last_seq, 1000u);
  EXPECT_EQ(s.msgs, 1000u - removed.size());
  for (uint64_t seq = 1; seq <= 1000; ++seq) {
    bool gone = std::binary_search(removed.begin(), removed.end(), seq);
    StoredMsg m;
    if (gone) EXPECT_EQ(st->load_msg(seq, m), StoreErr::not_found) << seq;
    else expect_msg(*st, seq);
  }
  // The store keeps working after the cut: new messages follow the last intact one.
  auto r = st->store_msg("s.1", "", "after");
  EXPECT_EQ(r.seq, 1001u);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
