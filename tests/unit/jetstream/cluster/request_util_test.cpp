#include "jetstream/cluster/request_util.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::cluster_util::NATS_TEST_FILE_ID {
namespace {

TEST(ClusterRequestUtil, ArgsAfterPrefix) {
  EXPECT_EQ(args_after("STREAM.CREATE.ORDERS", "STREAM.CREATE"), std::vector<std::string>{"ORDERS"});
  EXPECT_EQ(args_after("CONSUMER.CREATE.S.C.f.>", "CONSUMER.CREATE"),
            (std::vector<std::string>{"S", "C", "f", ">"}));
  EXPECT_TRUE(args_after("STREAM.NAMES", "STREAM.NAMES").empty());
}

TEST(ClusterRequestUtil, StreamScopedPrefixIsTheLongestMatch) {
  EXPECT_EQ(stream_scoped_prefix("STREAM.INFO.ORDERS"), "STREAM.INFO");
  EXPECT_EQ(stream_scoped_prefix("STREAM.MSG.GET.ORDERS"), "STREAM.MSG.GET");
  EXPECT_EQ(stream_scoped_prefix("CONSUMER.DURABLE.CREATE.S.D"), "CONSUMER.DURABLE.CREATE");
  EXPECT_EQ(stream_scoped_prefix("CONSUMER.MSG.NEXT.S.D"), "CONSUMER.MSG.NEXT");
  // Not stream-scoped, or no stream named.
  EXPECT_EQ(stream_scoped_prefix("STREAM.NAMES"), "");
  EXPECT_EQ(stream_scoped_prefix("STREAM.INFO"), "");
  EXPECT_EQ(stream_scoped_prefix("STREAM.INFOX.A"), "");
  EXPECT_EQ(stream_scoped_prefix("INFO"), "");
}

TEST(ClusterRequestUtil, SubjectsOverlap) {
  StreamConfig a, b;
  a.subjects = {"orders.>"};
  b.subjects = {"orders.new"};
  EXPECT_TRUE(subjects_overlap(a, b));
  b.subjects = {"other.*"};
  EXPECT_FALSE(subjects_overlap(a, b));
}

}  // namespace
}  // namespace nats::jetstream::cluster_util::NATS_TEST_FILE_ID
