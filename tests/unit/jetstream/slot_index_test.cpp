// SlotIndex: the compact per-sequence index (uniform chunks, arrays only where values vary,
// removal bitmaps only where something was removed), checked against a plain vector model.
#include "jetstream/store/slot_index.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

using Slot = SlotIndex::Slot;
constexpr uint32_t kGone = SlotIndex::kGone;

void expect_same(const SlotIndex& idx, const std::vector<Slot>& model) {
  ASSERT_EQ(idx.size(), model.size());
  for (size_t i = 0; i < model.size(); ++i) {
    Slot s = idx.get(i);
    ASSERT_EQ(s.subj, model[i].subj) << i;
    if (s.subj != kGone) {
      ASSERT_EQ(s.size, model[i].size) << i;
    }
    ASSERT_EQ(idx.gone(i), model[i].subj == kGone) << i;
  }
  // next_live / prev_live agree with a linear scan.
  for (size_t i = 0; i <= model.size(); i += 97) {
    size_t want = i;
    while (want < model.size() && model[want].subj == kGone) ++want;
    ASSERT_EQ(idx.next_live(i), want) << i;
  }
  for (size_t i = 0; i < model.size(); i += 101) {
    size_t want = i;
    while (want != SIZE_MAX && model[want].subj == kGone) want = want == 0 ? SIZE_MAX : want - 1;
    ASSERT_EQ(idx.prev_live(i), want) << i;
  }
}

TEST(SlotIndexTest, UniformChunksCostNoPerMessageMemory) {
  SlotIndex idx;
  for (int i = 0; i < 1'000'000; ++i) idx.push_back({7, 183});
  // 245 chunks of a few dozen bytes each, no arrays or bitmaps.
  EXPECT_LT(idx.memory(), 64u * 1024);
  EXPECT_EQ(idx.get(123456).subj, 7u);
  EXPECT_EQ(idx.get(999999).size, 183u);
  // One removal allocates one chunk's bitmap, nothing else.
  idx.set_gone(500000);
  EXPECT_TRUE(idx.gone(500000));
  EXPECT_EQ(idx.next_live(500000), 500001u);
  EXPECT_EQ(idx.prev_live(500000), 499999u);
  EXPECT_LT(idx.memory(), 64u * 1024 + 1024);
}

TEST(SlotIndexTest, MixedValuesAndRemovalsMatchModel) {
  std::mt19937 rng(11);
  SlotIndex idx;
  std::vector<Slot> model;
  for (int i = 0; i < 30000; ++i) {
    Slot s{static_cast<uint32_t>(i < 9000 ? 1 : rng() % 5), static_cast<uint32_t>(i < 15000 ? 100 : 100 + rng() % 3)};
    if (rng() % 50 == 0) s = Slot{};  // a skipped sequence
    idx.push_back(s);
    model.push_back(s);
  }
  expect_same(idx, model);
  for (int k = 0; k < 8000; ++k) {
    size_t i = rng() % model.size();
    idx.set_gone(i);
    model[i] = Slot{};
  }
  expect_same(idx, model);
  // Pop the front as the store does (only removed slots), then a few live ones too.
  for (int k = 0; k < 5000; ++k) {
    idx.pop_front();
    model.erase(model.begin());
  }
  expect_same(idx, model);
}

TEST(SlotIndexTest, FullyRemovedChunksReleaseTheirMemory) {
  SlotIndex idx;
  for (uint32_t i = 0; i < 4 * 4096; ++i) idx.push_back({i % 3, 50 + i % 7});
  size_t full = idx.memory();
  // Remove every sequence of the second and third chunks (a work queue acked out of order).
  for (size_t i = 2 * 4096; i-- > 4096;) idx.set_gone(i);
  for (size_t i = 2 * 4096; i < 3 * 4096; i += 2) idx.set_gone(i);
  for (size_t i = 2 * 4096 + 1; i < 3 * 4096; i += 2) idx.set_gone(i);
  EXPECT_GT(full, 4u * 32 * 1024);  // two arrays of 4096 u32 per chunk
  EXPECT_LT(idx.memory(), full / 2 + 1024);
  EXPECT_EQ(idx.next_live(4096), 3u * 4096);
  EXPECT_EQ(idx.prev_live(3 * 4096 - 1), 4095u);
  EXPECT_EQ(idx.get(3 * 4096).subj, (3u * 4096) % 3);
}

TEST(SlotIndexTest, PopToEmptyThenReuse) {
  SlotIndex idx;
  for (int i = 0; i < 5000; ++i) idx.push_back({1, 10});
  for (int i = 0; i < 5000; ++i) {
    idx.set_gone(0);
    idx.pop_front();
  }
  EXPECT_TRUE(idx.empty());
  EXPECT_EQ(idx.next_live(0), 0u);
  EXPECT_EQ(idx.prev_live(0), SIZE_MAX);
  idx.push_back({2, 20});
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_EQ(idx.get(0).subj, 2u);
  EXPECT_EQ(idx.get(0).size, 20u);
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
