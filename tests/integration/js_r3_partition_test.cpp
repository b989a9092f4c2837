// A real network partition of an R3 stream's cluster: each server runs in its own network
// namespace (netns_lab.h), and a partition is made in the kernel (blackhole routes between
// servers: their packets are dropped, TCP connections stall), not by any hook in the server.
// The test's clients reach every server directly throughout, so each replica is asked for its
// own state (`$SYS.TEST.JS.STREAM.STATUS`, NATSCPP_TEST_HOOKS=1) while it is cut off.
// Skips (GTEST_SKIP) without the privilege to make namespaces.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "harness.h"
#include "js_r3_util.h"
#include "netns_lab.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using namespace r3;

struct PartitionedCluster {
  netlab::NetLab lab{3};
  testing_harness::TempDir conf_dir;
  std::vector<std::unique_ptr<testing_harness::TempDir>> stores;
  std::vector<std::unique_ptr<netlab::NsServer>> servers;
  const int client_port = testing_harness::free_port(), cluster_port = testing_harness::free_port();

  // Every server uses the same two ports, each in its own namespace.
  void start() {
    ::setenv("NATSCPP_TEST_HOOKS", "1", 1);
    for (int i = 0; i < 3; ++i) {
      stores.push_back(std::make_unique<testing_harness::TempDir>());
      std::string c = "server_name: " + name(i) + "\nlisten: " + lab.ip(i) + ":" + std::to_string(client_port) +
                      "\n" + kR3Accounts + "jetstream { store_dir: \"" + stores.back()->path() + "\" }\n" +
                      "cluster {\n  name: c1\n  listen: " + lab.ip(i) + ":" + std::to_string(cluster_port) +
                      "\n  routes: [\n";
      for (int j = 0; j < 3; ++j) c += "    \"nats-route://" + lab.ip(j) + ":" + std::to_string(cluster_port) + "\"\n";
      c += "  ]\n}\n";
      servers.push_back(std::make_unique<netlab::NsServer>(lab.netns(i), lab.ip(i),
                                                           conf_dir.write(name(i) + ".conf", c)));
    }
    for (auto& s : servers) s->start(client_port);
  }
  static std::string name(int i) { return "s" + std::to_string(i + 1); }
  int index_of(const std::string& n) const {
    for (int i = 0; i < 3; ++i)
      if (name(i) == n) return i;
    return -1;
  }
  std::string logs() const {
    std::string out;
    for (size_t i = 0; i < servers.size(); ++i) out += "---- " + name(static_cast<int>(i)) + "\n" + servers[i]->log();
    return out;
  }
  // Cuts server i off from both others (a minority of one).
  void isolate(int i) {
    for (int j = 0; j < 3; ++j)
      if (j != i) {
        ASSERT_TRUE(lab.cut(i, j));
      }
  }
  void heal_all() {
    for (int i = 0; i < 3; ++i)
      for (int j = i + 1; j < 3; ++j) lab.heal(i, j);
  }
};

// One system-account connection per server: its own replica's answer, even while cut off.
struct DirectStatus {
  std::vector<ConnPtr> conns;
  explicit DirectStatus(PartitionedCluster& c) : conns(3) {
    for (int i = 0; i < 3; ++i) EXPECT_EQ(connect_url(conns[i], c.servers[i]->url("sys:pass")), NATS_OK);
  }
  json of(int i, bool ids = false) {
    json req = {{"account", "A"}, {"stream", "ORDERS"}, {"ids", ids}};
    for (auto& j : gather(conns[i].p, "$SYS.TEST.JS.STREAM.STATUS", req.dump(), milliseconds(1500), milliseconds(200)))
      if (j.value("server", "") == PartitionedCluster::name(i)) return j;
    return nullptr;
  }
  // The leader every server names, once all three agree and exactly one claims it.
  std::string agreed_leader() {
    std::string leader;
    int claims = 0;
    for (int i = 0; i < 3; ++i) {
      json j = of(i);
      if (j.is_null() || j.value("leader", "").empty()) return {};
      if (!leader.empty() && j["leader"] != leader) return {};
      leader = j["leader"];
      claims += j["is_leader"].get<bool>();
    }
    return claims == 1 ? leader : std::string();
  }
};

// For `window`, no publish through server i is acknowledged; returns how many were.
int acks_during(natsConnection* nc, const std::string& prefix, milliseconds window) {
  int acked = 0;
  auto until = Clock::now() + window;
  for (int i = 0; Clock::now() < until; ++i) {
    json a = publish(nc, prefix + std::to_string(i), 300);
    if (!a.is_null() && !a.contains("error")) ++acked;
  }
  return acked;
}

// Waits for one agreed leader and the same store on all three, then checks every
// acknowledged id is there once at its sequence, no id twice, and the replicas identical.
// (A publish that timed out during a partition may still be stored later: the route
// delivers what it buffered once healed, as with any NATS request that times out.)
void expect_converged(PartitionedCluster& c, DirectStatus& st, const std::map<std::string, uint64_t>& acks) {
  uint64_t last_acked = 0;
  for (auto& [id, seq] : acks) last_acked = std::max(last_acked, seq);
  ASSERT_TRUE(wait_for([&] {
    if (st.agreed_leader().empty()) return false;
    json a = st.of(0), b = st.of(1), d = st.of(2);
    return !a.is_null() && !b.is_null() && !d.is_null() && a["last_seq"] == b["last_seq"] &&
           b["last_seq"] == d["last_seq"] && a["last_seq"].get<uint64_t>() >= last_acked;
  }, milliseconds(20000))) << c.logs();
  json first = st.of(0, true);
  for (int i = 0; i < 3; ++i) {
    json j = i == 0 ? first : st.of(i, true);
    expect_all_once(j, acks);
    EXPECT_EQ(j["ids"], first["ids"]) << "replica " << i << " diverges";
    std::map<std::string, int> seen;
    for (auto& id : j["ids"]) EXPECT_EQ(++seen[id.get<std::string>()], 1) << "duplicate " << id;
  }
}

TEST(JsR3Partition, MinorityCannotAcknowledgeMajorityGoesOnHealedNodeConverges) {
  PartitionedCluster c;
  if (!c.lab.available()) GTEST_SKIP() << "network namespaces unavailable: " << c.lab.why_not();
  c.start();
  json created = create_r3(c.servers[0]->url("a:a"));
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  DirectStatus st(c);
  std::string leader;
  ASSERT_TRUE(wait_for([&] { return !(leader = st.agreed_leader()).empty(); }, milliseconds(15000))) << c.logs();
  int li = c.index_of(leader), fi = (li + 1) % 3, oi = (li + 2) % 3;
  std::vector<ConnPtr> nc(3);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(connect_url(nc[i], c.servers[i]->url("a:a")), NATS_OK);
  auto acks = publish_all(nc[li].p, "a", 20);
  ASSERT_EQ(acks.size(), 20u);

  // Injected: a follower cut off from the leader and the other follower.
  // Verified: it acknowledges nothing; the leader and the other follower go on; healed, it
  // converges and the leader has not changed (pre-vote keeps it from disrupting).
  c.isolate(fi);
  EXPECT_EQ(acks_during(nc[fi].p, "f", milliseconds(1500)), 0) << "a cut-off follower acknowledged a write";
  auto more = publish_all(nc[li].p, "b", 50);
  ASSERT_EQ(more.size(), 50u) << "the majority did not take writes";
  acks.insert(more.begin(), more.end());
  // (It may not have learned that the last of the first 20 committed before the cut.)
  EXPECT_LE(st.of(fi)["last_seq"].get<uint64_t>(), 20u) << "the cut-off follower stored messages";
  c.heal_all();
  expect_converged(c, st, acks);
  EXPECT_EQ(st.agreed_leader(), leader) << "a healed follower forced a leader change";
  const uint64_t before_cut = st.of(li)["last_seq"].get<uint64_t>();

  // Injected: the leader cut off from both followers.
  // Verified: nothing is acknowledged through it; the other two elect a leader and take
  // writes; healed, the old leader drops what it could not commit and holds the same
  // messages as the others.
  c.isolate(li);
  EXPECT_EQ(acks_during(nc[li].p, "x", milliseconds(2500)), 0) << "the isolated leader acknowledged a write";
  auto after = publish_all(nc[oi].p, "c", 50);
  ASSERT_EQ(after.size(), 50u) << "the majority did not elect a leader and take writes" << c.logs();
  acks.insert(after.begin(), after.end());
  json minority = st.of(li);
  ASSERT_FALSE(minority.is_null());
  EXPECT_EQ(minority["last_seq"], before_cut) << "the isolated leader stored a write it could not commit";
  // Check-quorum: cut off from both followers, it no longer claims to lead.
  EXPECT_TRUE(wait_for([&] {
    json j = st.of(li);
    return !j.is_null() && !j["is_leader"].get<bool>();
  }, milliseconds(5000))) << "the isolated leader still claims leadership";
  c.heal_all();
  expect_converged(c, st, acks);
  EXPECT_NE(st.agreed_leader(), leader);
  std::printf("[ partition ] %zu acknowledged messages identical on all three replicas after two partitions\n",
              acks.size());
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
