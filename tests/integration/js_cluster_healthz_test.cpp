// /healthz with a replicated asset that is not current, as 2.9.10's health check: a server
// that holds a replica of an R3 stream whose group has lost its leader and quorum answers 503
// {"status":"unavailable","error":"JetStream stream '$G > HZ' is not current"} while its meta
// group stays current, and {"status":"ok"} (200) again once the peers are back.
// Topology: one 5-node cluster, so the meta group keeps its quorum while two of the stream's
// three peers are stopped (SIGSTOP) and the third can only wait. Run against ours and, when
// installed, the reference server.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;

// GET /healthz: the HTTP status code (the real status line, not inferred) and the JSON body.
std::pair<int, json> healthz_status_and_body(int port) {
  auto r = ctest::http_response(port, "/healthz");
  return {r.status, r.body.empty() ? json() : json::parse(r.body, nullptr, false)};
}

// Resumes stopped servers however the test ends (a stopped process would not see SIGTERM).
struct ResumeOnExit {
  std::vector<pid_t> pids;
  ~ResumeOnExit() {
    for (pid_t p : pids) ::kill(p, SIGCONT);
  }
};

void stream_replica_not_current_is_unhealthy(const std::string& binary) {
  JsSupercluster sc(1, 5);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  ASSERT_FALSE(sc.agreed_leader(milliseconds(30000)).empty()) << sc.node(0).proc->log();

  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  json cfg{{"name", "HZ"}, {"subjects", {"hz.>"}}, {"storage", "file"}, {"num_replicas", 3}};
  auto created = json::parse(request_text(nc.p, "$JS.API.STREAM.CREATE.HZ", cfg.dump()), nullptr, false);
  ASSERT_TRUE(created.is_object() && created.contains("config")) << created.dump();
  // One stored message, then a leader with two current replicas.
  json info;
  bool settled = wait_for([&] {
    request_text(nc.p, "hz.a", "x");
    info = json::parse(request_text(nc.p, "$JS.API.STREAM.INFO.HZ", ""), nullptr, false);
    if (!info.is_object() || !info.contains("cluster")) return false;
    auto& c = info["cluster"];
    if (c.value("leader", "").empty() || !c.contains("replicas") || c["replicas"].size() != 2) return false;
    for (auto& r : c["replicas"])
      if (!r.value("current", false)) return false;
    return true;
  }, milliseconds(20000));
  ASSERT_TRUE(settled) << info.dump();
  for (auto& n : sc.nodes)
    EXPECT_TRUE(wait_for([&] { return healthz_status_and_body(n->http_port).first == 200; }, milliseconds(10000)))
        << n->name << " " << healthz_status_and_body(n->http_port).second.dump();

  // Stop the stream's leader and one replica; the other replica can neither hear a leader nor
  // elect one. The meta group (5 servers, 3 running) keeps or re-elects its leader.
  const std::string leader = info["cluster"]["leader"];
  const std::string stopped_replica = info["cluster"]["replicas"][0]["name"];
  const std::string waiting = info["cluster"]["replicas"][1]["name"];
  JsNode& w = sc.node(sc.index_of(waiting));
  ResumeOnExit resume;
  for (auto& name : {leader, stopped_replica}) {
    pid_t p = sc.node(sc.index_of(name)).proc->pid();
    resume.pids.push_back(p);
    ::kill(p, SIGSTOP);
  }
  const json unhealthy{{"status", "unavailable"}, {"error", "JetStream stream '$G > HZ' is not current"}};
  std::pair<int, json> h;
  bool went = wait_for([&] {
    h = healthz_status_and_body(w.http_port);
    return h.second == unhealthy;
  }, milliseconds(20000));
  EXPECT_TRUE(went) << waiting << ": " << h.first << " " << h.second.dump();
  EXPECT_EQ(h.first, 503) << h.second.dump();

  // Back: a leader again, and every server healthy.
  for (pid_t p : resume.pids) ::kill(p, SIGCONT);
  resume.pids.clear();
  for (auto& n : sc.nodes) {
    bool back = wait_for([&] {
      h = healthz_status_and_body(n->http_port);
      return h.first == 200;
    }, milliseconds(20000));
    EXPECT_TRUE(back) << n->name << ": " << h.first << " " << h.second.dump();
    EXPECT_EQ(h.second, json({{"status", "ok"}})) << n->name;
  }
}

TEST(JsClusterHealthz, StreamReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  stream_replica_not_current_is_unhealthy(testing_harness::server_binary());
}

TEST(JsClusterHealthz, ReferenceStreamReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  stream_replica_not_current_is_unhealthy(testing_harness::reference_binary());
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
