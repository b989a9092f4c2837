// StoreState::deleted as runs: a large interior delete is one run, counts and the expanded
// list (API deleted details) agree with one entry per sequence.
#include <gtest/gtest.h>

#include "jetstream/store/memory_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

TEST(DeletedSeqs, MergesTouchingSequencesIntoRuns) {
  DeletedSeqs d;
  for (uint64_t s : {3, 4, 5, 9, 10, 20}) d.add(s);
  d.add_run(21, 30);
  ASSERT_EQ(d.runs().size(), 3u);
  EXPECT_EQ(d.runs()[0], std::make_pair(uint64_t{3}, uint64_t{5}));
  EXPECT_EQ(d.runs()[2], std::make_pair(uint64_t{20}, uint64_t{30}));
  EXPECT_EQ(d.count(), 3u + 2 + 11);
  EXPECT_EQ(d.count_from(0), d.count());
  EXPECT_EQ(d.count_from(4), 2u + 2 + 11);
  EXPECT_EQ(d.count_from(6), 2u + 11);
  EXPECT_EQ(d.count_from(25), 6u);
  EXPECT_EQ(d.count_from(31), 0u);
  EXPECT_EQ(d.expand().size(), d.count());
  EXPECT_EQ(DeletedSeqs({3, 4, 5}), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(DeletedSeqs().empty());
}

TEST(DeletedSeqs, HugeInteriorDeleteIsOneRunInTheState) {
  MemoryStore st;
  constexpr uint64_t kN = 300000;
  for (uint64_t i = 1; i <= kN; ++i) ASSERT_EQ(st.store_msg("a", "", "x").err, StoreErr::ok);
  // Everything but 1, 2 and the last one.
  for (uint64_t s = 3; s < kN; ++s) ASSERT_EQ(st.remove_msg(s), StoreErr::ok);
  auto state = st.state();
  EXPECT_EQ(state.msgs, 3u);
  EXPECT_EQ(state.num_deleted, kN - 3);
  ASSERT_EQ(state.deleted.runs().size(), 1u);
  EXPECT_EQ(state.deleted.runs()[0], std::make_pair(uint64_t{3}, kN - 1));
  EXPECT_EQ(state.deleted.count_from(kN - 10), 10u);
  // Removals in a checkerboard: one run per gap, as many as there are gaps.
  MemoryStore st2;
  for (uint64_t i = 1; i <= 10000; ++i) st2.store_msg("a", "", "x");
  for (uint64_t s = 2; s < 10000; s += 2) st2.remove_msg(s);
  auto s2 = st2.state();
  EXPECT_EQ(s2.deleted.runs().size(), 4999u);
  EXPECT_EQ(s2.num_deleted, 4999u);
  EXPECT_EQ(s2.num_deleted, s2.deleted.count());
}

}  // namespace NATS_TEST_FILE_ID
