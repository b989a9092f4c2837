// RePublish pieces (jetstream/stream_republish.h): the config's normal form and checks, the
// destination transform and the header block as 2.9.10 writes it.
#include "jetstream/stream_republish.h"

#include <gtest/gtest.h>

#include "jetstream/stream_config.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

using ojson = nlohmann::ordered_json;

TEST(StreamRepublish, NormalFormOrdersFieldsAndDropsDefaults) {
  ojson rp = {{"headers_only", false}, {"dest", "r.>"}, {"src", ""}};
  ASSERT_TRUE(normalize_republish_json(rp));
  EXPECT_EQ(rp.dump(), R"({"dest":"r.>"})");
  ojson full = {{"headers_only", true}, {"dest", "r.>"}, {"src", "k.>"}};
  ASSERT_TRUE(normalize_republish_json(full));
  EXPECT_EQ(full.dump(), R"({"src":"k.>","dest":"r.>","headers_only":true})");
  for (ojson bad : {ojson{{"src", 1}}, ojson{{"dest", true}}, ojson{{"headers_only", "yes"}}, ojson::array()})
    EXPECT_FALSE(normalize_republish_json(bad)) << bad.dump();
}

TEST(StreamRepublish, ChecksAsTheReference) {
  std::vector<std::string> subjects{"k.>"};
  ojson rp = {{"dest", "r.>"}};
  EXPECT_EQ(check_republish(rp, subjects), "");
  EXPECT_EQ(rp.dump(), R"({"src":">","dest":"r.>"})");  // src defaults to >, first
  ojson outside = {{"src", "x.>"}, {"dest", "r.>"}};
  EXPECT_EQ(check_republish(outside, subjects),
            "stream configuration for republish source is not valid subset of subjects");
  ojson cycle = {{"src", "k.>"}, {"dest", "k.a"}};
  EXPECT_EQ(check_republish(cycle, subjects), "stream configuration for republish destination forms a cycle");
  ojson bad_ref = {{"src", "k.*"}, {"dest", "r.$2"}};
  EXPECT_EQ(check_republish(bad_ref, subjects), "stream configuration for republish not valid");
}

TEST(StreamRepublish, DestinationFollowsTheTransform) {
  StreamConfig cfg;
  cfg.republish = {{"src", "k.*.>"}, {"dest", "r.$1.>"}};
  auto rp = Republisher::from_config(cfg);
  ASSERT_TRUE(rp);
  EXPECT_EQ(rp->destination("k.a.b.c").value_or(""), "r.a.b.c");
  EXPECT_FALSE(rp->destination("x.a.b"));
  EXPECT_FALSE(Republisher::from_config(StreamConfig{}));
}

TEST(StreamRepublish, HeadersAreAppendedToTheStoredBlock) {
  EXPECT_EQ(republish_headers("", "S", "k.a", 3, 1, std::nullopt),
            "NATS/1.0\r\nNats-Stream: S\r\nNats-Subject: k.a\r\nNats-Sequence: 3\r\nNats-Last-Sequence: 1\r\n\r\n");
  EXPECT_EQ(republish_headers("NATS/1.0\r\nA: b\r\n\r\n", "S", "k.a", 4, 0, 17),
            "NATS/1.0\r\nA: b\r\nNats-Stream: S\r\nNats-Subject: k.a\r\nNats-Sequence: 4\r\nNats-Last-Sequence: 0\r\n"
            "Nats-Msg-Size: 17\r\n\r\n");
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
