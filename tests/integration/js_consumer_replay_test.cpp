// replay_policy original for push and pull consumers: stored messages are delivered with the gaps
// they arrived with (the reference's loopAndGatherMsgs), then new ones at once; instant
// replay sends the backlog without waiting. The same check runs against 2.9.10.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using namespace std::chrono;

namespace {

// Gaps (ms) between the deliveries of a push consumer created over a backlog of four
// messages stored about 400, 100 and 300 ms apart (`stored`: the gaps of their stored
// timestamps, which a loaded machine stretches); then one live message's delay after its
// publish.
struct Timing {
  std::vector<int64_t> gaps;
  std::vector<int64_t> stored;
  int64_t live_ms = -1;
};

// An RFC 3339 UTC time with fraction ("2026-12-05T04:25:01.123456789Z") as ns since the epoch.
int64_t rfc3339_ns(const std::string& t) {
  std::tm tm{};
  const char* rest = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return 0;
  int64_t ns = static_cast<int64_t>(::timegm(&tm)) * 1000000000;
  if (*rest == '.') {
    int64_t scale = 100000000;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) ns += (*rest - '0') * scale;
  }
  return ns;
}

// The stored time of message `seq` of stream R, in ns since the epoch.
int64_t stored_ns(natsConnection* nc, int seq) {
  auto j = nlohmann::json::parse(
      request_text(nc, "$JS.API.STREAM.MSG.GET.R", "{\"seq\":" + std::to_string(seq) + "}"), nullptr, false);
  if (!j.is_object() || !j.contains("message")) return 0;
  return rfc3339_ns(j["message"].value("time", ""));
}

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
  Timing t;
  for (int seq = 1; seq < 4; ++seq) t.stored.push_back((stored_ns(nc.p, seq + 1) - stored_ns(nc.p, seq)) / 1000000);
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
  ASSERT_EQ(t.gaps.size(), 3u) << who;
  ASSERT_EQ(t.stored.size(), 3u) << who;
  std::printf("%s: gaps %lld %lld %lld ms (stored %lld %lld %lld), live %lld ms\n", who.c_str(),
              static_cast<long long>(t.gaps[0]), static_cast<long long>(t.gaps[1]), static_cast<long long>(t.gaps[2]),
              static_cast<long long>(t.stored[0]), static_cast<long long>(t.stored[1]),
              static_cast<long long>(t.stored[2]), static_cast<long long>(t.live_ms));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GE(t.stored[i], 90) << who << " stored gap " << i;  // the pauses were 400, 100 and 300 ms
    EXPECT_GE(t.gaps[i], t.stored[i] - 30) << who << " gap " << i;
    EXPECT_LE(t.gaps[i], t.stored[i] + 100) << who << " gap " << i;
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
