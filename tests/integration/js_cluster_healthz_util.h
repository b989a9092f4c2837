// Shared by the /healthz tests of replicated assets (js_cluster_healthz*_test.cpp): a 5-node
// cluster, the health answer of one server, and the fault both tests inject: stop (SIGSTOP) a
// group's leader and one replica, expect the other replica unhealthy with the reference's
// answer, resume both and expect every server healthy again.
#pragma once

#include <signal.h>

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "js_cluster_util.h"

namespace jsc_healthz {

using namespace jsc;

// GET /healthz: the HTTP status code (the real status line, not inferred) and the JSON body.
inline std::pair<int, json> healthz_status_and_body(int port) {
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

// A leader and every one of `replicas` followers current in an info's "cluster" block.
inline bool group_settled(const json& c, size_t replicas) {
  if (c.value("leader", "").empty() || !c.contains("replicas") || c["replicas"].size() != replicas) return false;
  for (auto& r : c["replicas"])
    if (!r.value("current", false)) return false;
  return true;
}

// Starts five clustered servers of `binary` and waits for a meta leader.
inline void start_five(JsSupercluster& sc, const std::string& binary) {
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  ASSERT_FALSE(sc.agreed_leader(milliseconds(30000)).empty()) << sc.node(0).proc->log();
}

// Every server answers 200.
inline void expect_all_healthy(JsSupercluster& sc) {
  for (auto& n : sc.nodes)
    EXPECT_TRUE(wait_for([&] { return healthz_status_and_body(n->http_port).first == 200; }, milliseconds(10000)))
        << n->name << " " << healthz_status_and_body(n->http_port).second.dump();
}

// `group` is a settled three-peer group's "cluster" block: stops its leader and first replica;
// its second replica, unable to hear or elect a leader, must answer 503 `unhealthy`; then
// both resume and every server must answer 200 {"status":"ok"} again.
inline void expect_unhealthy_while_quorum_lost(JsSupercluster& sc, const json& group, const json& unhealthy) {
  const std::string leader = group["leader"];
  const std::string stopped_replica = group["replicas"][0]["name"];
  const std::string waiting = group["replicas"][1]["name"];
  JsNode& w = sc.node(sc.index_of(waiting));
  ResumeOnExit resume;
  for (auto& name : {leader, stopped_replica}) {
    pid_t p = sc.node(sc.index_of(name)).proc->pid();
    resume.pids.push_back(p);
    ::kill(p, SIGSTOP);
  }
  std::pair<int, json> h;
  bool went = wait_for([&] {
    h = healthz_status_and_body(w.http_port);
    return h.second == unhealthy;
  }, milliseconds(20000));
  EXPECT_TRUE(went) << waiting << ": " << h.first << " " << h.second.dump();
  EXPECT_EQ(h.first, 503) << h.second.dump();

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

}  // namespace jsc_healthz
