// JetStream consumers on one server, driven by the official C client: pull fetch batches,
// push durable/ephemeral/ordered consumers, ack-wait redelivery, work-queue removal, and a
// durable that survives a restart. Runs against our server (NATS_TEST_SERVER_BIN can point
// at the reference to check the test itself).
#include <gtest/gtest.h>

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;

namespace {

class JsConsumer : public ::testing::Test {
 protected:
  void SetUp() override { start_server(); }
  void TearDown() override { disconnect(); }

  void start_server() {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"-js", "-sd", store_.path()});
    server_->start();
    connect();
  }
  void connect() {
    ASSERT_EQ(natsConnection_ConnectTo(&nc_, server_->url().c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js_, nc_, nullptr), NATS_OK);
  }
  void disconnect() {
    if (js_) jsCtx_Destroy(js_);
    if (nc_) natsConnection_Destroy(nc_);
    js_ = nullptr;
    nc_ = nullptr;
  }
  void add_stream(const char* name, const char* subject, jsRetentionPolicy retention = js_LimitsPolicy,
                  jsStorageType storage = js_MemoryStorage) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    const char* subjects[] = {subject};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = retention;
    cfg.Storage = storage;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_AddStream(&si, js_, &cfg, nullptr, &jerr), NATS_OK) << jerr;
    jsStreamInfo_Destroy(si);
  }
  void publish(const std::string& subject, int n) {
    for (int i = 0; i < n; ++i) {
      std::string data = "msg-" + std::to_string(i);
      jsPubAck* pa = nullptr;
      ASSERT_EQ(js_Publish(&pa, js_, subject.c_str(), data.data(), static_cast<int>(data.size()), nullptr, nullptr),
                NATS_OK);
      jsPubAck_Destroy(pa);
    }
  }
  jsConsumerInfo* consumer_info(const char* stream, const char* name) {
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    EXPECT_EQ(js_GetConsumerInfo(&ci, js_, stream, name, nullptr, &jerr), NATS_OK) << jerr;
    return ci;
  }
  uint64_t stream_msgs(const char* stream) {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js_, stream, nullptr, nullptr) != NATS_OK) return UINT64_MAX;
    uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
  }
  template <typename F>
  bool eventually(F f, std::chrono::milliseconds within = std::chrono::seconds(10)) {
    auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
      if (f()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return f();
  }

  TempDir store_;
  std::unique_ptr<ServerProcess> server_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

TEST_F(JsConsumer, PullFetchBatchesAndAcks) {
  add_stream("ORDERS", "orders.>");
  publish("orders.new", 7);
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PullSubscribe(&sub, js_, "orders.>", "worker", nullptr, nullptr, &jerr), NATS_OK) << jerr;
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 5, 5000, &jerr), NATS_OK) << jerr;
  ASSERT_EQ(list.Count, 5);
  for (int i = 0; i < list.Count; ++i) {
    EXPECT_EQ(std::string(natsMsg_GetData(list.Msgs[i])), "msg-" + std::to_string(i));
    EXPECT_STREQ(natsMsg_GetSubject(list.Msgs[i]), "orders.new");
    jsMsgMetaData* meta = nullptr;
    ASSERT_EQ(natsMsg_GetMetaData(&meta, list.Msgs[i]), NATS_OK);
    EXPECT_EQ(meta->Sequence.Stream, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(meta->NumPending, static_cast<uint64_t>(6 - i));
    jsMsgMetaData_Destroy(meta);
    EXPECT_EQ(natsMsg_Ack(list.Msgs[i], nullptr), NATS_OK);
  }
  natsMsgList_Destroy(&list);
  // Only two left: a fetch of 5 returns what is there once its wait is over.
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 5, 1000, &jerr), NATS_OK) << jerr;
  EXPECT_EQ(list.Count, 2);
  for (int i = 0; i < list.Count; ++i) EXPECT_EQ(natsMsg_AckSync(list.Msgs[i], nullptr, &jerr), NATS_OK);
  natsMsgList_Destroy(&list);
  // Nothing left.
  EXPECT_EQ(natsSubscription_Fetch(&list, sub, 1, 300, &jerr), NATS_TIMEOUT);
  natsMsgList_Destroy(&list);

  jsConsumerInfo* ci = consumer_info("ORDERS", "worker");
  ASSERT_NE(ci, nullptr);
  EXPECT_EQ(ci->Delivered.Stream, 7u);
  EXPECT_EQ(ci->AckFloor.Stream, 7u);
  EXPECT_EQ(ci->NumAckPending, 0);
  EXPECT_EQ(ci->NumPending, 0u);
  jsConsumerInfo_Destroy(ci);
  natsSubscription_Destroy(sub);
}

TEST_F(JsConsumer, PushDurableAndEphemeral) {
  add_stream("EV", "ev.*");
  publish("ev.a", 3);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.Durable = "push-d";
  so.Config.AckPolicy = js_AckExplicit;
  natsSubscription* d = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_SubscribeSync(&d, js_, "ev.*", nullptr, &so, &jerr), NATS_OK) << jerr;
  natsSubscription* e = nullptr;
  ASSERT_EQ(js_SubscribeSync(&e, js_, "ev.a", nullptr, nullptr, &jerr), NATS_OK) << jerr;
  publish("ev.a", 2);
  for (int i = 0; i < 5; ++i) {
    natsMsg* m = nullptr;
    ASSERT_EQ(natsSubscription_NextMsg(&m, d, 5000), NATS_OK) << i;
    EXPECT_EQ(std::string(natsMsg_GetData(m)), "msg-" + std::to_string(i < 3 ? i : i - 3));
    EXPECT_EQ(natsMsg_Ack(m, nullptr), NATS_OK);
    natsMsg_Destroy(m);
    ASSERT_EQ(natsSubscription_NextMsg(&m, e, 5000), NATS_OK) << i;
    natsMsg_Destroy(m);
  }
  EXPECT_TRUE(eventually([&] {
    jsConsumerInfo* ci = consumer_info("EV", "push-d");
    bool done = ci && ci->NumAckPending == 0 && ci->AckFloor.Stream == 5 && ci->PushBound;
    jsConsumerInfo_Destroy(ci);
    return done;
  }));
  natsSubscription_Destroy(e);
  natsSubscription_Destroy(d);
}

TEST_F(JsConsumer, OrderedConsumerGetsEverythingInOrder) {
  add_stream("ORD", "ord.>");
  publish("ord.x", 50);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_SubscribeSync(&sub, js_, "ord.>", nullptr, &so, &jerr), NATS_OK) << jerr;
  for (int i = 0; i < 50; ++i) {
    natsMsg* m = nullptr;
    ASSERT_EQ(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK) << i;
    jsMsgMetaData* meta = nullptr;
    ASSERT_EQ(natsMsg_GetMetaData(&meta, m), NATS_OK);
    EXPECT_EQ(meta->Sequence.Stream, static_cast<uint64_t>(i + 1));
    jsMsgMetaData_Destroy(meta);
    natsMsg_Destroy(m);
  }
  natsSubscription_Destroy(sub);
}

TEST_F(JsConsumer, AckWaitRedeliversAndCountsRedelivered) {
  add_stream("RD", "rd");
  publish("rd", 1);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.AckWait = 300 * 1000 * 1000;  // ns
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PullSubscribe(&sub, js_, "rd", "slow", nullptr, &so, &jerr), NATS_OK) << jerr;
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 1, 5000, &jerr), NATS_OK);
  ASSERT_EQ(list.Count, 1);
  natsMsgList_Destroy(&list);  // not acked
  bool redelivered = false;
  for (int attempt = 0; attempt < 10 && !redelivered; ++attempt) {
    if (natsSubscription_Fetch(&list, sub, 1, 1000, &jerr) == NATS_OK && list.Count == 1) {
      jsMsgMetaData* meta = nullptr;
      ASSERT_EQ(natsMsg_GetMetaData(&meta, list.Msgs[0]), NATS_OK);
      EXPECT_EQ(meta->Sequence.Stream, 1u);
      EXPECT_GE(meta->NumDelivered, 2u);
      jsMsgMetaData_Destroy(meta);
      // -NAK sends it right back.
      EXPECT_EQ(natsMsg_Nak(list.Msgs[0], nullptr), NATS_OK);
      redelivered = true;
    }
    natsMsgList_Destroy(&list);
  }
  ASSERT_TRUE(redelivered);
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 1, 5000, &jerr), NATS_OK);
  ASSERT_EQ(list.Count, 1);
  EXPECT_EQ(natsMsg_AckSync(list.Msgs[0], nullptr, &jerr), NATS_OK);
  natsMsgList_Destroy(&list);
  jsConsumerInfo* ci = consumer_info("RD", "slow");
  ASSERT_NE(ci, nullptr);
  EXPECT_EQ(ci->NumAckPending, 0);
  EXPECT_EQ(ci->NumRedelivered, 0);
  EXPECT_GE(ci->Delivered.Consumer, 3u);
  jsConsumerInfo_Destroy(ci);
  natsSubscription_Destroy(sub);
}

TEST_F(JsConsumer, WorkQueueRemovesAckedAndRejectsSecondUnfilteredConsumer) {
  add_stream("WQ", "wq.>", js_WorkQueuePolicy);
  publish("wq.job", 4);
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PullSubscribe(&sub, js_, "wq.>", "wq-worker", nullptr, nullptr, &jerr), NATS_OK) << jerr;
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 4, 5000, &jerr), NATS_OK);
  ASSERT_EQ(list.Count, 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(natsMsg_AckSync(list.Msgs[i], nullptr, &jerr), NATS_OK);
  natsMsgList_Destroy(&list);
  EXPECT_TRUE(eventually([&] { return stream_msgs("WQ") == 1; })) << stream_msgs("WQ");

  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = "other";
  cc.AckPolicy = js_AckExplicit;
  jsConsumerInfo* ci = nullptr;
  jerr = static_cast<jsErrCode>(0);
  EXPECT_NE(js_AddConsumer(&ci, js_, "WQ", &cc, nullptr, &jerr), NATS_OK);
  EXPECT_EQ(static_cast<int>(jerr), 10099);
  natsSubscription_Destroy(sub);
}

TEST_F(JsConsumer, DurableStateSurvivesRestart) {
  add_stream("FS", "fs.>", js_LimitsPolicy, js_FileStorage);
  publish("fs.a", 5);
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PullSubscribe(&sub, js_, "fs.>", "keep", nullptr, nullptr, &jerr), NATS_OK) << jerr;
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 3, 5000, &jerr), NATS_OK);
  ASSERT_EQ(list.Count, 3);
  EXPECT_EQ(natsMsg_AckSync(list.Msgs[0], nullptr, &jerr), NATS_OK);
  EXPECT_EQ(natsMsg_AckSync(list.Msgs[1], nullptr, &jerr), NATS_OK);
  natsMsgList_Destroy(&list);
  natsSubscription_Destroy(sub);
  disconnect();
  server_->stop();
  server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"-js", "-sd", store_.path()});
  server_->start();
  connect();
  jsConsumerInfo* ci = consumer_info("FS", "keep");
  ASSERT_NE(ci, nullptr);
  EXPECT_EQ(ci->Delivered.Stream, 3u);
  EXPECT_EQ(ci->Delivered.Consumer, 3u);
  EXPECT_EQ(ci->AckFloor.Stream, 2u);
  EXPECT_EQ(ci->NumAckPending, 1);
  EXPECT_EQ(ci->NumPending, 2u);
  jsConsumerInfo_Destroy(ci);
  // Delivery continues where it stopped.
  ASSERT_EQ(js_PullSubscribe(&sub, js_, "fs.>", "keep", nullptr, nullptr, &jerr), NATS_OK) << jerr;
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 2, 5000, &jerr), NATS_OK);
  ASSERT_EQ(list.Count, 2);
  jsMsgMetaData* meta = nullptr;
  ASSERT_EQ(natsMsg_GetMetaData(&meta, list.Msgs[0]), NATS_OK);
  EXPECT_EQ(meta->Sequence.Stream, 4u);
  jsMsgMetaData_Destroy(meta);
  natsMsgList_Destroy(&list);
  natsSubscription_Destroy(sub);
}

TEST_F(JsConsumer, EphemeralRemovedAfterInactivity) {
  add_stream("EPH", "eph");
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.AckPolicy = js_AckExplicit;
  cc.InactiveThreshold = 300 * 1000 * 1000;
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddConsumer(&ci, js_, "EPH", &cc, nullptr, &jerr), NATS_OK) << jerr;
  std::string name = ci->Name;
  jsConsumerInfo_Destroy(ci);
  EXPECT_TRUE(eventually([&] {
    jsConsumerInfo* x = nullptr;
    jsErrCode e2 = static_cast<jsErrCode>(0);
    natsStatus s = js_GetConsumerInfo(&x, js_, "EPH", name.c_str(), nullptr, &e2);
    jsConsumerInfo_Destroy(x);
    return s != NATS_OK && e2 == JSConsumerNotFoundErr;
  }));
}

}  // namespace

namespace {

// The same consumer API requests against the reference and against us: the answers must
// agree once times and generated names are masked.
std::string masked_reply(natsConnection* nc, const std::string& subject, const std::string& body) {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, nc, subject.c_str(), body.data(), static_cast<int>(body.size()), 5000) !=
      NATS_OK)
    return "<no reply>";
  std::string s(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (j.is_discarded()) return s;
  if (j.contains("created")) j["created"] = "T";
  if (j.contains("delivered")) j["delivered"].erase("last_active");
  if (j.contains("ack_floor")) j["ack_floor"].erase("last_active");
  if (j.contains("name") && j.contains("config") && !j["config"].contains("name") &&
      !j["config"].contains("durable_name"))
    j["name"] = "EPHEMERAL";
  return j.dump();
}

}  // namespace

TEST(JsConsumerDiff, ApiAnswersMatchReference) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  TempDir ours_dir, ref_dir;
  ServerProcess ours({"-js", "-sd", ours_dir.path()});
  ServerProcess ref({"-js", "-sd", ref_dir.path()}, reference_binary());
  ours.start();
  ref.start();
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"$JS.API.STREAM.CREATE.DS", R"({"name":"DS","subjects":["ds.>"],"storage":"memory"})"},
      {"$JS.API.STREAM.CREATE.DW", R"({"name":"DW","subjects":["dw.>"],"storage":"memory","retention":"workqueue"})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"deliver_subject":"a.*"}})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"deliver_subject":"ds.x"}})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"deliver_subject":"d","idle_heartbeat":5}})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"flow_control":true}})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"deliver_policy":"last_per_subject"}})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"filter_subject":"other.x"}})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"num_replicas":3}})"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"XX","config":{}})"},
      {"$JS.API.CONSUMER.CREATE.DS", "junk"},
      {"$JS.API.CONSUMER.CREATE.DS", R"({"stream_name":"DS","config":{"ack_policy":"explicit"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.DS.X", R"({"stream_name":"DS","config":{"durable_name":"Y"}})"},
      {"$JS.API.CONSUMER.CREATE.DS.N.ds.a", R"({"stream_name":"DS","config":{"filter_subject":"ds.b"}})"},
      {"$JS.API.CONSUMER.CREATE.DS.N.ds.a", R"({"stream_name":"DS","config":{"filter_subject":"ds.a","ack_policy":"explicit"}})"},
      {"$JS.API.CONSUMER.CREATE.DS.N", R"({"stream_name":"DS","config":{"filter_subject":"ds.a","ack_policy":"none"}})"},
      {"$JS.API.CONSUMER.INFO.DS.N", ""},
      {"$JS.API.CONSUMER.INFO.DS.NONE", ""},
      {"$JS.API.CONSUMER.DURABLE.CREATE.DW.W1", R"({"stream_name":"DW","config":{"durable_name":"W1","ack_policy":"none"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.DW.W1", R"({"stream_name":"DW","config":{"durable_name":"W1","ack_policy":"explicit"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.DW.W2", R"({"stream_name":"DW","config":{"durable_name":"W2","ack_policy":"explicit"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.DW.W3", R"({"stream_name":"DW","config":{"durable_name":"W3","ack_policy":"explicit","deliver_policy":"new","filter_subject":"dw.b"}})"},
      {"$JS.API.CONSUMER.NAMES.DW", ""},
      {"$JS.API.CONSUMER.LIST.DW", R"({"offset":1})"},
      {"$JS.API.CONSUMER.NAMES.NOPE", ""},
      {"$JS.API.CONSUMER.DELETE.DS.N", ""},
      {"$JS.API.CONSUMER.DELETE.DS.N", ""},
  };
  natsConnection* a = nullptr;
  natsConnection* b = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&a, ours.url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_ConnectTo(&b, ref.url().c_str()), NATS_OK);
  for (auto& [subject, body] : requests) {
    EXPECT_EQ(masked_reply(a, subject, body), masked_reply(b, subject, body)) << subject << " " << body;
  }
  natsConnection_Destroy(a);
  natsConnection_Destroy(b);
}

}  // namespace NATS_TEST_FILE_ID
