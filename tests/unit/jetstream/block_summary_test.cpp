// Per-block summaries (<n>.sum): a restart replays sealed blocks from them without reading
// the blocks, and falls back to scanning (and checking) a block whose summary is missing,
// corrupt or stale.
#include "jetstream/store/block_summary.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "jetstream/store/file_store.h"
#include "store_test_dir.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {
using namespace store_test;

class BlockSummaryTest : public StoreDirTest {
 protected:
  BlockSummaryTest() : StoreDirTest("blksum") {}
  std::unique_ptr<FileStore> open(StoreLimits lim = {}) {
    FileStoreConfig cfg;
    cfg.dir = dir_;
    cfg.block_size = 4096;
    StoreErr err;
    auto st = FileStore::open(cfg, lim, system_clock_ns, &err);
    EXPECT_EQ(err, StoreErr::ok);
    return st;
  }
};
}  // namespace

TEST_F(BlockSummaryTest, RestartReplaysSealedBlocksFromSummaries) {
  std::set<uint64_t> removed = {7, 8, 150, 400, 401, 477};
  StoreState want;
  {
    auto st = open();
    fill(*st, 1, 500);
    st->compact(5);  // a compact marker in an early block
    for (uint64_t s : removed) st->remove_msg(s);  // removals logged in later blocks
    fill(*st, 501, 800);
    want = st->state();
  }
  for (uint64_t s = 1; s < 5; ++s) removed.insert(s);
  auto blocks = files_with(".blk");
  ASSERT_GT(blocks.size(), 10u);
  // Every block has a summary: the sealed ones since they were sealed, the active one since
  // the clean close (FileStoreCleanCloseTest).
  EXPECT_EQ(files_with(".sum"), blocks);
  auto st = open();
  EXPECT_EQ(st->recovery().summaries, blocks.size() - 1);
  expect_same(*st, want, removed);
  // And the next restart still agrees (the summaries of blocks sealed since are good too).
  fill(*st, 801, 900);
  want = st->state();
  st.reset();
  st = open();
  EXPECT_EQ(st->recovery().summaries, files_with(".blk").size() - 1);
  expect_same(*st, want, removed);
}

TEST_F(BlockSummaryTest, BadSummariesFallBackToScanningAndAreRewritten) {
  StoreState want;
  {
    auto st = open();
    fill(*st, 1, 600);
    st->remove_msg(20);
    want = st->state();
  }
  auto sums = files_with(".sum");
  ASSERT_GE(sums.size(), 4u);
  // Corrupt, missing, truncated and another block's.
  {
    std::fstream f(block_summary_path(dir_, sums[0]), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
  }
  fs::remove(block_summary_path(dir_, sums[1]));
  fs::resize_file(block_summary_path(dir_, sums[2]), 12);
  fs::copy_file(block_summary_path(dir_, sums[4]), block_summary_path(dir_, sums[3]),
                fs::copy_options::overwrite_existing);
  auto st = open();
  EXPECT_EQ(st->recovery().summaries, files_with(".blk").size() - 1 - 4);
  expect_same(*st, want, {20});
  st.reset();
  // The scans wrote them again.
  st = open();
  EXPECT_EQ(st->recovery().summaries, files_with(".blk").size() - 1);
  expect_same(*st, want, {20});
}

TEST_F(BlockSummaryTest, TtlAndLimitsSurviveASummaryRestart) {
  StoreLimits lim;
  lim.max_msgs_per_subject = 30;
  StoreState want;
  {
    auto st = open(lim);
    fill(*st, 1, 400);
    ASSERT_EQ(st->store_msg("ttl.x", "", "short", int64_t(3'600'000'000'000)).err, StoreErr::ok);
    want = st->state();
  }
  auto st = open(lim);
  EXPECT_GT(st->recovery().summaries, 0u);
  auto got = st->state();
  EXPECT_EQ(got.msgs, want.msgs);
  EXPECT_EQ(got.bytes, want.bytes);
  EXPECT_EQ(got.first_seq, want.first_seq);
  EXPECT_EQ(got.deleted, want.deleted);
  auto subj = st->subjects_state("s.1");
  ASSERT_EQ(subj.count("s.1"), 1u);
  EXPECT_EQ(subj["s.1"].msgs, 30u);
  StoredMsg m;
  ASSERT_EQ(st->load_last_msg("ttl.x", m), StoreErr::ok);
  EXPECT_EQ(m.payload, "short");
}

TEST_F(BlockSummaryTest, TornTailOfTheLastBlockIsStillCut) {
  {
    auto st = open();
    fill(*st, 1, 300);
  }
  auto blocks = files_with(".blk");
  std::string last = dir_ + "/" + std::to_string(blocks.back()) + ".blk";
  fs::resize_file(last, fs::file_size(last) - 5);
  auto st = open();
  EXPECT_GT(st->recovery().summaries, 0u);
  EXPECT_GT(st->recovery().truncated_bytes, 0u);
  EXPECT_EQ(st->state().last_seq, 299u);
  EXPECT_EQ(st->store_msg("s.0", "", "next").seq, 300u);
}

}  // namespace NATS_TEST_FILE_ID
