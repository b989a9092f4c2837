#include "jetstream/cluster/assignment.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

StreamAssignment sample_stream() {
  StreamAssignment sa;
  sa.account = "$G";
  sa.config.name = "ORDERS";
  sa.config.subjects = {"orders.>"};
  sa.config.num_replicas = 1;
  sa.created_ns = 1700000000123456789;
  sa.group = {"S-R1F-abcdefgh", {"k2My6qdB"}, "file", "east", ""};
  sa.origin = {"$G", "n3", "west", "_INBOX.x", 42, {}, {}};
  return sa;
}

TEST(Assignment, StreamEntryRoundTrips) {
  MetaEntry e{MetaOp::assign_stream, sample_stream(), std::nullopt, {}};
  auto data = encode_meta_entry(e);
  EXPECT_EQ(data[0], 1);
  auto d = decode_meta_entry(data);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->op, MetaOp::assign_stream);
  ASSERT_TRUE(d->stream);
  EXPECT_EQ(d->stream->account, "$G");
  EXPECT_EQ(d->stream->config, e.stream->config);
  EXPECT_EQ(d->stream->created_ns, e.stream->created_ns);
  EXPECT_EQ(d->stream->group, e.stream->group);
  EXPECT_EQ(d->stream->origin, e.stream->origin);
}

TEST(Assignment, ConsumerEntryRoundTrips) {
  ConsumerAssignment ca;
  ca.account = "$G";
  ca.stream = "ORDERS";
  ca.name = "D";
  ca.config.durable_name = "D";
  ca.config.ack_policy = AckPolicy::explicit_ack;
  ca.config.filter_subject = "orders.new";
  ca.group = {"C-R1F-12345678", {"k2My6qdB"}, "file", "east", ""};
  auto d = decode_meta_entry(encode_meta_entry({MetaOp::assign_consumer, std::nullopt, ca, {}}));
  ASSERT_TRUE(d && d->consumer);
  EXPECT_EQ(d->consumer->name, "D");
  EXPECT_EQ(d->consumer->config.ack_policy, AckPolicy::explicit_ack);
  EXPECT_EQ(d->consumer->config.filter_subject, "orders.new");
  EXPECT_EQ(d->consumer->group, ca.group);
}

TEST(Assignment, GarbageIsRejected) {
  EXPECT_FALSE(decode_meta_entry(""));
  EXPECT_FALSE(decode_meta_entry("\x09{}"));
  EXPECT_FALSE(decode_meta_entry("\x01not json"));
  EXPECT_FALSE(decode_meta_entry("\x01{}"));  // no stream config
}

TEST(Assignment, GroupNamesAsTheReference) {
  EXPECT_EQ(group_name('S', 3, StorageType::file, "abcdefgh"), "S-R3F-abcdefgh");
  EXPECT_EQ(group_name('C', 1, StorageType::memory, "12345678"), "C-R1M-12345678");
  auto id = random_group_id();
  EXPECT_EQ(id.size(), 8u);
  EXPECT_NE(id, random_group_id());
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
