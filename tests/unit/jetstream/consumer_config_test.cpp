#include <gtest/gtest.h>

#include <limits>

#include "jetstream/consumer_config.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
using nlohmann::json;

namespace {
ConsumerConfig parse_ok(const char* text) {
  ConsumerConfig c;
  auto e = parse_consumer_config(json::parse(text), c);
  EXPECT_FALSE(e.has_value()) << (e ? e->description : "");
  return c;
}
int validate_code(const char* text, StreamContext st = {}) {
  ConsumerConfig c = parse_ok(text);
  apply_consumer_defaults(c);
  auto e = validate_consumer_config(c, st);
  return e ? e->err_code : 0;
}
}  // namespace

TEST(ConsumerConfig, DefaultsMatchReference) {
  // Reference 2.9.10: an ephemeral pull consumer with ack explicit.
  ConsumerConfig c = parse_ok(R"({"ack_policy":"explicit"})");
  apply_consumer_defaults(c);
  EXPECT_EQ(consumer_config_json(c).dump(),
            R"({"deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,)"
            R"("replay_policy":"instant","max_waiting":512,"max_ack_pending":1000,"inactive_threshold":5000000000,)"
            R"("num_replicas":0})");
  // Durable push with flow control: no max_waiting, no inactive threshold.
  ConsumerConfig d = parse_ok(
      R"({"durable_name":"D","name":"D","deliver_subject":"x.y","ack_policy":"explicit","idle_heartbeat":5000000000,"flow_control":true})");
  apply_consumer_defaults(d);
  EXPECT_EQ(consumer_config_json(d).dump(),
            R"({"durable_name":"D","name":"D","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,)"
            R"("max_deliver":-1,"replay_policy":"instant","max_ack_pending":1000,"idle_heartbeat":5000000000,)"
            R"("flow_control":true,"deliver_subject":"x.y","num_replicas":0})");
}

TEST(ConsumerConfig, FieldOrderOfAFullConfig) {
  ConsumerConfig c = parse_ok(
      R"({"name":"FULL","description":"d","deliver_policy":"by_start_time","opt_start_time":"2020-01-01T00:00:00.5+01:00",
          "ack_policy":"explicit","ack_wait":2000000000,"max_deliver":5,"backoff":[2000000000,3000000000],
          "filter_subject":"s.b","replay_policy":"original","sample_freq":"50%","max_ack_pending":10,
          "headers_only":true,"max_batch":5,"max_expires":5000000000,"max_bytes":100,"inactive_threshold":7000000000,
          "num_replicas":1,"mem_storage":true})");
  apply_consumer_defaults(c);
  EXPECT_EQ(consumer_config_json(c).dump(),
            R"({"name":"FULL","description":"d","deliver_policy":"by_start_time","opt_start_time":"2020-01-01T00:00:00.5+01:00",)"
            R"("ack_policy":"explicit","ack_wait":2000000000,"max_deliver":5,"backoff":[2000000000,3000000000],)"
            R"("filter_subject":"s.b","replay_policy":"original","sample_freq":"50%","max_waiting":512,"max_ack_pending":10,)"
            R"("headers_only":true,"max_batch":5,"max_expires":5000000000,"max_bytes":100,"inactive_threshold":7000000000,)"
            R"("num_replicas":1,"mem_storage":true})");
  ASSERT_TRUE(c.opt_start_time_ns.has_value());
  EXPECT_EQ(*c.opt_start_time_ns, 1577833200'500000000LL);
}

TEST(ConsumerConfig, BadJsonValuesAreInvalidJson) {
  ConsumerConfig c;
  auto e = parse_consumer_config(json::parse(R"({"ack_policy":"sometimes"})"), c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err_code, 10025);
  e = parse_consumer_config(json::parse(R"({"max_deliver":"x"})"), c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err_code, 10025);
}

TEST(ConsumerConfig, ValidationErrCodes) {
  StreamContext st;
  st.subjects = {"s.>"};
  EXPECT_EQ(validate_code(R"({"deliver_subject":"a.*"})", st), 10079);
  EXPECT_EQ(validate_code(R"({"deliver_subject":"s.x"})", st), 10081);
  EXPECT_EQ(validate_code(R"({"deliver_subject":"d","max_waiting":3})", st), 10080);
  EXPECT_EQ(validate_code(R"({"deliver_subject":"d","max_ack_pending":3})", st), 10082);
  EXPECT_EQ(validate_code(R"({"deliver_subject":"d","idle_heartbeat":50000000})", st), 10083);
  EXPECT_EQ(validate_code(R"({"deliver_subject":"d","flow_control":true})", st), 10108);
  EXPECT_EQ(validate_code(R"({"rate_limit_bps":5})", st), 10086);
  EXPECT_EQ(validate_code(R"({"idle_heartbeat":1000000000})", st), 10088);
  EXPECT_EQ(validate_code(R"({"flow_control":true})", st), 10089);
  EXPECT_EQ(validate_code(R"({"max_expires":10})", st), 10115);
  EXPECT_EQ(validate_code(R"({"deliver_policy":"by_start_sequence"})", st), 10094);
  EXPECT_EQ(validate_code(R"({"deliver_policy":"all","opt_start_seq":4})", st), 10094);
  EXPECT_EQ(validate_code(R"({"deliver_policy":"last_per_subject"})", st), 10094);
  EXPECT_EQ(validate_code(R"({"filter_subject":"other.x"})", st), 10093);
  EXPECT_EQ(validate_code(R"({"filter_subject":"s.a"})", st), 0);
  EXPECT_EQ(validate_code(R"({"durable_name":"a.b"})", st), 10052);
  EXPECT_EQ(validate_code(R"({"durable_name":"A","name":"B"})", st), 10132);
  EXPECT_EQ(validate_code(R"({"ack_policy":"explicit","max_deliver":1,"backoff":[1,2]})", st), 10116);
  EXPECT_EQ(validate_code(R"({"sample_freq":"x%"})", st), 10095);
  EXPECT_EQ(validate_code(R"({"num_replicas":3})", st), 10126);  // the API answers 10074 first when not clustered
  st.retention = RetentionPolicy::workqueue;
  EXPECT_EQ(validate_code(R"({"ack_policy":"none"})", st), 10084);
}

TEST(ConsumerConfig, UpdateRules) {
  ConsumerConfig a = parse_ok(R"({"durable_name":"D","ack_policy":"explicit","description":"x"})");
  apply_consumer_defaults(a);
  ConsumerConfig b = a;
  b.description = "changed";
  b.max_ack_pending = 5;
  b.ack_wait_ns = 1;
  EXPECT_FALSE(check_consumer_update(a, b).has_value());
  b.ack_policy = AckPolicy::none;
  auto e = check_consumer_update(a, b);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->err_code, 10012);
  EXPECT_EQ(e->description, "ack policy can not be updated");
}

TEST(ConsumerConfig, Rfc3339) {
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:01Z"), 1'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:01.25Z"), 1'250'000'000);
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(parse_rfc3339_ns("yesterday").has_value());
}

// Regression (fuzz_js_config): years outside 1677..2262 overflowed int64 nanoseconds (UB).
TEST(ConsumerConfig, Rfc3339OutOfNanosecondRangeClamps) {
  EXPECT_EQ(parse_rfc3339_ns("1013-11-26T00:00:00.123+01:00"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_rfc3339_ns("9999-12-31T23:59:59Z"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_rfc3339_ns("2262-04-11T23:47:16.854775807Z"), std::numeric_limits<int64_t>::max());
}

}  // namespace NATS_TEST_FILE_ID
