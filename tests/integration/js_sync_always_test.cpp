// sync_always (jetstream { sync_interval: always }): a PubAck leaves only once its message
// is written and fsync'ed; with group commit one fsync covers a whole input batch. A kill -9
// while publishing must not lose any acknowledged message (a PubAck sent while the message
// still sat in the store's buffer would be lost here).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;

namespace {

nlohmann::json js_request(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 3000) != NATS_OK)
    return nullptr;
  auto j = nlohmann::json::parse(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)), nullptr, false);
  natsMsg_Destroy(reply);
  return j;
}

struct AckCounter {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> max_seq{0};
  std::atomic<uint64_t> errors{0};
};

void on_ack(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* c = static_cast<AckCounter*>(closure);
  auto j = nlohmann::json::parse(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)), nullptr, false);
  if (j.is_object() && j.contains("seq") && !j.contains("error")) {
    uint64_t seq = j["seq"].get<uint64_t>();
    uint64_t cur = c->max_seq.load();
    while (seq > cur && !c->max_seq.compare_exchange_weak(cur, seq)) {
    }
    ++c->acked;
  } else {
    ++c->errors;
  }
  natsMsg_Destroy(msg);
}

}  // namespace

TEST(JsSyncAlways, Kill9WhilePublishingKeepsEveryAcknowledgedMessage) {
  TempDir dir;
  std::string conf = dir.path() + "/server.conf";
  {
    std::ofstream f(conf);
    f << "jetstream { store_dir: \"" << dir.path() << "/store\", sync_interval: always }\n";
  }
  int port = free_port();
  auto proc = std::make_unique<ServerProcess>(std::vector<std::string>{"-c", conf}, server_binary(), port);
  proc->start();
  AckCounter acks;
  {
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, proc->url()), NATS_OK);
    auto j = js_request(nc.p, "$JS.API.STREAM.CREATE.D", R"({"name":"D","subjects":["d"]})");
    ASSERT_TRUE(j.is_object() && !j.contains("error")) << j;
    natsSubscription* sub = nullptr;
    ASSERT_EQ(natsConnection_Subscribe(&sub, nc.p, "acks", on_ack, &acks), NATS_OK);
    natsSubscription_SetPendingLimits(sub, -1, -1);
    ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);
    // Pipelined publishes (up to 256 unacknowledged) so the server sees batches; kill -9
    // once a good number are acknowledged, with more in flight.
    std::atomic<bool> stop{false};
    std::thread pub([&] {
      uint64_t sent = 0;
      while (!stop) {
        if (sent - acks.acked.load() >= 256) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          continue;
        }
        if (natsConnection_PublishRequestString(nc.p, "d", "acks", "payload-of-a-durable-message") != NATS_OK) break;
        ++sent;
      }
    });
    bool enough = wait_for([&] { return acks.acked.load() >= 3000; }, std::chrono::milliseconds(15000));
    proc->stop(SIGKILL);
    stop = true;
    pub.join();
    natsSubscription_Destroy(sub);
    ASSERT_TRUE(enough) << "acked " << acks.acked.load();
  }
  EXPECT_EQ(acks.errors.load(), 0u);
  uint64_t max_acked = acks.max_seq.load();
  proc->start();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, proc->url()), NATS_OK);
  auto j = js_request(nc.p, "$JS.API.STREAM.INFO.D");
  ASSERT_TRUE(j.is_object() && !j.contains("error")) << j;
  // Every acknowledged sequence is there, and nothing below it is missing.
  uint64_t last = j["state"]["last_seq"].get<uint64_t>();
  EXPECT_GE(last, max_acked);
  EXPECT_EQ(j["state"]["first_seq"], 1);
  EXPECT_EQ(j["state"]["messages"].get<uint64_t>(), last);
  j = js_request(nc.p, "$JS.API.STREAM.MSG.GET.D", R"({"seq":)" + std::to_string(max_acked) + "}");
  ASSERT_TRUE(j.is_object() && j.contains("message")) << j;
  EXPECT_EQ(j["message"]["seq"], max_acked);
  proc->stop();
}

}  // namespace NATS_TEST_FILE_ID
