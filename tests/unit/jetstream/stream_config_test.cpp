// Stream config defaults and validation as the reference (checkStreamCfg), and the header
// helpers the ingest path uses.
#include <gtest/gtest.h>

#include "jetstream/headers.h"
#include "jetstream/json_util.h"
#include "jetstream/stream_config.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

namespace {
StreamConfig parse_ok(std::string_view body) {
  ApiError e;
  auto c = parse_stream_config(body, e);
  EXPECT_TRUE(c.has_value()) << body;
  return c.value_or(StreamConfig{});
}
ApiError check(std::string_view body) {
  auto c = parse_ok(body);
  return check_stream_config(c, false);
}
}  // namespace

TEST(StreamConfig, DefaultsMatchReference) {
  auto c = parse_ok(R"({"name":"S1","subjects":["a.>"]})");
  ASSERT_TRUE(check_stream_config(c, false).empty());
  // The exact JSON the reference 2.9.10 returns for this request.
  EXPECT_EQ(c.to_json().dump(),
            R"({"name":"S1","subjects":["a.>"],"retention":"limits","max_consumers":-1,"max_msgs":-1,)"
            R"("max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old",)"
            R"("storage":"file","num_replicas":1,"duplicate_window":120000000000,"allow_direct":false,)"
            R"("mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false})");
}

TEST(StreamConfig, SubjectDefaultsToNameAndDuplicateWindowToMaxAge) {
  auto c = parse_ok(R"({"name":"ORDERS","max_age":1000000000,"storage":"memory"})");
  ASSERT_TRUE(check_stream_config(c, false).empty());
  ASSERT_EQ(c.subjects.size(), 1u);
  EXPECT_EQ(c.subjects[0], "ORDERS");
  EXPECT_EQ(c.duplicate_window_ns, 1000000000);
  EXPECT_EQ(c.storage, StorageType::memory);
}

TEST(StreamConfig, FieldOrderWithOptionalFields) {
  auto c = parse_ok(R"({"name":"K","description":"d","subjects":["k.>"],"discard":"new","max_msgs_per_subject":2,)"
                    R"("discard_new_per_subject":true,"placement":{"cluster":"x"},"republish":{"src":"k.>","dest":"r.>"}})");
  ASSERT_TRUE(check_stream_config(c, false).empty());
  auto s = c.to_json().dump();
  EXPECT_LT(s.find("\"description\""), s.find("\"subjects\""));
  EXPECT_LT(s.find("\"placement\""), s.find("\"republish\""));
  EXPECT_LT(s.find("\"republish\""), s.find("\"allow_direct\""));
  EXPECT_LT(s.find("\"discard_new_per_subject\""), s.find("\"sealed\""));
}

TEST(StreamConfig, BadJsonIsInvalidJson) {
  ApiError e;
  EXPECT_FALSE(parse_stream_config("{bad", e));
  EXPECT_EQ(e.err_code, 10025);
  EXPECT_EQ(e.description, "invalid JSON");
  EXPECT_FALSE(parse_stream_config(R"({"name":"Z","retention":"bogus"})", e));
  EXPECT_EQ(e.err_code, 10025);
  EXPECT_FALSE(parse_stream_config(R"({"name":"Z","max_age":"x"})", e));
  EXPECT_FALSE(parse_stream_config("", e));
  EXPECT_TRUE(parse_stream_config(R"({"name":"Z","unknown_field":1})", e));
}

TEST(StreamConfig, ValidationErrorsMatchReference) {
  auto e = check(R"({"name":"X","subjects":["x"],"max_age":10})");
  EXPECT_EQ(e.err_code, 10052);
  EXPECT_EQ(e.description, "max age needs to be >= 100ms");
  e = check(R"({"name":"Z","subjects":["$JS.API.x"]})");
  EXPECT_EQ(e.description, "subjects overlap with jetstream api");
  e = check(R"({"name":"Z","subjects":["z","z"]})");
  EXPECT_EQ(e.description, "duplicate subjects detected");
  e = check(R"({"name":"Z","subjects":["z.*","z.a"]})");
  EXPECT_EQ(e.description, "subject \"z.*\" overlaps with \"z.a\"");
  e = check(R"({"name":"K","subjects":["k"],"num_replicas":3})");
  EXPECT_EQ(e.err_code, 10074);
  e = check(R"({"name":"a.b"})");
  EXPECT_EQ(e.err_code, 10052);
  e = check(R"({"name":"a/b"})");
  EXPECT_EQ(e.err_code, 10128);
  e = check(R"({"name":"K","deny_purge":true,"allow_rollup_hdrs":true})");
  EXPECT_EQ(e.description, "roll-ups require the purge permission");
  e = check(R"({"name":"K","discard_new_per_subject":true})");
  EXPECT_EQ(e.description, "discard new per subject requires discard new policy to be set");
  e = check(R"({"name":"K","num_replicas":-1})");
  EXPECT_EQ(e.err_code, 10133);
  auto c = parse_ok(R"({"name":"K","num_replicas":3})");
  EXPECT_TRUE(check_stream_config(c, true).empty());
}

TEST(StreamConfig, UpdateRules) {
  auto old_cfg = parse_ok(R"({"name":"K","subjects":["k.>"],"deny_delete":true})");
  ASSERT_TRUE(check_stream_config(old_cfg, false).empty());
  auto n = parse_ok(R"({"name":"K","subjects":["k.>"]})");
  EXPECT_EQ(check_stream_update(old_cfg, n, false).description,
            "stream configuration update can not cancel deny message deletes");
  n = parse_ok(R"({"name":"K","subjects":["k.>"],"deny_delete":true,"storage":"memory"})");
  EXPECT_EQ(check_stream_update(old_cfg, n, false).description,
            "stream configuration update can not change storage type");
  n = parse_ok(R"({"name":"K","subjects":["k.>","j"],"deny_delete":true,"max_msgs":5})");
  EXPECT_TRUE(check_stream_update(old_cfg, n, false).empty());
  n = parse_ok(R"({"name":"K","subjects":["k.>"],"deny_delete":true,"sealed":true})");
  ASSERT_TRUE(check_stream_update(old_cfg, n, false).empty());
  EXPECT_TRUE(n.deny_purge);
  EXPECT_EQ(n.discard, Discard::new_msgs);
}

TEST(ApiErrors, PlaceholdersAreFilled) {
  auto e = api_error(err::StreamWrongLastSequence, {{"{seq}", "2"}});
  EXPECT_EQ(e.description, "wrong last sequence: 2");
  EXPECT_EQ(e.to_json().dump(), R"({"code":400,"err_code":10071,"description":"wrong last sequence: 2"})");
  EXPECT_EQ(api_error(err::StreamStoreFailed, "maximum messages exceeded").code, 503);
}

TEST(Headers, LookupAndBuild) {
  std::string h = "NATS/1.0\r\nNats-Msg-Id: abc \r\nNats-Expected-Last-Sequence: 12\r\nX: y\r\n\r\n";
  EXPECT_EQ(header_value(h, kMsgIdHdr).value(), "abc");
  EXPECT_EQ(header_uint(h, kExpectedLastSeqHdr).value(), 12u);
  EXPECT_FALSE(header_value(h, "nats-msg-id"));  // case-sensitive, as the reference
  EXPECT_FALSE(header_uint(h, "X"));
  EXPECT_FALSE(header_value("", kMsgIdHdr));
  EXPECT_EQ(build_headers({{"A", "1"}}), "NATS/1.0\r\nA: 1\r\n\r\n");
  EXPECT_EQ(build_headers({}, "404 Message Not Found"), "NATS/1.0 404 Message Not Found\r\n\r\n");
  EXPECT_EQ(append_headers(h, {{"B", "2"}}), h.substr(0, h.size() - 2) + "B: 2\r\n\r\n");
}

TEST(JsonUtil, TimesAndBase64) {
  EXPECT_EQ(format_time(0), "0001-01-01T00:00:00Z");
  int64_t t = 1795652353440289831LL;
  EXPECT_EQ(parse_time(format_time(t)), t);
  // Years int64 nanoseconds cannot hold saturate instead of overflowing.
  EXPECT_GT(parse_time("4044-01-01T00:00:00Z"), parse_time("2262-01-01T00:00:00Z"));
  EXPECT_LT(parse_time("1066-10-14T00:00:00Z"), parse_time("1678-01-01T00:00:00Z"));
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
}

}  // namespace NATS_TEST_FILE_ID
