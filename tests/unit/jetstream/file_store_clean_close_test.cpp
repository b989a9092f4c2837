// A clean close saves the active block's offsets (<n>.idx) and summary (<n>.sum) like a sealed
// block's, so the next start reads no block at all; any append since (torn or not), a bad or
// missing file, or a last record that fails its checksum sends the last block to the scan.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <vector>

#include "jetstream/store/block_index.h"
#include "jetstream/store/block_summary.h"
#include "jetstream/store/file_store.h"
#include "store_test_dir.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {
using namespace store_test;

class FileStoreCleanCloseTest : public StoreDirTest {
 protected:
  FileStoreCleanCloseTest() : StoreDirTest("fstore-clean") {}
  std::unique_ptr<FileStore> open(const std::string& dir = {}) {
    FileStoreConfig cfg;
    cfg.dir = dir.empty() ? dir_ : dir;
    cfg.block_size = 16 * 1024;  // several blocks, a partly filled last one
    StoreErr err;
    auto st = FileStore::open(cfg, {}, system_clock_ns, &err);
    EXPECT_EQ(err, StoreErr::ok);
    return st;
  }
  std::string last_block(const std::string& dir) {
    return dir + "/" + std::to_string(files_with(dir, ".blk").back()) + ".blk";
  }
};

TEST_F(FileStoreCleanCloseTest, RestartAfterACleanCloseReadsNoBlock) {
  std::set<uint64_t> removed = {3, 200, 1100, 1290};
  StoreState want;
  {
    auto st = open();
    fill(*st, 1, 1300);
    for (uint64_t s : removed) ASSERT_EQ(st->remove_msg(s), StoreErr::ok);
    want = st->state();
  }
  auto blocks = files_with(dir_, ".blk");
  ASSERT_GT(blocks.size(), 3u);
  // Every block, the active one included, has its offsets and summary.
  EXPECT_EQ(files_with(dir_, ".sum"), blocks);
  EXPECT_EQ(files_with(dir_, ".idx"), blocks);
  auto st = open();
  EXPECT_TRUE(st->recovery().last_from_summary);
  EXPECT_EQ(st->recovery().summaries, blocks.size() - 1);
  EXPECT_EQ(st->recovery().truncated_bytes, 0u);
  expect_same(*st, want, removed);
  // The reopened block grows, rolls and is sealed with a summary that still covers what was
  // replayed into it (runs included): the next start agrees, and so does a full scan.
  fill(*st, 1301, 2500);
  removed.insert(1301);
  ASSERT_EQ(st->remove_msg(1301), StoreErr::ok);
  want = st->state();
  st.reset();
  st = open();
  EXPECT_TRUE(st->recovery().last_from_summary);
  EXPECT_EQ(st->recovery().summaries, files_with(dir_, ".blk").size() - 1);
  expect_same(*st, want, removed);
  st.reset();
  for (auto ext : {".sum", ".idx"})
    for (uint64_t b : files_with(dir_, ext)) fs::remove(dir_ + "/" + std::to_string(b) + ext);
  st = open();
  EXPECT_FALSE(st->recovery().last_from_summary);
  EXPECT_EQ(st->recovery().summaries, 0u);
  expect_same(*st, want, removed);
}

TEST_F(FileStoreCleanCloseTest, AppendsAfterACleanCloseAreScannedAfterACrash) {
  {
    auto st = open();
    fill(*st, 1, 700);
  }
  auto st = open();
  ASSERT_TRUE(st->recovery().last_from_summary);
  fill(*st, 701, 760);
  ASSERT_EQ(st->remove_msg(705), StoreErr::ok);
  ASSERT_EQ(st->flush(), StoreErr::ok);
  auto want = st->state();
  // The process "dies" here: the saved summary names a shorter block.
  fs::copy(dir_, dir_ + "-copy", fs::copy_options::recursive);
  auto copy = open(dir_ + "-copy");
  EXPECT_FALSE(copy->recovery().last_from_summary);
  EXPECT_EQ(copy->recovery().truncated_bytes, 0u);
  expect_same(*copy, want, {705});
}

TEST_F(FileStoreCleanCloseTest, TornAppendAfterACleanCloseIsCut) {
  StoreState want;
  {
    auto st = open();
    fill(*st, 1, 700);
    want = st->state();
  }
  {
    auto st = open();
    fill(*st, 701, 701);
    ASSERT_EQ(st->flush(), StoreErr::ok);
    fs::copy(dir_, dir_ + "-copy", fs::copy_options::recursive);
  }
  // Half of the appended record reached the disk.
  std::string path = last_block(dir_ + "-copy");
  fs::resize_file(path, fs::file_size(path) - 10);
  auto copy = open(dir_ + "-copy");
  EXPECT_FALSE(copy->recovery().last_from_summary);
  EXPECT_GT(copy->recovery().truncated_bytes, 0u);
  expect_same(*copy, want, {});
  EXPECT_EQ(copy->store_msg(subject_for(701), headers_for(701), payload_for(701)).seq, 701u);
}

TEST_F(FileStoreCleanCloseTest, BadSavedFilesFallBackToAScan) {
  StoreState want;
  {
    auto st = open();
    fill(*st, 1, 700);
    want = st->state();
  }
  const uint64_t last = files_with(dir_, ".blk").back();
  const std::string idx = block_index_path(dir_, last), sum = block_summary_path(dir_, last);
  auto flip = [](const std::string& path, std::streamoff at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char c = static_cast<char>(f.get());
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x5a));
  };
  // Each case spoils one thing, checks that the scan rebuilt the same state, and lets the
  // close save good files again.
  std::vector<std::pair<const char*, std::function<void()>>> cases = {
      {"missing idx", [&] { fs::remove(idx); }},
      {"missing sum", [&] { fs::remove(sum); }},
      {"corrupt idx", [&] { flip(idx, 40); }},
      {"corrupt sum", [&] { flip(sum, 30); }},
      {"short idx", [&] { fs::resize_file(idx, 20); }},
      {"another block's sum", [&] { fs::copy_file(block_summary_path(dir_, last - 1), sum,
                                                  fs::copy_options::overwrite_existing); }},
  };
  for (auto& [name, spoil] : cases) {
    SCOPED_TRACE(name);
    spoil();
    auto st = open();
    EXPECT_FALSE(st->recovery().last_from_summary);
    EXPECT_EQ(st->recovery().truncated_bytes, 0u);
    expect_same(*st, want, {});
    st.reset();
    st = open();
    EXPECT_TRUE(st->recovery().last_from_summary);
  }
  // The last record damaged in place (same length): its checksum fails, the scan cuts it.
  flip(last_block(dir_), static_cast<std::streamoff>(fs::file_size(last_block(dir_)) - 8));
  auto st = open();
  EXPECT_FALSE(st->recovery().last_from_summary);
  EXPECT_GT(st->recovery().truncated_bytes, 0u);
  EXPECT_EQ(st->state().last_seq, 699u);
  EXPECT_EQ(st->state().msgs, 699u);
}

TEST(BlockSummaryRuns, AddRunKeepsTheRunAndLaterEntries) {
  std::string dir = (fs::temp_directory_path() / ("blksum-run-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  BlockSummary s;
  s.add_msg(10, 1000, 0, "a", 0, 5);
  s.add_run(11, 50, 2000, 9000, "b", 3, 7);
  s.add_marker(BlockSummary::kRemove, 12);
  s.add_msg(61, 9500, 0, "b", 3, 7);
  s.add_msg(62, 9600, 0, "b", 3, 7);
  s.add_run(63, 1, 9700, 9700, "c", 0, 1);  // a run of one is a message
  ASSERT_TRUE(s.write(dir, 4, 1234));
  std::vector<std::string> seen;
  bool ok = replay_block_summary(
      dir, 4, 1234,
      [&](const SummaryMsg& m) {
        seen.push_back("m" + std::to_string(m.seq) + "@" + std::to_string(m.ts) + std::string(m.subject));
      },
      [&](const SummaryRun& r) {
        seen.push_back("r" + std::to_string(r.first) + "x" + std::to_string(r.count) + "@" +
                       std::to_string(r.first_ts) + "-" + std::to_string(r.last_ts) + std::string(r.subject) +
                       std::to_string(r.hdr_len) + "/" + std::to_string(r.payload_len));
      },
      [&](uint8_t type, uint64_t seq) { seen.push_back("x" + std::to_string(type) + ":" + std::to_string(seq)); });
  ASSERT_TRUE(ok);
  // The run stays as it was; the two later messages of one subject and size form their own.
  EXPECT_EQ(seen, (std::vector<std::string>{"m10@1000a", "r11x50@2000-9000b3/7", "x2:12", "r61x2@9500-9600b3/7",
                                            "m63@9700c"}));
  fs::remove_all(dir);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
