// Membership of clustered JetStream: a server that starts after the cluster formed joins the
// meta group (the leader adds it) and hosts assets; `$JS.API.STREAM.PEER.REMOVE` replaces a
// replica with a spare server, which catches up on every message; `$JS.API.SERVER.REMOVE`
// takes a server out of the meta group; the meta log is compacted to snapshots (test
// servers compact every 8 entries) and a restarted server recovers its assets from one.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "cluster_test_util.h"
#include "harness.h"
#include "js_members_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

TEST(JsMembers, LateServerJoinsMetaGroupAndReplacesARemovedStreamPeer) {
  Cluster c(4, 3);
  ConnPtr nc, sys;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(sys, c.node(0).url("sys:pass")), NATS_OK);
  // An R3 stream on the first three servers, with history, before the fourth exists.
  json created = create_stream(nc.p, {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"num_replicas", 3}});
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  for (int i = 1; i <= 30; ++i) {
    json ack;
    wait_for([&] { return !(ack = publish(nc.p, "orders.x", "m" + std::to_string(i))).empty(); }, milliseconds(5000));
    ASSERT_EQ(ack.value("seq", 0), i) << ack.dump();
  }

  // The fourth server starts later: the meta leader adds it (learner, then voter).
  c.node(3).start();
  json meta;
  bool joined = wait_for([&] {
    meta = c.leader_meta();
    if (!meta.is_object() || meta.value("cluster_size", 0) != 4) return false;
    for (const auto& r : meta.value("replicas", json::array()))
      if (r.value("name", "") == "s4" && r.value("current", false)) return true;
    return meta.value("leader", "") == "s4";
  }, milliseconds(20000));
  ASSERT_TRUE(joined) << meta.dump() << c.logs();
  // It knows the leader too, and hosts what is placed on it.
  EXPECT_TRUE(wait_for([&] { return !c.node(3).meta().value("leader", "").empty(); }, milliseconds(10000)))
      << c.logs();
  json r1 = create_stream(nc.p, {{"name", "LATE"}, {"subjects", {"late.>"}}, {"placement", {{"tags", {"host:s4"}}}}});
  ASSERT_TRUE(r1.contains("cluster")) << r1.dump();
  EXPECT_EQ(r1["cluster"].value("leader", ""), "s4") << r1.dump();
  EXPECT_EQ(publish(nc.p, "late.1", "x").value("stream", ""), "LATE") << c.logs();

  // Errors as the reference: a server that is not a peer, an unknown stream, no peer.
  json e = request(nc.p, "$JS.API.STREAM.PEER.REMOVE.ORDERS", {{"peer", "s4"}});
  EXPECT_EQ(e["error"]["err_code"], 10040) << e.dump();
  EXPECT_EQ(e["error"]["description"], "peer not a member") << e.dump();
  EXPECT_EQ(e["type"], "io.nats.jetstream.api.v1.stream_remove_peer_response") << e.dump();
  e = request(nc.p, "$JS.API.STREAM.PEER.REMOVE.NOPE", {{"peer", "s1"}});
  EXPECT_EQ(e["error"]["err_code"], 10059) << e.dump();
  e = request(nc.p, "$JS.API.STREAM.PEER.REMOVE.ORDERS", nullptr);
  EXPECT_EQ(e["error"]["err_code"], 10003) << e.dump();

  // Remove a follower of ORDERS: s4, the only spare server, replaces it and gets all 30.
  json info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
  std::string leader = info["cluster"].value("leader", "");
  ASSERT_FALSE(leader.empty()) << info.dump();
  std::string gone = leader == "s1" ? "s2" : "s1";
  json ok = request(nc.p, "$JS.API.STREAM.PEER.REMOVE.ORDERS", {{"peer", gone}});
  EXPECT_EQ(ok, json({{"type", "io.nats.jetstream.api.v1.stream_remove_peer_response"}, {"success", true}}))
      << ok.dump();
  bool replaced = wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
    auto names = replica_names(info);
    if (names.count(gone) || !names.count("s4") || names.size() != 3) return false;
    for (const auto& r : info["cluster"].value("replicas", json::array()))
      if (!r.value("current", false)) return false;
    return true;
  }, milliseconds(20000));
  ASSERT_TRUE(replaced) << info.dump() << c.logs();
  json s4;
  bool caught_up = wait_for([&] {
    auto st = replica_status(sys.p, "ORDERS");
    if (!st.count("s4") || st.count(gone)) return false;
    s4 = st["s4"];
    return s4.value("messages", 0) == 30 && s4.value("first_seq", 0) == 1 && s4.value("last_seq", 0) == 30;
  }, milliseconds(15000));
  EXPECT_TRUE(caught_up) << s4.dump() << c.logs();
  // The group goes on with its new member: a new message reaches all three replicas.
  json m31;
  wait_for([&] { return !(m31 = publish(nc.p, "orders.x", "m31")).empty(); }, milliseconds(5000));
  EXPECT_EQ(m31.value("seq", 0), 31) << m31.dump() << c.logs();
  std::map<std::string, json> last;
  EXPECT_TRUE(wait_for([&] {
    last = replica_status(sys.p, "ORDERS");
    if (last.size() != 3) return false;
    for (auto& [_, j] : last)
      if (j.value("last_seq", 0) != 31) return false;
    return true;
  }, milliseconds(10000))) << json(last).dump() << c.logs();
}

TEST(JsMembers, MetaSnapshotRestartAndServerRemove) {
  Cluster c(4, 4);
  ConnPtr nc, sys;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(sys, c.node(0).url("sys:pass")), NATS_OK);
  // A replicated (R3) durable with one acknowledged message, created before the entries
  // below so that a snapshot covers it: after the restart it runs through its own group
  // again (not as a plain local consumer) and keeps its ack state.
  json ev = create_stream(nc.p, {{"name", "EVENTS"}, {"subjects", {"events.>"}}, {"num_replicas", 3}});
  ASSERT_TRUE(ev.contains("cluster")) << ev.dump();
  for (int i = 0; i < 2; ++i) ASSERT_GT(publish(nc.p, "events.x", "e").value("seq", 0), 0);
  json dur = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.EVENTS.D",
                     {{"stream_name", "EVENTS"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}});
  ASSERT_EQ(dur["config"].value("num_replicas", -1), 0) << dur.dump();
  ASSERT_EQ(dur["cluster"]["replicas"].size(), 2u) << dur.dump();
  {
    MsgPtr m, ack;
    ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "$JS.API.CONSUMER.MSG.NEXT.EVENTS.D", "1", 5000), NATS_OK);
    ASSERT_NE(natsMsg_GetReply(m.p), nullptr);
    ASSERT_EQ(natsConnection_RequestString(&ack.p, nc.p, natsMsg_GetReply(m.p), "+ACK", 5000), NATS_OK);
  }
  // Enough meta entries for compaction (test servers compact every 8): R1 streams on s2,
  // one of them deleted again, and an R3 stream.
  for (int i = 1; i <= 10; ++i) {
    std::string name = "P" + std::to_string(i);
    json r = create_stream(nc.p, {{"name", name}, {"subjects", {"p" + std::to_string(i) + ".>"}},
                                  {"placement", {{"tags", {"host:s2"}}}}});
    ASSERT_EQ(r["cluster"].value("leader", ""), "s2") << r.dump() << c.logs();
    ASSERT_EQ(publish(nc.p, "p" + std::to_string(i) + ".x", "v").value("seq", 0), 1);
  }
  json del = request(nc.p, "$JS.API.STREAM.DELETE.P10", nullptr);
  ASSERT_EQ(del.value("success", false), true) << del.dump();
  json r3 = create_stream(nc.p, {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"num_replicas", 3}});
  ASSERT_TRUE(r3.contains("cluster")) << r3.dump();

  // Every server compacted its meta log to a snapshot; after all restart, they recover the
  // meta state (and their streams) from it.
  for (auto& m : c.nodes) {
    std::string snap = m->store->path() + "/jetstream/$SYS/_js_/_meta_/snapshot.dat";
    ASSERT_TRUE(wait_for([&] { return ::access(snap.c_str(), F_OK) == 0; }, milliseconds(10000))) << snap;
  }
  for (auto& m : c.nodes) m->proc->stop(SIGTERM);
  for (auto& m : c.nodes) m->start();
  nc.reset();
  sys.reset();
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(sys, c.node(0).url("sys:pass")), NATS_OK);
  json listed;
  EXPECT_TRUE(wait_for([&] {
    listed = request(nc.p, "$JS.API.STREAM.NAMES", nullptr, 2000);
    return listed.value("total", 0) == 11;  // P1..P9, ORDERS, EVENTS
  }, milliseconds(20000))) << listed.dump();
  EXPECT_TRUE(wait_for([&] {
    for (int i = 1; i <= 9; ++i) {
      json info = request(nc.p, "$JS.API.STREAM.INFO.P" + std::to_string(i), nullptr, 2000);
      if (!info.contains("state") || info["state"].value("messages", 0) != 1) return false;
    }
    return true;
  }, milliseconds(20000))) << c.logs();
  json ci;
  EXPECT_TRUE(wait_for([&] {
    ci = request(nc.p, "$JS.API.CONSUMER.INFO.EVENTS.D", nullptr, 2000);
    return ci.contains("ack_floor") && ci["cluster"].contains("leader") && ci["cluster"]["replicas"].size() == 2;
  }, milliseconds(20000))) << ci.dump();
  EXPECT_EQ(ci["ack_floor"].value("stream_seq", 0), 1) << ci.dump();
  EXPECT_EQ(ci.value("num_pending", 0), 1) << ci.dump();
  json gone = request(nc.p, "$JS.API.STREAM.INFO.P10", nullptr);
  EXPECT_EQ(gone["error"]["err_code"], 10059) << gone.dump();
  // SERVER.REMOVE (system account, meta leader): errors first, then a follower of ORDERS.
  json e = request(sys.p, "$JS.API.SERVER.REMOVE", {{"peer", "nope"}});
  EXPECT_EQ(e, json({{"type", "io.nats.jetstream.api.v1.meta_server_remove_response"},
                     {"error", {{"code", 400}, {"err_code", 10044}, {"description", "server is not a member of the cluster"}}}}))
      << e.dump();
  e = request(sys.p, "$JS.API.SERVER.REMOVE", nullptr);
  EXPECT_EQ(e["error"]["err_code"], 10003) << e.dump();
  json info;  // ORDERS' group may still be electing after the restart
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr, 2000);
    return info.contains("cluster") && info["cluster"].contains("leader") && info["cluster"].contains("replicas");
  }, milliseconds(20000))) << info.dump();
  auto members = replica_names(info);
  std::string meta_leader = c.leader_meta().value("leader", "");
  std::string victim, spare;
  for (auto& m : c.nodes) {
    if (!members.count(m->name)) spare = m->name;
    else if (m->name != meta_leader && m->name != info["cluster"].value("leader", "")) victim = m->name;
  }
  ASSERT_FALSE(victim.empty()) << info.dump() << meta_leader;
  json ok = request(sys.p, "$JS.API.SERVER.REMOVE", {{"peer", victim}});
  EXPECT_EQ(ok, json({{"type", "io.nats.jetstream.api.v1.meta_server_remove_response"}, {"success", true}})) << ok.dump();
  json meta;
  EXPECT_TRUE(wait_for([&] {
    meta = c.leader_meta();
    if (meta.value("cluster_size", 0) != 3) return false;
    for (const auto& r : meta.value("replicas", json::array()))
      if (r.value("name", "") == victim) return false;
    return true;
  }, milliseconds(15000))) << meta.dump();
  // Its replica of ORDERS went to the spare server.
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
    auto names = replica_names(info);
    return names.size() == 3 && !names.count(victim) && names.count(spare);
  }, milliseconds(15000))) << info.dump() << " victim " << victim << " spare " << spare;
  // The R3 durable of EVENTS keeps its stream's peers (replaced with it if the victim held one).
  json ev_info, d_info;
  EXPECT_TRUE(wait_for([&] {
    ev_info = request(nc.p, "$JS.API.STREAM.INFO.EVENTS", nullptr, 2000);
    d_info = request(nc.p, "$JS.API.CONSUMER.INFO.EVENTS.D", nullptr, 2000);
    auto names = replica_names(ev_info);
    return names.size() == 3 && !names.count(victim) && replica_names(d_info) == names;
  }, milliseconds(20000))) << ev_info.dump() << "\n" << d_info.dump() << " victim " << victim;
  EXPECT_EQ(d_info["ack_floor"].value("stream_seq", 0), 1) << d_info.dump();
  // Removed servers are not added back.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(c.leader_meta().value("cluster_size", 0), 3);
}

TEST(JsMembers, ScaleReplicasUpAndDownKeepsMessages) {
  Cluster c(3, 3);
  ConnPtr nc, sys;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(sys, c.node(0).url("sys:pass")), NATS_OK);
  json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"num_replicas", 1}};
  json created = create_stream(nc.p, cfg);
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  for (int i = 1; i <= 20; ++i) ASSERT_EQ(publish(nc.p, "orders.x", "m" + std::to_string(i)).value("seq", 0), i);

  // 1 -> 3: the two new replicas copy the 20 messages, then take new ones.
  cfg["num_replicas"] = 3;
  json up = request(nc.p, "$JS.API.STREAM.UPDATE.ORDERS", cfg);
  ASSERT_EQ(up.value("type", ""), "io.nats.jetstream.api.v1.stream_update_response") << up.dump();
  ASSERT_FALSE(up.contains("error")) << up.dump();
  EXPECT_EQ(up["config"]["num_replicas"], 3);
  EXPECT_EQ(up["state"]["messages"], 20) << up.dump();
  std::map<std::string, json> st;
  bool copied = wait_for([&] {
    st = replica_status(sys.p, "ORDERS");
    if (st.size() != 3) return false;
    for (auto& [_, j] : st)
      if (j.value("messages", 0) != 20 || j.value("first_seq", 0) != 1) return false;
    return true;
  }, milliseconds(20000));
  ASSERT_TRUE(copied) << json(st).dump() << c.logs();
  json info;
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
    return replica_names(info).size() == 3;
  }, milliseconds(10000))) << info.dump() << c.logs();
  json ack;
  wait_for([&] { return !(ack = publish(nc.p, "orders.x", "m21")).empty(); }, milliseconds(5000));
  EXPECT_EQ(ack.value("seq", 0), 21) << ack.dump();
  EXPECT_TRUE(wait_for([&] {
    st = replica_status(sys.p, "ORDERS");
    if (st.size() != 3) return false;
    for (auto& [_, j] : st)
      if (j.value("last_seq", 0) != 21) return false;
    return true;
  }, milliseconds(10000))) << json(st).dump();

  // $JS.API.INFO sums the account's usage over the cluster: each replica's bytes (as 2.9.10).
  json acct;
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
    acct = request(nc.p, "$JS.API.INFO", nullptr);
    uint64_t bytes = info.contains("state") ? info["state"].value("bytes", uint64_t{0}) : 0;
    return bytes > 0 && acct.value("storage", uint64_t{0}) == 3 * bytes;
  }, milliseconds(10000))) << acct.dump() << info.dump();
  EXPECT_EQ(acct.value("type", ""), "io.nats.jetstream.api.v1.account_info_response");
  EXPECT_EQ(acct.value("streams", 0), 1) << acct.dump();
  EXPECT_EQ(acct.value("memory", 1), 0) << acct.dump();

  // 3 -> 5 on three servers: the reference's placement error, nothing changes.
  cfg["num_replicas"] = 5;
  json refused = request(nc.p, "$JS.API.STREAM.UPDATE.ORDERS", cfg);
  EXPECT_EQ(refused["error"]["err_code"], 10005) << refused.dump();
  EXPECT_EQ(refused["error"]["description"], "no suitable peers for placement") << refused.dump();

  // 3 -> 1: one copy stays, with all 21 messages.
  cfg["num_replicas"] = 1;
  json down = request(nc.p, "$JS.API.STREAM.UPDATE.ORDERS", cfg);
  ASSERT_FALSE(down.contains("error")) << down.dump();
  EXPECT_EQ(down["config"]["num_replicas"], 1);
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
    return info.contains("state") && info["state"].value("messages", 0) == 21 && replica_names(info).size() == 1;
  }, milliseconds(10000))) << info.dump();
  EXPECT_EQ(publish(nc.p, "orders.x", "m22").value("seq", 0), 22);
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
    acct = request(nc.p, "$JS.API.INFO", nullptr);
    uint64_t bytes = info.contains("state") ? info["state"].value("bytes", uint64_t{0}) : 0;
    return bytes > 0 && acct.value("storage", uint64_t{0}) == bytes;
  }, milliseconds(10000))) << acct.dump() << info.dump();
}

TEST(JsMembers, MoveByTagsWithinTheCluster) {
  // "old": s1 s2 s3, "new": s2 s3 s4. A move swaps s1 for s4.
  Cluster c(4, 4, {{"old"}, {"old", "new"}, {"old", "new"}, {"new"}});
  ConnPtr nc, sys;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(sys, c.node(0).url("sys:pass")), NATS_OK);
  json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"num_replicas", 3}, {"placement", {{"tags", {"old"}}}}};
  json created = create_stream(nc.p, cfg);
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  json placed;
  ASSERT_TRUE(wait_for([&] {
    placed = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr, 2000);
    return replica_names(placed) == std::set<std::string>{"s1", "s2", "s3"};
  }, milliseconds(10000))) << placed.dump();
  for (int i = 1; i <= 20; ++i) {
    json ack;
    wait_for([&] { return !(ack = publish(nc.p, "orders.x", "m" + std::to_string(i))).empty(); }, milliseconds(5000));
    ASSERT_EQ(ack.value("seq", 0), i) << ack.dump();
  }
  // An R3 durable moves with its stream.
  json durable = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D",
                         {{"stream_name", "ORDERS"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}});
  ASSERT_FALSE(durable.contains("error")) << durable.dump();
  cfg["placement"] = {{"tags", {"new"}}};
  json both = cfg;
  both["num_replicas"] = 1;
  json refused = request(nc.p, "$JS.API.STREAM.UPDATE.ORDERS", both);
  EXPECT_EQ(refused["error"]["err_code"], 10123) << refused.dump();
  json moved = request(nc.p, "$JS.API.STREAM.UPDATE.ORDERS", cfg);
  ASSERT_FALSE(moved.empty());
  ASSERT_FALSE(moved.contains("error")) << moved.dump();
  EXPECT_EQ(moved["config"]["placement"], json({{"tags", {"new"}}})) << moved.dump();
  // The group still has s1 (its leader removes it only once s4 caught up): another move now
  // is refused, as the reference. (Before, a stream with R>1 consumers could not move: 10036.)
  json back = cfg;
  back["placement"] = {{"tags", {"old"}}};
  json busy = request(nc.p, "$JS.API.STREAM.UPDATE.ORDERS", back);
  EXPECT_EQ(busy["error"]["err_code"], 10124) << busy.dump();
  EXPECT_EQ(busy["error"]["description"].get<std::string>().rfind("stream move already in progress: total peers: ", 0),
            0u)
      << busy.dump();
  json info;
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr, 2000);
    return replica_names(info) == std::set<std::string>{"s2", "s3", "s4"};
  }, milliseconds(20000))) << info.dump() << c.logs();
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.CONSUMER.INFO.ORDERS.D", nullptr, 2000);
    return replica_names(info) == std::set<std::string>{"s2", "s3", "s4"};
  }, milliseconds(20000))) << info.dump() << c.logs();
  std::map<std::string, json> st;
  EXPECT_TRUE(wait_for([&] {
    st = replica_status(sys.p, "ORDERS");
    if (st.size() != 3 || st.count("s1")) return false;
    for (auto& [_, j] : st)
      if (j.value("messages", 0) != 20 || j.value("first_seq", 0) != 1) return false;
    return true;
  }, milliseconds(15000))) << json(st).dump();
  json ack;
  wait_for([&] { return !(ack = publish(nc.p, "orders.x", "m21")).empty(); }, milliseconds(5000));
  EXPECT_EQ(ack.value("seq", 0), 21) << ack.dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
