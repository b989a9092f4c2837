#include "subject/subject.h"

#include <gtest/gtest.h>

#include <string>

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

struct ValidCase {
  const char* subject;
  bool valid;    // is_valid_subject
  bool literal;  // is_valid_literal_subject
};

// Checked against nats-server 2.9.10 over a raw socket where observable (SUB answers
// -ERR 'Invalid Subject' for foo..bar, foo., .foo, foo.>.bar; accepts foo.*bar, foo.>bar,
// foo.**, a.>>, *, >, foo.*.>).
TEST(SubjectValidation, Table) {
  const ValidCase cases[] = {
      {"foo", true, true},
      {"foo.bar", true, true},
      {"foo.bar.baz", true, true},
      {"*", true, false},
      {">", true, false},
      {"foo.*", true, false},
      {"foo.>", true, false},
      {"*.bar", true, false},
      {"foo.*.>", true, false},
      {"*.*.*", true, false},
      {"foo.*bar", true, true},
      {"foo.bar*", true, true},
      {"foo.>bar", true, true},
      {"foo.**", true, true},
      {"a.>>", true, true},
      {"$SYS.REQ.SERVER.PING", true, true},
      {"_INBOX.abc123", true, true},
      {"", false, false},
      {".", false, false},
      {"foo.", false, false},
      {".foo", false, false},
      {"foo..bar", false, false},
      {"foo.>.bar", false, false},
      {">.foo", false, false},
      {"foo.>.>", false, false},
      {" ", false, false},
      {"foo bar", false, false},
      {"foo.bar ", false, false},
      {"foo.\tbar", false, false},
      {"foo.\t", false, false},
      {"foo\r\n", false, false},
      {"foo.\f", false, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_subject(c.subject), c.valid) << "'" << c.subject << "'";
    EXPECT_EQ(is_valid_literal_subject(c.subject), c.literal) << "'" << c.subject << "'";
  }
}

TEST(SubjectValidation, QueueNames) {
  EXPECT_TRUE(is_valid_queue_name("workers"));
  EXPECT_TRUE(is_valid_queue_name("q.*"));  // 2.9 accepts any protocol argument
  EXPECT_TRUE(is_valid_queue_name(">"));
  EXPECT_FALSE(is_valid_queue_name(""));
  EXPECT_FALSE(is_valid_queue_name("a b"));
  EXPECT_FALSE(is_valid_queue_name("a\tb"));
  EXPECT_FALSE(is_valid_queue_name(std::string("a\0b", 3)));
}

TEST(SubjectWildcard, Detection) {
  EXPECT_FALSE(subject_has_wildcard("foo.bar"));
  EXPECT_FALSE(subject_has_wildcard("foo.*bar"));
  EXPECT_FALSE(subject_has_wildcard("foo.>bar"));
  EXPECT_FALSE(subject_has_wildcard(""));
  EXPECT_TRUE(subject_has_wildcard("*"));
  EXPECT_TRUE(subject_has_wildcard(">"));
  EXPECT_TRUE(subject_has_wildcard("foo.*"));
  EXPECT_TRUE(subject_has_wildcard("*.foo"));
  EXPECT_TRUE(subject_has_wildcard("foo.*.bar"));
  EXPECT_TRUE(subject_has_wildcard("foo.>"));
}

struct MatchCase {
  const char* pattern;
  const char* subject;
  bool match;
};

TEST(SubjectMatch, Table) {
  const MatchCase cases[] = {
      {"foo", "foo", true},
      {"foo", "bar", false},
      {"foo", "foo.bar", false},
      {"foo.bar", "foo", false},
      {"*", "foo", true},
      {"*", "foo.bar", false},
      {"foo.*", "foo.bar", true},
      {"foo.*", "foo", false},
      {"foo.*", "foo.bar.baz", false},
      {"*.bar", "foo.bar", true},
      {"*.bar", "foo.baz", false},
      {"foo.*.baz", "foo.bar.baz", true},
      {"foo.*.baz", "foo.bar.bax", false},
      {">", "foo", true},
      {">", "foo.bar.baz", true},
      {"foo.>", "foo.bar", true},
      {"foo.>", "foo.bar.baz", true},
      {"foo.>", "foo", false},
      {"foo.>", "bar.baz", false},
      {"*.>", "foo.bar", true},
      {"*.>", "foo", false},
      {"foo.*.>", "foo.a.b.c", true},
      {"foo.*.>", "foo.a", false},
      {"foo.*bar", "foo.*bar", true},  // literal token
      {"foo.*bar", "foo.xbar", false},
      // Publish subjects with lone wildcard tokens are matched as text (reference delivers
      // PUB foo.> to SUB foo.* but not to SUB foo.bar).
      {"foo.*", "foo.>", true},
      {"foo.bar", "foo.*", false},
      {"foo.*", "foo.*", true},
      // Subjects with empty tokens match nothing.
      {"foo.*", "foo.", false},
      {">", "foo..bar", false},
      {"foo.>", "foo.bar.", false},
      {"*", "", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(subject_matches(c.pattern, c.subject), c.match)
        << "'" << c.pattern << "' vs '" << c.subject << "'";
  }
}

struct SubsetCase {
  const char* subject;
  const char* test;
  bool subset;
};

TEST(SubjectSubset, Table) {
  const SubsetCase cases[] = {
      {"foo.bar", "foo.bar", true},
      {"foo.bar", "foo.*", true},
      {"foo.bar", "foo.>", true},
      {"foo.bar", ">", true},
      {"foo.bar", "*.*", true},
      {"foo.bar", "*", false},
      {"foo.bar", "foo.baz", false},
      {"foo.*", "foo.*", true},
      {"foo.*", "*.*", true},
      {"foo.*", ">", true},
      {"foo.*", "foo.>", true},
      {"foo.*", "foo.bar", false},
      {"foo.>", "foo.>", true},
      {"foo.>", ">", true},
      {"foo.>", "foo.*", false},
      {"foo.>", "foo.bar.>", false},
      {"foo.bar.>", "foo.>", true},
      {"foo.bar.>", "foo.*.>", true},
      {">", "foo.>", false},
      {">", ">", true},
      {"*", ">", true},
      {"*", "*", true},
      {"*", "foo", false},
      {"foo", "foo.>", false},
      {"foo", "foo.*", false},
      {"foo.bar.baz", "foo.*", false},
      {"foo.*.baz", "foo.>", true},
      {"foo.*.baz", "foo.bar.baz", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(subject_is_subset_match(c.subject, c.test), c.subset)
        << "'" << c.subject << "' within '" << c.test << "'";
  }
}

TEST(SubjectCollide, Table) {
  EXPECT_TRUE(subjects_collide("foo.bar", "foo.bar"));
  EXPECT_FALSE(subjects_collide("foo.bar", "foo.baz"));
  EXPECT_TRUE(subjects_collide("foo.*", "foo.bar"));
  EXPECT_TRUE(subjects_collide("foo.*", "*.bar"));
  EXPECT_TRUE(subjects_collide("foo.>", "*.bar.baz"));
  EXPECT_FALSE(subjects_collide("foo.>", "foo"));
  EXPECT_FALSE(subjects_collide("a.b.>", "a.*"));
  EXPECT_FALSE(subjects_collide("foo.*", "foo.*.*"));
  EXPECT_TRUE(subjects_collide(">", "a"));
}

TEST(SubjectTokens, Helpers) {
  EXPECT_EQ(num_tokens(""), 0u);
  EXPECT_EQ(num_tokens("a"), 1u);
  EXPECT_EQ(num_tokens("a.b.c"), 3u);
  EXPECT_EQ(num_tokens("a..b"), 3u);
  EXPECT_EQ(token_at("a.bb.ccc", 0), "a");
  EXPECT_EQ(token_at("a.bb.ccc", 1), "bb");
  EXPECT_EQ(token_at("a.bb.ccc", 2), "ccc");
  EXPECT_EQ(token_at("a.bb.ccc", 3), "");

  Tokens t("a.bb..d");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1], "bb");
  EXPECT_EQ(t[2], "");
  EXPECT_TRUE(t.has_empty_token());
  Tokens e("");
  EXPECT_TRUE(e.empty());

  // More tokens than the inline capacity spill to the heap and stay correct.
  std::string many;
  for (int i = 0; i < 40; ++i) {
    if (i) many += '.';
    many += "t" + std::to_string(i);
  }
  Tokens m(many);
  ASSERT_EQ(m.size(), 40u);
  EXPECT_EQ(m[0], "t0");
  EXPECT_EQ(m[31], "t31");
  EXPECT_EQ(m[39], "t39");
  EXPECT_FALSE(m.has_empty_token());
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
