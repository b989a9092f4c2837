// `$JS.API.SERVER.REMOVE` as 2.9.10 (processRemovePeer): the removed server logs
// "[ERR] JetStream being DISABLED, our server was removed from the cluster", sends the
// `$JS.EVENT.ADVISORY.SERVER.REMOVED` advisory (system account, JSServerRemovedAdvisory:
// type, id, timestamp, server, server_id, cluster, domain when set) and disables JetStream on
// itself: /jsz reports it disabled, /healthz "JetStream not enabled", its API is silent; the
// others go on without it. The meta leader may remove itself: a new leader takes over, the
// group and its replicated streams go on without it, no acknowledged message lost.
#include <gtest/gtest.h>

#include <string>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

TEST(JsMembers, ServerRemoveDisablesJetStreamOnTheRemovedServer) {
  Cluster c(3, 3);
  ConnPtr nc, sys;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(sys, c.node(0).url("sys:pass")), NATS_OK);
  // A meta leader first (a stream create succeeds once there is one).
  json created = create_stream(nc.p, {{"name", "KEEP"}, {"subjects", {"keep.>"}}, {"num_replicas", 1}});
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  std::string leader;
  ASSERT_TRUE(wait_for([&] { return !(leader = c.leader_meta().value("leader", "")).empty(); }, milliseconds(10000)));
  // The victim: not the meta leader, not the server our clients use.
  Member* victim = nullptr;
  for (auto& m : c.nodes)
    if (m->name != leader && m.get() != &c.node(0)) victim = m.get();
  ASSERT_NE(victim, nullptr);
  auto victim_varz = ctest::http_json(victim->http_port, "/varz");
  ASSERT_TRUE(victim_varz.contains("server_id"));
  ASSERT_EQ(ctest::http_json(victim->http_port, "/healthz").value("status", ""), "ok");

  SubPtr adv;
  ASSERT_EQ(natsConnection_SubscribeSync(&adv.p, sys.p, "$JS.EVENT.ADVISORY.SERVER.REMOVED"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(sys.p), NATS_OK);
  json ok = request(sys.p, "$JS.API.SERVER.REMOVE", {{"peer", victim->name}});
  EXPECT_EQ(ok, json({{"type", "io.nats.jetstream.api.v1.meta_server_remove_response"}, {"success", true}}))
      << ok.dump();

  // The advisory, from the removed server.
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, adv.p, 10000), NATS_OK) << c.logs();
  json a = json::parse(m.data(), nullptr, false);
  ASSERT_TRUE(a.is_object()) << m.data();
  EXPECT_EQ(a.value("type", ""), "io.nats.jetstream.advisory.v1.server_removed") << a.dump();
  EXPECT_FALSE(a.value("id", "").empty()) << a.dump();
  EXPECT_FALSE(a.value("timestamp", "").empty()) << a.dump();
  EXPECT_EQ(a.value("server", ""), victim->name) << a.dump();
  EXPECT_EQ(a.value("server_id", ""), victim_varz["server_id"]) << a.dump();
  EXPECT_EQ(a.value("cluster", ""), "c1") << a.dump();
  EXPECT_FALSE(a.contains("domain")) << a.dump();  // omitempty, no domain configured
  std::vector<std::string> keys;
  for (auto& [k, _] : a.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"cluster", "id", "server", "server_id", "timestamp", "type"}))
      << a.dump();

  // JetStream is off on the victim: its log, /jsz, /healthz.
  json jsz, health;
  EXPECT_TRUE(wait_for([&] {
    jsz = ctest::http_json(victim->http_port, "/jsz");
    health = ctest::http_json(victim->http_port, "/healthz");
    return jsz.value("disabled", false) && health.value("error", "") == "JetStream not enabled";
  }, milliseconds(10000))) << jsz.dump() << health.dump() << victim->proc->log();
  EXPECT_EQ(health, json({{"status", "unavailable"}, {"error", "JetStream not enabled"}})) << health.dump();
  EXPECT_NE(victim->proc->log().find("[ERR] JetStream being DISABLED, our server was removed from the cluster"),
            std::string::npos)
      << victim->proc->log();
  // New clients' INFO no longer offers JetStream (2.9.10's updateJetStreamInfoStatus(false)).
  itest::RawClient raw(victim->proc->port());
  ASSERT_TRUE(raw.connected());
  EXPECT_FALSE(json::parse(raw.info_json()).contains("jetstream")) << raw.info();
  for (auto& n : c.nodes) {
    if (n.get() == victim) continue;
    itest::RawClient other(n->proc->port());
    EXPECT_EQ(json::parse(other.info_json()).value("jetstream", false), true) << other.info();
  }
  // Its clients still reach JetStream through the others (the meta leader answers INFO).
  ConnPtr vc;
  ASSERT_EQ(connect_url(vc, victim->url("a:a")), NATS_OK);
  json info = request(vc.p, "$JS.API.INFO", nullptr);
  EXPECT_EQ(info.value("type", ""), "io.nats.jetstream.api.v1.account_info_response") << info.dump();
  // The other two still run JetStream, healthy.
  for (auto& n : c.nodes) {
    if (n.get() == victim) continue;
    EXPECT_FALSE(ctest::http_json(n->http_port, "/jsz").value("disabled", false)) << n->name;
  }
}

// The meta leader removes itself: it answers success, a new meta leader (one of the other
// two) takes over, the removed server's JetStream is disabled, the meta group and the R3
// stream drop it (no spare server: the stream runs on two, as 2.9.10), and every message
// acknowledged before and after is there.
TEST(JsMembers, MetaLeaderRemovesItself) {
  Cluster c(3, 3);
  ConnPtr sys0;
  ASSERT_EQ(connect_url(sys0, c.node(0).url("sys:pass")), NATS_OK);
  ConnPtr nc0;
  ASSERT_EQ(connect_url(nc0, c.node(0).url("a:a")), NATS_OK);
  json created = create_stream(nc0.p, {{"name", "R"}, {"subjects", {"r.>"}}, {"num_replicas", 3}});
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  std::string leader;
  ASSERT_TRUE(wait_for([&] { return !(leader = c.leader_meta().value("leader", "")).empty(); }, milliseconds(10000)));
  Member* victim = c.by_name(leader);
  ASSERT_NE(victim, nullptr);
  Member* other = nullptr;  // our clients use a server that stays
  for (auto& m : c.nodes)
    if (m.get() != victim) other = m.get();
  ConnPtr nc, sys;
  ASSERT_EQ(connect_url(nc, other->url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(sys, other->url("sys:pass")), NATS_OK);
  int acked = 0;
  for (int i = 1; i <= 20; ++i) {
    json a;
    wait_for([&] { return (a = publish(nc.p, "r.x", "m" + std::to_string(i))).value("seq", 0) == i; },
             milliseconds(10000));
    ASSERT_EQ(a.value("seq", 0), i) << a.dump() << c.logs();
    ++acked;
  }

  json ok = request(sys.p, "$JS.API.SERVER.REMOVE", {{"peer", leader}});
  EXPECT_EQ(ok, json({{"type", "io.nats.jetstream.api.v1.meta_server_remove_response"}, {"success", true}}))
      << ok.dump() << c.logs();

  // A new meta leader among the other two, whose group no longer has the removed server.
  json meta;
  EXPECT_TRUE(wait_for([&] {
    meta = json::object();
    for (auto& m : c.nodes) {
      if (m.get() == victim) continue;
      auto j = m->meta();
      if (j.value("leader", "") == m->name) meta = j;
    }
    if (meta.empty()) return false;
    for (const auto& r : meta.value("replicas", json::array()))
      if (r.value("name", "") == leader) return false;
    return meta.value("replicas", json::array()).size() == 1;
  }, milliseconds(15000))) << meta.dump() << c.logs();
  EXPECT_TRUE(wait_for([&] { return ctest::http_json(victim->http_port, "/jsz").value("disabled", false); },
                       milliseconds(10000)))
      << victim->proc->log();

  // The stream goes on with the two others: more acknowledged writes, all 30 there.
  for (int i = 21; i <= 30; ++i) {
    json a;
    wait_for([&] { return (a = publish(nc.p, "r.x", "m" + std::to_string(i))).value("seq", 0) >= i; },
             milliseconds(10000));
    ASSERT_EQ(a.value("seq", 0), i) << a.dump() << c.logs();
    ++acked;
  }
  json info;
  EXPECT_TRUE(wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.R", nullptr);
    auto names = replica_names(info);
    return info.contains("state") && names.size() == 2 && !names.count(leader);
  }, milliseconds(15000))) << info.dump() << c.logs();
  EXPECT_EQ(info["state"].value("messages", 0), acked) << info.dump();
  EXPECT_EQ(info["state"].value("last_seq", 0), acked) << info.dump();
  for (int i = 1; i <= acked; ++i) {
    json m = request(nc.p, "$JS.API.STREAM.MSG.GET.R", {{"seq", i}});
    ASSERT_TRUE(m.contains("message")) << i << " " << m.dump();
  }
  // Both remaining replicas come to hold every message (test hook: each replica's own report;
  // a follower applies the last commit once its leader tells it).
  std::map<std::string, json> st;
  EXPECT_TRUE(wait_for([&] {
    st = replica_status(sys.p, "R");
    if (st.size() != 2) return false;
    for (auto& [name, j] : st)
      if (j.value("last_seq", 0) != acked || j.value("messages", 0) != acked) return false;
    return true;
  }, milliseconds(10000))) << json(st).dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
