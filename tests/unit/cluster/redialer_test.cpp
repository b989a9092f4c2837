// The redial schedule of routes, gateways and leaf nodes (cluster/redialer.h): URL rotation,
// give-up after `retries`, a gateway attempt as a round over its URLs, the loop hold, and
// the error-report cadence of first connects and reconnects. No clock is waited on: delays
// are zero, or checked through take_due's wake time.
#include <gtest/gtest.h>

#include "cluster/redialer.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::cluster::NATS_TEST_FILE_ID {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

RedialPolicy now_policy(int retries, bool round = false) {
  RedialPolicy p;
  p.retry_delay = std::chrono::nanoseconds(0);
  p.retries = retries;
  p.every_url_per_attempt = round;
  return p;
}

template <class K>
std::optional<typename Redialer<K>::Dial> take(Redialer<K>& r, size_t urls) {
  auto wake = Clock::now() + seconds(100);
  return r.take_due(Clock::now(), wake, [&](const K&) { return urls; });
}

TEST(Redialer, OneUrlPerAttemptRotatesAndGivesUpAfterRetries) {
  Redialer<int> r;
  r.schedule(7, now_policy(2), std::chrono::nanoseconds(0), true);
  std::vector<size_t> urls;
  for (int i = 1; i <= 3; ++i) {
    auto d = take(r, 2);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->attempt, i);
    urls.push_back(d->url_index);
    EXPECT_FALSE(take(r, 2)) << "busy while dialling";
    EXPECT_EQ(r.failed(7, 2), i < 3) << i;  // the first attempt and 2 retries, then given up
  }
  EXPECT_EQ(urls, (std::vector<size_t>{0, 1, 0}));
  EXPECT_FALSE(r.scheduled(7));
}

TEST(Redialer, ForeverNeverGivesUpAndARescheduleCountsAgain) {
  Redialer<int> r;
  r.schedule(1, now_policy(-1), std::chrono::nanoseconds(0), false);
  for (int i = 0; i < 50; ++i) {
    auto d = take(r, 1);
    ASSERT_TRUE(d);
    EXPECT_TRUE(r.failed(1, 1));
  }
  r.schedule(1, now_policy(-1), std::chrono::nanoseconds(0), false);
  EXPECT_EQ(take(r, 1)->attempt, 1);
}

TEST(Redialer, AGatewayAttemptIsARoundOverItsUrls) {
  Redialer<std::string> r;
  r.schedule("B", now_policy(1, true), std::chrono::nanoseconds(0), true);
  // Round 1 (attempt 1) over 3 URLs, round 2 (attempt 2), then given up (1 retry).
  for (int round = 1; round <= 2; ++round)
    for (size_t u = 0; u < 3; ++u) {
      auto d = take(r, 3);
      ASSERT_TRUE(d);
      EXPECT_EQ(d->attempt, round);
      EXPECT_EQ(d->url_index, u);
      EXPECT_EQ(r.failed("B", 3), !(round == 2 && u == 2));
    }
  EXPECT_FALSE(r.scheduled("B"));
}

TEST(Redialer, DelaysHoldsAndNothingToDial) {
  Redialer<int> r;
  RedialPolicy p;  // 1 s between attempts
  r.schedule(0, p, seconds(5), true);
  auto wake = Clock::now() + seconds(100);
  EXPECT_FALSE(r.take_due(Clock::now(), wake, [](int) { return size_t{1}; }));
  EXPECT_LE(wake, Clock::now() + seconds(5));
  EXPECT_GT(wake, Clock::now() + seconds(4));
  // A loop hold of 30 s pushes the next attempt, and a drop's reconnect delay comes after it.
  r.hold(0, seconds(30));
  EXPECT_GT(r.after_hold(0, seconds(1)), seconds(30));
  r.schedule(0, p, r.after_hold(0, seconds(1)), false);
  wake = Clock::now() + seconds(100);
  EXPECT_FALSE(r.take_due(Clock::now() + seconds(29), wake, [](int) { return size_t{1}; }));
  EXPECT_TRUE(r.take_due(Clock::now() + seconds(32), wake, [](int) { return size_t{1}; }));
  // A remote without URLs yet is not dialled.
  r.schedule(1, now_policy(-1), std::chrono::nanoseconds(0), true);
  EXPECT_FALSE(take(r, 0));
}

TEST(Redialer, ErrorsAreReportedAsTheReferenceDoes) {
  Redialer<int> r;
  r.schedule(0, now_policy(-1), std::chrono::nanoseconds(0), true);  // first connect: 1, 3600, 7200...
  std::vector<int> reported;
  for (int i = 1; i <= 3600; ++i) {
    auto d = take(r, 1);
    if (d->report) reported.push_back(d->attempt);
    r.failed(0, 1);
  }
  EXPECT_EQ(reported, (std::vector<int>{1, 3600}));
  r.schedule(0, now_policy(-1), std::chrono::nanoseconds(0), false);  // reconnect: every one
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(take(r, 1)->report);
    r.failed(0, 1);
  }
}

}  // namespace
}  // namespace nats::cluster::NATS_TEST_FILE_ID
