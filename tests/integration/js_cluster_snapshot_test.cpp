// A snapshot of a replicated (R3) stream in a 3-node cluster comes from the stream leader,
// whichever server the client is on; a clustered restore is refused with 10062.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;

json ask(natsConnection* nc, const std::string& subject, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), body.c_str(), 5000) != NATS_OK) return nullptr;
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

TEST(JsClusterSnapshot, R3SnapshotFromTheLeaderAndRestoreRefused) {
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(1).proc->port())), NATS_OK);
  json r;
  wait_for([&] {
    r = ask(nc.p, "$JS.API.STREAM.CREATE.S", json{{"name", "S"}, {"subjects", {"s.>"}}, {"num_replicas", 3}}.dump());
    return r.is_object() && !r.contains("error") && r.contains("config");
  }, milliseconds(15000));
  ASSERT_TRUE(r.is_object() && r.contains("config")) << r.dump();
  for (int i = 1; i <= 3; ++i) {
    json ack;
    wait_for([&] {
      ack = ask(nc.p, "s.x", "m" + std::to_string(i));
      return ack.is_object() && ack.value("seq", 0) == i;
    }, milliseconds(10000));
  }
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "snap.in"), NATS_OK);
  natsConnection_Flush(nc.p);
  auto answer = ask(nc.p, "$JS.API.STREAM.SNAPSHOT.S", R"({"deliver_subject":"snap.in"})");
  ASSERT_TRUE(answer.is_object() && !answer.contains("error")) << answer.dump();
  EXPECT_EQ(answer["state"]["messages"], 3);
  std::string data;
  bool ended = false;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 3000) != NATS_OK) break;
    if (natsMsg_GetDataLength(m.p) == 0) {
      ended = true;
      break;
    }
    data += m.data();
    natsConnection_Publish(nc.p, natsMsg_GetReply(m.p), nullptr, 0);
  }
  EXPECT_TRUE(ended);
  EXPECT_GT(data.size(), 100u);
  // Exactly one server answered (the leader): no second answer or chunk stream follows.
  MsgPtr extra;
  EXPECT_NE(natsSubscription_NextMsg(&extra.p, sub.p, 300), NATS_OK);
  auto restore = ask(nc.p, "$JS.API.STREAM.RESTORE.T", R"({"config":{"name":"T","subjects":["t.>"]}})");
  ASSERT_TRUE(restore.is_object()) << restore;
  EXPECT_EQ(restore["error"]["err_code"], 10062) << restore.dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
