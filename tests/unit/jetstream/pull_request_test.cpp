// Pull request bodies and -NAK delays parsed as 2.9.10 reads them (nextReqFromMsg, processNak).
#include <gtest/gtest.h>

#include "jetstream/pull_request.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

namespace {

std::string refusal(std::string_view body) {
  PullRequestBody r;
  auto e = parse_pull_request(body, r);
  return e ? *e : "";
}

}  // namespace

TEST(PullRequestParse, EmptyAndNumbers) {
  PullRequestBody r;
  EXPECT_FALSE(parse_pull_request("", r));
  EXPECT_EQ(r.batch, 1);
  EXPECT_FALSE(parse_pull_request("  12 ", r));
  EXPECT_EQ(r.batch, 12);
  EXPECT_FALSE(parse_pull_request("abc", r));  // Atoi fails: one message
  EXPECT_EQ(r.batch, 1);
  EXPECT_FALSE(parse_pull_request("-3", r));
  EXPECT_EQ(r.batch, -3);
}

TEST(PullRequestParse, JsonFields) {
  PullRequestBody r;
  ASSERT_FALSE(parse_pull_request(R"({"batch":5,"expires":2000000000,"max_bytes":100,"no_wait":true,)"
                                  R"("idle_heartbeat":500000000})", r));
  EXPECT_EQ(r.batch, 5);
  EXPECT_EQ(r.expires_ns, 2000000000);
  EXPECT_EQ(r.max_bytes, 100);
  EXPECT_TRUE(r.no_wait);
  EXPECT_EQ(r.hb_ns, 500000000);
  ASSERT_FALSE(parse_pull_request(R"({"expires":1})", r));
  EXPECT_EQ(r.batch, 0);  // the reference's zero batch (still one message)
  ASSERT_FALSE(parse_pull_request(R"({"Batch":3,"batch":null})", r));  // Go matches keys case-insensitively
  EXPECT_EQ(r.batch, 3);
}

TEST(PullRequestParse, RefusalsCarryGoTexts) {
  EXPECT_EQ(refusal(R"({"batch":"x"})"),
            "json: cannot unmarshal string into Go struct field JSApiConsumerGetNextRequest.batch of type int");
  EXPECT_EQ(refusal(R"({"expires":true})"),
            "json: cannot unmarshal bool into Go struct field JSApiConsumerGetNextRequest.expires of type time.Duration");
  EXPECT_EQ(refusal(R"({"no_wait":1})"),
            "json: cannot unmarshal number into Go struct field JSApiConsumerGetNextRequest.no_wait of type bool");
  EXPECT_EQ(refusal(R"({"batch":1.5})"),
            "json: cannot unmarshal number 1.5 into Go struct field JSApiConsumerGetNextRequest.batch of type int");
  EXPECT_EQ(refusal(R"({"expires":1000,"idle_heartbeat":600})"), "heartbeat value too large");
  EXPECT_EQ(refusal(R"({"idle_heartbeat":1})"), "heartbeat value too large");
  EXPECT_EQ(refusal(R"({"batch":1)"), "unexpected end of JSON input");
  EXPECT_FALSE(refusal(R"({"batch":1 x})").empty());
}

TEST(NakDelayParse, JsonAndGoDurations) {
  EXPECT_FALSE(parse_nak_delay(""));
  EXPECT_FALSE(parse_nak_delay("   "));
  EXPECT_EQ(parse_nak_delay(" 300ms"), 300000000);
  EXPECT_EQ(parse_nak_delay("1m30s"), 90000000000);
  EXPECT_EQ(parse_nak_delay("0s"), 0);
  EXPECT_FALSE(parse_nak_delay("soon"));
  EXPECT_EQ(parse_nak_delay(R"({"delay":5000})"), 5000);
  EXPECT_EQ(parse_nak_delay(R"({})"), 0);
  EXPECT_FALSE(parse_nak_delay(R"({"delay":"1s"})"));
  EXPECT_FALSE(parse_nak_delay(R"({"delay":1.5})"));
  EXPECT_FALSE(parse_nak_delay(R"({bad)"));
}

}  // namespace NATS_TEST_FILE_ID
