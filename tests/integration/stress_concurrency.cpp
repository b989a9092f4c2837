// Concurrency stress for the server's multi-threaded paths, small enough to run under
// ThreadSanitizer (scripts/test.sh runs these against the NATS_TSAN server): messages
// handed across event loops (publishers and subscribers on many connections, so on
// different loops, with queue groups), and JetStream with concurrent publishers into a
// file stream (the flusher) while pull consumers fetch and ack on their workers. In the
// plain build they are ordinary tests: every message must arrive exactly as counted.
#include <gtest/gtest.h>

#include <nats/nats.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

constexpr int kPublishers = 4;
constexpr int kPerPublisher = 500;

TEST(StressConcurrency, PubSubAcrossLoops) {
  ServerProcess server;
  server.start();
  constexpr int kSubscribers = 6, kQueueMembers = 4;
  std::vector<std::unique_ptr<ConnPtr>> sub_conns;
  std::vector<std::unique_ptr<MsgCounter>> counters;
  std::vector<std::unique_ptr<SubPtr>> subs;
  MsgCounter queue_total;
  for (int i = 0; i < kSubscribers + kQueueMembers; ++i) {
    auto c = std::make_unique<ConnPtr>();
    ASSERT_EQ(connect_url(*c, server.url()), NATS_OK);
    auto s = std::make_unique<SubPtr>();
    if (i < kSubscribers) {
      counters.push_back(std::make_unique<MsgCounter>());
      ASSERT_EQ(natsConnection_Subscribe(&s->p, c->p, "stress.>", MsgCounter::on_msg, counters.back().get()), NATS_OK);
    } else {
      ASSERT_EQ(natsConnection_QueueSubscribe(&s->p, c->p, "stress.>", "q", MsgCounter::on_msg, &queue_total), NATS_OK);
    }
    ASSERT_EQ(natsConnection_Flush(c->p), NATS_OK);
    sub_conns.push_back(std::move(c));
    subs.push_back(std::move(s));
  }

  std::atomic<int> failures{0};
  std::vector<std::thread> pubs;
  for (int p = 0; p < kPublishers; ++p) {
    pubs.emplace_back([&, p] {
      ConnPtr c;
      if (connect_url(c, server.url()) != NATS_OK) return void(++failures);
      const std::string subject = "stress." + std::to_string(p);
      for (int i = 0; i < kPerPublisher; ++i) {
        const std::string data = std::to_string(i);
        if (natsConnection_Publish(c.p, subject.c_str(), data.data(), static_cast<int>(data.size())) != NATS_OK)
          ++failures;
      }
      if (natsConnection_Flush(c.p) != NATS_OK) ++failures;
    });
  }
  for (auto& t : pubs) t.join();
  ASSERT_EQ(failures.load(), 0);

  constexpr int kTotal = kPublishers * kPerPublisher;
  for (auto& c : counters) EXPECT_TRUE(c->wait_count(kTotal, milliseconds(60000))) << c->get() << " of " << kTotal;
  EXPECT_TRUE(queue_total.wait_count(kTotal, milliseconds(60000))) << queue_total.get();
  std::this_thread::sleep_for(milliseconds(200));
  for (auto& c : counters) EXPECT_EQ(c->get(), kTotal);
  EXPECT_EQ(queue_total.get(), kTotal);  // each message to exactly one queue member
}

TEST(StressConcurrency, JetStreamPublishersAndPullConsumers) {
  TempDir store;
  ServerProcess server({"-js", "-sd", store.path()});
  server.start();
  ConnPtr admin;
  ASSERT_EQ(connect_url(admin, server.url()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, admin.p, nullptr), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "STRESS";
  const char* subjects[] = {"js.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  jsStreamInfo* si = nullptr;
  ASSERT_EQ(js_AddStream(&si, js, &cfg, nullptr, nullptr), NATS_OK);
  jsStreamInfo_Destroy(si);

  constexpr int kPerJsPublisher = 150, kConsumers = 2;
  constexpr int kTotal = kPublishers * kPerJsPublisher;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::vector<std::atomic<int>> acked(kConsumers);
  for (int k = 0; k < kConsumers; ++k) {
    threads.emplace_back([&, k] {
      ConnPtr c;
      jsCtx* cjs = nullptr;
      if (connect_url(c, server.url()) != NATS_OK || natsConnection_JetStream(&cjs, c.p, nullptr) != NATS_OK)
        return void(++failures);
      jsSubOptions so;
      jsSubOptions_Init(&so);
      so.Stream = "STRESS";
      so.Config.AckPolicy = js_AckExplicit;
      const std::string durable = "pull" + std::to_string(k);
      natsSubscription* sub = nullptr;
      if (js_PullSubscribe(&sub, cjs, "js.>", durable.c_str(), nullptr, &so, nullptr) != NATS_OK) {
        ++failures;
      } else {
        auto deadline = Clock::now() + milliseconds(120000);
        while (acked[k].load() < kTotal && Clock::now() < deadline) {
          natsMsgList list{};
          if (natsSubscription_Fetch(&list, sub, 50, 2000, nullptr) == NATS_OK) {
            for (int i = 0; i < list.Count; ++i)
              if (natsMsg_AckSync(list.Msgs[i], nullptr, nullptr) == NATS_OK) ++acked[k];
          }
          natsMsgList_Destroy(&list);
        }
        natsSubscription_Destroy(sub);
      }
      jsCtx_Destroy(cjs);
    });
  }
  for (int p = 0; p < kPublishers; ++p) {
    threads.emplace_back([&, p] {
      ConnPtr c;
      jsCtx* pjs = nullptr;
      if (connect_url(c, server.url()) != NATS_OK || natsConnection_JetStream(&pjs, c.p, nullptr) != NATS_OK)
        return void(++failures);
      const std::string subject = "js." + std::to_string(p);
      for (int i = 0; i < kPerJsPublisher; ++i) {
        const std::string data = std::string(64 + i % 512, 'x');
        jsPubAck* pa = nullptr;
        if (js_Publish(&pa, pjs, subject.c_str(), data.data(), static_cast<int>(data.size()), nullptr, nullptr) !=
            NATS_OK)
          ++failures;
        jsPubAck_Destroy(pa);
      }
      jsCtx_Destroy(pjs);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int k = 0; k < kConsumers; ++k) EXPECT_EQ(acked[k].load(), kTotal) << "consumer " << k;

  ASSERT_EQ(js_GetStreamInfo(&si, js, "STRESS", nullptr, nullptr), NATS_OK);
  EXPECT_EQ(si->State.Msgs, static_cast<uint64_t>(kTotal));
  jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
