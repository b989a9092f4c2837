// SubjectTable: interned subjects (arena + open addressing with backward-shift deletion),
// checked against a std::unordered_map model through random interns and releases.
#include "jetstream/store/subject_table.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

void expect_matches_model(const SubjectTable& t, const std::unordered_map<std::string, uint32_t>& model) {
  ASSERT_EQ(t.size(), model.size());
  for (auto& [name, id] : model) {
    EXPECT_EQ(t.find(name), id) << name;
    EXPECT_TRUE(t.live(id));
    EXPECT_EQ(t.name(id), name);
  }
  size_t live = 0;
  for (uint32_t id = 0; id < t.ids(); ++id) live += t.live(id) ? 1 : 0;
  EXPECT_EQ(live, model.size());
}

TEST(SubjectTable, InternFindAndRelease) {
  SubjectTable t;
  EXPECT_EQ(t.find("a.b"), SubjectTable::kNone);
  bool added = false;
  uint32_t a = t.intern("a.b", &added);
  EXPECT_TRUE(added);
  EXPECT_EQ(t.intern("a.b", &added), a);
  EXPECT_FALSE(added);
  uint32_t c = t.intern("c.d");
  EXPECT_NE(a, c);
  EXPECT_EQ(t.size(), 2u);
  t.release(a);
  EXPECT_EQ(t.find("a.b"), SubjectTable::kNone);
  EXPECT_FALSE(t.live(a));
  EXPECT_EQ(t.name(a), "");
  EXPECT_EQ(t.find("c.d"), c);
  // A released id is handed out again.
  EXPECT_EQ(t.intern("e.f"), a);
  EXPECT_EQ(t.name(a), "e.f");
  EXPECT_EQ(t.find(""), SubjectTable::kNone);
}

TEST(SubjectTable, RandomInternsAndReleasesMatchAMap) {
  SubjectTable t;
  std::unordered_map<std::string, uint32_t> model;
  std::mt19937 rng(11);
  // Few distinct names relative to the operations: long probe runs, many deletions inside
  // them, id reuse and arena compactions all happen.
  for (int op = 0; op < 200000; ++op) {
    std::string name = "kv.bucket." + std::to_string(rng() % 3000);
    if (rng() % 3 == 0) {
      auto it = model.find(name);
      if (it != model.end()) {
        t.release(it->second);
        model.erase(it);
      }
    } else {
      bool added = false;
      uint32_t id = t.intern(name, &added);
      auto [it, fresh] = model.emplace(name, id);
      EXPECT_EQ(added, fresh);
      EXPECT_EQ(it->second, id);
    }
    if (op % 20000 == 0) expect_matches_model(t, model);
  }
  expect_matches_model(t, model);
  for (auto& [name, id] : model) t.release(id);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.memory(), 0u);  // the last release gives everything back
}

TEST(SubjectTable, ManySubjectsStayCompact) {
  SubjectTable t;
  constexpr size_t kN = 100000;
  for (size_t i = 0; i < kN; ++i) t.intern("bench.s." + std::to_string(100000 + i));  // 14-byte names
  EXPECT_EQ(t.size(), kN);
  // Names, 8-byte references and 4-byte slots at most 3/4 full, with vector growth slack:
  // well under the ~150 bytes a name an unordered_map<std::string, uint32_t> costs.
  EXPECT_LT(t.memory() / kN, 64u);
  for (size_t i = 0; i < kN; i += 2) t.release(t.find("bench.s." + std::to_string(100000 + i)));
  for (size_t i = 0; i < kN; ++i)
    EXPECT_EQ(t.find("bench.s." + std::to_string(100000 + i)) != SubjectTable::kNone, i % 2 == 1);
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
