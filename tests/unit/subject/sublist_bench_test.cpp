// A micro-benchmark, not an assertion: prints ns per match so regressions are visible in the
// test log. Numbers only mean something in a Release build.
#include "subject/sublist.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

TEST(SubListBench, CachedVsUncached) {
  SubList sl;
  // ~10k subscriptions shaped like a real server: many literal per-device subjects, some
  // wildcards, some queue groups.
  std::vector<std::string> subjects;
  for (int i = 0; i < 10000; ++i) {
    std::string s = "dev." + std::to_string(i % 100) + ".sensor." + std::to_string(i);
    auto sub = std::make_shared<Subscription>();
    sub->subject = (i % 50 == 0) ? "dev." + std::to_string(i % 100) + ".sensor.*" : s;
    if (i % 10 == 0) sub->queue = "workers";
    sl.insert(sub);
    subjects.push_back(s);
  }
  auto all = std::make_shared<Subscription>();
  all->subject = "dev.>";
  sl.insert(all);

  constexpr int kHot = 256;  // fits in the cache
  constexpr int kIters = 200000;
  MatchCache cache;
  size_t sink = 0;
  std::vector<std::string_view> hot;
  for (int i = 0; i < kHot; ++i) hot.push_back(subjects[i * 37 % subjects.size()]);
  for (auto s : hot) sink += sl.match(s, cache).fanout();

  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) sink += sl.match(hot[i & (kHot - 1)], cache).fanout();
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters / 4; ++i) {
    sink += sl.match(subjects[(i * 7919) % subjects.size()])->fanout();
  }
  auto t2 = std::chrono::steady_clock::now();

  double cached = std::chrono::duration<double, std::nano>(t1 - t0).count() / kIters;
  double uncached = std::chrono::duration<double, std::nano>(t2 - t1).count() / (kIters / 4);
  auto st = sl.stats();
  std::printf("[bench] %zu subs: cached match %.1f ns, uncached match %.1f ns, hit rate %.3f (sink %zu)\n",
              sl.count(), cached, uncached, st.cache_hit_rate, sink);
  SUCCEED();
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
