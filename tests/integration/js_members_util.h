#pragma once
// Shared by the JsMembers suites: a cluster c1 of servers with store dirs, monitoring ports
// and server_tags (host:<name> plus extra ones), some of which may start later, and the raw
// `$JS.API` requests they send. Servers run with NATSCPP_TEST_HOOKS=1 (replica_status).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "cluster_test_util.h"
#include "harness.h"
#include "test_util.h"

namespace members {

using namespace itest;
using json = nlohmann::json;
using testing_harness::TempDir;

inline const char* kAccounts =
    "accounts: {\n"
    "  $SYS: { users: [{user: sys, password: pass}] }\n"
    "  A: { jetstream: enabled, users: [{user: a, password: a}] }\n"
    "}\n";

struct Member {
  std::string name;
  std::vector<std::string> tags;  // besides host:<name>
  int cluster_port = testing_harness::free_port();
  int http_port = testing_harness::free_port();
  std::vector<int> routes;
  std::shared_ptr<TempDir> store = std::make_shared<TempDir>();
  std::unique_ptr<testing_harness::ServerProcess> proc;

  std::string config() const {
    std::string c = "server_name: " + name + "\nhttp_port: " + std::to_string(http_port) + "\n" + kAccounts;
    c += "server_tags: [\"host:" + name + "\"";
    for (const auto& t : tags) c += ", \"" + t + "\"";
    c += "]\n";
    c += "jetstream { store_dir: \"" + store->path() + "\" }\n";
    c += "cluster {\n  name: c1\n  listen: 127.0.0.1:" + std::to_string(cluster_port) + "\n  routes: [\n";
    for (int p : routes) c += "    \"nats-route://127.0.0.1:" + std::to_string(p) + "\"\n";
    c += "  ]\n}\n";
    return c;
  }
  void start() { proc = start_with_config(config()); }
  std::string url(const std::string& user) const {
    return "nats://" + user + "@127.0.0.1:" + std::to_string(proc->port());
  }
  json meta() const {
    auto j = ctest::http_json(http_port, "/jsz");
    return j.is_object() && j.contains("meta_cluster") ? j["meta_cluster"] : json::object();
  }
};

// `n` servers of cluster c1 routed to each other; the first `initial` start now.
struct Cluster {
  std::vector<std::unique_ptr<Member>> nodes;
  Cluster(int n, int initial, std::vector<std::vector<std::string>> tags = {}) {
    ::setenv("NATSCPP_TEST_HOOKS", "1", 1);
    for (int i = 0; i < n; ++i) {
      nodes.push_back(std::make_unique<Member>());
      nodes.back()->name = "s" + std::to_string(i + 1);
      if (static_cast<size_t>(i) < tags.size()) nodes.back()->tags = tags[static_cast<size_t>(i)];
    }
    // The first servers route to each other only (their configured size is `initial`); a
    // later one routes to all of them, as a server added to a running cluster.
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < std::max(initial, i + 1); ++k) nodes[i]->routes.push_back(nodes[k]->cluster_port);
    for (int i = 0; i < initial; ++i) nodes[i]->start();
  }
  Member& node(size_t i) { return *nodes[i]; }
  Member* by_name(const std::string& name) {
    for (auto& m : nodes)
      if (m->name == name) return m.get();
    return nullptr;
  }
  // The meta leader's /jsz meta_cluster, once one of the running servers reports being leader.
  json leader_meta() {  // empty object when no running server leads
    for (auto& m : nodes) {
      if (!m->proc) continue;
      auto j = m->meta();
      if (j.is_object() && j.value("leader", "") == m->name) return j;
    }
    return json::object();
  }
  std::string logs() const {
    std::string out;
    for (auto& n : nodes)
      if (n->proc) out += "---- " + n->name + "\n" + n->proc->log();
    return out;
  }
};

// The answer, or an empty object when none came.
inline json request(natsConnection* nc, const std::string& subject, const json& body, int64_t timeout_ms = 5000) {
  MsgPtr m;
  std::string b = body.is_null() ? std::string() : body.dump();
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), b.c_str(), timeout_ms) != NATS_OK) return json::object();
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_object() ? j : json::object();
}

// Retried while the meta group forms (no answer yet, or not leader).
inline json create_stream(natsConnection* nc, const json& cfg) {
  json answer;
  wait_for([&] {
    answer = request(nc, "$JS.API.STREAM.CREATE." + cfg["name"].get<std::string>(), cfg);
    return !answer.empty() && !answer.contains("error");
  }, milliseconds(30000));
  return answer;
}

// Every replica's own report of a stream (test hook), by server name.
inline std::map<std::string, json> replica_status(natsConnection* sys, const std::string& stream) {
  std::map<std::string, json> out;
  char inbox[64];
  std::snprintf(inbox, sizeof inbox, "_INBOX.mem.%d.%d", ::getpid(), std::rand());
  SubPtr sub;
  if (natsConnection_SubscribeSync(&sub.p, sys, inbox) != NATS_OK) return out;
  natsConnection_Flush(sys);
  std::string body = json{{"account", "A"}, {"stream", stream}}.dump();
  natsConnection_PublishRequest(sys, "$SYS.TEST.JS.STREAM.STATUS", inbox, body.data(), static_cast<int>(body.size()));
  natsConnection_Flush(sys);
  int64_t wait = 1500;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, wait) != NATS_OK) break;
    wait = 300;
    auto j = json::parse(m.data(), nullptr, false);
    if (j.is_object()) out[j.value("server", "")] = j;
  }
  return out;
}

inline std::set<std::string> replica_names(const json& info) {
  std::set<std::string> out;
  if (!info.contains("cluster")) return out;
  if (auto l = info["cluster"].value("leader", ""); !l.empty()) out.insert(l);
  for (const auto& r : info["cluster"].value("replicas", json::array())) out.insert(r.value("name", ""));
  return out;
}

inline json publish(natsConnection* nc, const std::string& subject, const std::string& data) {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), data.c_str(), 3000) != NATS_OK) return json::object();
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_object() ? j : json::object();
}

// The same with a Nats-Msg-Id, so that a retry after a PubAck that did not come in time is not
// stored twice (the stream's duplicate window answers it with the first sequence).
inline json publish_with_id(natsConnection* nc, const std::string& subject, const std::string& data,
                            const std::string& id) {
  natsMsg* out = nullptr;
  if (natsMsg_Create(&out, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) != NATS_OK)
    return json::object();
  natsMsgHeader_Set(out, "Nats-Msg-Id", id.c_str());
  MsgPtr in;
  natsStatus st = natsConnection_RequestMsg(&in.p, nc, out, 3000);
  natsMsg_Destroy(out);
  if (st != NATS_OK) {
    std::fprintf(stderr, "[ publish ] %s: no PubAck (%s), retrying\n", subject.c_str(), natsStatus_GetText(st));
    return json::object();
  }
  auto j = json::parse(in.data(), nullptr, false);
  return j.is_object() ? j : json::object();
}

}  // namespace members
