// replay_policy original for push and pull consumers: stored messages are delivered with the gaps
// they arrived with (the reference's loopAndGatherMsgs), then new ones at once; instant
// replay sends the backlog without waiting. The same check runs against 2.9.10.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using namespace std::chrono;

namespace {

// Gaps (ms) between the deliveries of a push consumer created over a backlog of four
// messages stored 400, 100 and 300 ms apart; then one live message's delay after its
// publish.
struct Timing {
  std::vector<int64_t> gaps;
  int64_t live_ms = -1;
};

Timing replay_timing(const std::string& binary, const std::string& policy, bool pull = false) {
  TempDir store;
  ServerProcess srv({"-js", "-sd", store.path()}, binary);
  srv.start();
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv.url()), NATS_OK);
  request_text(nc.p, "$JS.API.STREAM.CREATE.R", R"({"name":"R","subjects":["r.>"],"storage":"memory"})");
  const int pauses_ms[] = {400, 100, 300};
  request_text(nc.p, "r.0", "x");
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(pauses_ms[i]));  // the gaps being replayed
    request_text(nc.p, "r." + std::to_string(i + 1), "x");
  }
  SubPtr sub;
  EXPECT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "deliver.r"), NATS_OK);
  natsConnection_Flush(nc.p);
  std::string deliver = pull ? "" : R"("deliver_subject":"deliver.r",)";
  request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.R.P",
          R"({"stream_name":"R","config":{"durable_name":"P",)" + deliver + R"("ack_policy":"none",)"
          R"("replay_policy":")" + policy + R"("}})");
  // Pull: one request for the backlog and the live message, answered on deliver.r.
  std::string body = R"({"batch":5,"expires":5000000000})";
  if (pull)
    natsConnection_PublishRequest(nc.p, "$JS.API.CONSUMER.MSG.NEXT.R.P", "deliver.r", body.data(),
                                  static_cast<int>(body.size()));
  Timing t;
  steady_clock::time_point last;
  for (int i = 0; i < 4; ++i) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 3000) != NATS_OK) break;
    auto now = steady_clock::now();
    if (i > 0) t.gaps.push_back(duration_cast<milliseconds>(now - last).count());
    last = now;
  }
  auto sent = steady_clock::now();
  request_text(nc.p, "r.live", "x");
  MsgPtr m;
  if (natsSubscription_NextMsg(&m.p, sub.p, 3000) == NATS_OK)
    t.live_ms = duration_cast<milliseconds>(steady_clock::now() - sent).count();
  return t;
}

void expect_original(const Timing& t, const std::string& who) {
  const int64_t want[] = {400, 100, 300};
  ASSERT_EQ(t.gaps.size(), 3u) << who;
  std::printf("%s: gaps %lld %lld %lld ms (stored 400 100 300), live %lld ms\n", who.c_str(),
              static_cast<long long>(t.gaps[0]), static_cast<long long>(t.gaps[1]), static_cast<long long>(t.gaps[2]),
              static_cast<long long>(t.live_ms));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GE(t.gaps[i], want[i] - 30) << who << " gap " << i;
    EXPECT_LE(t.gaps[i], want[i] + 100) << who << " gap " << i;
  }
  EXPECT_GE(t.live_ms, 0) << who;
  EXPECT_LT(t.live_ms, 200) << who << ": caught up, a live message goes out at once";
}

TEST(JsConsumerReplay, OriginalKeepsGaps) {
  expect_original(replay_timing(server_binary(), "original"), "ours");
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  expect_original(replay_timing(reference_binary(), "original"), "reference");
}

TEST(JsConsumerReplay, OriginalKeepsGapsForPull) {
  expect_original(replay_timing(server_binary(), "original", true), "ours");
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  expect_original(replay_timing(reference_binary(), "original", true), "reference");
}

TEST(JsConsumerReplay, InstantSendsBacklogAtOnce) {
  auto t = replay_timing(server_binary(), "instant");
  ASSERT_EQ(t.gaps.size(), 3u);
  for (auto g : t.gaps) EXPECT_LT(g, 80);
  EXPECT_GE(t.live_ms, 0);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
