// Cheap store queries checked against the expensive ones: first_seq_at_or_after (the binary
// search on time that restart's dedupe rebuild and by_start_time consumers use instead of
// reading every message) against a linear scan, fast_state() against state().
#include <gtest/gtest.h>

#include <random>

#include "jetstream/store/memory_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

namespace {

uint64_t linear_first_at_or_after(MessageStore& st, int64_t ts) {
  StoredMsg m;
  for (uint64_t seq = 0; st.load_next_msg({}, seq, m) == StoreErr::ok; seq = m.seq + 1)
    if (m.ts >= ts) return m.seq;
  return 0;
}

TEST(SeqFromTime, EmptyStoreHasNone) {
  MemoryStore st;
  EXPECT_EQ(first_seq_at_or_after(st, 0), 0u);
}

TEST(SeqFromTime, MatchesALinearScanWithGapsAndRemovals) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    MemoryStore st;
    uint64_t seq = 0;
    int64_t ts = 1000;
    int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      seq += 1 + rng() % 3;               // gaps (deleted sequences)
      ts += static_cast<int64_t>(rng() % 4);  // equal times allowed
      ASSERT_EQ(st.store_msg_at(seq, ts, "s", "", "x").err, StoreErr::ok);
    }
    for (uint64_t s = 1; s <= seq; ++s)
      if (rng() % 5 == 0) st.remove_msg(s);
    for (int64_t probe = 990; probe <= ts + 2; ++probe)
      ASSERT_EQ(first_seq_at_or_after(st, probe), linear_first_at_or_after(st, probe))
          << "round " << round << " probe " << probe;
  }
}

TEST(StoreFastState, MatchesStateWithoutTheDeletedList) {
  std::mt19937 rng(11);
  MemoryStore st;
  for (int i = 0; i < 2000; ++i) {
    if (rng() % 3 == 0 && st.last_seq() > 0) {
      st.remove_msg(1 + rng() % st.last_seq());
    } else {
      ASSERT_EQ(st.store_msg("s." + std::to_string(rng() % 7), "", "x").err, StoreErr::ok);
    }
    if (i % 97 == 0) st.compact(st.last_seq() / 2);
    StoreState full = st.state(), fast = st.fast_state();
    ASSERT_EQ(fast.msgs, full.msgs);
    ASSERT_EQ(fast.bytes, full.bytes);
    ASSERT_EQ(fast.first_seq, full.first_seq);
    ASSERT_EQ(fast.last_seq, full.last_seq);
    ASSERT_EQ(fast.first_ts, full.first_ts);
    ASSERT_EQ(fast.num_subjects, full.num_subjects);
    ASSERT_EQ(fast.num_deleted, full.num_deleted) << "step " << i;
    ASSERT_TRUE(fast.deleted.empty());
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
