// Work-queue retention on every replica when a replica's consumer group and stream group are
// out of step (src/jetstream/stream_retention.cpp): a replica that missed the acks one by one
// (its consumer caught up through a snapshot) or applied them before its stream had the
// messages (its stream still catching up) still drops what was acknowledged, as its peers
// did. Injected with the test hooks' Raft partition ($SYS.TEST.NRG.BLOCK) and catch-up pause
// ($SYS.TEST.JS.CATCHUP.PAUSE); checked on each replica's store ($SYS.TEST.JS.STREAM.STATUS).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "js_cluster_util.h"
#include "js_r3_consumer_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace r3c;

struct Replicas {
  ConnPtr sys;
  explicit Replicas(Cluster& c) {
    EXPECT_EQ(connect_url(sys, "nats://sys:pass@127.0.0.1:" + std::to_string(c.nodes[0]->proc->port())), NATS_OK);
  }
  // Every replica's store state of ORDERS, by server name.
  std::map<std::string, json> status() {
    std::map<std::string, json> out;
    for (auto& j : jsc::collect(sys.p, "$SYS.TEST.JS.STREAM.STATUS", milliseconds(300),
                                json{{"account", "A"}, {"stream", "ORDERS"}}.dump()))
      out[j.value("server", "")] = j;
    return out;
  }
  std::string dump() {
    std::string out;
    for (auto& [n, j] : status()) out += j.dump() + "\n";
    return out;
  }
  // Cuts (or, with an empty `from`, heals) server's Raft traffic with `from`.
  bool block(const std::string& server, const std::vector<std::string>& from) {
    json a = request(sys.p, "$SYS.TEST.NRG.BLOCK", json{{"server", server}, {"peers", from}}.dump());
    return a.is_object() && a.value("ok", false);
  }
  bool isolate(const std::vector<std::string>& names, const std::string& f, bool on) {
    bool ok = true;
    for (auto& n : names) {
      std::vector<std::string> peers;
      if (on)
        for (auto& o : names)
          if ((n == f) != (o == f)) peers.push_back(o);
      ok = block(n, peers) && ok;
    }
    return ok;
  }
  bool pause_catchup(const std::string& server, bool paused) {
    json a = request(sys.p, "$SYS.TEST.JS.CATCHUP.PAUSE", json{{"server", server}, {"paused", paused}}.dump());
    return a.is_object() && a.value("ok", false);
  }
  // Waits until every replica holds `last` messages... and agrees on the leader; returns it.
  std::string leader_once_all_have(uint64_t last) {
    std::string leader;
    wait_for([&] {
      auto st = status();
      if (st.size() != 3) return false;
      for (auto& [n, j] : st) {
        if (j["last_seq"] != last) return false;
        if (j.value("is_leader", false)) leader = n;
      }
      return !leader.empty();
    }, milliseconds(15000));
    return leader;
  }
};

std::vector<std::string> names(Cluster& c) {
  std::vector<std::string> out;
  for (auto& n : c.nodes) out.push_back(n->name);
  return out;
}

json filtered(const std::string& name, const std::string& filter) {
  return {{"stream_name", "ORDERS"},
          {"config",
           {{"durable_name", name},
            {"ack_policy", "explicit"},
            {"filter_subject", filter},
            {"ack_wait", 30'000'000'000}}}};
}

// A stream follower is cut off (Raft only) while two filtered durables are created, 236 more
// messages come and D takes six acks (the stream log compacts every 200 entries, consumer
// logs every 8 under the test hooks). Then it is let back with its stream leader paused from
// serving catch-up, and L acks its six:
//  - D's replica there catches up through its leader's snapshot: the six acks it covers
//    were never applied one by one, yet the replica's stream drops 1..6, which it held;
//  - L's replica applies its acks while the replica's stream lacks those messages (still
//    catching up): once they arrive, it drops them.
// (One cluster for both: its start is most of the time.)
TEST(JsR3ConsumerRetention, WorkQueueReplicaBehindItsConsumersDropsWhatTheyAcked) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10, "workqueue"));  // orders.new 1..10
  Replicas r(c);
  std::string leader = r.leader_once_all_have(10);
  ASSERT_FALSE(leader.empty()) << r.dump();
  std::string f = leader == "s3" ? "s2" : "s3";  // a stream follower
  ASSERT_TRUE(r.isolate(names(c), f, true));

  json d = request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D", filtered("D", "orders.new"));
  ASSERT_TRUE(d.contains("config")) << d.dump() << c.logs();
  json l = request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.L", filtered("L", "orders.late"));
  ASSERT_TRUE(l.contains("config")) << l.dump() << c.logs();
  for (int i = 11; i <= 246; ++i) {
    json ack = request_ok(nc.p, i <= 240 ? "orders.early" : "orders.late", "m", milliseconds(10000));
    ASSERT_EQ(ack.value("seq", 0), i) << ack.dump();
  }
  // After the stream's compaction: its snapshot, which the cut-off replica gets, still starts
  // at 1 (it would drop 1..6 there on its own otherwise).
  EXPECT_EQ(drain(nc.p, {1, 2, 3, 4, 5, 6}, milliseconds(10000)), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  ASSERT_TRUE(r.pause_catchup(leader, true));
  ASSERT_TRUE(r.isolate(names(c), f, false));
  ASSERT_TRUE(wait_for([&] { return r.status()[f].value("catching_up", false); }, milliseconds(10000))) << r.dump();

  EXPECT_EQ(drain(nc.p, {241, 242, 243, 244, 245, 246}, milliseconds(10000), "L"),
            (std::vector<uint64_t>{241, 242, 243, 244, 245, 246}));
  // Both consumers' replicas are current (the one that was cut off has their acks).
  for (std::string name : {"D", "L"}) {
    json info;
    EXPECT_TRUE(wait_for([&] {
      info = consumer_info(nc.p, name);
      if (!info.contains("cluster") || info["cluster"].value("replicas", json::array()).size() != 2) return false;
      for (auto& x : info["cluster"]["replicas"])
        if (!x.value("current", false)) return false;
      return true;
    }, milliseconds(10000))) << info.dump();
  }
  ASSERT_TRUE(r.status()[f].value("catching_up", false)) << r.dump();
  ASSERT_TRUE(r.pause_catchup(leader, false));

  // Verified: every replica holds 7..10 and the 230 early messages, none of the acked.
  bool all = wait_for([&] {
    auto st = r.status();
    if (st.size() != 3) return false;
    for (auto& [n, j] : st)
      if (j.value("catching_up", true) || j["first_seq"] != 7 || j["messages"] != 234 || j["last_seq"] != 246)
        return false;
    return true;
  }, milliseconds(10000));
  EXPECT_TRUE(all) << "cut off: " << f << "\n" << r.dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
