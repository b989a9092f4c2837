// Replicated (R3) durable consumers on an R3 stream in a 3-node cluster: the consumer is its
// own Raft group on the stream's peers, only its leader delivers and takes acks, and its
// delivered/ack state survives a kill -9 of the leader, a leader step-down and a restart of
// every server. Real servers, real clients (libnats), raw `$JS.API` requests as a client
// library sends them; AckSync (+ACK with a reply) is answered once a quorum has the ack.
#include <thread>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

#include "js_r3_consumer_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace r3c;

TEST(JsR3Consumer, ConsumerLeaderKill9ResumesFromTheAckFloor) {
  Cluster c;
  ConnPtr nc0;
  ASSERT_EQ(connect_url(nc0, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc0.p, 20));
  // A durable with the defaults: replicas follow the stream's (3). Short ack wait so the
  // un-acked deliveries come back quickly after the failover.
  json created = create_durable(nc0.p, 2'000'000'000);
  ASSERT_TRUE(created.contains("cluster")) << created.dump() << c.logs();
  std::string leader = wait_consumer_leader(nc0.p);
  ASSERT_FALSE(leader.empty()) << c.logs();
  json info = consumer_info(nc0.p);
  ASSERT_EQ(info["cluster"]["replicas"].size(), 2u) << info.dump();

  // Fetch 10, confirm the acks of the first 6 (AckSync: committed on a quorum), leave 4.
  std::vector<Fetched> got;
  wait_for([&] {
    auto more = fetch(nc0.p, 10 - static_cast<int>(got.size()));
    got.insert(got.end(), more.begin(), more.end());
    return got.size() >= 10;
  }, milliseconds(10000));
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(got[i].sseq, static_cast<uint64_t>(i + 1));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(ack_sync(nc0.p, got[i])) << i;

  // Injected: kill -9 of the consumer leader.
  size_t li = c.index_of(leader);
  ASSERT_LT(li, 3u);
  c.nodes[li]->proc->stop(SIGKILL);
  size_t other = (li + 1) % 3;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[other]->url()), NATS_OK);
  std::string next = wait_consumer_leader(nc.p, leader, milliseconds(20000));
  ASSERT_FALSE(next.empty()) << c.logs();
  ASSERT_NE(next, leader);

  // Verified: the new leader hands out 7..20 (7..10 again once their ack wait passed) and
  // none of the six acknowledged before the kill; afterwards nothing is pending.
  std::set<uint64_t> want;
  for (uint64_t s = 7; s <= 20; ++s) want.insert(s);
  auto seen = drain(nc.p, want, milliseconds(20000));
  std::set<uint64_t> seen_set(seen.begin(), seen.end());
  for (uint64_t s : want) EXPECT_TRUE(seen_set.count(s)) << "never delivered: " << s;
  for (uint64_t s : seen) EXPECT_GT(s, 6u) << "acknowledged message redelivered";
  json after;
  ASSERT_TRUE(wait_for([&] {
    after = consumer_info(nc.p);
    return after.is_object() && after.contains("ack_floor") && after["ack_floor"]["stream_seq"] == 20;
  }, milliseconds(5000))) << after.dump();
  EXPECT_EQ(after["num_ack_pending"], 0) << after.dump();
  EXPECT_EQ(after["cluster"]["leader"], next) << after.dump();
  // A pull request waiting at the leader (nothing left to deliver) hears "409 Leadership
  // Change" from the new leader after a step-down, as the reference's, and asks again.
  {
    SubPtr wait_sub;
    ASSERT_EQ(natsConnection_SubscribeSync(&wait_sub.p, nc.p, "_INBOX.waiting"), NATS_OK);
    natsConnection_Flush(nc.p);
    natsConnection_PublishRequestString(nc.p, "$JS.API.CONSUMER.MSG.NEXT.ORDERS.D", "_INBOX.waiting",
                                        R"({"batch":1,"expires":30000000000})");
    natsConnection_Flush(nc.p);
    // The request's entry commits with the next heartbeat; the step-down comes after it.
    ASSERT_TRUE(wait_for([&] { return consumer_info(nc.p).value("num_waiting", 0) == 1; }, milliseconds(5000)));
    json sd = request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.D", "");
    ASSERT_EQ(sd.value("success", false), true) << sd.dump();
    MsgPtr st;
    ASSERT_EQ(natsSubscription_NextMsg(&st.p, wait_sub.p, 10000), NATS_OK);
    const char* status = nullptr;
    natsMsgHeader_Get(st.p, "Status", &status);
    const char* desc = nullptr;
    natsMsgHeader_Get(st.p, "Description", &desc);
    EXPECT_STREQ(status, "409");
    EXPECT_STREQ(desc, "Leadership Change");
  }
  // Deleting the stream takes its replicated consumer along.
  json del = request_ok(nc.p, "$JS.API.STREAM.DELETE.ORDERS", nullptr);
  EXPECT_EQ(del.value("success", false), true) << del.dump();
  // The consumer's own leader may apply the meta log's delete a moment after the server that
  // answered the delete (the reference has the same window): wait for it, briefly.
  json gone;
  for (int i = 0; i < 40; ++i) {
    gone = consumer_info(nc.p);
    if (gone.contains("error")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(gone["error"]["err_code"], 10059) << gone.dump();
}

TEST(JsR3Consumer, StepDownMovesLeadershipAndRestartKeepsAckState) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10));
  json created = create_durable(nc.p, 30'000'000'000);
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  EXPECT_EQ(created["type"], "io.nats.jetstream.api.v1.consumer_create_response");
  std::string leader = wait_consumer_leader(nc.p);
  ASSERT_FALSE(leader.empty()) << c.logs();

  // Consumer info from any server: the cluster block as the reference's (followers only in
  // replicas, each with name, current, active, peer).
  json info = consumer_info(nc.p);
  ASSERT_TRUE(info.contains("cluster")) << info.dump();
  EXPECT_EQ(info["cluster"]["name"], "c1");
  ASSERT_EQ(info["cluster"]["replicas"].size(), 2u) << info.dump();
  for (auto& r : info["cluster"]["replicas"]) {
    EXPECT_NE(r["name"], leader);
    EXPECT_TRUE(r.contains("current") && r.contains("active") && r.contains("peer")) << r.dump();
    EXPECT_EQ(r["peer"].get<std::string>().size(), 8u);
  }
  // Exactly one server answers CONSUMER.INFO (the leader), from whichever server asked.
  ConnPtr nc2;
  ASSERT_EQ(connect_url(nc2, c.nodes[2]->url()), NATS_OK);
  EXPECT_EQ(consumer_info(nc2.p)["cluster"].value("leader", ""), leader);

  // An update (a shorter ack wait) goes to every peer; one answer, from the leader.
  json upd = {{"stream_name", "ORDERS"},
              {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}, {"ack_wait", 20'000'000'000}}}};
  auto answers = jsc::collect(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D", milliseconds(500), upd.dump());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0]["config"]["ack_wait"], 20'000'000'000LL) << answers[0].dump();
  EXPECT_EQ(answers[0]["cluster"]["leader"], leader) << answers[0].dump();
  // An explicit R1 durable lives on one peer only; CONSUMER.NAMES from anywhere names both.
  json e = request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.E",
                      {{"stream_name", "ORDERS"}, {"config", {{"durable_name", "E"}, {"num_replicas", 1}}}});
  EXPECT_EQ(e["config"]["num_replicas"], 1) << e.dump();
  EXPECT_FALSE(e["cluster"].contains("replicas")) << e.dump();
  for (auto* conn : {nc.p, nc2.p}) {
    json names;  // the answering server may apply E's meta entry a moment after E's host
    wait_for([&] { return (names = request(conn, "$JS.API.CONSUMER.NAMES.ORDERS", ""))["total"] == 2; },
             milliseconds(5000));
    EXPECT_EQ(names["consumers"], json({"D", "E"})) << names.dump();
  }

  auto first = drain(nc.p, {1, 2, 3}, milliseconds(10000));
  EXPECT_EQ(first, (std::vector<uint64_t>{1, 2, 3}));

  // CONSUMER.LEADER.STEPDOWN: one answer, success, and another peer leads.
  json sd = request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.D", "");
  EXPECT_EQ(sd.value("type", ""), "io.nats.jetstream.api.v1.consumer_leader_stepdown_response") << sd.dump();
  EXPECT_EQ(sd.value("success", false), true) << sd.dump();
  std::string next = wait_consumer_leader(nc.p, leader);
  ASSERT_FALSE(next.empty()) << c.logs();
  // Consumption goes on where it was.
  auto second = drain(nc.p, {4, 5, 6}, milliseconds(10000));
  EXPECT_EQ(second, (std::vector<uint64_t>{4, 5, 6}));

  // Injected: restart of all three servers (kill -9, then start from their stores).
  for (auto& n : c.nodes) n->proc->stop(SIGKILL);
  for (auto& n : c.nodes) n->start();
  ConnPtr nc3;
  ASSERT_EQ(connect_url(nc3, c.nodes[1]->url()), NATS_OK);
  ASSERT_FALSE(wait_consumer_leader(nc3.p, "", milliseconds(30000)).empty()) << c.logs();
  // Verified: the ack floor survived, and delivery continues with 7.
  json after = consumer_info(nc3.p);
  EXPECT_EQ(after["ack_floor"]["stream_seq"], 6) << after.dump();
  EXPECT_EQ(after["delivered"]["stream_seq"], 6) << after.dump();
  auto third = drain(nc3.p, {7}, milliseconds(15000));
  ASSERT_FALSE(third.empty()) << c.logs();
  EXPECT_EQ(third.front(), 7u);
}

TEST(JsR3Consumer, PushDurableDeliversOnceFromItsLeaderAcrossAStepDown) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10));
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "dlv.P"), NATS_OK);
  natsConnection_Flush(nc.p);
  // At most 5 unacknowledged: the leader stops after 1..5 until they are acked. A short ack
  // wait makes a delivery lost in the hand-over come back rather than stall the test.
  json body = {{"stream_name", "ORDERS"},
               {"config",
                {{"durable_name", "P"},
                 {"deliver_subject", "dlv.P"},
                 {"ack_policy", "explicit"},
                 {"max_ack_pending", 5},
                 {"ack_wait", 2'000'000'000}}}};
  json created = request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.P", body);
  ASSERT_TRUE(created.contains("cluster")) << created.dump() << c.logs();
  auto next = [&](int64_t wait_ms) -> Fetched {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, wait_ms) != NATS_OK) return {};
    const char* reply = natsMsg_GetReply(m.p);
    if (!reply || !*reply) return {};
    std::string r = reply;
    size_t pos = 0;
    for (int i = 0; i < 5; ++i) pos = r.find('.', pos) + 1;
    return {std::stoull(r.substr(pos, r.find('.', pos) - pos)), 1, r};
  };
  std::vector<Fetched> first;
  for (int i = 0; i < 5; ++i) first.push_back(next(10000));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(first[i].sseq, static_cast<uint64_t>(i + 1));
  std::string leader = wait_consumer_leader(nc.p, "", milliseconds(15000), "P");
  ASSERT_FALSE(leader.empty());
  // Nobody listens while the acks go in and leadership moves; then listen again.
  natsSubscription_Unsubscribe(sub.p);
  natsSubscription_Destroy(sub.p);
  sub.p = nullptr;
  natsConnection_Flush(nc.p);
  for (auto& f : first) EXPECT_TRUE(ack_sync(nc.p, f));
  json sd = request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.P", "");
  EXPECT_EQ(sd.value("success", false), true) << sd.dump();
  ASSERT_FALSE(wait_consumer_leader(nc.p, leader, milliseconds(15000), "P").empty()) << c.logs();
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "dlv.P"), NATS_OK);
  natsConnection_Flush(nc.p);
  // Verified: 6..10 come, each once (only the leader delivers), none of the acked 1..5.
  std::multiset<uint64_t> got;
  for (Fetched f; got.size() < 5 && (f = next(10000)).sseq != 0;) {
    got.insert(f.sseq);
    EXPECT_TRUE(ack_sync(nc.p, f));
  }
  EXPECT_EQ(got, (std::multiset<uint64_t>{6, 7, 8, 9, 10}));
  EXPECT_EQ(next(1000).sseq, 0u) << "delivered twice";
}

TEST(JsR3Consumer, WorkQueueRemovesAckedMessagesOnEveryReplica) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 10, "workqueue"));
  // On a replicated work queue the consumer runs on every peer: an R1 one is refused (10134,
  // as 2.9.12+; 2.9.10 accepts it and its replicas diverge).
  json body = {{"stream_name", "ORDERS"},
               {"config", {{"durable_name", "E"}, {"ack_policy", "explicit"}, {"num_replicas", 1}}}};
  json r1 = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.E", body.dump());
  EXPECT_EQ(r1["error"]["err_code"], 10134) << r1.dump();
  json created = create_durable(nc.p, 30'000'000'000);
  ASSERT_TRUE(created.contains("cluster")) << created.dump() << c.logs();
  // The work-queue rules hold across the cluster: a second unfiltered consumer is refused.
  body = {{"stream_name", "ORDERS"}, {"config", {{"durable_name", "F"}, {"ack_policy", "explicit"}}}};
  json second = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.F", body.dump());
  EXPECT_EQ(second["error"]["err_code"], 10099) << second.dump();

  auto seen = drain(nc.p, {1, 2, 3, 4, 5, 6}, milliseconds(10000));
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  // Verified: every replica of the stream dropped the six acknowledged messages.
  ConnPtr sys;
  ASSERT_EQ(connect_url(sys, "nats://sys:pass@127.0.0.1:" + std::to_string(c.nodes[1]->proc->port())), NATS_OK);
  std::vector<json> st;
  bool all = wait_for([&] {
    st = jsc::collect(sys.p, "$SYS.TEST.JS.STREAM.STATUS", milliseconds(300),
                      json{{"account", "A"}, {"stream", "ORDERS"}}.dump());
    if (st.size() != 3) return false;
    for (auto& j : st)
      if (j["messages"] != 4 || j["first_seq"] != 7) return false;
    return true;
  }, milliseconds(10000));
  std::string dump;
  for (auto& j : st) dump += j.dump() + "\n";
  // A replica left with acknowledged messages: the consumer's view (its ack floor and which
  // replicas are current) tells a lagging consumer replica from a lost removal.
  EXPECT_TRUE(all) << "every replica should hold 7..10 (first_seq 7, messages 4):\n"
                   << dump << "consumer: " << consumer_info(nc.p).dump();
}

// Every replica's store state of ORDERS once `ok` holds for all three (or what they said last).
std::vector<json> replica_states(Cluster& c, const std::function<bool(const json&)>& ok, milliseconds t) {
  ConnPtr sys;
  std::vector<json> st;
  if (connect_url(sys, "nats://sys:pass@127.0.0.1:" + std::to_string(c.nodes[1]->proc->port())) != NATS_OK) return st;
  wait_for([&] {
    st = jsc::collect(sys.p, "$SYS.TEST.JS.STREAM.STATUS", milliseconds(300),
                      json{{"account", "A"}, {"stream", "ORDERS"}}.dump());
    return st.size() == 3 && std::all_of(st.begin(), st.end(), ok);
  }, t);
  return st;
}

std::string dump_all(const std::vector<json>& st) {
  std::string out;
  for (auto& j : st) out += j.dump() + "\n";
  return out;
}

TEST(JsR3Consumer, InterestStreamDropsMessagesOnceEveryConsumerAckedOnEveryReplica) {
  Cluster c;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.nodes[0]->url()), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(setup_stream(nc.p, 0, "interest"));
  // Interest consumers run on every peer of the stream: an R1 one is refused (10134, as
  // 2.9.12+; 2.9.10 accepts it and the replicas without it keep no message).
  json r1 = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.E",
                    json{{"stream_name", "ORDERS"},
                         {"config", {{"durable_name", "E"}, {"ack_policy", "explicit"}, {"num_replicas", 1}}}}
                        .dump());
  EXPECT_EQ(r1["error"]["err_code"], 10134) << r1.dump();
  for (std::string name : {"A", "B"}) {
    json body = {{"stream_name", "ORDERS"},
                 {"config", {{"durable_name", name}, {"ack_policy", "explicit"}, {"ack_wait", 30'000'000'000}}}};
    json created = request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS." + name, body);
    ASSERT_TRUE(created.contains("cluster")) << created.dump() << c.logs();
    // Every replica runs it (a message stored where it does not yet would find no interest).
    bool all_current = wait_for([&] {
      json info = consumer_info(nc.p, name);
      if (!info.contains("cluster") || info["cluster"].value("replicas", json::array()).size() != 2) return false;
      for (auto& r : info["cluster"]["replicas"])
        if (!r.value("current", false)) return false;
      return true;
    }, milliseconds(15000));
    ASSERT_TRUE(all_current) << consumer_info(nc.p, name).dump() << c.logs();
  }
  for (int i = 1; i <= 6; ++i) {
    json ack = request_ok(nc.p, "orders.new", "m" + std::to_string(i), milliseconds(10000));
    ASSERT_EQ(ack.value("seq", 0), i) << ack.dump();
  }

  // A acknowledges everything: B still needs all six, on every replica.
  EXPECT_EQ(drain(nc.p, {1, 2, 3, 4, 5, 6}, milliseconds(10000), "A"), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  std::string a_leader = wait_consumer_leader(nc.p, "", milliseconds(15000), "A");
  json sd = request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.A", "");
  EXPECT_EQ(sd.value("success", false), true) << sd.dump();
  ASSERT_FALSE(wait_consumer_leader(nc.p, a_leader, milliseconds(15000), "A").empty()) << c.logs();
  auto st = replica_states(c, [](const json& j) { return j["messages"] == 6; }, milliseconds(5000));
  ASSERT_EQ(st.size(), 3u) << dump_all(st);
  for (auto& j : st) EXPECT_EQ(j["messages"], 6) << dump_all(st);

  // B acknowledges half, its leader steps down, then the rest: each arrives once (the acks
  // before the step-down hold), and then no replica keeps any of them.
  EXPECT_EQ(drain(nc.p, {1, 2, 3}, milliseconds(10000), "B"), (std::vector<uint64_t>{1, 2, 3}));
  st = replica_states(c, [](const json& j) { return j["messages"] == 3 && j["first_seq"] == 4; },
                      milliseconds(10000));
  for (auto& j : st) EXPECT_EQ(j["first_seq"], 4) << dump_all(st);
  std::string b_leader = wait_consumer_leader(nc.p, "", milliseconds(15000), "B");
  sd = request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.B", "");
  EXPECT_EQ(sd.value("success", false), true) << sd.dump();
  ASSERT_FALSE(wait_consumer_leader(nc.p, b_leader, milliseconds(15000), "B").empty()) << c.logs();
  EXPECT_EQ(drain(nc.p, {4, 5, 6}, milliseconds(10000), "B"), (std::vector<uint64_t>{4, 5, 6}));
  st = replica_states(c, [](const json& j) { return j["messages"] == 0 && j["first_seq"] == 7; },
                      milliseconds(10000));
  ASSERT_EQ(st.size(), 3u) << dump_all(st);
  for (auto& j : st) {
    EXPECT_EQ(j["messages"], 0) << dump_all(st);
    EXPECT_EQ(j["first_seq"], 7) << dump_all(st);
  }

  // Two more that only A acknowledges stay for B; deleting B releases them everywhere.
  for (int i = 7; i <= 8; ++i)
    ASSERT_EQ(request_ok(nc.p, "orders.new", "m" + std::to_string(i), milliseconds(10000)).value("seq", 0), i);
  EXPECT_EQ(drain(nc.p, {7, 8}, milliseconds(10000), "A"), (std::vector<uint64_t>{7, 8}));
  st = replica_states(c, [](const json& j) { return j["messages"] == 2; }, milliseconds(5000));
  for (auto& j : st) EXPECT_EQ(j["messages"], 2) << dump_all(st);
  json del = request_ok(nc.p, "$JS.API.CONSUMER.DELETE.ORDERS.B", nullptr);
  EXPECT_EQ(del.value("success", false), true) << del.dump();
  st = replica_states(c, [](const json& j) { return j["messages"] == 0 && j["first_seq"] == 9; },
                      milliseconds(10000));
  ASSERT_EQ(st.size(), 3u) << dump_all(st);
  for (auto& j : st) EXPECT_EQ(j["messages"], 0) << dump_all(st);
}

// The same requests against a 3-node cluster of the reference and of ours: an R3 stream, a
// durable with default replicas (R3), its info, its leader step-down and its info after.
TEST(JsR3ConsumerDiff, ConsumerClusterInfoAndStepDownMatchReference) {
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
    json body = {{"stream_name", "ORDERS"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}};
    out.push_back(masked(request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D", body)).dump());
    std::string leader;
    json info;
    // Once every follower is current (the reference's answer right after the create may
    // still show one behind).
    wait_for([&] {
      info = consumer_info(nc.p);
      if (!info.contains("cluster") || info["cluster"].value("replicas", json::array()).size() != 2) return false;
      for (auto& r : info["cluster"]["replicas"])
        if (!r.value("current", false)) return false;
      leader = info["cluster"].value("leader", "");
      return !leader.empty();
    }, milliseconds(15000));
    out.push_back(masked(info).dump());
    out.push_back(request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.D", "").dump());
    std::string next = wait_consumer_leader(nc.p, leader);
    out.push_back(next.empty() ? "<no new leader>" : "new leader");
    out.push_back(request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.NOPE", "").dump());
    return out;
  };
  auto ref = run(testing_harness::reference_binary());
  auto ours = run(testing_harness::server_binary());
  ASSERT_EQ(ref.size(), 5u) << "reference cluster did not come up";
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "step " << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
