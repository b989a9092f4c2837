// Replicated consumers follow their stream's peers: STREAM.PEER.REMOVE on a 4-server cluster
// gives the R3 durable the stream's new peer, which catches up on the ack state (its leader
// there redelivers nothing acknowledged); scaling the stream to R1 and back takes the durable
// along with its state; CONSUMER.NAMES/LIST from any server name every consumer of the
// stream, wherever it runs.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "js_cluster_util.h"
#include "js_r3_consumer_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace r3c;

std::set<std::string> group_members(const json& info) {
  std::set<std::string> out;
  if (!info.is_object() || !info.contains("cluster")) return out;
  if (auto l = info["cluster"].value("leader", ""); !l.empty()) out.insert(l);
  for (const auto& r : info["cluster"].value("replicas", json::array())) out.insert(r.value("name", ""));
  return out;
}

bool all_current(const json& info) {
  for (const auto& r : info["cluster"].value("replicas", json::array()))
    if (!r.value("current", false)) return false;
  return true;
}

TEST(JsR3ConsumerFollow, PeerRemoveMovesTheConsumerWithItsAckState) {
  Cluster c(4);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10));
  ASSERT_TRUE(create_durable(nc.p, 30'000'000'000).contains("config"));
  std::set<uint64_t> first{1, 2, 3, 4, 5, 6};
  auto seen = drain(nc.p, first, milliseconds(20000));
  ASSERT_EQ(std::set<uint64_t>(seen.begin(), seen.end()), first) << c.logs();

  json sinfo = request_ok(nc.p, "$JS.API.STREAM.INFO.ORDERS", nullptr);
  auto peers = group_members(sinfo);
  ASSERT_EQ(peers.size(), 3u) << sinfo.dump();
  std::string stream_leader = sinfo["cluster"].value("leader", "");
  std::string consumer_leader = wait_consumer_leader(nc.p);
  ASSERT_FALSE(consumer_leader.empty()) << c.logs();
  std::string gone, spare;
  for (const auto& p : peers)
    if (p != stream_leader && p != consumer_leader) gone = p;
  if (gone.empty())  // both leaders on one server: any follower of the consumer
    for (const auto& p : peers)
      if (p != consumer_leader) gone = p;
  for (auto& n : c.nodes)
    if (!peers.count(n->name)) spare = n->name;
  ASSERT_FALSE(gone.empty());
  ASSERT_FALSE(spare.empty());

  json removed = request_ok(nc.p, "$JS.API.STREAM.PEER.REMOVE.ORDERS", {{"peer", gone}});
  ASSERT_TRUE(removed.value("success", false)) << removed.dump();

  // The consumer's group becomes the stream's: the spare in, the removed peer out, all current.
  std::set<std::string> want = peers;
  want.erase(gone);
  want.insert(spare);
  json info;
  bool moved = wait_for([&] {
    info = consumer_info(nc.p);
    return group_members(info) == want && all_current(info);
  }, milliseconds(30000));
  ASSERT_TRUE(moved) << info.dump() << "\n" << c.logs();
  EXPECT_EQ(info["ack_floor"].value("stream_seq", 0), 6) << info.dump();
  EXPECT_EQ(info.value("num_ack_pending", -1), 0) << info.dump();

  // Leadership onto the new peer: it has the ack floor, so only 7..10 come.
  std::string leader = info["cluster"].value("leader", "");
  for (int i = 0; i < 8 && leader != spare; ++i) {
    request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.D", "");
    leader = wait_consumer_leader(nc.p, leader);
  }
  ASSERT_EQ(leader, spare) << c.logs();
  std::set<uint64_t> rest{7, 8, 9, 10};
  seen = drain(nc.p, rest, milliseconds(20000));
  EXPECT_EQ(std::vector<uint64_t>(seen.begin(), seen.end()), std::vector<uint64_t>(rest.begin(), rest.end()))
      << c.logs();
  info = consumer_info(nc.p);
  EXPECT_EQ(info["cluster"].value("leader", ""), spare) << info.dump();
  EXPECT_EQ(info["ack_floor"].value("stream_seq", 0), 10) << info.dump();

  // The new member, killed and restarted, resumes as a member of the consumer's group.
  Node& sn = *c.nodes[c.index_of(spare)];
  sn.proc->stop(SIGKILL);
  sn.start();
  bool back = wait_for([&] {
    info = consumer_info(nc.p);
    return group_members(info) == want && all_current(info) && info["cluster"].value("leader", "") != "";
  }, milliseconds(30000));
  EXPECT_TRUE(back) << info.dump() << "\n" << c.logs();
  EXPECT_EQ(info["ack_floor"].value("stream_seq", 0), 10) << info.dump();
}

json scale(natsConnection* nc, int replicas) {
  json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"storage", "file"}, {"num_replicas", replicas}};
  return request_ok(nc, "$JS.API.STREAM.UPDATE.ORDERS", cfg);
}

TEST(JsR3ConsumerFollow, ScaleDownToR1AndBackKeepsTheConsumersState) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10));
  ASSERT_TRUE(create_durable(nc.p, 30'000'000'000).contains("config"));
  auto seen = drain(nc.p, {1, 2, 3, 4}, milliseconds(20000));
  ASSERT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4})) << c.logs();
  // The kept replica takes the state it applied: once every replica has the acks in its log,
  // and a few heartbeats later has learnt they committed. (An ack the kept one has not
  // applied yet would be redelivered, as after a failover.)
  json before;
  ASSERT_TRUE(wait_for([&] {
    before = consumer_info(nc.p);
    return group_members(before).size() == 3 && all_current(before);
  }, milliseconds(15000))) << before.dump();
  std::this_thread::sleep_for(milliseconds(500));

  json down = scale(nc.p, 1);
  ASSERT_TRUE(down.contains("config")) << down.dump() << "\n" << c.logs();
  json info;
  bool alone = wait_for([&] {
    info = consumer_info(nc.p);
    return info.is_object() && info.contains("cluster") && group_members(info).size() == 1;
  }, milliseconds(15000));
  ASSERT_TRUE(alone) << info.dump() << "\n" << c.logs();
  EXPECT_EQ(info["ack_floor"].value("stream_seq", 0), 4) << info.dump();
  seen = drain(nc.p, {5, 6}, milliseconds(20000));
  EXPECT_EQ(seen, (std::vector<uint64_t>{5, 6})) << c.logs();

  json up = scale(nc.p, 3);
  ASSERT_TRUE(up.contains("config")) << up.dump() << "\n" << c.logs();
  bool replicated = wait_for([&] {
    info = consumer_info(nc.p);
    return group_members(info).size() == 3 && all_current(info);
  }, milliseconds(30000));
  ASSERT_TRUE(replicated) << info.dump() << "\n" << c.logs();
  EXPECT_EQ(info["ack_floor"].value("stream_seq", 0), 6) << info.dump();
  // A leader other than the one that seeded the group has the state too.
  std::string first = info["cluster"].value("leader", "");
  request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.D", "");
  ASSERT_FALSE(wait_consumer_leader(nc.p, first).empty()) << c.logs();
  seen = drain(nc.p, {7, 8, 9, 10}, milliseconds(20000));
  EXPECT_EQ(seen, (std::vector<uint64_t>{7, 8, 9, 10})) << c.logs();
}

// As above, once the R3 group's log was compacted (every 8 entries on test servers) before
// the scale-down: the server that kept the consumer must seed the new group from the R1
// consumer's state, not from the snapshot that log left behind (acks of the R1 time lost).
TEST(JsR3ConsumerFollow, ScaleUpAfterACompactedR3LogKeepsTheR1Acks) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10));
  ASSERT_TRUE(create_durable(nc.p, 30'000'000'000).contains("config"));
  std::set<uint64_t> first{1, 2, 3, 4, 5, 6, 7};  // 7 deliveries and 7 acks: past a compaction
  auto seen = drain(nc.p, first, milliseconds(20000));
  ASSERT_EQ(std::set<uint64_t>(seen.begin(), seen.end()), first) << c.logs();
  json info;
  ASSERT_TRUE(wait_for([&] {
    info = consumer_info(nc.p);
    return group_members(info).size() == 3 && all_current(info);
  }, milliseconds(15000))) << info.dump();
  std::this_thread::sleep_for(milliseconds(500));  // the kept replica learns the last commit

  ASSERT_TRUE(scale(nc.p, 1).contains("config")) << c.logs();
  ASSERT_TRUE(wait_for([&] {
    info = consumer_info(nc.p);
    return info.is_object() && info.contains("cluster") && group_members(info).size() == 1;
  }, milliseconds(15000))) << info.dump();
  EXPECT_EQ(info["ack_floor"].value("stream_seq", 0), 7) << info.dump();
  seen = drain(nc.p, {8}, milliseconds(20000));
  EXPECT_EQ(seen, (std::vector<uint64_t>{8})) << c.logs();

  ASSERT_TRUE(scale(nc.p, 3).contains("config")) << c.logs();
  ASSERT_TRUE(wait_for([&] {
    info = consumer_info(nc.p);
    return group_members(info).size() == 3 && all_current(info);
  }, milliseconds(30000))) << info.dump() << "\n" << c.logs();
  EXPECT_EQ(info["ack_floor"].value("stream_seq", 0), 8) << info.dump();
  seen = drain(nc.p, {9, 10}, milliseconds(20000));
  EXPECT_EQ(seen, (std::vector<uint64_t>{9, 10})) << c.logs();
}

TEST(JsR3ConsumerFollow, NamesAndListFromEveryServerSeeConsumersHostedElsewhere) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 3));
  ASSERT_TRUE(create_durable(nc.p, 30'000'000'000).contains("config"));
  for (const char* name : {"A1", "A2"}) {
    json body = {{"stream_name", "ORDERS"},
                 {"config", {{"durable_name", name}, {"ack_policy", "explicit"}, {"num_replicas", 1}}}};
    std::string subject = std::string("$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.") + name;
    ASSERT_TRUE(request_ok(nc.p, subject, body).contains("config"));
  }
  // The R1 durables live on one peer; the stream's leader (which answers) goes elsewhere.
  std::string host = wait_consumer_leader(nc.p, "", milliseconds(15000), "A1");
  ASSERT_FALSE(host.empty());
  std::string stream_leader;
  bool elsewhere = wait_for([&] {
    json si = request(nc.p, "$JS.API.STREAM.INFO.ORDERS", "");
    stream_leader = si.is_object() && si.contains("cluster") ? si["cluster"].value("leader", "") : "";
    if (!stream_leader.empty() && stream_leader != host) return true;
    if (!stream_leader.empty()) request(nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.ORDERS", "");
    return false;
  }, milliseconds(30000));
  ASSERT_TRUE(elsewhere) << c.logs();

  const std::vector<std::string> all{"A1", "A2", "D"};
  // The answering server may apply the last create a moment after its host answered it.
  wait_for([&] {
    json names = request(nc.p, "$JS.API.CONSUMER.NAMES.ORDERS", "");
    return names.is_object() && names.value("consumers", json()) == json(all);
  }, milliseconds(5000));
  for (auto& n : c.nodes) {
    ConnPtr on;
    ASSERT_EQ(connect_url(on, n->url()), NATS_OK);
    json names = request(on.p, "$JS.API.CONSUMER.NAMES.ORDERS", "");
    ASSERT_TRUE(names.is_object()) << n->name;
    EXPECT_EQ(names.value("consumers", json()), json(all)) << n->name << " " << names.dump();
    EXPECT_EQ(names.value("total", 0), 3) << names.dump();
    json list = request(on.p, "$JS.API.CONSUMER.LIST.ORDERS", "", 5000);
    ASSERT_TRUE(list.is_object() && list.contains("consumers")) << n->name << " " << list.dump();
    std::vector<std::string> listed;
    for (auto& ci : list["consumers"]) listed.push_back(ci.value("name", ""));
    EXPECT_EQ(listed, all) << n->name << " " << list.dump();
    EXPECT_EQ(list.value("total", 0), 3) << list.dump();
    EXPECT_EQ(list.value("offset", -1), 0);
    EXPECT_EQ(list.value("limit", 0), 256);
    EXPECT_FALSE(list.contains("missing")) << list.dump();
    // Paging: past the first one.
    json page = request(on.p, "$JS.API.CONSUMER.LIST.ORDERS", json{{"offset", 1}}.dump(), 5000);
    ASSERT_TRUE(page.is_object() && page.contains("consumers")) << page.dump();
    ASSERT_EQ(page["consumers"].size(), 2u) << page.dump();
    EXPECT_EQ(page["consumers"][0].value("name", ""), "A2");
    EXPECT_EQ(page.value("offset", -1), 1);
  }
}

}  // namespace

namespace {

// The same requests against a 3-node cluster of the reference and of ours: an R3 stream with
// an R3 durable and an R1 one; CONSUMER.NAMES from every server, CONSUMER.LIST and a page of
// it (the reference's meta leader answers them from the assignments and its hosts' infos).
TEST(JsR3ConsumerFollowDiff, ConsumerNamesAndListMatchReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto run = [](const std::string& bin) {
    std::vector<std::string> out;
    jsc::JsSupercluster sc(1, 3);
    for (auto& n : sc.nodes) n->binary = bin;
    for (auto& n : sc.nodes) n->start();
    if (sc.agreed_leader(milliseconds(30000)).empty()) return out;
    ConnPtr nc;
    EXPECT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
    json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"storage", "file"}, {"num_replicas", 3}};
    if (!request_ok(nc.p, "$JS.API.STREAM.CREATE.ORDERS", cfg).contains("config")) return out;
    for (int i = 0; i < 2; ++i) request_ok(nc.p, "orders.new", "m", milliseconds(10000));
    for (auto [name, replicas] : {std::pair{"D", 0}, std::pair{"E", 1}}) {
      json c = {{"durable_name", name}, {"ack_policy", "explicit"}};
      if (replicas) c["num_replicas"] = replicas;
      request_ok(nc.p, std::string("$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.") + name,
                 json{{"stream_name", "ORDERS"}, {"config", c}});
      wait_consumer_leader(nc.p, "", milliseconds(15000), name);
    }
    // Ours answers from the stream's leader, which may apply the last create a moment after
    // its host answered it (the reference's meta leader answers from its own state).
    wait_for([&] {
      json names = request(nc.p, "$JS.API.CONSUMER.NAMES.ORDERS", "");
      return names.is_object() && names.value("consumers", json()).size() == 2;
    }, milliseconds(5000));
    for (auto& n : sc.nodes) {
      ConnPtr on;
      EXPECT_EQ(connect_url(on, "nats://127.0.0.1:" + std::to_string(n->proc->port())), NATS_OK);
      out.push_back(request(on.p, "$JS.API.CONSUMER.NAMES.ORDERS", "").dump());
    }
    for (const char* body : {"", R"({"offset":1})"}) {
      json list = request(nc.p, "$JS.API.CONSUMER.LIST.ORDERS", body, 5000);
      if (list.is_object() && list.contains("consumers"))
        for (auto& ci : list["consumers"]) {
          ci = masked(ci);
          ci.erase("cluster");  // where each one runs differs from run to run
        }
      out.push_back(list.dump());
    }
    return out;
  };
  auto ref = run(testing_harness::reference_binary());
  auto ours = run(testing_harness::server_binary());
  ASSERT_EQ(ref.size(), 5u) << "reference cluster did not come up";
  EXPECT_EQ(json::parse(ref[0]).value("consumers", json()), json({"D", "E"})) << ref[0];
  EXPECT_EQ(json::parse(ref[3]).value("consumers", json()).size(), 2u) << ref[3];
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "step " << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
