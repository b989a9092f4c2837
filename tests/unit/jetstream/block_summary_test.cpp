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

// The active block's summary merges like messages as they come (a pending run, not one entry
// each): what is written and replayed is every message, marker and run in order, with runs
// split exactly where sequence, subject, sizes or a TTL break them, and the memory held stays
// small for a block of like messages.
TEST_F(BlockSummaryTest, PendingRunsWriteEveryRecordInOrder) {
  struct Ev {
    char kind;  // 'm' message, 'x' removal, 'c' compact
    uint64_t seq;
    std::string subj;
    uint32_t hl, pl;
    int64_t ttl;
    bool operator==(const Ev&) const = default;
  };
  BlockSummary sum;
  std::vector<Ev> want;
  auto msg = [&](uint64_t seq, const std::string& subj, uint32_t hl, uint32_t pl, int64_t ttl = 0) {
    sum.add_msg(seq, static_cast<int64_t>(seq) * 1000, ttl, subj, hl, pl);
    want.push_back({'m', seq, subj, hl, pl, ttl});
  };
  uint64_t seq = 1;
  for (int i = 0; i < 10000; ++i) msg(seq++, "a", 0, 128);
  EXPECT_LT(sum.memory(), 1024u);  // one pending run, not 10000 entries
  msg(seq++, "b", 0, 128);       // another subject
  msg(seq++, "b", 0, 128);
  msg(seq++, "b", 8, 128);       // another header size
  msg(seq++, "b", 8, 129);       // another payload size
  msg(seq++, "b", 8, 129, 5000);  // a TTL breaks the run
  msg(seq++, "b", 8, 129);
  seq += 3;                       // a gap in sequences
  msg(seq++, "b", 8, 129);
  msg(seq++, "b", 8, 129);
  sum.add_marker(BlockSummary::kRemove, 2);
  want.push_back({'x', 2, "", 0, 0, 0});
  msg(seq++, "b", 8, 129);  // continues after the marker as a new entry
  msg(seq++, "b", 8, 129);
  sum.add_run(seq, 5, static_cast<int64_t>(seq) * 1000, static_cast<int64_t>(seq + 4) * 1000, "c", 0, 16);
  for (int i = 0; i < 5; ++i) want.push_back({'m', seq + i, "c", 0, 16, 0});
  seq += 5;
  msg(seq++, "c", 0, 16);
  sum.add_marker(BlockSummary::kCompact, 3);
  want.push_back({'c', 3, "", 0, 0, 0});
  msg(seq++, "a", 0, 128);  // pending at write time

  fs::create_directories(dir_);
  ASSERT_TRUE(sum.write(dir_, 7, 12345));
  std::vector<Ev> got;
  ASSERT_TRUE(replay_block_summary(
      dir_, 7, 12345,
      [&](const SummaryMsg& m) {
        EXPECT_EQ(m.ts, static_cast<int64_t>(m.seq) * 1000);
        got.push_back({'m', m.seq, std::string(m.subject), m.hdr_len, m.payload_len, m.ttl_ns});
      },
      [&](const SummaryRun& r) {
        EXPECT_EQ(r.first_ts, static_cast<int64_t>(r.first) * 1000);
        EXPECT_EQ(r.last_ts, static_cast<int64_t>(r.first + r.count - 1) * 1000);
        for (uint64_t i = 0; i < r.count; ++i)
          got.push_back({'m', r.first + i, std::string(r.subject), r.hdr_len, r.payload_len, 0});
      },
      [&](uint8_t type, uint64_t s) { got.push_back({type == BlockSummary::kRemove ? 'x' : 'c', s, "", 0, 0, 0}); }));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(got[i] == want[i]) << "entry " << i << " seq " << want[i].seq;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
