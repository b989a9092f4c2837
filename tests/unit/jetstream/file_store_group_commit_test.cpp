// sync_always group commit across threads: FileStore::sync() runs its fsync without the
// store's lock and shares it between the callers that arrive meanwhile; holding syncs is
// per thread, so two threads can each batch their own stores.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "jetstream/store/file_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {

class FileStoreGroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("fstore-gc-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<FileStore> open_gc_store(uint64_t block = 64 * 1024) {
    FileStoreConfig cfg;
    cfg.dir = dir_;
    cfg.block_size = block;
    cfg.sync_always = true;
    return FileStore::open(cfg);
  }
  std::string dir_;
};

TEST_F(FileStoreGroupCommitTest, TwoThreadsHoldingSyncsEachBatchTheirOwnStores) {
  auto st = open_gc_store();
  std::atomic<int> ready{0};
  auto batch = [&] {
    st->hold_syncs(true);
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();  // both hold at once
    for (int i = 0; i < 100; ++i) ASSERT_EQ(st->store_msg("a", "", "x").err, StoreErr::ok);
    ++ready;
    while (ready.load() < 4) std::this_thread::yield();
    st->hold_syncs(false);
  };
  std::thread a(batch), b(batch);
  a.join();
  b.join();
  EXPECT_EQ(st->stats().syncs, 0u);  // neither thread's stores synced one by one
  ASSERT_EQ(st->sync(), StoreErr::ok);
  EXPECT_EQ(st->stats().syncs, 1u);
  EXPECT_EQ(st->state().msgs, 200u);
}

TEST_F(FileStoreGroupCommitTest, ConcurrentCommitsShareFsyncsAndLoseNothing) {
  // Small blocks so that rolls happen while fsyncs run outside the lock.
  auto st = open_gc_store(4096);
  constexpr int kThreads = 4, kPerThread = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      std::string subj = "t." + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        st->hold_syncs(true);
        bool ok = st->store_msg(subj, "", "payload-" + std::to_string(i)).err == StoreErr::ok;
        st->hold_syncs(false);
        if (!ok || st->sync() != StoreErr::ok) ++failures;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Never more fsync calls than commits plus the rolled blocks each may cover.
  size_t blocks = 0;
  for (auto& e : fs::directory_iterator(dir_)) blocks += e.path().extension() == ".blk";
  EXPECT_LE(st->stats().syncs, uint64_t(kThreads * kPerThread) + blocks);
  st->close();
  st.reset();
  auto again = open_gc_store(4096);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state().msgs, uint64_t(kThreads * kPerThread));
  EXPECT_EQ(again->subjects_state("t.2").at("t.2").msgs, uint64_t(kPerThread));
}

TEST_F(FileStoreGroupCommitTest, SyncWithNothingNewDoesNotFsync) {
  auto st = open_gc_store();
  st->hold_syncs(true);
  ASSERT_EQ(st->store_msg("a", "", "x").err, StoreErr::ok);
  st->hold_syncs(false);
  ASSERT_EQ(st->sync(), StoreErr::ok);
  uint64_t n = st->stats().syncs;
  EXPECT_GE(n, 1u);
  ASSERT_EQ(st->sync(), StoreErr::ok);  // already covered by the previous fsync
  EXPECT_EQ(st->stats().syncs, n);
}

TEST_F(FileStoreGroupCommitTest, CloseWhileOtherThreadsCommitIsSafe) {
  auto st = open_gc_store(4096);
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&] {
      while (!stop.load()) {
        st->hold_syncs(true);
        StoreErr e = st->store_msg("c", "", "x").err;
        st->hold_syncs(false);
        if (e != StoreErr::ok) break;  // closed
        if (st->sync() != StoreErr::ok) break;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  st->close();  // waits for a running fsync; later calls fail with closed
  stop = true;
  for (auto& t : ts) t.join();
  uint64_t stored = st->state().msgs;
  st.reset();
  auto again = open_gc_store(4096);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state().msgs, stored);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
