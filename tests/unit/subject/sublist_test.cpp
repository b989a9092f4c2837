#include "subject/sublist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

SubscriptionPtr make_sub(std::string subject, std::string queue = "", std::string sid = "") {
  auto s = std::make_shared<Subscription>();
  s->subject = std::move(subject);
  s->queue = std::move(queue);
  s->sid = std::move(sid);
  return s;
}

std::set<const Subscription*> psub_set(const MatchResult& r) {
  std::set<const Subscription*> out;
  for (const auto& s : r.psubs) out.insert(s.get());
  return out;
}

TEST(SubList, InsertRejectsInvalid) {
  SubList sl;
  EXPECT_EQ(sl.insert(make_sub("")), SubListStatus::invalid_subject);
  EXPECT_EQ(sl.insert(make_sub("foo..bar")), SubListStatus::invalid_subject);
  EXPECT_EQ(sl.insert(make_sub("foo.")), SubListStatus::invalid_subject);
  EXPECT_EQ(sl.insert(make_sub(".foo")), SubListStatus::invalid_subject);
  EXPECT_EQ(sl.insert(make_sub("foo.>.bar")), SubListStatus::invalid_subject);
  EXPECT_EQ(sl.insert(nullptr), SubListStatus::invalid_subject);
  EXPECT_EQ(sl.count(), 0u);
  EXPECT_EQ(sl.insert(make_sub("foo.*bar")), SubListStatus::ok);
  EXPECT_EQ(sl.insert(make_sub("foo.>")), SubListStatus::ok);
  EXPECT_EQ(sl.count(), 2u);
}

TEST(SubList, LiteralAndWildcardMatching) {
  SubList sl;
  MatchCache cache;
  auto lit = make_sub("foo.bar");
  auto pwc = make_sub("foo.*");
  auto pwc_first = make_sub("*.bar");
  auto fwc = make_sub("foo.>");
  auto all = make_sub(">");
  auto deep = make_sub("foo.*.baz");
  auto star_lit = make_sub("foo.*bar");
  for (auto& s : {lit, pwc, pwc_first, fwc, all, deep, star_lit}) {
    ASSERT_EQ(sl.insert(s), SubListStatus::ok);
  }

  using Set = std::set<const Subscription*>;
  EXPECT_EQ(psub_set(sl.match("foo.bar", cache)),
            (Set{lit.get(), pwc.get(), pwc_first.get(), fwc.get(), all.get()}));
  EXPECT_EQ(psub_set(sl.match("foo.bar.baz", cache)), (Set{fwc.get(), all.get(), deep.get()}));
  EXPECT_EQ(psub_set(sl.match("foo", cache)), (Set{all.get()}));
  EXPECT_EQ(psub_set(sl.match("x.bar", cache)), (Set{pwc_first.get(), all.get()}));
  EXPECT_EQ(psub_set(sl.match("foo.*bar", cache)),
            (Set{star_lit.get(), pwc.get(), fwc.get(), all.get()}));
  // A publish subject with a lone `>` token is text to the trie: `*` matches it, foo.bar not.
  EXPECT_EQ(psub_set(sl.match("foo.>", cache)), (Set{pwc.get(), fwc.get(), all.get()}));
  // Empty tokens match nothing.
  EXPECT_TRUE(sl.match("foo..bar", cache).empty());
  EXPECT_TRUE(sl.match("", cache).empty());
  EXPECT_TRUE(sl.match("foo.", cache).empty());

  // The uncached path agrees.
  EXPECT_EQ(psub_set(*sl.match("foo.bar.baz")), (Set{fwc.get(), all.get(), deep.get()}));
  EXPECT_TRUE(sl.has_interest("anything"));
  EXPECT_TRUE(sl.has_interest("foo.bar", cache));
}

TEST(SubList, HasInterestWithoutCatchAll) {
  SubList sl;
  auto s = make_sub("a.*.c");
  ASSERT_EQ(sl.insert(s), SubListStatus::ok);
  EXPECT_TRUE(sl.has_interest("a.b.c"));
  EXPECT_FALSE(sl.has_interest("a.b"));
  EXPECT_FALSE(sl.has_interest("a.b.c.d"));
  EXPECT_FALSE(sl.has_interest("a"));  // intermediate node without subs
  ASSERT_EQ(sl.insert(make_sub("a.b.>")), SubListStatus::ok);
  EXPECT_TRUE(sl.has_interest("a.b.x.y"));
  EXPECT_FALSE(sl.has_interest("a.b"));
}

TEST(SubList, QueueGroupsAreGroupedByName) {
  SubList sl;
  MatchCache cache;
  auto q1a = make_sub("foo.bar", "q1");
  auto q1b = make_sub("foo.*", "q1");  // same queue name at another node: same group
  auto q1c = make_sub("foo.bar", "q1");
  auto q2 = make_sub("foo.>", "q2");
  auto plain = make_sub("foo.bar");
  for (auto& s : {q1a, q1b, q1c, q2, plain}) ASSERT_EQ(sl.insert(s), SubListStatus::ok);

  const MatchResult& r = sl.match("foo.bar", cache);
  ASSERT_EQ(r.psubs.size(), 1u);
  EXPECT_EQ(r.psubs[0], plain);
  ASSERT_EQ(r.qsubs.size(), 2u);
  for (const auto& g : r.qsubs) {
    ASSERT_FALSE(g.empty());
    std::set<const Subscription*> members;
    for (const auto& s : g) {
      EXPECT_EQ(s->queue, g.front()->queue);
      members.insert(s.get());
    }
    if (g.front()->queue == "q1") {
      EXPECT_EQ(members, (std::set<const Subscription*>{q1a.get(), q1b.get(), q1c.get()}));
    } else {
      EXPECT_EQ(g.front()->queue, "q2");
      EXPECT_EQ(members, (std::set<const Subscription*>{q2.get()}));
    }
  }
  EXPECT_EQ(r.fanout(), 3u);
}

TEST(SubList, QueueWeightExpandsGroup) {
  SubList sl;
  MatchCache cache;
  auto local = make_sub("svc", "q");
  auto remote = make_sub("svc", "q");
  ASSERT_EQ(sl.insert(local), SubListStatus::ok);
  ASSERT_EQ(sl.insert(remote), SubListStatus::ok);
  ASSERT_EQ(sl.match("svc", cache).qsubs.at(0).size(), 2u);
  sl.update_queue_weight(remote, 3);
  const MatchResult& r = sl.match("svc", cache);  // weight change invalidates the cached entry
  ASSERT_EQ(r.qsubs.size(), 1u);
  EXPECT_EQ(r.qsubs[0].size(), 4u);
  EXPECT_EQ(std::count(r.qsubs[0].begin(), r.qsubs[0].end(), remote), 3);
}

TEST(SubList, RemoveAndPrune) {
  SubList sl;
  MatchCache cache;
  auto a = make_sub("a.b.c");
  auto b = make_sub("a.b.c");
  auto q = make_sub("a.b.c", "q");
  auto w = make_sub("a.*.c");
  for (auto& s : {a, b, q, w}) ASSERT_EQ(sl.insert(s), SubListStatus::ok);
  EXPECT_EQ(sl.count(), 4u);
  // Inserting the same subscription again changes nothing.
  EXPECT_EQ(sl.insert(a), SubListStatus::ok);
  EXPECT_EQ(sl.count(), 4u);

  EXPECT_EQ(sl.remove(a), SubListStatus::ok);
  EXPECT_EQ(sl.remove(a), SubListStatus::not_found);
  EXPECT_EQ(sl.remove(make_sub("zzz")), SubListStatus::not_found);
  EXPECT_EQ(sl.remove(make_sub("a.b.c")), SubListStatus::not_found);  // different object
  EXPECT_EQ(sl.remove(make_sub("a..c")), SubListStatus::invalid_subject);
  EXPECT_EQ(sl.count(), 3u);
  EXPECT_EQ(psub_set(sl.match("a.b.c", cache)),
            (std::set<const Subscription*>{b.get(), w.get()}));

  EXPECT_EQ(sl.remove(q), SubListStatus::ok);
  EXPECT_TRUE(sl.match("a.b.c", cache).qsubs.empty());
  EXPECT_EQ(sl.remove(b), SubListStatus::ok);
  EXPECT_EQ(sl.remove(w), SubListStatus::ok);
  EXPECT_EQ(sl.count(), 0u);
  EXPECT_TRUE(sl.match("a.b.c", cache).empty());
  EXPECT_FALSE(sl.has_interest("a.b.c"));
  std::vector<SubscriptionPtr> all;
  sl.all_subscriptions(all);
  EXPECT_TRUE(all.empty());

  // After pruning, re-inserting works and matches again.
  ASSERT_EQ(sl.insert(a), SubListStatus::ok);
  EXPECT_EQ(psub_set(sl.match("a.b.c", cache)), (std::set<const Subscription*>{a.get()}));
}

TEST(SubList, ManySubsOnOneSubjectUseIndexedRemoval) {
  SubList sl;
  MatchCache cache;
  std::vector<SubscriptionPtr> subs;
  for (int i = 0; i < 500; ++i) {
    subs.push_back(make_sub("hot"));
    ASSERT_EQ(sl.insert(subs.back()), SubListStatus::ok);
  }
  EXPECT_EQ(sl.match("hot", cache).psubs.size(), 500u);
  for (int i = 0; i < 500; i += 2) ASSERT_EQ(sl.remove(subs[i]), SubListStatus::ok);
  const MatchResult& r = sl.match("hot", cache);
  ASSERT_EQ(r.psubs.size(), 250u);
  std::set<const Subscription*> got = psub_set(r);
  for (int i = 1; i < 500; i += 2) EXPECT_TRUE(got.count(subs[i].get()));
  for (int i = 1; i < 500; i += 2) ASSERT_EQ(sl.remove(subs[i]), SubListStatus::ok);
  EXPECT_TRUE(sl.match("hot", cache).empty());
}

TEST(SubList, RemoveBatch) {
  SubList sl;
  MatchCache cache;
  std::vector<SubscriptionPtr> conn_subs;
  for (int i = 0; i < 40; ++i) {
    conn_subs.push_back(make_sub("c." + std::to_string(i)));
    ASSERT_EQ(sl.insert(conn_subs.back()), SubListStatus::ok);
  }
  auto keep = make_sub("c.*");
  ASSERT_EQ(sl.insert(keep), SubListStatus::ok);
  EXPECT_EQ(sl.match("c.7", cache).psubs.size(), 2u);
  auto extra = make_sub("never.inserted");
  conn_subs.push_back(extra);
  EXPECT_EQ(sl.remove_batch(conn_subs), 40u);
  EXPECT_EQ(sl.count(), 1u);
  EXPECT_EQ(psub_set(sl.match("c.7", cache)), (std::set<const Subscription*>{keep.get()}));

  // A small batch is logged precisely.
  auto x = make_sub("x"), y = make_sub("y");
  sl.insert(x);
  sl.insert(y);
  EXPECT_EQ(sl.match("x", cache).psubs.size(), 1u);
  std::vector<SubscriptionPtr> small{x, y};
  EXPECT_EQ(sl.remove_batch(small), 2u);
  EXPECT_TRUE(sl.match("x", cache).empty());
  EXPECT_TRUE(sl.match("y", cache).empty());
}

TEST(SubList, AllSubscriptions) {
  SubList sl;
  std::vector<SubscriptionPtr> in{make_sub("a"), make_sub("a.b"), make_sub("*.b"),
                                  make_sub("a.>"), make_sub(">", "q"), make_sub("a.b", "q")};
  for (auto& s : in) ASSERT_EQ(sl.insert(s), SubListStatus::ok);
  std::vector<SubscriptionPtr> out;
  sl.all_subscriptions(out);
  std::set<const Subscription*> want, got;
  for (auto& s : in) want.insert(s.get());
  for (auto& s : out) got.insert(s.get());
  EXPECT_EQ(out.size(), in.size());
  EXPECT_EQ(got, want);
}

TEST(SubListCache, InsertAfterCachedMatchIsSeen) {
  SubList sl;
  MatchCache cache;
  auto a = make_sub("foo.bar");
  sl.insert(a);
  EXPECT_EQ(sl.match("foo.bar", cache).psubs.size(), 1u);
  EXPECT_EQ(sl.match("foo.bar", cache).psubs.size(), 1u);  // now a cache hit

  auto lit = make_sub("foo.bar");
  sl.insert(lit);  // literal change
  EXPECT_EQ(sl.match("foo.bar", cache).psubs.size(), 2u);
  auto wc = make_sub("foo.*");
  sl.insert(wc);  // wildcard change
  EXPECT_EQ(sl.match("foo.bar", cache).psubs.size(), 3u);
  auto q = make_sub("*.bar", "g");
  sl.insert(q);
  EXPECT_EQ(sl.match("foo.bar", cache).qsubs.size(), 1u);

  sl.remove(lit);
  EXPECT_EQ(sl.match("foo.bar", cache).psubs.size(), 2u);
  sl.remove(wc);
  EXPECT_EQ(psub_set(sl.match("foo.bar", cache)), (std::set<const Subscription*>{a.get()}));
  sl.remove(q);
  EXPECT_TRUE(sl.match("foo.bar", cache).qsubs.empty());
}

TEST(SubListCache, UnrelatedChurnKeepsEntries) {
  SubList sl;
  MatchCache cache;
  sl.insert(make_sub("hot.subject"));
  sl.match("hot.subject", cache);
  // Request inboxes coming and going must not flush the hot entry.
  for (int i = 0; i < 50; ++i) {
    auto inbox = make_sub("_INBOX." + std::to_string(i));
    sl.insert(inbox);
    sl.remove(inbox);
  }
  auto before = sl.stats();
  EXPECT_EQ(sl.match("hot.subject", cache).psubs.size(), 1u);
  auto after = sl.stats();
  EXPECT_EQ(after.cache_hits, before.cache_hits + 1);
  EXPECT_EQ(after.num_matches, before.num_matches + 1);
}

TEST(SubListCache, FarBehindCacheIsClearedAndStaysCorrect) {
  SubList sl;
  MatchCache cache;
  auto keep = make_sub("k");
  sl.insert(keep);
  EXPECT_EQ(sl.match("k", cache).psubs.size(), 1u);
  // More changes than the change log holds.
  std::vector<SubscriptionPtr> subs;
  for (int i = 0; i < 600; ++i) {
    subs.push_back(make_sub(i % 2 ? "k" : "other." + std::to_string(i)));
    sl.insert(subs.back());
  }
  EXPECT_EQ(sl.match("k", cache).psubs.size(), 301u);
}

TEST(SubListCache, OneCacheServesManyLists) {
  SubList a, b;
  MatchCache cache;
  auto sa = make_sub("x");
  a.insert(sa);
  EXPECT_EQ(a.match("x", cache).psubs.size(), 1u);
  EXPECT_TRUE(b.match("x", cache).empty());
  EXPECT_EQ(a.match("x", cache).psubs.size(), 1u);
  b.insert(make_sub("x"));
  b.insert(make_sub("x"));
  EXPECT_EQ(b.match("x", cache).psubs.size(), 2u);
  EXPECT_EQ(a.match("x", cache).psubs.size(), 1u);
  EXPECT_EQ(cache.size(), 2u);
  {
    SubList gone;
    gone.insert(make_sub("x"));
    gone.match("x", cache);
    EXPECT_EQ(cache.size(), 3u);
  }
  cache.prune();
  EXPECT_EQ(cache.size(), 2u);
}

TEST(SubListCache, BoundedSize) {
  SubList sl;
  MatchCache cache(64);
  sl.insert(make_sub(">"));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(sl.match("s." + std::to_string(i), cache).psubs.size(), 1u);
    ASSERT_LE(cache.size(), 64u);
  }
  EXPECT_EQ(sl.stats().num_cache, cache.size());
}

TEST(SubListCache, MatchSharedSurvivesClear) {
  SubList sl;
  MatchCache cache;
  auto s = make_sub("a");
  sl.insert(s);
  std::shared_ptr<const MatchResult> held = sl.match_shared("a", cache);
  sl.remove(s);
  cache.clear();
  EXPECT_TRUE(sl.match("a", cache).empty());
  ASSERT_EQ(held->psubs.size(), 1u);  // a snapshot: the caller checks Subscription::closed
  EXPECT_EQ(held->psubs[0], s);
}

TEST(SubListStats, Counts) {
  SubList sl;
  MatchCache cache;
  auto a = make_sub("a.b"), b = make_sub("a.*"), c = make_sub("a.>"), q = make_sub("a.b", "q");
  for (auto& s : {a, b, c, q}) sl.insert(s);
  sl.remove(c);
  sl.match("a.b", cache);  // miss, fanout 2 psubs + 1 group = 3
  sl.match("a.b", cache);  // hit
  sl.match("a.c", cache);  // miss, fanout 1
  sl.match("a.b");         // uncached
  SubListStats st = sl.stats();
  EXPECT_EQ(st.num_subscriptions, 3u);
  EXPECT_EQ(st.num_inserts, 4u);
  EXPECT_EQ(st.num_removes, 1u);
  EXPECT_EQ(st.num_matches, 4u);
  EXPECT_EQ(st.cache_hits, 1u);
  EXPECT_DOUBLE_EQ(st.cache_hit_rate, 0.25);
  EXPECT_EQ(st.num_cache, 2u);
  EXPECT_EQ(st.max_fanout, 3u);
  EXPECT_DOUBLE_EQ(st.avg_fanout, 2.0);

  SubListStats total;
  total.add(st);
  total.add(st);
  EXPECT_EQ(total.num_subscriptions, 6u);
  EXPECT_DOUBLE_EQ(total.cache_hit_rate, 0.25);
  EXPECT_DOUBLE_EQ(total.avg_fanout, 2.0);
  EXPECT_EQ(total.max_fanout, 3u);
}

// Several threads match with their own caches while one thread inserts and removes. Checks
// no crash/race (run under TSan/ASan) and that every thread converges on the final state.
TEST(SubListConcurrency, MatchWhileChanging) {
  SubList sl;
  auto stable = make_sub("s.*");
  sl.insert(stable);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  constexpr int kReaders = 3;
  std::vector<std::thread> readers;
  std::vector<std::unique_ptr<MatchCache>> caches;
  for (int t = 0; t < kReaders; ++t) caches.push_back(std::make_unique<MatchCache>(128));
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      MatchCache& cache = *caches[t];
      uint64_t i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        std::string subj = "s." + std::to_string(i++ % 200);
        const MatchResult& r = sl.match(subj, cache);
        // The wildcard subscription is never removed, so it must always be there.
        bool has_stable = std::any_of(r.psubs.begin(), r.psubs.end(),
                                      [&](const SubscriptionPtr& p) { return p == stable; });
        if (!has_stable) bad.fetch_add(1);
        if (i % 7 == 0) sl.has_interest(subj);
        if (i % 13 == 0) sl.match(subj);
      }
    });
  }
  std::vector<SubscriptionPtr> live;
  for (int round = 0; round < 2000; ++round) {
    auto s = make_sub("s." + std::to_string(round % 200), round % 3 == 0 ? "q" : "");
    sl.insert(s);
    live.push_back(s);
    if (live.size() > 50) {
      if (round % 10 == 0) {
        std::vector<SubscriptionPtr> batch(live.begin(), live.begin() + 20);
        sl.remove_batch(batch);
        live.erase(live.begin(), live.begin() + 20);
      } else {
        sl.remove(live.front());
        live.erase(live.begin());
      }
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(sl.count(), live.size() + 1);

  // Now quiescent: every cache must agree with the uncached truth.
  for (int t = 0; t < kReaders; ++t) {
    for (int k = 0; k < 200; ++k) {
      std::string subj = "s." + std::to_string(k);
      const MatchResult& cached = sl.match(subj, *caches[t]);
      auto truth = sl.match(subj);
      EXPECT_EQ(psub_set(cached), psub_set(*truth)) << subj;
      EXPECT_EQ(cached.qsubs.size(), truth->qsubs.size()) << subj;
    }
  }
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
