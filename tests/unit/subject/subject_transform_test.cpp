// Subject transforms and weighted mappings. Expected values follow the reference 2.9.10
// (server/accounts.go transform, and its accounts_test.go cases for the mapping functions).
#include "subject/subject_transform.h"

#include <gtest/gtest.h>

#include <map>

#include "subject/subject_mapping.h"

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

std::string mapped(const char* src, const char* dest, const char* subject) {
  auto t = SubjectTransform::create(src, dest);
  if (auto* err = std::get_if<std::string>(&t)) return "error: " + *err;
  return std::get<SubjectTransform>(t).apply(subject);
}

std::string create_error(const char* src, const char* dest) {
  auto t = SubjectTransform::create(src, dest);
  auto* err = std::get_if<std::string>(&t);
  return err ? *err : "";
}

TEST(SubjectTransform, LiteralAndWildcards) {
  EXPECT_EQ(mapped("foo", "bar", "foo"), "bar");
  EXPECT_EQ(mapped("foo", "bar.$1", "foo"), "bar.$1");  // a literal source keeps dest verbatim
  EXPECT_EQ(mapped("foo.*.*", "bar.$2.$1", "foo.A.B"), "bar.B.A");
  EXPECT_EQ(mapped("foo.*.*", "bar.{{wildcard(2)}}.{{ Wildcard( 1 ) }}", "foo.A.B"), "bar.B.A");
  EXPECT_EQ(mapped("foo.>", "bar.>", "foo.a.b.c"), "bar.a.b.c");
  EXPECT_EQ(mapped("foo.*.>", "bar.$1.>", "foo.a.b.c"), "bar.a.b.c");
  EXPECT_EQ(mapped("*", "x.$foo.$1", "q"), "x.$foo.q");  // "$foo" is literal text
}

TEST(SubjectTransform, Functions) {
  EXPECT_EQ(mapped("foo.*", "{{splitfromleft(1,3)}}", "foo.12345"), "123.45");
  EXPECT_EQ(mapped("foo.*", "{{SplitFromRight(1,3)}}", "foo.12345"), "12.345");
  EXPECT_EQ(mapped("foo.*", "{{splitFromLeft(1,9)}}", "foo.12345"), "12345");  // too short: unchanged
  EXPECT_EQ(mapped("foo.*", "{{SliceFromLeft(1,2)}}", "foo.1234567"), "12.34.56.7");
  EXPECT_EQ(mapped("foo.*", "{{SliceFromRight(1,2)}}", "foo.1234567"), "1.23.45.67");
  EXPECT_EQ(mapped("foo.*", "{{SliceFromLeft(1,2)}}", "foo.123456"), "12.34.56");
  EXPECT_EQ(mapped("foo.*", "{{split(1,-)}}", "foo.-abc-def--ghi-"), "abc.def.ghi");
  EXPECT_EQ(mapped("foo.*", "{{split(1,-)}}", "foo.abc"), "abc");
  EXPECT_EQ(mapped("foo.*.*", "foo.{{wildcard(1)}}.{{partition(10,1,2)}}", "foo.a.b"),
            "foo.a." + std::to_string([] {
              uint32_t h = 2166136261u;
              for (char c : std::string("ab")) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
              return h % 10;
            }()));
}

TEST(SubjectTransform, PartitionIsStableAndInRange) {
  auto t = std::get<SubjectTransform>(SubjectTransform::create("p.*", "p.{{partition(5,1)}}.$1"));
  std::map<std::string, int> seen;
  for (int i = 0; i < 200; ++i) {
    std::string out = t.apply("p.k" + std::to_string(i));
    EXPECT_EQ(out, t.apply("p.k" + std::to_string(i)));
    seen[out.substr(2, 1)]++;
  }
  EXPECT_EQ(seen.size(), 5u);
  for (auto& [p, n] : seen) EXPECT_TRUE(p >= "0" && p <= "4") << p;
}

// The reference's error texts (server/errors.go).
TEST(SubjectTransform, ValidationErrors) {
  EXPECT_EQ(create_error("foo.*", "bar.*"), "invalid subject");
  EXPECT_EQ(create_error("foo.>", "bar"), "invalid subject");
  EXPECT_EQ(create_error("foo..x", "bar"), "invalid subject");
  EXPECT_EQ(create_error("foo.*.*", "bar.$1"),
            "invalid mapping destination: not using all of the token wildcard(s) in bar.$1");
  EXPECT_EQ(create_error("foo.*", "bar.$2"), "invalid mapping destination: wildcard index out of range in $2: [2]");
  EXPECT_EQ(create_error("foo.*", "bar.{{nope(1)}}"), "invalid mapping destination: unknown function in {{nope(1)}}");
  EXPECT_EQ(create_error("foo.*", "bar.{{wildcard()}}"),
            "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}");
  EXPECT_EQ(create_error("foo.*", "bar.{{wildcard(1,2)}}"),
            "invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}");
  EXPECT_EQ(create_error("foo.*", "bar.{{partition(x,1)}}"),
            "invalid mapping destination: function argument is invalid or in the wrong format in {{partition(x,1)}}");
  EXPECT_EQ(create_error("foo.*", "bar.{{partition(3)}}"),
            "invalid mapping destination: not enough arguments passed to the function in {{partition(3)}}");
  EXPECT_EQ(create_error("foo.*", "{{splitFromLeft(1)}}"),
            "invalid mapping destination: not enough arguments passed to the function in {{splitFromLeft(1)}}");
  EXPECT_EQ(validate_mapping_destination("a..b"), "invalid mapping destination: invalid subject in ");
  EXPECT_EQ(validate_mapping_destination("a.>.b"), "invalid mapping destination: invalid subject in b");
  EXPECT_EQ(validate_mapping_destination("a.{{foo()}}"), "invalid mapping destination: unknown function in {{foo()}}");
  EXPECT_EQ(validate_mapping_destination("a.{{partition(2,1)}}"), "");
  // A huge function token is an error, not a stack overflow in the regex engine.
  std::string huge = "{{wildcard(" + std::string(200000, '1') + ")}}";
  EXPECT_EQ(validate_mapping_destination("a." + huge), "invalid mapping destination: unknown function in " + huge);
  EXPECT_EQ(create_error("a.*", ("a." + huge).c_str()), "invalid mapping destination: unknown function in " + huge);
}

std::variant<SubjectMapping, std::string> mapping(const char* src, std::vector<MappingDestination> d) {
  return SubjectMapping::create(src, d);
}

TEST(SubjectMapping, WeightsAndRemainder) {
  auto m = std::get<SubjectMapping>(mapping("foo", {{"a", 20, ""}, {"b", 30, ""}}));
  // Sorted by weight: a [0,20), b [20,50), foo itself takes the remaining [50,100).
  EXPECT_EQ(m.select("foo", "", 0), "a");
  EXPECT_EQ(m.select("foo", "", 19), "a");
  EXPECT_EQ(m.select("foo", "", 20), "b");
  EXPECT_EQ(m.select("foo", "", 49), "b");
  EXPECT_EQ(m.select("foo", "", 50), "foo");
  EXPECT_EQ(m.select("foo", "", 99 + 100 * 7), "foo");
  // Listing the source itself means the rest is dropped.
  auto drop = std::get<SubjectMapping>(mapping("foo", {{"foo", 10, ""}, {"a", 20, ""}}));
  EXPECT_EQ(drop.select("foo", "", 5), "foo");
  EXPECT_EQ(drop.select("foo", "", 25), "a");
  EXPECT_EQ(drop.select("foo", "", 30), "");
  EXPECT_EQ(drop.select("foo", "", 99), "");
}

TEST(SubjectMapping, WildcardSourceRemainderKeepsTheSubject) {
  auto m = std::get<SubjectMapping>(mapping("orders.*", {{"new.$1", 50, ""}}));
  EXPECT_TRUE(m.matches("orders.7"));
  EXPECT_FALSE(m.matches("orders.7.x"));
  EXPECT_EQ(m.select("orders.7", "", 10), "new.7");
  EXPECT_EQ(m.select("orders.7", "", 60), "orders.7");
}

TEST(SubjectMapping, ClusterScopedDestinations) {
  auto m = std::get<SubjectMapping>(mapping("q", {{"q.east", 100, "east"}}));
  EXPECT_TRUE(m.cluster_scoped());
  EXPECT_EQ(m.select("q", "east", 3), "q.east");
  EXPECT_EQ(m.select("q", "west", 3), "q");  // other clusters: the unscoped destinations
}

TEST(SubjectMapping, Errors) {
  auto err = [](std::variant<SubjectMapping, std::string> v) {
    auto* e = std::get_if<std::string>(&v);
    return e ? *e : "";
  };
  EXPECT_EQ(err(mapping("foo", {{"a", 60, ""}, {"b", 50, ""}})), "total weight needs to be <= 100");
  EXPECT_EQ(err(mapping("foo", {{"a", 60, ""}, {"b", 50, "east"}})), "total weight needs to be <= 100");
  EXPECT_EQ(err(mapping("foo", {{"a", 10, ""}, {"a", 10, ""}})), "duplicate entry for \"a\"");
  EXPECT_EQ(err(mapping("foo bar", {{"a", 10, ""}})), "invalid subject");
  EXPECT_EQ(err(mapping("foo", {{"a", 100, ""}})), "");
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
