#include "config/parser.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "test_util.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::config::NATS_TEST_FILE_ID {
namespace {

using testing::error_of;
using testing::TempDir;

Value parse(const std::string& text) { return parse_config_string(text, "t.conf"); }

const Value& at(const Value& m, const std::string& key) {
  const Value* v = m.find(key);
  if (v == nullptr) throw std::runtime_error("missing key " + key);
  return *v;
}

TEST(ConfigParser, KeySeparators) {
  Value v = parse("a: 1\nb = 2\nc 3\nd:4\ne=5\n");
  EXPECT_EQ(at(v, "a").as_int(), 1);
  EXPECT_EQ(at(v, "b").as_int(), 2);
  EXPECT_EQ(at(v, "c").as_int(), 3);
  EXPECT_EQ(at(v, "d").as_int(), 4);
  EXPECT_EQ(at(v, "e").as_int(), 5);
}

TEST(ConfigParser, TopLevelTerminators) {
  Value v = parse("port: 4222; http_port: 8222, server_name: x");
  EXPECT_EQ(at(v, "port").as_int(), 4222);
  EXPECT_EQ(at(v, "http_port").as_int(), 8222);
  EXPECT_EQ(at(v, "server_name").as_string(), "x");
}

TEST(ConfigParser, WholeFileInBraces) {
  Value v = parse("{\n  a: 1\n  b: two\n}\n");
  EXPECT_EQ(at(v, "a").as_int(), 1);
  EXPECT_EQ(at(v, "b").as_string(), "two");
}

TEST(ConfigParser, Comments) {
  Value v = parse("# hash\n// slashes\na: 1 # trailing\nb: 2 // trailing\n"
                  "m { # in map\n x: 1 // c\n}\narr [ # in array\n 1 // c\n 2\n]\n");
  EXPECT_EQ(at(v, "a").as_int(), 1);
  EXPECT_EQ(at(v, "b").as_int(), 2);
  EXPECT_EQ(at(at(v, "m"), "x").as_int(), 1);
  ASSERT_EQ(at(v, "arr").as_array().size(), 2u);
}

TEST(ConfigParser, MapsAndArrays) {
  Value v = parse("m: { a: 1, b: [x, \"y\", 'z'], c { d: true } }\n"
                  "l: [\n  1\n  2,\n  {k: v}\n]\n");
  const Value& m = at(v, "m");
  ASSERT_TRUE(m.is_map());
  EXPECT_EQ(at(m, "a").as_int(), 1);
  const auto& b = at(m, "b").as_array();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].as_string(), "x");
  EXPECT_EQ(b[1].as_string(), "y");
  EXPECT_EQ(b[2].as_string(), "z");
  EXPECT_TRUE(at(at(m, "c"), "d").as_bool());
  const auto& l = at(v, "l").as_array();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[1].as_int(), 2);
  EXPECT_EQ(at(l[2], "k").as_string(), "v");
}

TEST(ConfigParser, MapValueOnNextLine) {
  Value v = parse("m {\n a:\n   5\n}\n");
  EXPECT_EQ(at(at(v, "m"), "a").as_int(), 5);
}

TEST(ConfigParser, TrailingCommas) {
  Value v = parse("c: { name: east, port: 6222, routes: [ \"nats-route://0.0.0.0:6222\" ], }\n");
  const Value& c = at(v, "c");
  EXPECT_EQ(at(c, "name").as_string(), "east");
  EXPECT_EQ(at(c, "routes").as_array().at(0).as_string(), "nats-route://0.0.0.0:6222");
}

TEST(ConfigParser, Strings) {
  Value v = parse("a: \"x\\ty\\n\\\"q\\\"\\\\ \\x41\"\nb: 'raw \\n $x'\nc: bare/path:with=stuff\n"
                  "d: nats://h:4222\n");
  EXPECT_EQ(at(v, "a").as_string(), "x\ty\n\"q\"\\ A");
  EXPECT_EQ(at(v, "b").as_string(), "raw \\n $x");
  EXPECT_EQ(at(v, "c").as_string(), "bare/path:with=stuff");
  EXPECT_EQ(at(v, "d").as_string(), "nats://h:4222");
}

TEST(ConfigParser, QuotedKeys) {
  Value v = parse("\"my key\": 1\n'other key' = 2\nm { \"in map\": 3 }\n");
  EXPECT_EQ(at(v, "my key").as_int(), 1);
  EXPECT_EQ(at(v, "other key").as_int(), 2);
  EXPECT_EQ(at(at(v, "m"), "in map").as_int(), 3);
}

TEST(ConfigParser, Booleans) {
  Value v = parse("a: true\nb: FALSE\nc: yes\nd: no\ne: on\nf: Off\ng: \"true\"\n");
  EXPECT_TRUE(at(v, "a").as_bool());
  EXPECT_FALSE(at(v, "b").as_bool());
  EXPECT_TRUE(at(v, "c").as_bool());
  EXPECT_FALSE(at(v, "d").as_bool());
  EXPECT_TRUE(at(v, "e").as_bool());
  EXPECT_FALSE(at(v, "f").as_bool());
  EXPECT_EQ(at(v, "g").as_string(), "true");
}

TEST(ConfigParser, NumbersAndSuffixes) {
  Value v = parse("a: 1k\nb: 1kb\nc: 2K\nd: 1m\ne: 1MB\nf: 1g\ng: 1GB\nh: 1t\ni: 1tb\n"
                  "j: 1KiB\nk: 1Ki\nl: -5\nm: -2k\nn: 0\n");
  EXPECT_EQ(at(v, "a").as_int(), 1000);
  EXPECT_EQ(at(v, "b").as_int(), 1024);
  EXPECT_EQ(at(v, "c").as_int(), 2000);
  EXPECT_EQ(at(v, "d").as_int(), 1000000);
  EXPECT_EQ(at(v, "e").as_int(), 1024 * 1024);
  EXPECT_EQ(at(v, "f").as_int(), 1000000000);
  EXPECT_EQ(at(v, "g").as_int(), 1024LL * 1024 * 1024);
  EXPECT_EQ(at(v, "h").as_int(), 1000000000000LL);
  EXPECT_EQ(at(v, "i").as_int(), 1024LL * 1024 * 1024 * 1024);
  EXPECT_EQ(at(v, "j").as_int(), 1024);
  EXPECT_EQ(at(v, "k").as_int(), 1024);
  EXPECT_EQ(at(v, "l").as_int(), -5);
  EXPECT_EQ(at(v, "m").as_int(), -2000);
  EXPECT_EQ(at(v, "n").as_int(), 0);
}

TEST(ConfigParser, FloatsIpsDatesAndDigitStrings) {
  Value v = parse("a: 1.5\nb: -0.25\nc: 127.0.0.1:4222\nd: 2020-01-02T03:04:05Z\ne: 500ms\n"
                  "f: 4222abc\n");
  EXPECT_DOUBLE_EQ(at(v, "a").as_float(), 1.5);
  EXPECT_DOUBLE_EQ(at(v, "b").as_float(), -0.25);
  EXPECT_EQ(at(v, "c").as_string(), "127.0.0.1:4222");
  EXPECT_EQ(at(v, "d").as_string(), "2020-01-02T03:04:05Z");
  EXPECT_EQ(at(v, "e").as_string(), "500ms");
  EXPECT_EQ(at(v, "f").as_string(), "4222abc");
}

TEST(ConfigParser, BlockString) {
  Value v = parse("a: (\nline one\n  line (two)\n)\nb: 1\n");
  EXPECT_EQ(at(v, "a").as_string(), "\nline one\n  line (two)\n");
  EXPECT_EQ(at(v, "b").as_int(), 1);
}

TEST(ConfigParser, Positions) {
  Value v = parse("a: 1\n  m {\n    k: \"v\"\n  }\n");
  const auto& entries = v.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key_pos.line, 1);
  EXPECT_EQ(entries[0].key_pos.column, 1);
  EXPECT_EQ(entries[0].value.position().column, 4);
  EXPECT_EQ(entries[1].key_pos.line, 2);
  EXPECT_EQ(entries[1].key_pos.column, 3);
  const auto& inner = entries[1].value.entries();
  EXPECT_EQ(inner[0].key_pos.line, 3);
  EXPECT_EQ(inner[0].key_pos.column, 5);
  EXPECT_EQ(inner[0].value.position().file, "t.conf");
  EXPECT_EQ(inner[0].value.position().column, 8);
}

TEST(ConfigParser, DuplicateKeyLastWins) {
  Value v = parse("a: 1\na: 2\n");
  EXPECT_EQ(v.entries().size(), 1u);
  EXPECT_EQ(at(v, "a").as_int(), 2);
}

TEST(ConfigParser, DollarKeys) {
  Value v = parse("accounts: { $SYS: { users: [{user: sys, password: pass}] } }\n");
  const Value& sys = at(at(v, "accounts"), "$SYS");
  EXPECT_EQ(at(sys, "users").as_array().at(0).find("user")->as_string(), "sys");
}

TEST(ConfigParser, Variables) {
  Value v = parse("P = 4333\nport: $P\nm { inner: 7, x: $inner, y: $P }\nz: [$P]\n");
  EXPECT_EQ(at(v, "port").as_int(), 4333);
  EXPECT_EQ(at(at(v, "m"), "x").as_int(), 7);
  EXPECT_EQ(at(at(v, "m"), "y").as_int(), 4333);
  EXPECT_EQ(at(v, "z").as_array().at(0).as_int(), 4333);
  // The definition is marked so the options loader does not call it unknown.
  EXPECT_TRUE(v.entries()[0].used_as_variable);
  EXPECT_FALSE(v.entries()[1].used_as_variable);
  // The reference's value takes the position of the reference site.
  EXPECT_EQ(at(v, "port").position().line, 2);
}

TEST(ConfigParser, VariableScopeEndsWithMap) {
  std::string e = error_of([] { parse("m { P = 1 }\nx: $P_UNSET_FOR_TEST\n"); });
  EXPECT_EQ(e, "t.conf:2:4: variable reference for 'P_UNSET_FOR_TEST' on line 2 can not be found");
  e = error_of([] { parse("cluster { Q=6222\n port: $Q }\n x: $Q\n"); });
  EXPECT_NE(e.find("t.conf:3:5: variable reference for 'Q'"), std::string::npos) << e;
}

TEST(ConfigParser, EnvironmentVariables) {
  setenv("NATS_CFG_TEST_PORT", "4999", 1);
  setenv("NATS_CFG_TEST_NAME", "srv-a", 1);
  setenv("NATS_CFG_TEST_SIZE", "2MB", 1);
  Value v = parse("port: $NATS_CFG_TEST_PORT\nname: $NATS_CFG_TEST_NAME\nsz: $NATS_CFG_TEST_SIZE\n");
  EXPECT_EQ(at(v, "port").as_int(), 4999);
  EXPECT_EQ(at(v, "name").as_string(), "srv-a");
  EXPECT_EQ(at(v, "sz").as_int(), 2 * 1024 * 1024);
  // A file definition shadows the environment.
  Value w = parse("NATS_CFG_TEST_PORT: 1\np: $NATS_CFG_TEST_PORT\n");
  EXPECT_EQ(at(w, "p").as_int(), 1);
  // Self-referencing environment values must not recurse forever.
  setenv("NATS_CFG_TEST_LOOP", "$NATS_CFG_TEST_LOOP", 1);
  EXPECT_NE(error_of([] { parse("x: $NATS_CFG_TEST_LOOP\n"); }), "");
  ParseOptions no_env;
  no_env.use_environment = false;
  EXPECT_NE(error_of([&] { parse_config_string("p: $NATS_CFG_TEST_PORT", "t.conf", no_env); }), "");
}

TEST(ConfigParser, BcryptIsNotAVariable) {
  Value v = parse("pass: $2a$11$abcdefghijklmnopqrstuv\n");
  EXPECT_EQ(at(v, "pass").as_string(), "$2a$11$abcdefghijklmnopqrstuv");
}

TEST(ConfigParser, IncludeRelativeToIncludingFile) {
  TempDir dir;
  dir.write("sub/inner.conf", "users: [{user: a, password: b}]\nport: 5000\n");
  dir.write("sub/mid.conf", "include inner.conf\nname: mid\n");
  std::string main = dir.write("main.conf",
                               "port: 4000\ninclude 'sub/mid.conf'\nm {\n  include \"sub/inner.conf\"\n}\n");
  Value v = parse_config_file(main);
  EXPECT_EQ(at(v, "port").as_int(), 5000);  // included later, so it wins
  EXPECT_EQ(at(v, "name").as_string(), "mid");
  EXPECT_EQ(at(at(v, "m"), "users").as_array().size(), 1u);
  // Positions inside the included file name that file.
  EXPECT_NE(v.find("users")->position().file.find("inner.conf"), std::string::npos);
}

TEST(ConfigParser, IncludeErrors) {
  TempDir dir;
  std::string main = dir.write("main.conf", "a: 1\ninclude nope.conf\n");
  std::string e = error_of([&] { parse_config_file(main); });
  EXPECT_NE(e.find("main.conf:2:1: error parsing include file 'nope.conf', open "), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;

  dir.write("bad.conf", "x: [1,,2]\n");
  std::string main2 = dir.write("main2.conf", "include bad.conf\n");
  e = error_of([&] { parse_config_file(main2); });
  EXPECT_NE(e.find("bad.conf:1:7: Unexpected array value terminator ','."), std::string::npos) << e;

  dir.write("loop.conf", "include loop.conf\n");
  e = error_of([&] { parse_config_file((dir.path() / "loop.conf").string()); });
  EXPECT_NE(e.find("too many nested includes"), std::string::npos) << e;

  ParseOptions no_inc;
  no_inc.allow_include = false;
  e = error_of([&] { parse_config_string("include x.conf\n", "f.conf", no_inc); });
  EXPECT_EQ(e, "f.conf:1:1: error parsing include file 'x.conf', includes are disabled");
}

TEST(ConfigParser, MissingFile) {
  std::string e = error_of([] { parse_config_file("/nonexistent/dir/x.conf"); });
  EXPECT_NE(e.find("open /nonexistent/dir/x.conf: No such file or directory"), std::string::npos) << e;
}

struct BadCase {
  const char* text;
  const char* error;
};

TEST(ConfigParser, ErrorsWithPositions) {
  const BadCase cases[] = {
      {"port: 4222\nname: \"abc", "t.conf:2:11: Unexpected EOF."},
      {"a: \"x\\qy\"", "t.conf:1:7: Invalid escape character 'q'. Only the following escape "
                      "characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\."},
      {"a: \"\\xZZ\"", "t.conf:1:7: Expected two hexadecimal digits after '\\x', but got 'ZZ'"},
      {"cluster {\n  port: 6222\n", "t.conf:3:1: Unexpected EOF processing map."},
      {"a: [1,,2]", "t.conf:1:7: Unexpected array value terminator ','."},
      {"a: [1, 2", "t.conf:1:9: Unexpected EOF processing array."},
      {"a: [1 2]", "t.conf:1:7: Expected an array value terminator \",\" or an array terminator "
                   "\"]\", but got '2' instead."},
      {"m { a: 1 b }", "t.conf:1:10: Expected a map value terminator \",\" or a map terminator "
                       "\"}\", but got 'b' instead."},
      {"port: 4222 x", "t.conf:1:12: Expected a top-level value to end with a new line, comment "
                       "or EOF, but got 'x' instead."},
      {"port: -", "t.conf:1:8: Expected a digit but got ''."},
      {"port: -x", "t.conf:1:8: Expected a digit but got 'x'."},
      // Like the reference, a suffixed number followed by a digit ends there.
      {"a: 1m30s", "t.conf:1:6: Expected a top-level value to end with a new line, comment or "
                   "EOF, but got '3' instead."},
      {"a: .5", "t.conf:1:4: Floats must start with a digit"},
      {"a: 1.x", "t.conf:1:6: Floats must have a digit after the '.', but got 'x' instead."},
      {"a:\n1", "t.conf:1:3: Expected value but found new line"},
      {": 1", "t.conf:1:1: Unexpected key separator ':'"},
      {"m { = 1 }", "t.conf:1:5: Unexpected key separator '='."},
      {"m { ] }", "t.conf:1:5: Unexpected array end ']' processing map."},
      {"m { a: , }", "t.conf:1:8: Unexpected map value terminator \",\"."},
      {"a: 99999999999999999999", "t.conf:1:4: integer '99999999999999999999' is out of the range"},
      {"a: 9000000000000g", "t.conf:1:4: integer '9000000000000g' is out of the range"},
      {"a: 123-45", "t.conf:1:7: All ISO8601 dates must be in full Zulu form."},
      {"a: 2020-01-02X", "t.conf:1:14: Expected 'T' in ISO8601 datetime, but found 'X' instead."},
      {"a: (\nno end\n", "t.conf:3:1: Unexpected EOF processing block."},
      {"a: 'open", "t.conf:1:9: Unexpected EOF."},
      {"include [x]", "t.conf:1:9: Expected include value but found start of an array"},
      {"p: $NOPE_NOT_SET_X", "t.conf:1:4: variable reference for 'NOPE_NOT_SET_X' on line 1 can not be found"},
      {"m { \"k", "t.conf:1:7: Unexpected EOF processing double quoted map key."},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of([&] { parse(c.text); }), c.error) << "input: " << c.text;
  }
}

TEST(ConfigParser, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "a: " + std::string(10000, '[');
  EXPECT_NE(error_of([&] { parse(deep); }).find("maximum nesting depth"), std::string::npos);
}

TEST(ConfigParser, EmptyAndCommentOnlyInputs) {
  EXPECT_TRUE(parse("").entries().empty());
  EXPECT_TRUE(parse("# nothing\n\n// here\n").entries().empty());
  EXPECT_TRUE(parse("dangling").entries().empty());  // reference drops a key with no value
}

TEST(ConfigParser, CrLfLineEndings) {
  Value v = parse("a: 1\r\nb: [x,\r\n y]\r\nm {\r\n c: 2\r\n}\r\n");
  EXPECT_EQ(at(v, "a").as_int(), 1);
  EXPECT_EQ(at(v, "b").as_array().size(), 2u);
  EXPECT_EQ(at(at(v, "m"), "c").as_int(), 2);
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID

namespace nats::config::NATS_TEST_FILE_ID {
namespace {

TEST(ConfigParser, ExponentialVariableExpansionIsCapped) {
  std::string text = "v0: [1,1,1,1]\n";
  for (int i = 1; i < 20; ++i) {
    std::string p = "$v" + std::to_string(i - 1);
    text += "v" + std::to_string(i) + ": [" + p + "," + p + "," + p + "," + p + "]\n";
  }
  std::string e = testing::error_of([&] { parse_config_string(text, "t.conf"); });
  EXPECT_NE(e.find("too large"), std::string::npos) << e;
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID
