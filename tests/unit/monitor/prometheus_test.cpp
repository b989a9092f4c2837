// The Prometheus text formatter behind /metrics: names, label escaping, number formatting,
// and families grouped with one HELP and TYPE each whatever order samples are added in.
#include "monitor/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::prometheus;

TEST(Prometheus, MetricAndLabelNames) {
  EXPECT_TRUE(valid_metric_name("nats_server_in_msgs_total"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_TRUE(valid_metric_name("_x"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("9x"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name("a.b"));
  EXPECT_TRUE(valid_label_name("stream"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("__name"));
  EXPECT_FALSE(valid_label_name("1a"));
}

TEST(Prometheus, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("$G"), "$G");
  EXPECT_EQ(escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
}

TEST(Prometheus, Numbers) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(1000000), "1000000");
  EXPECT_EQ(format_value(-3), "-3");
  // Beyond 2^53: the shortest form that reads back (a float sample; Prometheus parses either).
  EXPECT_EQ(format_value(18446744073709551615.0), "18446744073709551616");
  EXPECT_EQ(format_value(1e300), "1e+300");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(Prometheus, FamiliesAreGroupedInDeclarationOrder) {
  Writer w;
  w.family("b_total", "B things", Type::counter);
  w.family("a", "A level", Type::gauge);
  w.family("empty", "never sampled", Type::gauge);
  w.add("a", {{"stream", "S1"}}, 1);
  w.add("b_total", {{"account", "x\"y"}, {"stream", "S"}}, 2);
  w.add("a", {{"stream", "S2"}}, 1.5);
  w.add("b_total", 7);
  EXPECT_EQ(w.render(),
            "# HELP b_total B things\n"
            "# TYPE b_total counter\n"
            "b_total{account=\"x\\\"y\",stream=\"S\"} 2\n"
            "b_total 7\n"
            "# HELP a A level\n"
            "# TYPE a gauge\n"
            "a{stream=\"S1\"} 1\n"
            "a{stream=\"S2\"} 1.5\n");
}

TEST(Prometheus, MistakesAreRefused) {
  Writer w;
  EXPECT_THROW(w.family("bad-name", "x", Type::gauge), std::logic_error);
  EXPECT_THROW(w.add("undeclared", 1), std::logic_error);
  w.family("m", "x", Type::gauge);
  EXPECT_NO_THROW(w.family("m", "x", Type::gauge));
  EXPECT_THROW(w.family("m", "x", Type::counter), std::logic_error);
  EXPECT_THROW(w.add("m", {{"bad.label", "v"}}, 1), std::logic_error);
}

}  // namespace NATS_TEST_FILE_ID
