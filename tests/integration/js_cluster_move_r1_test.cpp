// An R1 stream moved to another cluster of a supercluster by updating `placement.cluster`,
// with its R1 durable. Injected: the move while the durable has acknowledged 3 of 10
// messages. Verified: the stream ends on one server of the target cluster with all 10
// messages at their sequences, the durable there with its ack floor (the next message it
// hands out is the 4th, nothing acknowledged comes again), and a new publish gets sequence 11
// (sent with a Nats-Msg-Id: seen once, 1 run in 10, a retry after a PubAck that did not come
// within 3 s right after the move was stored as 12).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;

json ask(natsConnection* nc, const std::string& subject, const json& body = nullptr, int64_t ms = 3000) {
  MsgPtr m;
  std::string b = body.is_null() ? std::string() : body.dump();
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), b.c_str(), ms) != NATS_OK) return json::object();
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_object() ? j : json::object();
}

// A publish's PubAck (raw payload); empty when none came.
json publish(natsConnection* nc, const std::string& subject, const std::string& data) {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), data.c_str(), 3000) != NATS_OK) return json::object();
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_object() ? j : json::object();
}

// The same with a Nats-Msg-Id, so a retry after a lost PubAck is not stored twice.
json publish_once(natsConnection* nc, const std::string& subject, const std::string& data, const std::string& id) {
  MsgPtr in;
  natsMsg* out = nullptr;
  if (natsMsg_Create(&out, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) != NATS_OK)
    return json::object();
  natsMsgHeader_Set(out, "Nats-Msg-Id", id.c_str());
  natsStatus st = natsConnection_RequestMsg(&in.p, nc, out, 3000);
  natsMsg_Destroy(out);
  if (st != NATS_OK) return json::object();
  auto j = json::parse(in.data(), nullptr, false);
  return j.is_object() ? j : json::object();
}

// One pulled message: (ack subject, data); empty on timeout.
std::pair<std::string, std::string> pull_one(natsConnection* nc) {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, "$JS.API.CONSUMER.MSG.NEXT.MV.C", R"({"batch":1,"expires":2000000000})",
                                   3000) != NATS_OK)
    return {};
  const char* reply = natsMsg_GetReply(m.p);
  return {reply ? reply : "", m.data()};
}

std::string logs(const JsSupercluster& sc) {
  std::string out;
  for (const auto& n : sc.nodes)
    if (n->proc) out += "---- " + n->name + "\n" + n->proc->log();
  return out;
}

TEST(JsClusterMove, R1StreamMovesToAnotherClusterWithItsDurable) {
  JsSupercluster sc(2, 2);  // east: n1 n2, central: n3 n4
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  json cfg = {{"name", "MV"}, {"subjects", {"mv.>"}}, {"num_replicas", 1}, {"placement", {{"cluster", "east"}}}};
  json created;
  ASSERT_TRUE(wait_for([&] {
    created = ask(nc.p, "$JS.API.STREAM.CREATE.MV", cfg);
    return created.contains("config");
  }, milliseconds(20000))) << created.dump();
  for (int i = 1; i <= 10; ++i)
    ASSERT_EQ(publish(nc.p, "mv.x", "m" + std::to_string(i)).value("seq", 0), i) << i;
  json made = ask(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.MV.C",
                  {{"stream_name", "MV"}, {"config", {{"durable_name", "C"}, {"ack_policy", "explicit"}}}});
  ASSERT_TRUE(made.contains("config")) << made.dump();
  for (int i = 1; i <= 3; ++i) {
    auto [ack, data] = pull_one(nc.p);
    ASSERT_EQ(data, "m" + std::to_string(i));
    MsgPtr m;  // AckSync: the ack is applied before the move
    ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, ack.c_str(), "+ACK", 3000), NATS_OK);
  }

  cfg["placement"] = {{"cluster", "central"}};
  json moved = ask(nc.p, "$JS.API.STREAM.UPDATE.MV", cfg);
  ASSERT_TRUE(moved.contains("config")) << moved.dump();
  json info;
  ASSERT_TRUE(wait_for([&] {
    info = ask(nc.p, "$JS.API.STREAM.INFO.MV", nullptr, 2000);
    if (!info.contains("cluster") || info["cluster"].contains("replicas")) return false;
    std::string l = info["cluster"].value("leader", "");
    return info["cluster"].value("name", "") == "central" && (l == "n3" || l == "n4");
  }, milliseconds(30000))) << info.dump();
  EXPECT_EQ(info["state"].value("messages", 0), 10) << info.dump();
  EXPECT_EQ(info["state"].value("first_seq", 0), 1) << info.dump();
  EXPECT_EQ(info["state"].value("last_seq", 0), 10) << info.dump();
  const std::string host = info["cluster"].value("leader", "");

  json ci;
  ASSERT_TRUE(wait_for([&] {
    ci = ask(nc.p, "$JS.API.CONSUMER.INFO.MV.C", nullptr, 2000);
    return ci.contains("cluster") && ci["cluster"].value("leader", "") == host;
  }, milliseconds(15000))) << ci.dump();
  EXPECT_EQ(ci["ack_floor"].value("stream_seq", 0), 3) << ci.dump();
  EXPECT_EQ(ci.value("num_pending", 0), 7) << ci.dump();
  // (Right after the move the client's cluster may not have the new host's interest yet:
  // a request then meets no responders at once, and is sent again.)
  std::string data;
  wait_for([&] { return !(data = pull_one(nc.p).second).empty(); }, milliseconds(5000));
  EXPECT_EQ(data, "m4") << logs(sc);
  json ack11;
  wait_for([&] { return !(ack11 = publish_once(nc.p, "mv.x", "m11", "m11")).empty(); }, milliseconds(8000));
  EXPECT_EQ(ack11.value("seq", 0), 11) << ack11.dump() << logs(sc);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
