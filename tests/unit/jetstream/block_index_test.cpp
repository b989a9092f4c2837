#include "jetstream/store/block_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "jetstream/store/file_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {
std::string fresh_dir() {
  auto dir = (fs::temp_directory_path() / ("blkidx-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                 .string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void flip_byte(const std::string& path, uint64_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

std::vector<uint64_t> files_with(const std::string& dir, const std::string& ext) {
  std::vector<uint64_t> out;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(std::stoull(e.path().stem().string()));
  std::sort(out.begin(), out.end());
  return out;
}

std::string payload_for(uint64_t seq) { return "payload-" + std::to_string(seq) + std::string(seq % 50, 'x'); }
}  // namespace

TEST(BlockIndex, AddLeavesGapsAndIgnoresDuplicates) {
  BlockIndex b;
  b.add(10, 0);
  b.add(11, 40);
  b.add(14, 90);
  b.add(11, 999);  // not past the last: ignored
  uint32_t off = 0;
  ASSERT_TRUE(b.find(11, off));
  EXPECT_EQ(off, 40u);
  ASSERT_TRUE(b.find(14, off));
  EXPECT_EQ(off, 90u);
  EXPECT_FALSE(b.find(12, off));
  EXPECT_FALSE(b.find(9, off));
  EXPECT_FALSE(b.find(15, off));
}

TEST(BlockIndex, FileRoundTripAndRejections) {
  auto dir = fresh_dir();
  BlockIndex b{7, 0, {}};
  for (uint64_t s = 100; s < 200; ++s)
    if (s % 9 != 0) b.add(s, static_cast<uint32_t>(s * 13));
  ASSERT_TRUE(write_block_index(dir, b, 4242));
  BlockIndex r;
  ASSERT_TRUE(read_block_index(dir, 7, 4242, r));
  EXPECT_EQ(r.block, 7u);
  EXPECT_EQ(r.first, b.first);
  EXPECT_EQ(r.offs, b.offs);
  // Written for another block length (the block was appended to or cut): not trusted.
  EXPECT_FALSE(read_block_index(dir, 7, 4243, r));
  // Any flipped byte fails the checksum.
  flip_byte(block_index_path(dir, 7), 40);
  EXPECT_FALSE(read_block_index(dir, 7, 4242, r));
  EXPECT_FALSE(read_block_index(dir, 8, 4242, r));  // missing
  fs::remove_all(dir);
}

class BlockIndexStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fresh_dir(); }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<FileStore> open(StoreLimits lim = {}) {
    FileStoreConfig cfg;
    cfg.dir = dir_;
    cfg.block_size = 4096;
    StoreErr err;
    auto st = FileStore::open(cfg, lim, system_clock_ns, &err);
    EXPECT_EQ(err, StoreErr::ok);
    return st;
  }
  void fill(FileStore& st, uint64_t n) {
    for (uint64_t s = 1; s <= n; ++s) st.store_msg("s." + std::to_string(s % 5), "", payload_for(s));
  }
  // Every live message reads back with its own payload; removed ones are not found.
  void expect_all(FileStore& st, uint64_t n, const std::set<uint64_t>& removed = {}) {
    for (uint64_t s = 1; s <= n; ++s) {
      StoredMsg m;
      StoreErr e = st.load_msg(s, m);
      if (removed.count(s)) {
        EXPECT_EQ(e, StoreErr::not_found) << s;
        continue;
      }
      ASSERT_EQ(e, StoreErr::ok) << s;
      EXPECT_EQ(m.payload, payload_for(s)) << s;
      EXPECT_EQ(m.subject, "s." + std::to_string(s % 5)) << s;
    }
  }
  std::string dir_;
};

TEST_F(BlockIndexStoreTest, SealedBlocksGetIndexFilesThatServeLoads) {
  auto st = open();
  fill(*st, 600);
  auto blocks = files_with(dir_, ".blk");
  auto idx = files_with(dir_, ".idx");
  ASSERT_GT(blocks.size(), 5u);
  // Every block but the active one is sealed with an index.
  EXPECT_EQ(idx, std::vector<uint64_t>(blocks.begin(), blocks.end() - 1));
  st->drop_caches();
  expect_all(*st, 600);
}

TEST_F(BlockIndexStoreTest, CorruptOrMissingIndexFallsBackToScanningTheBlock) {
  {
    auto st = open();
    fill(*st, 600);
  }
  auto idx = files_with(dir_, ".idx");
  ASSERT_GE(idx.size(), 3u);
  flip_byte(block_index_path(dir_, idx[0]), 30);
  fs::remove(block_index_path(dir_, idx[1]));
  fs::resize_file(block_index_path(dir_, idx[2]), 10);
  auto st = open();
  expect_all(*st, 600);
  // The scan wrote the index again.
  for (int i = 0; i < 3; ++i) {
    BlockIndex r;
    auto len = fs::file_size(dir_ + "/" + std::to_string(idx[i]) + ".blk");
    EXPECT_TRUE(read_block_index(dir_, idx[i], len, r)) << idx[i];
  }
}

TEST_F(BlockIndexStoreTest, RemovalsInSealedBlocksAndReopen) {
  std::set<uint64_t> removed = {3, 50, 51, 200, 333};
  {
    auto st = open();
    fill(*st, 600);
    for (uint64_t s : removed) ASSERT_EQ(st->remove_msg(s), StoreErr::ok);
    st->drop_caches();
    expect_all(*st, 600, removed);
  }
  auto st = open();
  expect_all(*st, 600, removed);
  EXPECT_EQ(st->state().deleted, std::vector<uint64_t>(removed.begin(), removed.end()));
}

TEST_F(BlockIndexStoreTest, TornTailAfterSealedBlocks) {
  {
    auto st = open();
    fill(*st, 300);
  }
  auto blocks = files_with(dir_, ".blk");
  std::string last = dir_ + "/" + std::to_string(blocks.back()) + ".blk";
  fs::resize_file(last, fs::file_size(last) - 3);  // cut into the last record
  auto st = open();
  EXPECT_GT(st->recovery().truncated_bytes, 0u);
  EXPECT_EQ(st->state().last_seq, 299u);
  expect_all(*st, 299);
  // The store goes on from there, rolling and sealing as before.
  for (uint64_t s = 300; s <= 400; ++s) st->store_msg("s." + std::to_string(s % 5), "", payload_for(s));
  st->drop_caches();
  expect_all(*st, 400);
}

TEST_F(BlockIndexStoreTest, RemovedBlocksTakeTheirIndexWithThem) {
  auto st = open();
  fill(*st, 600);
  ASSERT_GT(files_with(dir_, ".idx").size(), 3u);
  st->compact(590);
  auto blocks = files_with(dir_, ".blk");
  auto idx = files_with(dir_, ".idx");
  for (uint64_t i : idx) EXPECT_TRUE(std::find(blocks.begin(), blocks.end(), i) != blocks.end()) << i;
  StoredMsg m;
  ASSERT_EQ(st->load_msg(595, m), StoreErr::ok);
  EXPECT_EQ(m.payload, payload_for(595));
}

}  // namespace NATS_TEST_FILE_ID
