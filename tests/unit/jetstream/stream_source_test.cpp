// Mirror/sources configuration: parsing into specs (index names), the Nats-Stream-Source
// header, normalisation and the checks against origin streams (reference checkStreamCfg).
#include <gtest/gtest.h>

#include <map>

#include "jetstream/stream_config.h"
#include "jetstream/stream_source.h"

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

StreamConfigLookup lookup_in(const std::map<std::string, std::string>& bodies) {
  return [bodies](const std::string& name) -> std::optional<StreamConfig> {
    auto it = bodies.find(name);
    if (it == bodies.end()) return std::nullopt;
    return parse_ok(it->second);
  };
}

}  // namespace

TEST(StreamSource, SpecsCarryStartFilterAndExternalIndexName) {
  auto c = parse_ok(R"({"name":"A","sources":[{"name":"X","opt_start_seq":5,"filter_subject":"x.a"},)"
                    R"({"name":"X","external":{"api":"$JS.hub.API","deliver":"dlv"}}]})");
  ASSERT_TRUE(check_stream_config(c, false).empty());
  auto specs = source_specs(c);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].iname, "X");
  EXPECT_EQ(specs[0].opt_start_seq, 5u);
  EXPECT_EQ(specs[0].filter_subject, "x.a");
  EXPECT_TRUE(specs[1].external);
  EXPECT_EQ(specs[1].api_prefix, "$JS.hub.API");
  // Two sources of the same name stay apart: the external one is indexed by its API prefix.
  EXPECT_EQ(specs[1].iname.rfind("X:", 0), 0u);
  EXPECT_EQ(specs[1].iname.size(), 2u + 8u);
}

TEST(StreamSource, HeaderInBothForms) {
  std::string name;
  uint64_t seq = 0;
  ASSERT_TRUE(parse_stream_source_header("ORDERS 42", name, seq));
  EXPECT_EQ(name, "ORDERS");
  EXPECT_EQ(seq, 42u);
  ASSERT_TRUE(parse_stream_source_header("$JS.ACK.ORDERS.c1.1.7.3.1700000000.0", name, seq));
  EXPECT_EQ(name, "ORDERS");
  EXPECT_EQ(seq, 7u);
  EXPECT_FALSE(parse_stream_source_header("garbage", name, seq));
}

TEST(StreamSource, NormalisedToReferenceFieldsAndExternalPrefixesChecked) {
  auto c = parse_ok(R"({"name":"M","mirror":{"name":"O","junk":1,"opt_start_seq":0,"filter_subject":""}})");
  ASSERT_TRUE(check_stream_config(c, false).empty());
  EXPECT_EQ(c.to_json()["mirror"].dump(), R"({"name":"O"})");
  auto bad_api = parse_ok(R"({"name":"M","mirror":{"name":"O","external":{"api":"$JS.API"}}})");
  EXPECT_EQ(check_stream_config(bad_api, false).err_code, 10021);
  auto bad_deliver = parse_ok(R"({"name":"M","mirror":{"name":"O","external":{"api":"a","deliver":"d.>"}}})");
  EXPECT_EQ(check_stream_config(bad_deliver, false).err_code, 10024);
}

TEST(StreamSource, OriginChecks) {
  auto origins = lookup_in({{"O", R"({"name":"O","subjects":["o.>"],"allow_direct":true,"max_msg_size":10})"},
                            {"B", R"({"name":"B","sources":[{"name":"C"}]})"}});
  auto m = parse_ok(R"({"name":"M","mirror":{"name":"O"}})");
  ASSERT_TRUE(check_stream_origins(m, origins).empty());
  EXPECT_TRUE(m.mirror_direct);  // inherited from the origin's allow_direct
  auto small = parse_ok(R"({"name":"M","mirror":{"name":"O"},"max_msg_size":5})");
  EXPECT_EQ(check_stream_origins(small, origins).err_code, 10030);
  auto filt = parse_ok(R"({"name":"S","sources":[{"name":"O","filter_subject":"p.x"}]})");
  EXPECT_EQ(check_stream_origins(filt, origins).description,
            "source 'O' filter subject 'p.x' does not overlap with any origin stream subject");
  // C sources B, which sources C.
  auto cyc = parse_ok(R"({"name":"C","sources":[{"name":"B"}]})");
  EXPECT_EQ(check_stream_origins(cyc, origins).description, "detected cycle");
  // Origins that do not exist (yet) are not checked.
  auto later = parse_ok(R"({"name":"L","sources":[{"name":"NOPE","filter_subject":"z"}]})");
  EXPECT_TRUE(check_stream_origins(later, origins).empty());
}

TEST(StreamSource, WrongTypesAreInvalidJson) {
  for (const char* body : {R"({"name":"M","mirror":{"name":5}})", R"({"name":"M","mirror":{"name":"O","opt_start_seq":-1}})",
                           R"({"name":"M","sources":[{"name":"O","external":{"api":1}}]})",
                           R"({"name":"M","sources":["O"]})", R"({"name":"M","mirror":{"opt_start_time":"yesterday"}})"}) {
    ApiError e;
    EXPECT_FALSE(parse_stream_config(body, e).has_value()) << body;
    EXPECT_EQ(e.err_code, 10025) << body;
  }
}

}  // namespace NATS_TEST_FILE_ID
