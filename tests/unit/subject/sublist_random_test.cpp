// Randomized cross-check: after every change, cached and uncached matches must equal a brute
// force evaluation of subject_matches() over the live subscriptions. Exercises the change-log
// replay (literal and wildcard changes, batches, far-behind caches).
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "subject/subject.h"
#include "subject/sublist.h"

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

std::string random_token(std::mt19937& rng, bool allow_wild) {
  static const char* lits[] = {"a", "b", "c", "*x"};
  int r = static_cast<int>(rng() % (allow_wild ? 6 : 4));
  if (r == 4) return "*";
  if (r == 5) return ">";
  return lits[r];
}

std::string random_subject(std::mt19937& rng, bool allow_wild) {
  size_t n = 1 + rng() % 3;
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    std::string t = random_token(rng, allow_wild);
    if (t == ">" && i + 1 != n) t = "*";
    if (i) s += '.';
    s += t;
  }
  return s;
}

TEST(SubListRandom, CachedEqualsBruteForce) {
  std::mt19937 rng(12345);
  SubList sl;
  MatchCache cache(32);  // small, so evictions happen too
  std::vector<SubscriptionPtr> live;
  std::vector<std::string> pubs;
  for (int i = 0; i < 60; ++i) pubs.push_back(random_subject(rng, false));

  for (int step = 0; step < 1500; ++step) {
    int op = static_cast<int>(rng() % 10);
    if (op < 5 || live.empty()) {
      auto s = std::make_shared<Subscription>();
      s->subject = random_subject(rng, true);
      if (rng() % 4 == 0) s->queue = (rng() % 2) ? "q1" : "q2";
      ASSERT_EQ(sl.insert(s), SubListStatus::ok) << s->subject;
      live.push_back(s);
    } else if (op < 9) {
      size_t k = rng() % live.size();
      ASSERT_EQ(sl.remove(live[k]), SubListStatus::ok);
      live.erase(live.begin() + static_cast<long>(k));
    } else {
      size_t n = std::min<size_t>(live.size(), 1 + rng() % 30);
      std::vector<SubscriptionPtr> batch(live.end() - static_cast<long>(n), live.end());
      ASSERT_EQ(sl.remove_batch(batch), n);
      live.resize(live.size() - n);
    }
    ASSERT_EQ(sl.count(), live.size());
    // Check a few publish subjects each step, all of them now and then.
    size_t checks = step % 50 == 0 ? pubs.size() : 4;
    for (size_t c = 0; c < checks; ++c) {
      const std::string& p = pubs[step % 50 == 0 ? c : rng() % pubs.size()];
      std::set<const Subscription*> want_p, want_q;
      std::set<std::string> want_groups;
      for (const auto& s : live) {
        if (!subject_matches(s->subject, p)) continue;
        if (s->queue.empty()) {
          want_p.insert(s.get());
        } else {
          want_q.insert(s.get());
          want_groups.insert(s->queue);
        }
      }
      const MatchResult& r = sl.match(p, cache);
      std::set<const Subscription*> got_p, got_q;
      std::set<std::string> got_groups;
      for (const auto& s : r.psubs) got_p.insert(s.get());
      for (const auto& g : r.qsubs) {
        ASSERT_FALSE(g.empty());
        ASSERT_TRUE(got_groups.insert(g.front()->queue).second) << "group listed twice";
        for (const auto& s : g) got_q.insert(s.get());
      }
      ASSERT_EQ(got_p, want_p) << "step " << step << " pub " << p;
      ASSERT_EQ(got_q, want_q) << "step " << step << " pub " << p;
      ASSERT_EQ(got_groups, want_groups);
      ASSERT_EQ(r.psubs.size(), want_p.size());
      ASSERT_EQ(sl.has_interest(p), !want_p.empty() || !want_q.empty());
    }
  }
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
