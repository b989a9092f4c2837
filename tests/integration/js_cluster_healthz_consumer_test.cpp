// /healthz with a replicated consumer that is not current, as 2.9.10's health check: a server
// that holds a replica of an R3 consumer whose group has lost its leader and quorum, while the
// consumer's stream (R5) and the meta group stay current, answers 503
// {"status":"unavailable","error":"JetStream consumer '$G > HZC > D' is not current"}, and
// {"status":"ok"} (200) again once the peers are back.
// Topology: one 5-node cluster; stream HZC on all five, durable D on three of them. Two of the
// consumer's peers are stopped (SIGSTOP): the stream and meta groups keep 3 of 5, the
// consumer's third peer can only wait. Run against ours and, when installed, the reference.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;

std::pair<int, json> consumer_healthz(int port) {
  auto r = ctest::http_response(port, "/healthz");
  return {r.status, r.body.empty() ? json() : json::parse(r.body, nullptr, false)};
}

// Resumes stopped servers however the test ends (a stopped process would not see SIGTERM).
struct ContinueOnExit {
  std::vector<pid_t> pids;
  ~ContinueOnExit() {
    for (pid_t p : pids) ::kill(p, SIGCONT);
  }
};

// A leader and every replica of `c` ({leader, replicas}) current.
bool group_settled(const json& c, size_t replicas) {
  if (c.value("leader", "").empty() || !c.contains("replicas") || c["replicas"].size() != replicas) return false;
  for (auto& r : c["replicas"])
    if (!r.value("current", false)) return false;
  return true;
}

void consumer_replica_not_current_is_unhealthy(const std::string& binary) {
  JsSupercluster sc(1, 5);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  ASSERT_FALSE(sc.agreed_leader(milliseconds(30000)).empty()) << sc.node(0).proc->log();

  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  json scfg{{"name", "HZC"}, {"subjects", {"hzc.>"}}, {"storage", "file"}, {"num_replicas", 5}};
  json created;
  ASSERT_TRUE(wait_for([&] {
    created = json::parse(request_text(nc.p, "$JS.API.STREAM.CREATE.HZC", scfg.dump()), nullptr, false);
    return created.is_object() && created.contains("config");
  }, milliseconds(20000))) << created.dump();
  json ccfg{{"stream_name", "HZC"},
            {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}, {"num_replicas", 3}}}};
  json cons;
  ASSERT_TRUE(wait_for([&] {
    cons = json::parse(request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.HZC.D", ccfg.dump()), nullptr, false);
    return cons.is_object() && cons.contains("config");
  }, milliseconds(20000))) << cons.dump();

  // One stored message; both groups with a leader and current replicas.
  json info;
  bool settled = wait_for([&] {
    request_text(nc.p, "hzc.a", "x");
    auto s = json::parse(request_text(nc.p, "$JS.API.STREAM.INFO.HZC", ""), nullptr, false);
    info = json::parse(request_text(nc.p, "$JS.API.CONSUMER.INFO.HZC.D", ""), nullptr, false);
    return s.is_object() && s.contains("cluster") && group_settled(s["cluster"], 4) && info.is_object() &&
           info.contains("cluster") && group_settled(info["cluster"], 2);
  }, milliseconds(20000));
  ASSERT_TRUE(settled) << info.dump();
  for (auto& n : sc.nodes)
    EXPECT_TRUE(wait_for([&] { return consumer_healthz(n->http_port).first == 200; }, milliseconds(10000)))
        << n->name << " " << consumer_healthz(n->http_port).second.dump();

  // Stop the consumer's leader and one of its replicas: its third peer can neither hear a
  // leader nor elect one; the stream (5 peers) and the meta group keep a quorum of three.
  const std::string leader = info["cluster"]["leader"];
  const std::string stopped_replica = info["cluster"]["replicas"][0]["name"];
  const std::string waiting = info["cluster"]["replicas"][1]["name"];
  JsNode& w = sc.node(sc.index_of(waiting));
  ContinueOnExit resume;
  for (auto& name : {leader, stopped_replica}) {
    pid_t p = sc.node(sc.index_of(name)).proc->pid();
    resume.pids.push_back(p);
    ::kill(p, SIGSTOP);
  }
  const json unhealthy{{"status", "unavailable"}, {"error", "JetStream consumer '$G > HZC > D' is not current"}};
  std::pair<int, json> h;
  bool went = wait_for([&] {
    h = consumer_healthz(w.http_port);
    return h.second == unhealthy;
  }, milliseconds(20000));
  EXPECT_TRUE(went) << waiting << ": " << h.first << " " << h.second.dump();
  EXPECT_EQ(h.first, 503) << h.second.dump();

  // Back: leaders again, and every server healthy.
  for (pid_t p : resume.pids) ::kill(p, SIGCONT);
  resume.pids.clear();
  for (auto& n : sc.nodes) {
    bool back = wait_for([&] {
      h = consumer_healthz(n->http_port);
      return h.first == 200;
    }, milliseconds(20000));
    EXPECT_TRUE(back) << n->name << ": " << h.first << " " << h.second.dump();
    EXPECT_EQ(h.second, json({{"status", "ok"}})) << n->name;
  }
}

TEST(JsClusterHealthz, ConsumerReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  consumer_replica_not_current_is_unhealthy(testing_harness::server_binary());
}

TEST(JsClusterHealthz, ReferenceConsumerReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  consumer_replica_not_current_is_unhealthy(testing_harness::reference_binary());
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
