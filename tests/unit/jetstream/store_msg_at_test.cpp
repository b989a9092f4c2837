// store_msg_at: how a replica stores a committed message with the leader's sequence and time
// (jetstream/cluster/stream_group.cpp), and the O(1) last_seq() the replicated ingest reads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "jetstream/store/file_store.h"
#include "jetstream/store/memory_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
namespace fs = std::filesystem;

namespace {

void check_store_at(MessageStore& st) {
  // The leader's sequence and time are kept as given (no clock, no +1 adjustment).
  auto r = st.store_msg_at(1, 1000, "a", "", "one");
  ASSERT_EQ(r.err, StoreErr::ok);
  EXPECT_EQ(r.seq, 1u);
  EXPECT_EQ(r.ts, 1000);
  EXPECT_EQ(st.last_seq(), 1u);
  // A sequence not past the last one is refused (a replayed entry is the caller's to skip).
  EXPECT_NE(st.store_msg_at(1, 2000, "a", "", "again").err, StoreErr::ok);
  // A gap (a message the leader did not store) leaves a deleted sequence behind.
  ASSERT_EQ(st.store_msg_at(3, 3000, "b", "", "three").err, StoreErr::ok);
  EXPECT_EQ(st.last_seq(), 3u);
  StoreState s = st.state();
  EXPECT_EQ(s.msgs, 2u);
  EXPECT_EQ(s.first_seq, 1u);
  EXPECT_EQ(s.last_seq, 3u);
  EXPECT_EQ(s.last_ts, 3000);
  EXPECT_EQ(s.deleted, std::vector<uint64_t>{2});
  StoredMsg m;
  ASSERT_EQ(st.load_msg(3, m), StoreErr::ok);
  EXPECT_EQ(m.payload, "three");
  EXPECT_EQ(m.ts, 3000);
  // Local numbering continues after it.
  EXPECT_EQ(st.store_msg("c", "", "four").seq, 4u);
}

TEST(StoreMsgAt, MemoryStoreKeepsLeaderSequenceAndTime) {
  MemoryStore st;
  check_store_at(st);
}

TEST(StoreMsgAt, FileStoreKeepsThemAcrossReopen) {
  std::string dir = (fs::temp_directory_path() / ("store-at-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  FileStoreConfig cfg;
  cfg.dir = dir;
  {
    auto st = FileStore::open(cfg);
    ASSERT_TRUE(st);
    check_store_at(*st);
    st->close();
  }
  auto st = FileStore::open(cfg);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->last_seq(), 4u);
  StoredMsg m;
  ASSERT_EQ(st->load_msg(3, m), StoreErr::ok);
  EXPECT_EQ(m.ts, 3000);
  EXPECT_EQ(st->load_msg(2, m), StoreErr::not_found);
  st.reset();
  fs::remove_all(dir);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
