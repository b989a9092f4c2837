// Clustered JetStream test topologies: servers with `jetstream { store_dir }`, a cluster block
// (routes to every member, itself included) and a gateway block (every cluster, its own
// included), as the seed's supercluster; optional server_tags. Shared by the meta-group and
// placement suites.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cluster_test_util.h"
#include "harness.h"
#include "test_util.h"

namespace jsc {

using namespace itest;
using ctest::http_get;
using ctest::http_json;
using json = nlohmann::json;
using testing_harness::TempDir;

inline const char* kSysAccount = "accounts: { $SYS: { users: [{user: sys, password: pass}] } }\n";

// One JetStream server; its store dir outlives restarts.
struct JsNode {
  std::string name, cluster;
  std::vector<std::string> tags;  // server_tags
  std::string js_extra;           // more of the jetstream block, e.g. "domain: HUB"
  std::string accounts = kSysAccount;
  std::string binary = testing_harness::server_binary();
  int cluster_port = testing_harness::free_port();
  int gateway_port = testing_harness::free_port();
  int http_port = testing_harness::free_port();
  std::vector<int> route_ports;
  std::vector<std::pair<std::string, int>> gateways;
  std::shared_ptr<TempDir> store = std::make_shared<TempDir>();
  std::unique_ptr<testing_harness::ServerProcess> proc;

  std::string config() const {
    std::string c = "server_name: " + name + "\nhttp_port: " + std::to_string(http_port) + "\n" + accounts;
    if (!tags.empty()) {
      c += "server_tags: [";
      for (size_t i = 0; i < tags.size(); ++i) c += (i ? ", \"" : "\"") + tags[i] + "\"";
      c += "]\n";
    }
    c += "jetstream { store_dir: \"" + store->path() + "\"\n  " + js_extra + "\n}\n";
    c += "cluster {\n  name: " + cluster + "\n  listen: 127.0.0.1:" + std::to_string(cluster_port) + "\n  routes: [\n";
    for (int p : route_ports) c += "    \"nats-route://127.0.0.1:" + std::to_string(p) + "\"\n";
    c += "  ]\n}\n";
    c += "gateway {\n  name: \"" + cluster + "\"\n  listen: 127.0.0.1:" + std::to_string(gateway_port) + "\n  gateways: [\n";
    for (auto& [n, p] : gateways) c += "    {name: \"" + n + "\", urls: [\"nats://127.0.0.1:" + std::to_string(p) + "\"]}\n";
    c += "  ]\n}\n";
    return c;
  }
  // Starts the server and waits (up to 5 s) until its cluster, gateway and monitoring ports
  // listen too, not only the client port (see ctest::Node::start).
  void start() {
    proc = start_with_config(config(), {}, binary);
    testing_harness::wait_listening({cluster_port, gateway_port, http_port}, milliseconds(5000));
  }
  void kill9() { proc->stop(SIGKILL); }
  std::string sys_url() const { return "nats://sys:pass@127.0.0.1:" + std::to_string(proc->port()); }
  json jsz() const { return http_json(http_port, "/jsz"); }
  std::string leader() const {
    auto j = jsz();
    return j.contains("meta_cluster") ? j["meta_cluster"].value("leader", "") : "";
  }
  // HTTP status and body of /healthz.
  std::pair<int, std::string> healthz() const {
    std::string body = http_get(http_port, "/healthz");
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return {0, body};
    return {j.value("status", "") == "ok" ? 200 : 503, body};
  }
};

// `clusters` x `per` servers; every server lists every gateway (its own too) and every route
// of its cluster (itself too), as the seed does. Started in order unless told otherwise.
struct JsSupercluster {
  std::vector<std::unique_ptr<JsNode>> nodes;
  JsSupercluster(int clusters, int per) {
    const char* names[] = {"east", "central", "west", "c4", "c5"};
    std::vector<int> gw_ports;
    for (int c = 0; c < clusters; ++c) gw_ports.push_back(testing_harness::free_port());
    for (int c = 0; c < clusters; ++c) {
      std::vector<JsNode*> members;
      for (int i = 0; i < per; ++i) {
        auto n = std::make_unique<JsNode>();
        n->name = "n" + std::to_string(c * per + i + 1);
        n->cluster = names[c];
        if (i == 0) n->gateway_port = gw_ports[c];
        for (int k = 0; k < clusters; ++k) n->gateways.emplace_back(names[k], gw_ports[k]);
        members.push_back(n.get());
        nodes.push_back(std::move(n));
      }
      for (auto* m : members)
        for (auto* o : members) m->route_ports.push_back(o->cluster_port);
    }
  }
  JsNode& node(size_t i) { return *nodes[i]; }

  // Waits until every running server names the same non-empty leader (other than `not_`);
  // returns it.
  std::string agreed_leader(milliseconds t, const std::set<size_t>& skip = {}, const std::string& not_ = "") {
    std::string leader;
    wait_for([&] {
      std::string first;
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (skip.count(i)) continue;
        std::string l = nodes[i]->leader();
        if (l.empty() || l == not_ || (!first.empty() && l != first)) return false;
        first = l;
      }
      leader = first;
      return true;
    }, t);
    return leader;
  }
  size_t index_of(const std::string& name) const {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i]->name == name) return i;
    return nodes.size();
  }
};

// Every answer to one request (all that arrive until `quiet` passes without another).
inline std::vector<json> collect(natsConnection* nc, const std::string& subject, milliseconds quiet = milliseconds(500),
                                 const std::string& payload = "") {
  std::vector<json> out;
  std::string inbox = "_INBOX.jsmeta" + std::to_string(::getpid()) + "." + std::to_string(std::rand());
  SubPtr sub;
  if (natsConnection_SubscribeSync(&sub.p, nc, inbox.c_str()) != NATS_OK) return out;
  natsConnection_Flush(nc);
  natsConnection_PublishRequest(nc, subject.c_str(), inbox.c_str(), payload.data(), static_cast<int>(payload.size()));
  natsConnection_Flush(nc);
  int64_t wait = 3000;
  auto deadline = Clock::now() + milliseconds(5000);
  while (Clock::now() < deadline) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, wait) != NATS_OK) break;
    wait = quiet.count();
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

}  // namespace jsc
