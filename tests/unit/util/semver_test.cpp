#include "util/semver.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::util::NATS_TEST_FILE_ID {
namespace {

TEST(SemVer, ParsesAsTheReference) {
  SemVer v;
  EXPECT_EQ(parse_semver("2.9.10", v), "");
  EXPECT_EQ(v.major, 2);
  EXPECT_EQ(v.minor, 9);
  EXPECT_EQ(v.patch, 10);
  EXPECT_EQ(parse_semver("v2.10.0-beta.1", v), "");
  EXPECT_EQ(v.minor, 10);
  EXPECT_EQ(parse_semver("abc", v), "invalid semver");
  EXPECT_EQ(parse_semver("", v), "invalid semver");
  EXPECT_EQ(parse_semver("2.8", v), "strconv.Atoi: parsing \"\": invalid syntax");
  EXPECT_EQ(parse_semver("28", v), "strconv.Atoi: parsing \"\": invalid syntax");
  EXPECT_EQ(parse_semver("2..8", v), "strconv.Atoi: parsing \"\": invalid syntax");
}

TEST(SemVer, AtLeast) {
  EXPECT_TRUE(version_at_least("2.9.10", {2, 8, 0}));
  EXPECT_TRUE(version_at_least("2.8.0", {2, 8, 0}));
  EXPECT_FALSE(version_at_least("2.7.99", {2, 8, 0}));
  EXPECT_FALSE(version_at_least("2.9.10", {2, 10, 0}));
  EXPECT_TRUE(version_at_least("3.0.0", {2, 10, 0}));
  EXPECT_FALSE(version_at_least("", {2, 8, 0}));  // a leaf that does not say
}

}  // namespace
}  // namespace nats::util::NATS_TEST_FILE_ID
