// An R1 durable handed over to a server that learns of the move only through a meta snapshot.
// Five servers; an R3 stream on s1..s3 (placement tag), an R1 durable on one of them (H) with
// 4 of 10 messages acknowledged. Injected: the other two stream peers are stopped (SIGSTOP),
// H is removed from the stream (STREAM.PEER.REMOVE; no server with the tag is left to replace
// it, so the durable moves to one of the stopped two), then 9 more meta entries (R1 streams on
// s4) make the meta leader compact its log past the move; the two resume and catch up from
// the meta snapshot. Verified: the durable runs on its new host with its ack floor (4), not
// afresh (before the fix the snapshot path re-ran its create request: ack floor 0).
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

std::pair<std::string, std::string> hs_pull_one(natsConnection* nc) {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, "$JS.API.CONSUMER.MSG.NEXT.HS.D", R"({"batch":1,"expires":2000000000})",
                                   3000) != NATS_OK)
    return {};
  const char* reply = natsMsg_GetReply(m.p);
  return {reply ? reply : "", m.data()};
}

TEST(JsClusterR1Handoff, NewHostCatchingUpThroughAMetaSnapshotGetsTheDurablesState) {
  Cluster c(5, 5, {{"rs"}, {"rs"}, {"rs"}, {}, {}});
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(3).url("a:a")), NATS_OK);  // s4 keeps running throughout
  json cfg = {{"name", "HS"}, {"subjects", {"hs.>"}}, {"num_replicas", 3}, {"placement", {{"tags", {"rs"}}}}};
  json created = create_stream(nc.p, cfg);
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  for (int i = 1; i <= 10; ++i) {
    json ack;
    ASSERT_TRUE(wait_for([&] { return (ack = publish(nc.p, "hs.x", "m" + std::to_string(i))).contains("seq"); },
                         milliseconds(10000)));
    ASSERT_EQ(ack.value("seq", 0), i) << ack.dump();
  }
  json made = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.HS.D",
                      {{"stream_name", "HS"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}, {"num_replicas", 1}}}});
  ASSERT_FALSE(made.contains("error")) << made.dump();
  for (int i = 1; i <= 4; ++i) {
    auto [ack, data] = hs_pull_one(nc.p);
    ASSERT_EQ(data, "m" + std::to_string(i)) << c.logs();
    ASSERT_EQ(natsConnection_PublishString(nc.p, ack.c_str(), "+ACK"), NATS_OK);
  }
  json ci;
  ASSERT_TRUE(wait_for([&] {
    ci = request(nc.p, "$JS.API.CONSUMER.INFO.HS.D", nullptr);
    return ci.contains("ack_floor") && ci["ack_floor"].value("stream_seq", 0) == 4;
  }, milliseconds(5000))) << ci.dump();
  const std::string host = ci["cluster"].value("leader", "");
  ASSERT_FALSE(host.empty()) << ci.dump();

  // The other two stream peers stop; H leaves the stream.
  std::vector<Member*> stopped;
  for (int i = 0; i < 3; ++i)
    if (c.node(i).name != host) stopped.push_back(&c.node(i));
  ASSERT_EQ(stopped.size(), 2u);
  for (auto* m : stopped) ::kill(m->proc->pid(), SIGSTOP);
  json removed;
  ASSERT_TRUE(wait_for([&] {  // the meta leader may have been one of the stopped
    removed = request(nc.p, "$JS.API.STREAM.PEER.REMOVE.HS", json{{"peer", host}}, 2000);
    // 10040 (not a member): an earlier try was applied but its answer did not come in time.
    return removed.value("success", false) ||
           (removed.contains("error") && removed["error"].value("err_code", 0) == 10040);
  }, milliseconds(20000))) << removed.dump() << c.logs();
  // Enough meta entries for the leader to compact past the move (test servers: every 8).
  for (int i = 0; i < 9; ++i) {
    json r1 = {{"name", "PAD" + std::to_string(i)}, {"subjects", {"pad" + std::to_string(i)}},
               {"num_replicas", 1}, {"placement", {{"tags", {"host:s4"}}}}};
    ASSERT_TRUE(create_stream(nc.p, r1).contains("config")) << c.logs();
  }
  for (auto* m : stopped) ::kill(m->proc->pid(), SIGCONT);

  // The durable answers from its new host with its acks.
  ASSERT_TRUE(wait_for([&] {
    ci = request(nc.p, "$JS.API.CONSUMER.INFO.HS.D", nullptr, 2000);
    return ci.contains("cluster") && ci["cluster"].value("leader", "") != host &&
           !ci["cluster"].value("leader", "").empty();
  }, milliseconds(20000))) << ci.dump() << c.logs();
  EXPECT_EQ(ci["ack_floor"].value("stream_seq", 0), 4) << ci.dump() << c.logs();
  EXPECT_EQ(ci.value("num_pending", 0), 6) << ci.dump();
  const std::string new_host = ci["cluster"].value("leader", "");
  std::fprintf(stderr, "[ handoff ] durable moved %s -> %s\n", host.c_str(), new_host.c_str());
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
