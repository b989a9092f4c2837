// Replicated (R3) streams on a 3-node cluster, and what happens to them under faults.
// Streams are created as a user would (STREAM.CREATE with num_replicas 3; the meta leader
// places them, every server starts its replica); publishing, PubAcks, leader changes and
// restarts are the real paths. Test-only (servers run with NATSCPP_TEST_HOOKS=1, see
// src/jetstream/cluster/test_hooks.h): each replica reports its own store through
// `$SYS.TEST.JS.STREAM.STATUS`, and `$SYS.TEST.NRG.BLOCK` cuts a server's Raft traffic.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "harness.h"
#include "js_r3_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using namespace r3;
using json = nlohmann::json;
using testing_harness::TempDir;

struct Node {
  std::string name;
  int cluster_port = testing_harness::free_port();
  std::vector<int> routes;
  std::shared_ptr<TempDir> store = std::make_shared<TempDir>();
  std::unique_ptr<testing_harness::ServerProcess> proc;

  std::string config() const {
    std::string c = "server_name: " + name + "\n" + kR3Accounts;
    c += "jetstream { store_dir: \"" + store->path() + "\" }\n";
    c += "cluster {\n  name: c1\n  listen: 127.0.0.1:" + std::to_string(cluster_port) + "\n  routes: [\n";
    for (int p : routes) c += "    \"nats-route://127.0.0.1:" + std::to_string(p) + "\"\n";
    c += "  ]\n}\n";
    return c;
  }
  void start() { proc = start_with_config(config()); }
  bool running() const { return proc && proc->pid() > 0; }
  std::string url(const std::string& user) const {
    return "nats://" + user + "@127.0.0.1:" + std::to_string(proc->port());
  }
};

struct R3Cluster {
  std::vector<std::unique_ptr<Node>> nodes;
  R3Cluster() {
    ::setenv("NATSCPP_TEST_HOOKS", "1", 1);
    for (int i = 0; i < 3; ++i) {
      nodes.push_back(std::make_unique<Node>());
      nodes.back()->name = "s" + std::to_string(i + 1);
    }
    for (auto& n : nodes)
      for (auto& o : nodes) n->routes.push_back(o->cluster_port);
    for (auto& n : nodes) n->start();
  }
  Node& node(size_t i) { return *nodes[i]; }
  std::string logs() const {
    std::string out;
    for (auto& n : nodes)
      if (n->proc) out += "---- " + n->name + "\n" + n->proc->log();
    return out;
  }
  size_t index_of(const std::string& name) const {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i]->name == name) return i;
    return nodes.size();
  }
  Node& any_running(size_t not_ = 99) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (i != not_ && nodes[i]->running()) return *nodes[i];
    return *nodes[0];
  }
};

struct Sys {
  ConnPtr nc;
  explicit Sys(Node& n) { EXPECT_EQ(connect_url(nc, n.url("sys:pass")), NATS_OK); }
  // Status of every running replica, by server name.
  std::map<std::string, json> status(bool ids = false) {
    std::map<std::string, json> out;
    json req = {{"account", "A"}, {"stream", "ORDERS"}, {"ids", ids}};
    for (auto& j : gather(nc.p, "$SYS.TEST.JS.STREAM.STATUS", req.dump(), milliseconds(1500)))
      out[j.value("server", "")] = j;
    return out;
  }
  // The leader all running replicas agree on (empty until they do).
  std::string agreed_leader(size_t expected_replicas) {
    auto st = status();
    if (st.size() != expected_replicas) return {};
    std::string leader;
    int leaders = 0;
    for (auto& [name, j] : st) {
      if (j["is_leader"].get<bool>()) ++leaders;
      std::string l = j.value("leader", "");
      if (l.empty() || (!leader.empty() && l != leader)) return {};
      leader = l;
    }
    return leaders == 1 ? leader : std::string();
  }
};

json create_r3_on(Node& n) { return create_r3(n.url("a:a")); }

std::string wait_leader(Sys& sys, size_t replicas, milliseconds t = milliseconds(15000)) {
  std::string leader;
  if (!wait_for([&] { return !(leader = sys.agreed_leader(replicas)).empty(); }, t)) {
    std::string seen;
    for (auto& [n, j] : sys.status()) seen += j.dump() + "\n";
    ADD_FAILURE() << "no agreed stream leader; replicas say:\n" << seen;
  }
  return leader;
}

// The R3 stream created through the first server, and its leader once every replica agrees on
// it: how most tests here begin. A fatal failure when either does not happen.
void start_r3_stream(R3Cluster& c, Sys& sys, std::string& leader) {
  json a = create_r3_on(c.node(0));
  ASSERT_TRUE(a.is_object() && a.contains("config")) << a.dump() << c.logs();
  leader = wait_leader(sys, 3);
  ASSERT_FALSE(leader.empty()) << c.logs();
}

TEST(JsR3, ReplicatesPublishesAndStepsDown) {
  R3Cluster c;
  Sys sys(c.node(0));
  json created = create_r3_on(c.node(0));
  ASSERT_TRUE(created.contains("cluster")) << created.dump();
  // The answer names the leader and its two followers, as the reference does.
  EXPECT_EQ(created["config"]["num_replicas"], 3) << created.dump();
  EXPECT_FALSE(created["cluster"].value("leader", "").empty()) << created.dump();
  std::string leader = wait_leader(sys, 3);
  ASSERT_FALSE(leader.empty()) << c.logs();

  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  for (int i = 1; i <= 50; ++i) {
    json ack;
    // Right after the election the leader's subscription may still be propagating.
    wait_for([&] { return !(ack = publish(nc.p, "m" + std::to_string(i))).is_null(); }, milliseconds(5000));
    ASSERT_FALSE(ack.is_null()) << i;
    ASSERT_EQ(ack["seq"], i) << ack.dump();
    ASSERT_EQ(ack["stream"], "ORDERS");
  }
  // A retried id is a duplicate with its first sequence.
  json dup = publish(nc.p, "m7");
  EXPECT_EQ(dup["seq"], 7) << dup.dump();
  EXPECT_EQ(dup.value("duplicate", false), true) << dup.dump();

  // Every replica stores the same 50 messages (followers learn the commit on the next append).
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status(true);
    if (st.size() != 3) return false;
    for (auto& [n, j] : st)
      if (j["last_seq"] != 50 || j["messages"] != 50) return false;
    return true;
  }, milliseconds(5000)));
  auto st = sys.status(true);
  for (auto& [n, j] : st) EXPECT_EQ(j["ids"], st.begin()->second["ids"]) << n;
  // The leader reports both followers current.
  auto& lj = st[leader];
  ASSERT_EQ(lj["replicas"].size(), 2u) << lj.dump();
  for (auto& r : lj["replicas"]) EXPECT_NE(r["name"], leader);

  // STREAM.LEADER.STEPDOWN: only the leader answers; another replica takes over and the
  // sequence continues.
  SubPtr adv;
  ASSERT_EQ(natsConnection_SubscribeSync(&adv.p, nc.p, "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.ORDERS"), NATS_OK);
  natsConnection_Flush(nc.p);
  auto answers = gather(nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.ORDERS", "");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0]["success"], true) << answers[0].dump();
  std::string next;
  ASSERT_TRUE(wait_for([&] { return !(next = sys.agreed_leader(3)).empty() && next != leader; }, milliseconds(10000)));
  // The new leader announces itself as the reference does.
  MsgPtr am;
  ASSERT_EQ(natsSubscription_NextMsg(&am.p, adv.p, 5000), NATS_OK);
  json aj = json::parse(am.data(), nullptr, false);
  EXPECT_EQ(aj.value("type", ""), "io.nats.jetstream.advisory.v1.stream_leader_elected") << am.data();
  EXPECT_EQ(aj.value("stream", ""), "ORDERS");
  EXPECT_EQ(aj.value("leader", ""), next) << am.data();
  json ack;
  wait_for([&] { return !(ack = publish(nc.p, "after-stepdown")).is_null(); }, milliseconds(5000));
  ASSERT_FALSE(ack.is_null());
  EXPECT_EQ(ack["seq"], 51) << ack.dump();
}

TEST(JsR3, LeaderKill9DuringPublishingLosesNoAckedMessage) {
  R3Cluster c;
  Sys sys(c.node(0));
  std::string leader;
  ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
  size_t li = c.index_of(leader);
  Node& client_node = c.any_running(li);
  Sys sys2(client_node);

  // A publisher that retries each id until it is acknowledged (as a client would), from a
  // server that is not the leader.
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, client_node.url("a:a")), NATS_OK);
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::map<std::string, uint64_t> acks;
  std::mutex mu;
  std::atomic<int64_t> killed_at_ns{0}, first_ack_after_ns{0};
  std::thread pub([&] {
    for (int i = 1; !stop; ++i) {
      std::string id = "k" + std::to_string(i);
      for (;;) {
        // Only a publish sent after the kill shows that writes are accepted again (an ack
        // in flight at the kill does not).
        bool after_kill = killed_at_ns != 0;
        json a = publish(nc.p, id, 500);
        if (!a.is_null() && !a.contains("error")) {
          std::lock_guard lk(mu);
          acks[id] = a["seq"].get<uint64_t>();
          ++acked;
          if (after_kill && !first_ack_after_ns) first_ack_after_ns = Clock::now().time_since_epoch().count();
          break;
        }
        if (stop) return;
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  });
  // Joins the publisher however the test ends.
  std::shared_ptr<void> joiner(nullptr, [&](void*) {
    stop = true;
    if (pub.joinable()) pub.join();
  });
  ASSERT_TRUE(wait_for([&] { return acked >= 200; }, milliseconds(20000)));
  killed_at_ns = Clock::now().time_since_epoch().count();
  c.node(li).proc->stop(SIGKILL);  // injected: kill -9 of the stream leader mid-stream
  int before = acked;
  bool resumed = wait_for([&] { return acked >= before + 100; }, milliseconds(15000));
  joiner.reset();
  ASSERT_TRUE(resumed) << "publishing did not resume after the leader was killed";
  double gap_ms = (first_ack_after_ns - killed_at_ns) / 1e6;
  std::printf("[ r3 ] writes accepted again %.0f ms after kill -9 of the leader\n", gap_ms);
  EXPECT_LE(gap_ms, 2000.0);

  // Verified: the survivors agree on one leader, every acknowledged id is stored exactly once
  // at the sequence its PubAck named, and the survivors hold identical logs.
  std::string next = wait_leader(sys2, 2);
  ASSERT_FALSE(next.empty());
  EXPECT_NE(next, leader);
  uint64_t last_acked = 0;
  for (auto& [id, seq] : acks) last_acked = std::max(last_acked, seq);
  ASSERT_TRUE(wait_for([&] {
    auto st = sys2.status();
    if (st.size() != 2) return false;
    for (auto& [n, j] : st)
      if (j["last_seq"].get<uint64_t>() < last_acked) return false;
    return true;
  }, milliseconds(5000)));
  auto st = sys2.status(true);
  ASSERT_EQ(st.size(), 2u);
  for (auto& [name, j] : st) {
    std::map<std::string, int> count;
    std::vector<std::string> ids = j["ids"];
    for (auto& id : ids) ++count[id];
    for (auto& [id, seq] : acks) {
      EXPECT_EQ(count[id], 1) << name << " " << id;
      if (seq >= 1 && seq <= ids.size()) {
        EXPECT_EQ(ids[seq - 1], id) << name << " seq " << seq;
      }
    }
  }
  EXPECT_EQ(st.begin()->second["ids"], st.rbegin()->second["ids"]);
  std::printf("[ r3 ] %zu acknowledged messages, all present once on both survivors\n", acks.size());
}

void block(Sys& sys, const std::string& server, std::vector<std::string> peers) {
  json req = {{"server", server}, {"peers", peers}};
  auto a = gather(sys.nc.p, "$SYS.TEST.NRG.BLOCK", req.dump(), milliseconds(2000), milliseconds(100));
  ASSERT_EQ(a.size(), 1u) << server;
}

TEST(JsR3, StoppedFollowerCatchesUpWithoutLeaderChange) {
  R3Cluster c;
  Sys sys(c.node(0));
  std::string leader;
  ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
  size_t li = c.index_of(leader);
  size_t fi = (li + 1) % 3;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(li).url("a:a")), NATS_OK);
  auto acks = publish_all(nc.p, "a", 20);
  ASSERT_EQ(acks.size(), 20u);

  // Injected: SIGSTOP of a follower while 200 more messages are acknowledged by the others.
  ::kill(c.node(fi).proc->pid(), SIGSTOP);
  auto more = publish_all(nc.p, "b", 200);
  ::kill(c.node(fi).proc->pid(), SIGCONT);
  ASSERT_EQ(more.size(), 200u);
  acks.insert(more.begin(), more.end());

  // Verified: it catches up to the same messages, and the leader never changed.
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status();
    return st.count(c.node(fi).name) && st[c.node(fi).name]["last_seq"] == 220;
  }, milliseconds(10000)));
  auto st = sys.status(true);
  ASSERT_EQ(st.size(), 3u);
  for (auto& [n, j] : st) {
    EXPECT_EQ(j["leader"], leader) << n;
    expect_all_once(j, acks);
  }
  EXPECT_EQ(st[c.node(fi).name]["ids"], st[leader]["ids"]);
}

// Test servers compact stream logs every 200 entries: a follower cut off (Raft transport
// partition; SIGSTOP would not do, the route buffers every append for it) for 1000 publishes
// is handed a snapshot and must fetch the messages it lacks from the leader.
TEST(JsR3, FollowerBehindCompactionCatchesUpFromSnapshot) {
  R3Cluster c;
  Sys sys(c.node(0));
  std::string leader;
  ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
  size_t li = c.index_of(leader);
  size_t fi = (li + 1) % 3;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(li).url("a:a")), NATS_OK);
  auto acks = publish_all(nc.p, "a", 10);
  ASSERT_EQ(acks.size(), 10u);
  // Injected: a follower cut off while 1000 messages are acknowledged and compacted away.
  std::vector<std::string> names = {"s1", "s2", "s3"};
  const std::string& f = c.node(fi).name;
  block(sys, f, {names[li], names[(fi + 1) % 3]});
  for (auto& n : names)
    if (n != f) block(sys, n, {f});
  auto more = publish_all(nc.p, "b", 1000);
  for (auto& n : names) block(sys, n, {});
  ASSERT_EQ(more.size(), 1000u);
  acks.insert(more.begin(), more.end());
  // Verified: it caught up through the snapshot path, to the same messages.
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status();
    return st.count(c.node(fi).name) && st[c.node(fi).name]["last_seq"] == 1010;
  }, milliseconds(15000))) << c.node(fi).proc->log();
  EXPECT_NE(c.node(fi).proc->log().find("catching up to sequence"), std::string::npos);
  auto st = sys.status(true);
  ASSERT_EQ(st.size(), 3u);
  for (auto& [n, j] : st) expect_all_once(j, acks);
  EXPECT_EQ(st[c.node(fi).name]["ids"], st[leader]["ids"]);
  // And it keeps up with new messages afterwards.
  auto last = publish_all(nc.p, "c", 5);
  ASSERT_EQ(last.size(), 5u);
  EXPECT_TRUE(wait_for([&] { return sys.status()[c.node(fi).name]["last_seq"] == 1015; }, milliseconds(5000)));
}

// A follower handed a snapshot beyond its store fetches the messages from the leader; until
// it has them its Raft log looks as complete as the others' (so Raft's up-to-date check
// cannot tell), yet its store lacks them. Injected: the leader, paused from serving
// catch-up, is killed with kill -9 while the follower is still catching up. Verified: the
// other, complete follower becomes leader (the catching-up one holds off campaigning), the
// follower completes its catch-up from it, and both hold every acknowledged message once.
TEST(JsR3, CatchingUpFollowerIsNotElectedOverACompleteOne) {
  R3Cluster c;
  Sys sys(c.node(0));
  std::string leader;
  ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
  size_t li = c.index_of(leader), fi = (li + 1) % 3, oi = (li + 2) % 3;
  const std::string f = c.node(fi).name, other = c.node(oi).name;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(oi).url("a:a")), NATS_OK);
  auto acks = publish_all(nc.p, "a", 10);
  ASSERT_EQ(acks.size(), 10u);
  block(sys, f, {leader, other});
  block(sys, leader, {f});
  block(sys, other, {f});
  auto more = publish_all(nc.p, "b", 500);  // compacted twice past the follower's store
  ASSERT_EQ(more.size(), 500u);
  acks.insert(more.begin(), more.end());
  auto paused = gather(sys.nc.p, "$SYS.TEST.JS.CATCHUP.PAUSE", json{{"server", leader}, {"paused", true}}.dump(),
                       milliseconds(2000), milliseconds(100));
  ASSERT_EQ(paused.size(), 1u);
  for (auto& n : {f, leader, other}) block(sys, n, {});
  ASSERT_TRUE(wait_for([&] { return sys.status()[f].value("catching_up", false); }, milliseconds(10000)))
      << c.node(fi).proc->log();
  c.node(li).proc->stop(SIGKILL);
  Sys sys2(c.node(oi));
  std::string next = wait_leader(sys2, 2);
  ASSERT_EQ(next, other) << "the catching-up follower was elected";
  ASSERT_TRUE(wait_for([&] {
    auto st = sys2.status();
    return st.count(f) && !st[f].value("catching_up", true) && st[f]["last_seq"] == 510;
  }, milliseconds(10000))) << c.node(fi).proc->log();
  auto st = sys2.status(true);
  ASSERT_EQ(st.size(), 2u);
  for (auto& [n, j] : st) {
    expect_all_once(j, acks);
    EXPECT_EQ(j["leader"], other) << n;
  }
  EXPECT_EQ(st[f]["ids"], st[other]["ids"]);
}

// Test servers compact after 200 entries or 1 MiB of proposals: 40 messages of 64 KiB (far
// fewer than 200 entries) must still compact every replica's log; an entry count alone
// would let a stream of large messages grow its Raft log without bound.
TEST(JsR3, LargeMessagesCompactTheLogByBytes) {
  R3Cluster c;
  Sys sys(c.node(0));
  std::string leader;
  ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(c.index_of(leader)).url("a:a")), NATS_OK);
  std::string big(64 * 1024, 'x');
  for (int i = 1; i <= 40; ++i) {
    std::string id = "big" + std::to_string(i);
    natsMsg* m = nullptr;
    natsMsg_Create(&m, "orders.big", nullptr, big.data(), static_cast<int>(big.size()));
    natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
    MsgPtr reply;
    natsStatus s = natsConnection_RequestMsg(&reply.p, nc.p, m, 5000);
    natsMsg_Destroy(m);
    ASSERT_EQ(s, NATS_OK) << i;
    auto ack = json::parse(reply.data(), nullptr, false);
    ASSERT_EQ(ack.value("seq", 0), i) << reply.data();
  }
  // Verified: every replica stored the 40 messages and compacted its log at least once.
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status();
    if (st.size() != 3) return false;
    for (auto& [n, j] : st)
      if (j["last_seq"] != 40 || j["raft"]["snapshot_index"].get<uint64_t>() == 0) return false;
    return true;
  }, milliseconds(10000))) << [&] {
    std::string seen;
    for (auto& [n, j] : sys.status()) seen += n + " " + j.dump() + "\n";
    return seen;
  }();
}

TEST(JsR3, MinorityCannotAcknowledgeAndHealsWithoutDivergence) {
  R3Cluster c;
  Sys sys(c.node(0));
  std::string leader;
  ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
  size_t li = c.index_of(leader);
  std::vector<std::string> names = {"s1", "s2", "s3"};
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(li).url("a:a")), NATS_OK);
  auto acks = publish_all(nc.p, "a", 10);
  ASSERT_EQ(acks.size(), 10u);

  // Injected: the Raft transport split into three singletons (every server is a minority).
  // Verified: for 3 s no publish is acknowledged anywhere.
  for (auto& n : names) {
    std::vector<std::string> others;
    for (auto& o : names)
      if (o != n) others.push_back(o);
    block(sys, n, others);
  }
  int acked_alone = 0;
  auto until = Clock::now() + milliseconds(3000);
  for (int i = 0; Clock::now() < until; ++i)
    if (!publish(nc.p, "x" + std::to_string(i), 300).is_null()) ++acked_alone;
  EXPECT_EQ(acked_alone, 0);

  // Injected: the two other servers reconnect (a majority); the old leader stays cut off.
  std::vector<std::string> majority;
  for (auto& n : names)
    if (n != leader) majority.push_back(n);
  for (auto& n : majority) block(sys, n, {leader});
  uint64_t old_last = sys.status()[leader]["last_seq"];
  ConnPtr nc2;
  ASSERT_EQ(connect_url(nc2, c.node(c.index_of(majority[0])).url("a:a")), NATS_OK);
  auto more = publish_all(nc2.p, "b", 50);
  ASSERT_EQ(more.size(), 50u) << "the majority did not take writes";
  acks.insert(more.begin(), more.end());
  // The minority committed nothing of its own meanwhile.
  EXPECT_EQ(sys.status()[leader]["last_seq"], old_last);

  // Heal. Verified: one leader, all three hold the same messages, each acked one once.
  for (auto& n : names) block(sys, n, {});
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status();
    if (st.size() != 3 || sys.agreed_leader(3).empty()) return false;
    for (auto& [n, j] : st)
      if (j["last_seq"] != st.begin()->second["last_seq"]) return false;
    return true;
  }, milliseconds(15000)));
  auto st = sys.status(true);
  for (auto& [n, j] : st) {
    expect_all_once(j, acks);
    EXPECT_EQ(j["ids"], st.begin()->second["ids"]) << n;
  }
}

TEST(JsR3, RestartOfEveryServerKeepsAcknowledgedMessages) {
  R3Cluster c;
  std::map<std::string, uint64_t> acks;
  {
    Sys sys(c.node(0));
    std::string leader;
    ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, c.node(1).url("a:a")), NATS_OK);
    acks = publish_all(nc.p, "r", 300);
    ASSERT_EQ(acks.size(), 300u);
  }
  // Injected: kill -9 of all three servers right after the last PubAck, then a restart.
  for (auto& n : c.nodes) n->proc->stop(SIGKILL);
  for (auto& n : c.nodes) n->start();
  Sys sys(c.node(2));
  // The meta log replay starts the replicas again (no request needed).
  ASSERT_FALSE(wait_leader(sys, 3).empty()) << c.node(0).proc->log() << c.node(1).proc->log();
  // Verified: every replica has all 300 acknowledged messages once, and numbering goes on.
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status();
    if (st.size() != 3) return false;
    for (auto& [n, j] : st)
      if (j["last_seq"] != 300) return false;
    return true;
  }, milliseconds(10000)));
  for (auto& [n, j] : sys.status(true)) expect_all_once(j, acks);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  json a;
  wait_for([&] { return !(a = publish(nc.p, "after-restart", 1000)).is_null(); }, milliseconds(10000));
  EXPECT_EQ(a["seq"], 301) << a.dump();
  // A retry of an id acknowledged before the restart is still a duplicate.
  json d = publish(nc.p, "r300", 2000);
  EXPECT_EQ(d.value("duplicate", false), true) << d.dump();
}

// Injected: kill -9 of all three servers at once while publishes are in flight (pipelined
// from several threads), then a restart. Verified: every acknowledged message is on every
// replica once at its sequence, and the replicas hold the same messages (an unacknowledged
// publish may or may not have made it, but the same way everywhere).
TEST(JsR3, RestartOfEveryServerDuringPublishingKeepsAcknowledgedMessages) {
  R3Cluster c;
  std::map<std::string, uint64_t> acks;
  std::mutex mu;
  {
    Sys sys(c.node(0));
    std::string leader;
    ASSERT_NO_FATAL_FAILURE(start_r3_stream(c, sys, leader));
    std::atomic<bool> stop{false};
    std::vector<std::thread> pubs;
    for (int t = 0; t < 4; ++t)
      pubs.emplace_back([&, t] {
        ConnPtr nc;
        if (connect_url(nc, c.node(t % 3).url("a:a")) != NATS_OK) return;
        for (int i = 1; !stop; ++i) {
          std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
          json r = publish(nc.p, id, 1000);
          if (r.is_null() || r.contains("error")) continue;
          std::lock_guard lk(mu);
          acks[id] = r["seq"].get<uint64_t>();
        }
      });
    bool enough = wait_for([&] {
      std::lock_guard lk(mu);
      return acks.size() >= 400;
    }, milliseconds(20000));
    for (auto& n : c.nodes) ::kill(n->proc->pid(), SIGKILL);  // all three at once
    stop = true;
    for (auto& p : pubs) p.join();
    ASSERT_TRUE(enough);
  }
  for (auto& n : c.nodes) n->proc->stop(SIGKILL);  // reaps them
  for (auto& n : c.nodes) n->start();
  Sys sys(c.node(1));
  ASSERT_FALSE(wait_leader(sys, 3).empty()) << c.logs();
  uint64_t last_acked = 0;
  for (auto& [id, seq] : acks) last_acked = std::max(last_acked, seq);
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status();
    if (st.size() != 3) return false;
    for (auto& [n, j] : st)
      if (j["last_seq"].get<uint64_t>() < last_acked || j["last_seq"] != st.begin()->second["last_seq"]) return false;
    return true;
  }, milliseconds(15000))) << [&] {
    std::string seen = "last acked " + std::to_string(last_acked) + "\n";
    for (auto& [n, j] : sys.status()) seen += j.dump() + "\n";
    return seen;
  }();
  auto st = sys.status(true);
  for (auto& [n, j] : st) {
    expect_all_once(j, acks);
    EXPECT_EQ(j["ids"], st.begin()->second["ids"]) << n;
  }
  std::printf("[ r3 ] %zu acknowledged before kill -9 of all three; all on every replica after restart\n",
              acks.size());
}

// Publishes to `subject` without a Nats-Msg-Id; the PubAck's seq, or 0 for an error or none.
uint64_t publish_plain(natsConnection* nc, const std::string& subject) {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), "x", 2000) != NATS_OK) return 0;
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_object() && !j.contains("error") ? j.value("seq", uint64_t{0}) : 0;
}

// A follower behind the leader's compaction while publishes were rejected at apply (one
// message per subject, discard new): the snapshot it is handed carries the failed count, so
// after its catch-up it stores the next messages at the leader's sequences.
TEST(JsR3, FollowerCatchesUpWithTheFailedCountOfRejectedPublishes) {
  R3Cluster c;
  Sys sys(c.node(0));
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"storage", "file"}, {"num_replicas", 3},
              {"max_msgs_per_subject", 1}, {"discard", "new"}, {"discard_new_per_subject", true}};
  ASSERT_TRUE(wait_for([&] {
    auto a = json::parse(request_text(nc.p, "$JS.API.STREAM.CREATE.ORDERS", cfg.dump()), nullptr, false);
    return a.is_object() && a.contains("config");
  }, milliseconds(30000))) << c.logs();
  std::string leader = wait_leader(sys, 3);
  ASSERT_FALSE(leader.empty()) << c.logs();
  size_t li = c.index_of(leader), fi = (li + 1) % 3;
  ConnPtr lc;
  ASSERT_EQ(connect_url(lc, c.node(li).url("a:a")), NATS_OK);
  std::vector<std::string> names = {"s1", "s2", "s3"};
  const std::string& f = c.node(fi).name;
  block(sys, f, {names[li], names[(fi + 1) % 3]});
  for (auto& n : names)
    if (n != f) block(sys, n, {f});
  // 300 stored, 100 rejected: well past the test servers' 200-entry compaction.
  uint64_t expect = 0;
  for (int i = 1; i <= 300; ++i) {
    std::string subject = "orders.u." + std::to_string(i);
    ASSERT_EQ(publish_plain(lc.p, subject), ++expect) << i;
    if (i % 3 == 0) {
      ASSERT_EQ(publish_plain(lc.p, subject), 0u) << i;
    }
  }
  for (auto& n : names) block(sys, n, {});
  ASSERT_TRUE(wait_for([&] {
    auto st = sys.status();
    return st.count(f) && st[f]["last_seq"] == 300;
  }, milliseconds(15000))) << c.node(fi).proc->log();
  EXPECT_NE(c.node(fi).proc->log().find("catching up to sequence"), std::string::npos);
  // After the catch-up: one more rejected, then stored ones at the same sequences everywhere.
  EXPECT_EQ(publish_plain(lc.p, "orders.u.1"), 0u);
  EXPECT_EQ(publish_plain(lc.p, "orders.v.1"), 301u);
  EXPECT_EQ(publish_plain(lc.p, "orders.v.2"), 302u);
  EXPECT_TRUE(wait_for([&] {
    auto st = sys.status();
    if (st.size() != 3) return false;
    for (auto& [n, j] : st)
      if (j["last_seq"] != 302 || j["messages"] != 302) return false;
    return true;
  }, milliseconds(10000)));
  for (auto& [n, j] : sys.status()) EXPECT_EQ(j["last_seq"], 302) << n << " " << j.dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
