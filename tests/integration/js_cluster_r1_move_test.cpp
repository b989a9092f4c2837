// Moving an R1 stream by updating its `placement` (here by tags): the stream goes to the new
// server with its messages and its R1 durable, whose ack state comes along. On the way it
// runs as a group of two (the new server joins and catches up, then leads, then the stream
// is scaled down to R1 on it); a client's update meanwhile is refused as a move in progress.
#include <gtest/gtest.h>

#include <string>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

// One pulled message (its reply subject is the ack subject); empty on timeout.
std::pair<std::string, std::string> pull_one(natsConnection* nc, const std::string& stream, const std::string& durable) {
  MsgPtr m;
  std::string subj = "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + durable;
  if (natsConnection_RequestString(&m.p, nc, subj.c_str(), R"({"batch":1,"expires":2000000000})", 3000) != NATS_OK)
    return {};
  const char* reply = natsMsg_GetReply(m.p);
  return {reply ? reply : "", m.data()};
}

TEST(JsMembers, R1StreamMovesWithItsMessagesAndConsumer) {
  Cluster c(3, 3);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  json cfg = {{"name", "MV"}, {"subjects", {"mv.>"}}, {"num_replicas", 1}, {"placement", {{"tags", {"host:s2"}}}}};
  json created = create_stream(nc.p, cfg);
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  ASSERT_EQ(created["cluster"].value("leader", ""), "s2") << created.dump();
  for (int i = 1; i <= 10; ++i) ASSERT_EQ(publish(nc.p, "mv.x", "m" + std::to_string(i)).value("seq", 0), i);
  json made = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.MV.C",
                      {{"stream_name", "MV"}, {"config", {{"durable_name", "C"}, {"ack_policy", "explicit"}}}});
  ASSERT_FALSE(made.contains("error")) << made.dump();
  // Three delivered and acknowledged.
  for (int i = 1; i <= 3; ++i) {
    auto [ack, data] = pull_one(nc.p, "MV", "C");
    ASSERT_EQ(data, "m" + std::to_string(i));
    ASSERT_EQ(natsConnection_PublishString(nc.p, ack.c_str(), "+ACK"), NATS_OK);
  }
  json ci;
  ASSERT_TRUE(wait_for([&] {
    ci = request(nc.p, "$JS.API.CONSUMER.INFO.MV.C", nullptr);
    return ci.contains("ack_floor") && ci["ack_floor"].value("stream_seq", 0) == 3;
  }, milliseconds(5000))) << ci.dump();

  // The move: placement host:s3.
  cfg["placement"] = {{"tags", {"host:s3"}}};
  json up = request(nc.p, "$JS.API.STREAM.UPDATE.MV", cfg);
  ASSERT_FALSE(up.contains("error")) << up.dump() << c.logs();
  EXPECT_EQ(up["config"]["placement"], cfg["placement"]) << up.dump();
  EXPECT_EQ(up["config"]["num_replicas"], 1) << up.dump();
  json info;
  ASSERT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.MV", nullptr, 2000);
    return info.contains("cluster") && info["cluster"].value("leader", "") == "s3" &&
           !info["cluster"].contains("replicas");
  }, milliseconds(20000))) << info.dump() << c.logs();
  EXPECT_EQ(info["state"].value("messages", 0), 10) << info.dump();
  EXPECT_EQ(info["state"].value("first_seq", 0), 1) << info.dump();
  EXPECT_EQ(info["config"]["placement"], cfg["placement"]) << info.dump();
  // The consumer moved with it, its ack state too.
  ASSERT_TRUE(wait_for([&] {
    ci = request(nc.p, "$JS.API.CONSUMER.INFO.MV.C", nullptr, 2000);
    return ci.contains("cluster") && ci["cluster"].value("leader", "") == "s3";
  }, milliseconds(10000))) << ci.dump() << c.logs();
  EXPECT_EQ(ci["ack_floor"].value("stream_seq", 0), 3) << ci.dump();
  EXPECT_EQ(ci.value("num_pending", 0), 7) << ci.dump();
  EXPECT_EQ(ci["config"].value("num_replicas", -1), 0) << ci.dump();
  // It goes on from there: the next message is the 4th; a new one is the 11th.
  auto [ack, data] = pull_one(nc.p, "MV", "C");
  EXPECT_EQ(data, "m4");
  // (Right after the move the client's server may not have learnt the new host's interest
  // yet: a publish can meet no responders, so it is retried until answered. Seen about 1 run
  // in 20 under load: the first try was stored but its PubAck did not come within 3 s, so a
  // plain retry was stored again as 12; the Nats-Msg-Id makes the retry a duplicate, as a
  // client would. Why that PubAck is late or lost is not known yet: the retry logs it.)
  json ack11;
  wait_for([&] { return !(ack11 = publish_with_id(nc.p, "mv.x", "m11", "m11")).empty(); }, milliseconds(8000));
  EXPECT_EQ(ack11.value("seq", 0), 11) << ack11.dump() << c.logs();
  // Nothing is left on s2 (its /jsz counts no stream, no message); s3 has the 11.
  json jsz2, jsz3;
  EXPECT_TRUE(wait_for([&] {
    jsz2 = ctest::http_json(c.node(1).http_port, "/jsz");
    jsz3 = ctest::http_json(c.node(2).http_port, "/jsz");
    return jsz2.value("streams", -1) == 0 && jsz2.value("messages", -1) == 0 && jsz3.value("streams", -1) == 1 &&
           jsz3.value("messages", -1) == 11;
  }, milliseconds(10000))) << jsz2.dump() << jsz3.dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
