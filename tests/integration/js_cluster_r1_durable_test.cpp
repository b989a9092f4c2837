// An R1 durable of an R3 stream living on a peer that does not lead the stream, when the stream
// is scaled down to R1. Injected: the durable's host is stopped (SIGSTOP) while 30 more
// messages are acknowledged by the other two, resumed, and the stream is scaled down at once.
// Verified: every acknowledged message is in the one copy that stays (the stream's leader, as
// 2.9.10 keeps it; a follower that has not caught up must not be the one kept), and the
// durable is reachable there with its ack state: nothing it acknowledged comes again, every
// later message does.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "js_r3_consumer_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace r3c;

std::string stream_leader(natsConnection* nc) {
  json si = request(nc, "$JS.API.STREAM.INFO.ORDERS", "");
  return si.is_object() && si.contains("cluster") ? si["cluster"].value("leader", "") : "";
}

TEST(JsClusterR1Durable, ScaleDownKeepsTheLeaderAndMovesTheDurableWithItsAcks) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10));
  json body = {{"stream_name", "ORDERS"},
               {"config", {{"durable_name", "R"}, {"ack_policy", "explicit"}, {"num_replicas", 1}}}};
  ASSERT_TRUE(request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.R", body).contains("config"));
  std::string host = wait_consumer_leader(nc.p, "", milliseconds(15000), "R");
  ASSERT_FALSE(host.empty()) << c.logs();
  // The stream's leader elsewhere.
  std::string leader;
  ASSERT_TRUE(wait_for([&] {
    leader = stream_leader(nc.p);
    if (!leader.empty() && leader != host) return true;
    if (!leader.empty()) request(nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.ORDERS", "");
    return false;
  }, milliseconds(30000))) << c.logs();
  auto seen = drain(nc.p, {1, 2, 3, 4}, milliseconds(20000), "R");
  ASSERT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4})) << c.logs();

  // The host falls behind: the other two acknowledge 30 more.
  const size_t hi = c.index_of(host);
  ConnPtr pc;  // a connection to a server that keeps running
  ASSERT_EQ(connect_url(pc, c.nodes[c.index_of(leader)]->url()), NATS_OK);
  ::kill(c.nodes[hi]->proc->pid(), SIGSTOP);
  uint64_t acked = 10;
  for (int i = 0; i < 30; ++i) {
    json ack = request_ok(pc.p, "orders.new", "late" + std::to_string(i), milliseconds(10000));
    ASSERT_EQ(ack.value("seq", uint64_t{0}), acked + 1) << ack.dump();
    acked = ack.value("seq", uint64_t{0});
  }
  ::kill(c.nodes[hi]->proc->pid(), SIGCONT);

  json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"storage", "file"}, {"num_replicas", 1}};
  json down = request_ok(pc.p, "$JS.API.STREAM.UPDATE.ORDERS", cfg);
  ASSERT_TRUE(down.contains("config")) << down.dump() << "\n" << c.logs();

  // Every acknowledged message, in the one copy.
  json info;
  bool single = wait_for([&] {
    info = request(pc.p, "$JS.API.STREAM.INFO.ORDERS", "");
    return info.is_object() && info.contains("state") && info.contains("cluster") &&
           !info["cluster"].contains("replicas");
  }, milliseconds(15000));
  ASSERT_TRUE(single) << info.dump() << "\n" << c.logs();
  EXPECT_EQ(info["cluster"].value("leader", ""), leader) << info.dump();
  EXPECT_EQ(info["state"].value("messages", uint64_t{0}), acked) << info.dump() << "\n" << c.logs();
  EXPECT_EQ(info["state"].value("last_seq", uint64_t{0}), acked) << info.dump();

  // The durable answers from the stream's server with the acks it had.
  json ci;
  bool there = wait_for([&] {
    ci = consumer_info(pc.p, "R");
    return ci.is_object() && ci.contains("cluster") && ci["cluster"].value("leader", "") == leader;
  }, milliseconds(15000));
  ASSERT_TRUE(there) << ci.dump() << "\n" << c.logs();
  EXPECT_EQ(ci["ack_floor"].value("stream_seq", 0), 4) << ci.dump();
  EXPECT_EQ(ci.value("num_pending", uint64_t{0}), acked - 4) << ci.dump();
  std::set<uint64_t> rest;
  for (uint64_t s = 5; s <= acked; ++s) rest.insert(s);
  seen = drain(pc.p, rest, milliseconds(20000), "R");
  EXPECT_EQ(std::set<uint64_t>(seen.begin(), seen.end()), rest) << c.logs();
  EXPECT_EQ(seen.size(), rest.size()) << "redelivered after the move";

  // A restart of the kept server finds the durable and its state from its own files.
  Node& ln = *c.nodes[c.index_of(leader)];
  ln.proc->stop(SIGTERM);  // (an R1 durable writes its state in the background)
  ln.start();
  ConnPtr rc;
  ASSERT_EQ(connect_url(rc, ln.url()), NATS_OK);
  bool back = wait_for([&] {
    ci = consumer_info(rc.p, "R");
    return ci.is_object() && ci.contains("ack_floor") && ci["ack_floor"].value("stream_seq", uint64_t{0}) == acked;
  }, milliseconds(20000));
  EXPECT_TRUE(back) << ci.dump() << "\n" << c.logs();
}

// STREAM.PEER.REMOVE of the R1 durable's own server (a 4-server cluster, so the stream gets
// a replacement): the durable moves to a server that stays in the stream, with its acks.
TEST(JsClusterR1Durable, PeerRemoveOfItsServerMovesTheDurableWithItsAcks) {
  Cluster c(4);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10));
  json body = {{"stream_name", "ORDERS"},
               {"config", {{"durable_name", "R"}, {"ack_policy", "explicit"}, {"num_replicas", 1}}}};
  ASSERT_TRUE(request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.R", body).contains("config"));
  std::string host = wait_consumer_leader(nc.p, "", milliseconds(15000), "R");
  ASSERT_FALSE(host.empty()) << c.logs();
  auto seen = drain(nc.p, {1, 2, 3}, milliseconds(20000), "R");
  ASSERT_EQ(seen, (std::vector<uint64_t>{1, 2, 3})) << c.logs();
  json sinfo = request_ok(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
  std::set<std::string> staying;
  staying.insert(sinfo["cluster"].value("leader", ""));
  for (const auto& r : sinfo["cluster"].value("replicas", json::array())) staying.insert(r.value("name", ""));
  ASSERT_EQ(staying.count(host), 1u) << sinfo.dump();
  staying.erase(host);

  json removed = request_ok(nc.p, "$JS.API.STREAM.PEER.REMOVE.ORDERS", {{"peer", host}});
  ASSERT_TRUE(removed.value("success", false)) << removed.dump();
  json ci;
  bool moved = wait_for([&] {
    ci = consumer_info(nc.p, "R");
    return ci.is_object() && ci.contains("cluster") && staying.count(ci["cluster"].value("leader", ""));
  }, milliseconds(20000));
  ASSERT_TRUE(moved) << ci.dump() << "\n" << c.logs();
  EXPECT_EQ(ci["ack_floor"].value("stream_seq", 0), 3) << ci.dump();
  EXPECT_EQ(ci.value("num_pending", 0), 7) << ci.dump();
  std::set<uint64_t> rest{4, 5, 6, 7, 8, 9, 10};
  seen = drain(nc.p, rest, milliseconds(20000), "R");
  EXPECT_EQ(std::vector<uint64_t>(seen.begin(), seen.end()), std::vector<uint64_t>(rest.begin(), rest.end()))
      << c.logs();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
