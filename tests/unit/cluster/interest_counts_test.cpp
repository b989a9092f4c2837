// InterestCounts: the +/- lines routes and leafs send as local interest changes.
#include "cluster/interest_counts.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::cluster::NATS_TEST_FILE_ID {
namespace {

std::string step(InterestCounts& c, std::string_view op, std::string_view acc, std::string_view subj,
                 std::string_view queue, int delta) {
  const std::string key = InterestCounts::key(subj, queue);
  auto u = c.change(key, !queue.empty(), delta);
  return u ? interest_line(op, acc, key, *u) : std::string();
}

TEST(InterestCounts, PlainSubjectsAreAnnouncedOnceAndWithdrawnOnce) {
  InterestCounts c;
  EXPECT_EQ(step(c, "LS", "", "foo", "", 1), "LS+ foo\r\n");
  EXPECT_EQ(step(c, "LS", "", "foo", "", 1), "");
  EXPECT_EQ(step(c, "LS", "", "foo", "", -1), "");
  EXPECT_EQ(step(c, "LS", "", "foo", "", -1), "LS- foo\r\n");
  EXPECT_TRUE(c.counts().empty());
}

TEST(InterestCounts, QueueGroupsCarryTheirWeightOnEveryChange) {
  InterestCounts c;
  EXPECT_EQ(step(c, "RS", "$G", "foo", "g", 1), "RS+ $G foo g 1\r\n");
  EXPECT_EQ(step(c, "RS", "$G", "foo", "g", 3), "RS+ $G foo g 4\r\n");
  EXPECT_EQ(step(c, "RS", "$G", "foo", "g", -1), "RS+ $G foo g 3\r\n");
  EXPECT_EQ(step(c, "RS", "$G", "foo", "g", -3), "RS- $G foo g\r\n");
}

TEST(InterestCounts, SilentAddsCountTowardsLaterChanges) {
  InterestCounts c;
  c.add_silently("bar", 2);
  EXPECT_EQ(step(c, "LS", "", "bar", "", -1), "");
  EXPECT_EQ(step(c, "LS", "", "bar", "", -1), "LS- bar\r\n");
}

}  // namespace
}  // namespace nats::cluster::NATS_TEST_FILE_ID
