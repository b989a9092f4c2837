// RePublish (stream config `republish {src, dest, headers_only}`): the republished messages
// byte for byte against the reference 2.9.10 (with and without stored headers, and
// headers_only), the config errors against the reference, and an R3 stream whose leader
// republishes each stored message once across a leader step-down.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

struct JsProc {
  TempDir store;
  std::unique_ptr<ServerProcess> proc;
  explicit JsProc(const std::string& binary) {
    proc = std::make_unique<ServerProcess>(std::vector<std::string>{"-js", "-sd", store.path()}, binary);
    proc->start();
  }
};

// One delivered message as the wire carried it: subject, header block and payload.
struct WireMsg {
  std::string subject, headers, payload;
  std::string str() const { return subject + "\n" + headers + payload; }
};

// Reads MSG/HMSG from a raw client until `n` messages on subjects starting with `prefix`
// arrived (others, e.g. API answers, are skipped) or the deadline passes.
std::vector<WireMsg> read_msgs(RawClient& c, const std::string& prefix, size_t n) {
  std::vector<WireMsg> out;
  auto deadline = Clock::now() + milliseconds(5000);
  while (out.size() < n && Clock::now() < deadline) {
    auto line = c.read_line(milliseconds(500));
    if (!line) continue;
    std::istringstream in(*line);
    std::vector<std::string> f;
    for (std::string t; in >> t;) f.push_back(t);  // the reference writes "MSG s 1  23" sometimes
    if (f.empty() || (f[0] != "MSG" && f[0] != "HMSG")) continue;
    bool h = f[0] == "HMSG";
    size_t total = std::stoul(f.back()), hlen = h ? std::stoul(f[f.size() - 2]) : 0;
    auto body = c.read_exact(total + 2);
    if (!body) break;
    if (f[1].rfind(prefix, 0) == 0) out.push_back({f[1], body->substr(0, hlen), body->substr(hlen, total - hlen)});
  }
  return out;
}

// Creates a stream republishing foo.> to rp.>, publishes with and without headers, returns
// what a subscriber of rp.> received.
std::vector<WireMsg> republish_scenario(int port, bool headers_only) {
  RawClient c(port);
  c.send("CONNECT {\"headers\":true,\"verbose\":false}\r\nSUB rp.> 1\r\nSUB _r 2\r\n");
  json cfg = {{"name", "S"},
              {"subjects", {"foo.>"}},
              {"storage", "memory"},
              {"republish", {{"src", "foo.>"}, {"dest", "rp.>"}, {"headers_only", headers_only}}}};
  std::string b = cfg.dump();
  c.send("PUB $JS.API.STREAM.CREATE.S _r " + std::to_string(b.size()) + "\r\n" + b + "\r\n");
  read_msgs(c, "_r", 1);
  std::string h = "NATS/1.0\r\nX-A: 1\r\n\r\n";
  c.send("PUB foo.a _r 5\r\nhello\r\n");
  c.send("HPUB foo.a _r " + std::to_string(h.size()) + " " + std::to_string(h.size() + 3) + "\r\n" + h + "abc\r\n");
  c.send("PUB foo.b 0\r\n\r\n");
  return read_msgs(c, "rp.", 3);
}

TEST(JsRepublish, RepublishedMessagesCarryTheStreamPosition) {
  JsProc srv(server_binary());
  auto got = republish_scenario(srv.proc->port(), false);
  ASSERT_EQ(got.size(), 3u) << srv.proc->log();
  EXPECT_EQ(got[0].subject, "rp.a");
  EXPECT_EQ(got[0].headers,
            "NATS/1.0\r\nNats-Stream: S\r\nNats-Subject: foo.a\r\nNats-Sequence: 1\r\nNats-Last-Sequence: 0\r\n\r\n");
  EXPECT_EQ(got[0].payload, "hello");
  // Stored headers come first; the last sequence is that of the same subject.
  EXPECT_EQ(got[1].headers,
            "NATS/1.0\r\nX-A: 1\r\nNats-Stream: S\r\nNats-Subject: foo.a\r\nNats-Sequence: 2\r\n"
            "Nats-Last-Sequence: 1\r\n\r\n");
  EXPECT_EQ(got[2].subject, "rp.b");
  EXPECT_NE(got[2].headers.find("Nats-Sequence: 3\r\nNats-Last-Sequence: 0\r\n"), std::string::npos);

  auto ho = republish_scenario(JsProc(server_binary()).proc->port(), true);
  ASSERT_EQ(ho.size(), 3u);
  EXPECT_NE(ho[1].headers.find("Nats-Last-Sequence: 1\r\nNats-Msg-Size: 3\r\n\r\n"), std::string::npos);
  EXPECT_EQ(ho[1].payload, "");
}

TEST(JsRepublish, MessagesMatchReferenceByteForByte) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  for (bool headers_only : {false, true}) {
    JsProc ours(server_binary()), ref(reference_binary());
    auto a = republish_scenario(ours.proc->port(), headers_only);
    auto b = republish_scenario(ref.proc->port(), headers_only);
    ASSERT_EQ(a.size(), 3u);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].str(), b[i].str()) << "headers_only " << headers_only;
  }
}

TEST(JsRepublish, ConfigErrorsMatchReference) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  JsProc ours(server_binary()), ref(reference_binary());
  ConnPtr a, b;
  ASSERT_EQ(connect_url(a, ours.proc->url()), NATS_OK);
  ASSERT_EQ(connect_url(b, ref.proc->url()), NATS_OK);
  auto ask = [](natsConnection* nc, const std::string& subj, const json& body) {
    MsgPtr m;
    std::string s = body.dump();
    if (natsConnection_RequestString(&m.p, nc, subj.c_str(), s.c_str(), 3000) != NATS_OK) return json();
    auto j = json::parse(m.data(), nullptr, false);
    if (j.is_object()) j.erase("created");
    return j;
  };
  auto cfg = [](json rp) {
    return json{{"name", "S"}, {"subjects", {"foo.>"}}, {"storage", "memory"}, {"republish", rp}};
  };
  std::vector<json> cases = {
      cfg({{"src", "bar.>"}, {"dest", "rp.>"}}),            // source outside the subjects
      cfg({{"src", "foo.>"}, {"dest", "foo.x.>"}}),         // destination inside them: a cycle
      cfg({{"src", "foo.*"}, {"dest", "rp.$2"}}),           // a wildcard the source lacks
      cfg({{"dest", ""}}),                                  // no destination
      cfg({{"src", 1}, {"dest", "rp"}}),                    // wrong type
      cfg({{"dest", "rp.>"}, {"headers_only", true}}),      // valid: src defaults to >
  };
  for (auto& c : cases)
    EXPECT_EQ(ask(a.p, "$JS.API.STREAM.CREATE.S", c), ask(b.p, "$JS.API.STREAM.CREATE.S", c)) << c.dump();
  // An update may not change it.
  json upd = cfg({{"dest", "other.>"}});
  EXPECT_EQ(ask(a.p, "$JS.API.STREAM.UPDATE.S", upd), ask(b.p, "$JS.API.STREAM.UPDATE.S", upd));
}

// R3: only the leader republishes, once per stored message, across a step-down.
TEST(JsRepublish, R3LeaderRepublishesEachMessageOnceAcrossStepdown) {
  jsc::JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc, sub_nc;
  ASSERT_EQ(connect_url(nc, sc.node(0).proc->url()), NATS_OK);
  ASSERT_EQ(connect_url(sub_nc, sc.node(2).proc->url()), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, sub_nc.p, "rp.>"), NATS_OK);
  natsConnection_Flush(sub_nc.p);
  json cfg = {{"name", "RP"}, {"subjects", {"in.>"}}, {"num_replicas", 3}, {"storage", "file"},
              {"republish", {{"src", "in.>"}, {"dest", "rp.>"}}}};
  json created;
  wait_for([&] {
    MsgPtr m;
    std::string s = cfg.dump();
    if (natsConnection_RequestString(&m.p, nc.p, "$JS.API.STREAM.CREATE.RP", s.c_str(), 5000) != NATS_OK) return false;
    created = json::parse(m.data(), nullptr, false);
    return created.is_object() && !created.contains("error");
  }, milliseconds(20000));
  ASSERT_TRUE(created.is_object() && !created.contains("error")) << created.dump();

  // Publishes until acknowledged (a retry carries the same Nats-Msg-Id, so it is stored once).
  auto publish = [&](int i) {
    std::string id = "m" + std::to_string(i);
    return wait_for([&] {
      natsMsg* m = nullptr;
      natsMsg_Create(&m, "in.x", nullptr, id.data(), static_cast<int>(id.size()));
      natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
      MsgPtr reply;
      natsStatus s = natsConnection_RequestMsg(&reply.p, nc.p, m, 2000);
      natsMsg_Destroy(m);
      return s == NATS_OK && json::parse(reply.data(), nullptr, false).contains("seq");
    }, milliseconds(10000));
  };
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(publish(i)) << i;
  MsgPtr sd;
  ASSERT_EQ(natsConnection_RequestString(&sd.p, nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.RP", "", 5000), NATS_OK);
  EXPECT_NE(sd.data().find("\"success\":true"), std::string::npos) << sd.data();
  for (int i = 21; i <= 40; ++i) ASSERT_TRUE(publish(i)) << i;

  std::map<std::string, int> seen;  // Nats-Sequence -> times
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 2000) != NATS_OK) break;
    const char* seq = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(m.p, "Nats-Sequence", &seq), NATS_OK);
    ++seen[seq];
    const char* stream = nullptr;
    natsMsgHeader_Get(m.p, "Nats-Stream", &stream);
    EXPECT_STREQ(stream, "RP");
  }
  EXPECT_EQ(seen.size(), 40u);
  for (int i = 1; i <= 40; ++i) EXPECT_EQ(seen[std::to_string(i)], 1) << "sequence " << i;
}

}  // namespace

namespace {

// A KV bucket created by libnats with RePublish: every put is republished with the key's
// subject and the bucket's stream.
TEST(JsRepublish, KvBucketRepublishesPuts) {
  JsProc srv(server_binary());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "cfg.changes.>"), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc.p, nullptr), NATS_OK);
  jsRePublish rp;
  jsRePublish_Init(&rp);
  rp.Source = "$KV.CFG.>";
  rp.Destination = "cfg.changes.>";
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = "CFG";
  kc.History = 2;
  kc.RePublish = &rp;
  kvStore* kv = nullptr;
  ASSERT_EQ(js_CreateKeyValue(&kv, js, &kc), NATS_OK) << nats_GetLastError(nullptr);
  uint64_t rev = 0;
  ASSERT_EQ(kvStore_PutString(&rev, kv, "color", "blue"), NATS_OK);
  ASSERT_EQ(kvStore_PutString(&rev, kv, "color", "red"), NATS_OK);
  for (const char* want : {"blue", "red"}) {
    MsgPtr m;
    ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 3000), NATS_OK) << want;
    EXPECT_STREQ(natsMsg_GetSubject(m.p), "cfg.changes.color");
    EXPECT_EQ(m.data(), want);
    const char* v = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(m.p, "Nats-Stream", &v), NATS_OK);
    EXPECT_STREQ(v, "KV_CFG");
  }
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
