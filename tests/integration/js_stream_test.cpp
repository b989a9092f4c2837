// JetStream streams on one server, driven by libnats's JetStream and KV API and by raw API
// requests; plus a restart (file streams persist, memory streams do not) and a differential
// run of the same raw requests against the reference server.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;

namespace {

struct JsPtr {
  jsCtx* p = nullptr;
  ~JsPtr() { if (p) jsCtx_Destroy(p); }
};
struct SiPtr {
  jsStreamInfo* p = nullptr;
  ~SiPtr() { reset(); }
  void reset() { if (p) jsStreamInfo_Destroy(p); p = nullptr; }
};
struct AckPtr {
  jsPubAck* p = nullptr;
  ~AckPtr() { reset(); }
  void reset() { if (p) jsPubAck_Destroy(p); p = nullptr; }
};

// A server with JetStream and its own store directory (kept across restarts).
struct JsServer {
  TempDir store;
  std::unique_ptr<ServerProcess> proc;
  int port = free_port();
  std::string binary;
  explicit JsServer(std::string bin = server_binary()) : binary(std::move(bin)) {}
  void start() {
    proc = std::make_unique<ServerProcess>(std::vector<std::string>{"-js", "-sd", store.path()}, binary, port);
    proc->start();
  }
};

// Synchronous request returning the reply payload ("" on timeout).
std::string request(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 2000) !=
      NATS_OK)
    return "";
  std::string out(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
  natsMsg_Destroy(reply);
  return out;
}

nlohmann::json req_json(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  auto r = request(nc, subj, body);
  auto j = nlohmann::json::parse(r, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << subj << " -> " << r;
  return j;
}

class JsStream : public ::testing::Test {
 protected:
  void SetUp() override {
    srv_.start();
    ASSERT_EQ(connect_url(nc_, srv_.proc->url()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js_.p, nc_.p, nullptr), NATS_OK);
  }
  JsServer srv_;
  ConnPtr nc_;
  JsPtr js_;
};

TEST_F(JsStream, InfoAdvertisesJetStreamAndAccountInfo) {
  RawClient raw(srv_.port);
  EXPECT_NE(raw.info().find("\"jetstream\":true"), std::string::npos) << raw.info();
  auto j = req_json(nc_.p, "$JS.API.INFO");
  EXPECT_EQ(j["type"], "io.nats.jetstream.api.v1.account_info_response");
  for (const char* k : {"memory", "storage", "streams", "consumers", "limits", "api"})
    EXPECT_TRUE(j.contains(k)) << k;
  jsAccountInfo* ai = nullptr;
  ASSERT_EQ(js_GetAccountInfo(&ai, js_.p, nullptr, nullptr), NATS_OK);
  EXPECT_EQ(ai->Streams, 0);
  jsAccountInfo_Destroy(ai);
}

TEST_F(JsStream, AddPublishGetPurgeDelete) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "ORDERS";
  const char* subjects[] = {"orders.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  SiPtr si;
  jsErrCode ec = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(&si.p, js_.p, &cfg, nullptr, &ec), NATS_OK) << ec;
  EXPECT_EQ(si.p->Config->Retention, js_LimitsPolicy);
  EXPECT_EQ(si.p->Config->Storage, js_FileStorage);
  EXPECT_EQ(si.p->Config->Duplicates, 120LL * 1000 * 1000 * 1000);
  EXPECT_EQ(si.p->Config->MaxMsgs, -1);

  // Publish with a message id twice: the second is a duplicate of seq 1.
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = "m1";
  AckPtr ack;
  ASSERT_EQ(js_Publish(&ack.p, js_.p, "orders.new", "one", 3, &po, &ec), NATS_OK);
  EXPECT_STREQ(ack.p->Stream, "ORDERS");
  EXPECT_EQ(ack.p->Sequence, 1u);
  EXPECT_FALSE(ack.p->Duplicate);
  ack.reset();
  ASSERT_EQ(js_Publish(&ack.p, js_.p, "orders.new", "one", 3, &po, &ec), NATS_OK);
  EXPECT_EQ(ack.p->Sequence, 1u);
  EXPECT_TRUE(ack.p->Duplicate);
  ack.reset();

  // Expected last sequence: right passes, wrong fails with 10071.
  jsPubOptions_Init(&po);
  po.ExpectLastSeq = 1;
  ASSERT_EQ(js_Publish(&ack.p, js_.p, "orders.paid", "two", 3, &po, &ec), NATS_OK);
  EXPECT_EQ(ack.p->Sequence, 2u);
  ack.reset();
  po.ExpectLastSeq = 1;
  EXPECT_NE(js_Publish(&ack.p, js_.p, "orders.paid", "x", 1, &po, &ec), NATS_OK);
  EXPECT_EQ(ec, JSStreamWrongLastSequenceErr);
  jsPubOptions_Init(&po);
  po.ExpectStream = "OTHER";
  EXPECT_NE(js_Publish(&ack.p, js_.p, "orders.paid", "x", 1, &po, &ec), NATS_OK);
  EXPECT_EQ(ec, JSStreamNotMatchErr);
  jsPubOptions_Init(&po);
  po.ExpectLastSubjectSeq = 2;
  ASSERT_EQ(js_Publish(&ack.p, js_.p, "orders.paid", "three", 5, &po, &ec), NATS_OK);
  EXPECT_EQ(ack.p->Sequence, 3u);
  ack.reset();

  natsMsg* m = nullptr;
  ASSERT_EQ(js_GetMsg(&m, js_.p, "ORDERS", 2, nullptr, &ec), NATS_OK);
  EXPECT_EQ(std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)), "two");
  EXPECT_STREQ(natsMsg_GetSubject(m), "orders.paid");
  natsMsg_Destroy(m);
  m = nullptr;
  ASSERT_EQ(js_GetLastMsg(&m, js_.p, "ORDERS", "orders.new", nullptr, &ec), NATS_OK);
  EXPECT_EQ(std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)), "one");
  natsMsg_Destroy(m);
  m = nullptr;
  EXPECT_NE(js_GetMsg(&m, js_.p, "ORDERS", 99, nullptr, &ec), NATS_OK);
  EXPECT_EQ(ec, JSNoMessageFoundErr);

  ASSERT_EQ(js_DeleteMsg(js_.p, "ORDERS", 2, nullptr, &ec), NATS_OK);
  ASSERT_EQ(js_GetStreamInfo(&si.p, js_.p, "ORDERS", nullptr, &ec), NATS_OK);
  EXPECT_EQ(si.p->State.Msgs, 2u);
  EXPECT_EQ(si.p->State.FirstSeq, 1u);
  EXPECT_EQ(si.p->State.LastSeq, 3u);
  EXPECT_EQ(si.p->State.NumDeleted, 1);
  si.reset();

  ASSERT_EQ(js_PurgeStream(js_.p, "ORDERS", nullptr, &ec), NATS_OK);
  ASSERT_EQ(js_GetStreamInfo(&si.p, js_.p, "ORDERS", nullptr, &ec), NATS_OK);
  EXPECT_EQ(si.p->State.Msgs, 0u);
  EXPECT_EQ(si.p->State.FirstSeq, 4u);
  si.reset();

  ASSERT_EQ(js_DeleteStream(js_.p, "ORDERS", nullptr, &ec), NATS_OK);
  EXPECT_NE(js_GetStreamInfo(&si.p, js_.p, "ORDERS", nullptr, &ec), NATS_OK);
  EXPECT_EQ(ec, JSStreamNotFoundErr);
  // Nothing listens on the subjects any more.
  EXPECT_NE(js_Publish(&ack.p, js_.p, "orders.new", "x", 1, nullptr, &ec), NATS_OK);
}

TEST_F(JsStream, CreateErrorsAndLimits) {
  auto j = req_json(nc_.p, "$JS.API.STREAM.CREATE.A", R"({"name":"A","subjects":["a.>"],"storage":"memory",)"
                                                       R"("max_msgs":2,"discard":"new","max_msg_size":8})");
  ASSERT_FALSE(j.contains("error")) << j;
  EXPECT_TRUE(j["did_create"].get<bool>());
  j = req_json(nc_.p, "$JS.API.STREAM.CREATE.A", R"({"name":"A","subjects":["b"]})");
  EXPECT_EQ(j["error"]["err_code"], 10058);
  j = req_json(nc_.p, "$JS.API.STREAM.CREATE.B", R"({"name":"B","subjects":["a.b"]})");
  EXPECT_EQ(j["error"]["err_code"], 10065);
  j = req_json(nc_.p, "$JS.API.STREAM.CREATE.B", R"({"name":"C"})");
  EXPECT_EQ(j["error"]["err_code"], 10056);
  j = req_json(nc_.p, "$JS.API.STREAM.CREATE.B", "{nope");
  EXPECT_EQ(j["error"]["err_code"], 10025);
  j = req_json(nc_.p, "$JS.API.STREAM.CREATE.B", R"({"name":"B","max_age":5})");
  EXPECT_EQ(j["error"]["err_code"], 10052);
  j = req_json(nc_.p, "$JS.API.STREAM.INFO.NOPE");
  EXPECT_EQ(j["error"]["err_code"], 10059);

  jsErrCode ec = static_cast<jsErrCode>(0);
  AckPtr ack;
  ASSERT_EQ(js_Publish(&ack.p, js_.p, "a.1", "x", 1, nullptr, &ec), NATS_OK);
  ack.reset();
  ASSERT_EQ(js_Publish(&ack.p, js_.p, "a.2", "x", 1, nullptr, &ec), NATS_OK);
  ack.reset();
  EXPECT_NE(js_Publish(&ack.p, js_.p, "a.3", "x", 1, nullptr, &ec), NATS_OK);
  EXPECT_EQ(static_cast<int>(ec), 10077);
  EXPECT_NE(js_Publish(&ack.p, js_.p, "a.3", "123456789", 9, nullptr, &ec), NATS_OK);
  EXPECT_EQ(static_cast<int>(ec), 10054);

  // The raw PubAck error shape.
  auto r = request(nc_.p, "a.4", "y");
  EXPECT_EQ(r, R"({"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"A","seq":0})");

  j = req_json(nc_.p, "$JS.API.INFO");
  EXPECT_EQ(j["streams"], 1);
  EXPECT_GT(j["memory"].get<int>(), 0);
  EXPECT_GT(j["api"]["errors"].get<int>(), 0);
}

TEST_F(JsStream, DirectGetAndRollup) {
  auto j = req_json(nc_.p, "$JS.API.STREAM.CREATE.D",
                    R"({"name":"D","subjects":["d.>"],"allow_direct":true,"allow_rollup_hdrs":true})");
  ASSERT_FALSE(j.contains("error")) << j;
  for (int i = 0; i < 3; ++i) request(nc_.p, "d.x", "v" + std::to_string(i));
  request(nc_.p, "d.y", "w");
  natsMsg* m = nullptr;
  jsDirectGetMsgOptions dg;
  jsDirectGetMsgOptions_Init(&dg);
  dg.LastBySubject = "d.x";
  ASSERT_EQ(js_DirectGetMsg(&m, js_.p, "D", nullptr, &dg), NATS_OK);
  EXPECT_EQ(std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)), "v2");
  const char* v = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(m, "Nats-Sequence", &v), NATS_OK);
  EXPECT_STREQ(v, "3");
  ASSERT_EQ(natsMsgHeader_Get(m, "Nats-Stream", &v), NATS_OK);
  EXPECT_STREQ(v, "D");
  natsMsg_Destroy(m);
  m = nullptr;
  jsDirectGetMsgOptions_Init(&dg);
  dg.Sequence = 77;
  EXPECT_EQ(js_DirectGetMsg(&m, js_.p, "D", nullptr, &dg), NATS_NOT_FOUND);

  // Rollup of one subject keeps only the rollup message for it.
  natsMsg* pm = nullptr;
  natsMsg_Create(&pm, "d.x", nullptr, "roll", 4);
  natsMsgHeader_Set(pm, "Nats-Rollup", "sub");
  jsPubAck* pa = nullptr;
  ASSERT_EQ(js_PublishMsg(&pa, js_.p, pm, nullptr, nullptr), NATS_OK);
  jsPubAck_Destroy(pa);
  natsMsg_Destroy(pm);
  j = req_json(nc_.p, "$JS.API.STREAM.INFO.D", R"({"subjects_filter":">"})");
  EXPECT_EQ(j["state"]["messages"], 2) << j;
  EXPECT_EQ(j["state"]["subjects"]["d.x"], 1);
}

TEST_F(JsStream, KeyValueBucket) {
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = "cfg";
  kc.History = 3;
  kvStore* kv = nullptr;
  ASSERT_EQ(js_CreateKeyValue(&kv, js_.p, &kc), NATS_OK);
  uint64_t rev = 0;
  ASSERT_EQ(kvStore_PutString(&rev, kv, "a", "1"), NATS_OK);
  EXPECT_EQ(rev, 1u);
  ASSERT_EQ(kvStore_PutString(&rev, kv, "a", "2"), NATS_OK);
  EXPECT_EQ(rev, 2u);
  kvEntry* e = nullptr;
  ASSERT_EQ(kvStore_Get(&e, kv, "a"), NATS_OK);
  EXPECT_STREQ(kvEntry_ValueString(e), "2");
  EXPECT_EQ(kvEntry_Revision(e), 2u);
  kvEntry_Destroy(e);
  // Update with the right revision works; a stale one is rejected.
  ASSERT_EQ(kvStore_UpdateString(&rev, kv, "a", "3", 2), NATS_OK);
  EXPECT_EQ(rev, 3u);
  EXPECT_NE(kvStore_UpdateString(&rev, kv, "a", "4", 2), NATS_OK);
  // Create fails on an existing key, works on a new one.
  EXPECT_NE(kvStore_CreateString(&rev, kv, "a", "x"), NATS_OK);
  ASSERT_EQ(kvStore_CreateString(&rev, kv, "b", "x"), NATS_OK);
  ASSERT_EQ(kvStore_Delete(kv, "b"), NATS_OK);
  e = nullptr;
  EXPECT_EQ(kvStore_Get(&e, kv, "b"), NATS_NOT_FOUND);
  ASSERT_EQ(kvStore_Purge(kv, "a", nullptr), NATS_OK);
  EXPECT_EQ(kvStore_Get(&e, kv, "a"), NATS_NOT_FOUND);
  kvStore_Destroy(kv);

  auto j = req_json(nc_.p, "$JS.API.STREAM.INFO.KV_cfg");
  EXPECT_EQ(j["config"]["max_msgs_per_subject"], 3) << j;
  EXPECT_TRUE(j["config"]["allow_rollup_hdrs"].get<bool>());
  EXPECT_TRUE(j["config"]["deny_delete"].get<bool>());
  ASSERT_EQ(js_DeleteKeyValue(js_.p, "cfg"), NATS_OK);
}

// Retention the consumers drive: a work-queue message goes away once acked; an interest
// stream keeps nothing while no consumer is interested.
TEST_F(JsStream, WorkQueueAndInterestRetention) {
  auto j = req_json(nc_.p, "$JS.API.STREAM.CREATE.WQ",
                    R"({"name":"WQ","subjects":["wq.>"],"retention":"workqueue","storage":"memory"})");
  ASSERT_FALSE(j.contains("error")) << j;
  for (int i = 0; i < 3; ++i) request(nc_.p, "wq.job", "j" + std::to_string(i));
  natsSubscription* sub = nullptr;
  jsErrCode ec = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PullSubscribe(&sub, js_.p, "wq.>", "workers", nullptr, nullptr, &ec), NATS_OK) << ec;
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 3, 3000, &ec), NATS_OK);
  EXPECT_EQ(list.Count, 3);
  for (int i = 0; i < list.Count; ++i) EXPECT_EQ(natsMsg_AckSync(list.Msgs[i], nullptr, &ec), NATS_OK);
  natsMsgList_Destroy(&list);
  EXPECT_TRUE(wait_for([&] { return req_json(nc_.p, "$JS.API.STREAM.INFO.WQ")["state"]["messages"] == 0; }));
  j = req_json(nc_.p, "$JS.API.STREAM.INFO.WQ");
  EXPECT_EQ(j["state"]["last_seq"], 3);
  EXPECT_EQ(j["state"]["consumer_count"], 1);
  natsSubscription_Destroy(sub);

  j = req_json(nc_.p, "$JS.API.STREAM.CREATE.IN",
               R"({"name":"IN","subjects":["in.>"],"retention":"interest","storage":"memory"})");
  ASSERT_FALSE(j.contains("error")) << j;
  EXPECT_EQ(request(nc_.p, "in.a", "x"), R"({"stream":"IN", "seq":1})");
  j = req_json(nc_.p, "$JS.API.STREAM.INFO.IN");
  EXPECT_EQ(j["state"]["messages"], 0) << j;
  EXPECT_EQ(j["state"]["last_seq"], 1);
}

// Only accounts whose config enables JetStream get it; the others are told it is off.
TEST(JsStreamAccounts, EnabledPerAccount) {
  TempDir store;
  auto srv = start_with_config("jetstream { store_dir: \"" + store.path() + "\" }\n"
                               "accounts {\n"
                               "  A { jetstream: enabled, users: [{user: a, password: a}] }\n"
                               "  B { users: [{user: b, password: b}] }\n"
                               "}\n");
  ConnPtr a, b;
  ASSERT_EQ(connect_url(a, "nats://a:a@127.0.0.1:" + std::to_string(srv->port())), NATS_OK);
  ASSERT_EQ(connect_url(b, "nats://b:b@127.0.0.1:" + std::to_string(srv->port())), NATS_OK);
  auto j = req_json(a.p, "$JS.API.STREAM.CREATE.S", R"({"name":"S","storage":"memory"})");
  EXPECT_FALSE(j.contains("error")) << j;
  EXPECT_EQ(request(b.p, "$JS.API.INFO"),
            R"({"type":"io.nats.jetstream.api.v1.account_info_response","error":{"code":503,"err_code":10039,)"
            R"("description":"JetStream not enabled for account"}})");
  EXPECT_EQ(request(b.p, "$JS.API.STREAM.NAMES"),
            R"({"type":"io.nats.jetstream.api.v1.stream_names_response","error":{"code":503,"err_code":10039,)"
            R"("description":"JetStream not enabled for account"},"total":0,"offset":0,"limit":0,"streams":null})");
  // Streams live in their account only: B's publish on "S" reaches no stream.
  EXPECT_EQ(request(b.p, "S", "x"), "");
  EXPECT_EQ(request(a.p, "S", "x"), R"({"stream":"S", "seq":1})");
}

// max_age expires messages in the background, not only when the next message arrives.
TEST_F(JsStream, MaxAgeExpiresWithoutNewMessages) {
  auto j = req_json(nc_.p, "$JS.API.STREAM.CREATE.AGE",
                    R"({"name":"AGE","subjects":["age"],"max_age":500000000})");
  ASSERT_FALSE(j.contains("error")) << j;
  EXPECT_EQ(j["config"]["duplicate_window"], 500000000);
  request(nc_.p, "age", "x");
  EXPECT_EQ(req_json(nc_.p, "$JS.API.STREAM.INFO.AGE")["state"]["messages"], 1);
  EXPECT_TRUE(wait_for([&] { return req_json(nc_.p, "$JS.API.STREAM.INFO.AGE")["state"]["messages"] == 0; },
                       milliseconds(8000)));
}

TEST(JsStreamRestart, FileStreamsPersistMemoryStreamsDoNot) {
  JsServer srv;
  srv.start();
  {
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
    auto j = req_json(nc.p, "$JS.API.STREAM.CREATE.F", R"({"name":"F","subjects":["f.*"],"max_msgs_per_subject":2})");
    ASSERT_FALSE(j.contains("error")) << j;
    j = req_json(nc.p, "$JS.API.STREAM.CREATE.M", R"({"name":"M","subjects":["m"],"storage":"memory"})");
    ASSERT_FALSE(j.contains("error")) << j;
    for (int i = 0; i < 5; ++i) request(nc.p, "f.a", "a" + std::to_string(i));
    natsMsg* hm = nullptr;
    natsMsg_Create(&hm, "f.b", nullptr, "b", 1);
    natsMsgHeader_Set(hm, "Nats-Msg-Id", "only-once");
    natsMsg* r = nullptr;
    ASSERT_EQ(natsConnection_RequestMsg(&r, nc.p, hm, 2000), NATS_OK);
    natsMsg_Destroy(r);
    natsMsg_Destroy(hm);
    request(nc.p, "m", "gone");
    j = req_json(nc.p, "$JS.API.STREAM.MSG.DELETE.F", R"({"seq":4})");
    ASSERT_TRUE(j.value("success", false)) << j;
  }
  int st = srv.proc->stop();
  // Ours flushes the stores and exits 0 on SIGTERM (the reference reports the signal).
  if (srv.binary != reference_binary()) {
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  }
  srv.start();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  auto j = req_json(nc.p, "$JS.API.STREAM.INFO.F");
  ASSERT_FALSE(j.contains("error")) << j;
  EXPECT_EQ(j["config"]["max_msgs_per_subject"], 2);
  EXPECT_EQ(j["state"]["messages"], 2);
  EXPECT_EQ(j["state"]["first_seq"], 5);
  EXPECT_EQ(j["state"]["last_seq"], 6);
  j = req_json(nc.p, "$JS.API.STREAM.INFO.M");
  EXPECT_EQ(j["error"]["err_code"], 10059);
  // The message id is still known after the restart.
  {
    natsMsg* hm = nullptr;
    natsMsg_Create(&hm, "f.b", nullptr, "b", 1);
    natsMsgHeader_Set(hm, "Nats-Msg-Id", "only-once");
    natsMsg* r = nullptr;
    ASSERT_EQ(natsConnection_RequestMsg(&r, nc.p, hm, 2000), NATS_OK);
    EXPECT_EQ(std::string(natsMsg_GetData(r), natsMsg_GetDataLength(r)), R"({"stream":"F", "seq":6,"duplicate": true})");
    natsMsg_Destroy(r);
    natsMsg_Destroy(hm);
  }
  // Ingest resumes after the last sequence, and the created time survived.
  EXPECT_EQ(request(nc.p, "f.c", "c"), R"({"stream":"F", "seq":7})");
  j = req_json(nc.p, "$JS.API.STREAM.MSG.GET.F", R"({"last_by_subj":"f.a"})");
  EXPECT_EQ(j["message"]["seq"], 5);
  EXPECT_EQ(j["message"]["data"], "YTQ=");
}

// The same raw requests against the reference and against ours: identical replies once
// timestamps are masked.
TEST(JsStreamDiff, RawApiMatchesReference) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  const std::vector<std::pair<std::string, std::string>> script = {
      {"$JS.API.INFO", ""},
      {"$JS.API.STREAM.CREATE.S1", R"({"name":"S1","subjects":["a.>"]})"},
      {"$JS.API.STREAM.CREATE.S1", R"({"name":"S1","subjects":["b.>"]})"},
      {"$JS.API.STREAM.CREATE.S2", R"({"name":"S2","subjects":["a.b"]})"},
      {"$JS.API.STREAM.CREATE.S3", R"({"name":"S2"})"},
      {"$JS.API.STREAM.CREATE.S3", "{bad"},
      {"$JS.API.STREAM.CREATE.Z", R"({"name":"Z","subjects":["z.*","z.a"]})"},
      {"$JS.API.STREAM.CREATE.Z", R"({"name":"Z","max_age":10})"},
      {"$JS.API.STREAM.CREATE.K", R"({"name":"K","subjects":["k.>"],"max_msgs_per_subject":2,"max_msgs":3,)"
                                  R"("discard":"new","storage":"memory","allow_direct":true,"max_msg_size":10,)"
                                  R"("discard_new_per_subject":true,"deny_delete":true})"},
      {"a.x", "hello"},
      {"k.a", "1"},
      {"k.a", "2"},
      {"k.a", "3"},
      {"k.b", "4"},
      {"k.c", "5"},
      {"k.c", "12345678901"},
      {"$JS.API.STREAM.INFO.S1", ""},
      {"$JS.API.STREAM.INFO.K", R"({"subjects_filter":">"})"},
      {"$JS.API.STREAM.INFO.NOPE", ""},
      {"$JS.API.STREAM.NAMES", ""},
      {"$JS.API.STREAM.LIST", ""},
      {"$JS.API.STREAM.MSG.GET.S1", R"({"seq":1})"},
      {"$JS.API.STREAM.MSG.GET.S1", R"({"seq":100})"},
      {"$JS.API.STREAM.MSG.GET.S1", ""},
      {"$JS.API.STREAM.MSG.GET.K", R"({"next_by_subj":"k.b","seq":1})"},
      {"$JS.API.STREAM.MSG.DELETE.K", R"({"seq":1})"},
      {"$JS.API.STREAM.MSG.DELETE.S1", R"({"seq":1})"},
      {"$JS.API.STREAM.MSG.DELETE.S1", R"({"seq":1})"},
      {"$JS.API.STREAM.UPDATE.K", R"({"name":"K","subjects":["k.>"],"storage":"memory"})"},
      {"$JS.API.STREAM.PURGE.K", R"({"filter":"k.a"})"},
      {"$JS.API.STREAM.PURGE.K", R"({"seq":1,"keep":1})"},
      {"$JS.API.STREAM.DELETE.K", R"({"x":1})"},
      {"$JS.API.STREAM.DELETE.K", ""},
      {"$JS.API.STREAM.DELETE.K", ""},
      {"$JS.API.STREAM.DELETE.S1", "{}"},  // an empty object counts as an empty request
      {"$JS.API.INFO", ""},
  };
  auto run = [&](const std::string& bin) {
    JsServer srv(bin);
    srv.start();
    ConnPtr nc;
    EXPECT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
    std::vector<std::string> out;
    std::regex ts(R"re("(created|first_ts|last_ts|time)":"[^"]*")re");
    for (auto& [subj, body] : script) out.push_back(std::regex_replace(request(nc.p, subj, body), ts, "\"$1\":\"T\""));
    return out;
  };
  auto ref = run(reference_binary());
  auto ours = run(server_binary());
  ASSERT_EQ(ref.size(), ours.size());
  for (size_t i = 0; i < ref.size(); ++i)
    EXPECT_EQ(ours[i], ref[i]) << script[i].first << " " << script[i].second;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
