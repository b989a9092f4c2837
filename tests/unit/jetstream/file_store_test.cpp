#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "jetstream/store/crc32c.h"
#include "jetstream/store/file_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {
class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("fstore-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<FileStore> open(StoreLimits lim = {}, uint64_t block = 1 << 20) {
    FileStoreConfig cfg;
    cfg.dir = dir_;
    cfg.block_size = block;
    StoreErr err;
    auto st = FileStore::open(cfg, lim, [this] { return now_; }, &err);
    EXPECT_EQ(err, StoreErr::ok);
    return st;
  }
  static void expect_same(const StoreState& a, const StoreState& b) {
    EXPECT_EQ(a.msgs, b.msgs);
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(a.first_seq, b.first_seq);
    EXPECT_EQ(a.first_ts, b.first_ts);
    EXPECT_EQ(a.last_seq, b.last_seq);
    EXPECT_EQ(a.last_ts, b.last_ts);
    EXPECT_EQ(a.num_subjects, b.num_subjects);
    EXPECT_EQ(a.deleted, b.deleted);
  }
  std::string last_block() {
    std::string best;
    uint64_t bi = 0;
    for (auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() != ".blk") continue;
      uint64_t i = std::stoull(e.path().stem().string());
      if (i >= bi) bi = i, best = e.path().string();
    }
    return best;
  }
  std::string dir_;
  int64_t now_ = 5'000'000'000'000;
};

TEST(Crc32c, KnownVector) {
  // The standard CRC-32C check value.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST_F(FileStoreTest, ReopenRestoresState) {
  StoreState before;
  {
    auto st = open();
    st->store_msg("a.1", "NATS/1.0\r\nX: y\r\n\r\n", "hello");
    now_ += 10;
    st->store_msg("a.2", "", "world");
    st->store_msg("b", "", std::string(1000, 'z'));
    st->store_msg("a.1", "", "again");
    st->remove_msg(2);
    before = st->state();
    EXPECT_EQ(before.msgs, 3u);
    EXPECT_EQ(before.deleted, std::vector<uint64_t>{2});
  }
  auto st = open();
  expect_same(st->state(), before);
  EXPECT_EQ(st->recovery().truncated_bytes, 0u);
  StoredMsg m;
  ASSERT_EQ(st->load_msg(1, m), StoreErr::ok);
  EXPECT_EQ(m.subject, "a.1");
  EXPECT_EQ(m.headers, "NATS/1.0\r\nX: y\r\n\r\n");
  EXPECT_EQ(m.payload, "hello");
  EXPECT_EQ(st->load_msg(2, m), StoreErr::not_found);
  ASSERT_EQ(st->load_msg(3, m), StoreErr::ok);
  EXPECT_EQ(m.payload.size(), 1000u);
  EXPECT_EQ(st->subjects_state("a.1")["a.1"].msgs, 2u);
  // Sequences continue after reopen.
  EXPECT_EQ(st->store_msg("c", "", "").seq, 5u);
}

TEST_F(FileStoreTest, PurgeCompactAndLimitsSurviveReopen) {
  StoreLimits lim;
  lim.max_msgs = 5;
  StoreState before;
  {
    auto st = open(lim);
    for (int i = 0; i < 8; ++i) st->store_msg(i % 2 ? "x" : "y", "", std::to_string(i));  // keeps 4..8
    EXPECT_EQ(st->state().first_seq, 4u);
    EXPECT_EQ(st->purge("x", 0, 1), 2u);  // x: 4,6,8 -> removes 4,6
    before = st->state();
  }
  {
    auto st = open(lim);
    expect_same(st->state(), before);
    EXPECT_EQ(st->compact(7), 1u);  // left 5,7,8: removes 5
    before = st->state();
  }
  auto st = open(lim);
  expect_same(st->state(), before);
  EXPECT_EQ(st->state().first_seq, 7u);
  EXPECT_EQ(st->purge(), 2u);
  {
    auto s = st->state();
    EXPECT_EQ(s.first_seq, 9u);
    EXPECT_EQ(s.last_seq, 8u);
  }
  st.reset();
  st = open(lim);
  EXPECT_EQ(st->state().first_seq, 9u);
  EXPECT_EQ(st->state().last_seq, 8u);
  EXPECT_EQ(st->store_msg("z", "", "").seq, 9u);
}

TEST_F(FileStoreTest, MaxAgeEvictionIsPersisted) {
  StoreLimits lim;
  lim.max_age_ns = 1000;
  {
    auto st = open(lim);
    st->store_msg("a", "", "1");
    now_ += 600;
    st->store_msg("a", "", "2");
    now_ += 600;
    st->expire_msgs();
    EXPECT_EQ(st->state().first_seq, 2u);
  }
  // Reopen without age limit: the eviction was logged, so seq 1 stays gone.
  auto st = open();
  EXPECT_EQ(st->state().msgs, 1u);
  EXPECT_EQ(st->state().first_seq, 2u);
}

TEST_F(FileStoreTest, RollsBlocks) {
  StoreState before;
  {
    auto st = open({}, 256);
    for (int i = 0; i < 50; ++i) st->store_msg("s", "", std::string(40, 'a' + i % 26));
    before = st->state();
  }
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir_)) n += e.path().extension() == ".blk";
  EXPECT_GT(n, 5u);
  auto st = open({}, 256);
  expect_same(st->state(), before);
  EXPECT_EQ(st->recovery().blocks, n);
  StoredMsg m;
  ASSERT_EQ(st->load_msg(27, m), StoreErr::ok);
  EXPECT_EQ(m.payload, std::string(40, 'a'));
}

TEST_F(FileStoreTest, TornTailIsTruncated) {
  {
    auto st = open();
    st->store_msg("a", "", "one");
    st->store_msg("a", "", "two");
    st->store_msg("a", "", "three");
  }
  std::string path = last_block();
  auto size = fs::file_size(path);
  fs::resize_file(path, size - 5);  // cut into the last record
  {
    auto st = open();
    auto s = st->state();
    EXPECT_EQ(s.msgs, 2u);
    EXPECT_EQ(s.last_seq, 2u);
    EXPECT_GT(st->recovery().truncated_bytes, 0u);
    EXPECT_EQ(st->store_msg("a", "", "three again").seq, 3u);
  }
  auto st = open();
  EXPECT_EQ(st->recovery().truncated_bytes, 0u);
  StoredMsg m;
  ASSERT_EQ(st->load_msg(3, m), StoreErr::ok);
  EXPECT_EQ(m.payload, "three again");
}

TEST_F(FileStoreTest, CorruptTailChecksumIsTruncated) {
  {
    auto st = open();
    st->store_msg("a", "", "one");
    st->store_msg("a", "", "two");
  }
  std::string path = last_block();
  auto size = fs::file_size(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 6));  // inside the last payload
    f.put('X');
  }
  auto st = open();
  EXPECT_EQ(st->state().msgs, 1u);
  EXPECT_EQ(st->state().last_seq, 1u);
  EXPECT_GT(st->recovery().truncated_bytes, 0u);
  EXPECT_EQ(fs::file_size(path), size - st->recovery().truncated_bytes);
}

TEST_F(FileStoreTest, SyncAndClose) {
  FileStoreConfig cfg;
  cfg.dir = dir_;
  cfg.sync_always = true;
  auto st = FileStore::open(cfg);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->store_msg("a", "", "x").seq, 1u);
  EXPECT_EQ(st->sync(), StoreErr::ok);
  st->close();
  EXPECT_EQ(st->store_msg("a", "", "x").err, StoreErr::closed);
  EXPECT_EQ(st->sync(), StoreErr::closed);
}

// Regression (issue 16): an empty header or payload given as a default string_view has a
// null data() pointer; storing it passed null to memcpy (UBSan report in the sanitizer run).
TEST_F(FileStoreTest, EmptyHeadersAndPayloadWithNullData) {
  {
    auto st = open();
    ASSERT_EQ(st->store_msg("e", std::string_view{}, std::string_view{}).err, StoreErr::ok);
    ASSERT_EQ(st->store_msg("f", std::string_view{}, "x").err, StoreErr::ok);
  }
  auto st = open();
  StoredMsg m;
  ASSERT_EQ(st->load_msg(1, m), StoreErr::ok);
  EXPECT_EQ(m.subject, "e");
  EXPECT_TRUE(m.headers.empty());
  EXPECT_TRUE(m.payload.empty());
  ASSERT_EQ(st->load_msg(2, m), StoreErr::ok);
  EXPECT_EQ(m.payload, "x");
}

// The file store keeps no per-message time in memory: loads, first_ts and age expiry read
// it from the records, also from blocks no longer cached.
TEST_F(FileStoreTest, TimesComeFromTheRecords) {
  StoreLimits lim;
  lim.max_age_ns = 1'000'000'000;
  auto st = open(lim, 512);
  std::vector<int64_t> ts;
  for (int i = 0; i < 40; ++i) {
    now_ += 10'000'000;  // 10 ms apart
    ts.push_back(st->store_msg("t", "", "x").ts);
  }
  st->drop_caches();
  StoredMsg m;
  ASSERT_EQ(st->load_msg(7, m), StoreErr::ok);
  EXPECT_EQ(m.ts, ts[6]);
  ASSERT_EQ(st->load_next_msg("t", 20, m), StoreErr::ok);
  EXPECT_EQ(m.ts, ts[19]);
  EXPECT_EQ(st->state().first_ts, ts[0]);
  // Past the age of the first ten only.
  now_ = ts[9] + lim.max_age_ns;
  st->expire_msgs();
  auto s = st->state();
  EXPECT_EQ(s.first_seq, 11u);
  EXPECT_EQ(s.first_ts, ts[10]);
  st.reset();
  auto again = open(lim, 512);
  EXPECT_EQ(again->state().first_ts, ts[10]);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
