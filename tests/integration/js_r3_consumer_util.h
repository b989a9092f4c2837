#pragma once
// Shared by the replicated-consumer suites: a 3-node (or n-node) cluster c1 with account A,
// stream ORDERS (orders.>, file, R3), durable D, and pull/ack helpers as a client sends them.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "harness.h"
#include "test_util.h"

namespace r3c {

using namespace itest;
using json = nlohmann::json;
using testing_harness::TempDir;

inline const char* kAccounts =
    "accounts: {\n"
    "  $SYS: { users: [{user: sys, password: pass}] }\n"
    "  A: { jetstream: enabled, users: [{user: a, password: a}] }\n"
    "}\n";

struct Node {
  std::string name;
  int cluster_port = testing_harness::free_port();
  std::vector<int> routes;
  std::shared_ptr<TempDir> store = std::make_shared<TempDir>();
  std::unique_ptr<testing_harness::ServerProcess> proc;

  void start() {
    std::string c = "server_name: " + name + "\n" + kAccounts;
    c += "jetstream { store_dir: \"" + store->path() + "\" }\n";
    c += "cluster {\n  name: c1\n  listen: 127.0.0.1:" + std::to_string(cluster_port) + "\n  routes: [\n";
    for (int p : routes) c += "    \"nats-route://127.0.0.1:" + std::to_string(p) + "\"\n";
    c += "  ]\n}\n";
    proc = start_with_config(c);
  }
  std::string url() const { return "nats://a:a@127.0.0.1:" + std::to_string(proc->port()); }
};

struct Cluster {
  std::vector<std::unique_ptr<Node>> nodes;
  explicit Cluster(int n = 3) {
    ::setenv("NATSCPP_TEST_HOOKS", "1", 1);  // frequent log compaction: the snapshot paths run
    for (int i = 0; i < n; ++i) {
      nodes.push_back(std::make_unique<Node>());
      nodes.back()->name = "s" + std::to_string(i + 1);
    }
    for (auto& n : nodes)
      for (auto& o : nodes) n->routes.push_back(o->cluster_port);
    for (auto& n : nodes) n->start();
  }
  size_t index_of(const std::string& name) const {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i]->name == name) return i;
    return nodes.size();
  }
  std::string logs() const {
    std::string out;
    for (auto& n : nodes)
      if (n->proc) out += "---- " + n->name + "\n" + n->proc->log();
    return out;
  }
};

inline json request(natsConnection* nc, const std::string& subject, const std::string& body,
                    int64_t timeout_ms = 3000) {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), body.c_str(), timeout_ms) != NATS_OK) return nullptr;
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

// A request retried (no answer while groups form, or 10008) until it succeeds.
inline json request_ok(natsConnection* nc, const std::string& subject, const json& body,
                       milliseconds t = milliseconds(30000)) {
  json answer;
  wait_for([&] {
    answer = request(nc, subject, body.is_null() ? "" : body.dump());
    return answer.is_object() && !answer.contains("error");
  }, t);
  return answer;
}

inline void setup_stream(natsConnection* nc, int messages, const std::string& retention = "limits") {
  json cfg = {{"name", "ORDERS"},
              {"subjects", {"orders.>"}},
              {"storage", "file"},
              {"num_replicas", 3},
              {"retention", retention}};
  json created = request_ok(nc, "$JS.API.STREAM.CREATE.ORDERS", cfg);
  ASSERT_TRUE(created.contains("config")) << created.dump();
  for (int i = 1; i <= messages; ++i) {
    json ack = request_ok(nc, "orders.new", "m" + std::to_string(i), milliseconds(10000));
    ASSERT_EQ(ack.value("seq", 0), i) << ack.dump();
  }
}

inline json create_durable(natsConnection* nc, int64_t ack_wait_ns) {
  json body = {{"stream_name", "ORDERS"},
               {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}, {"ack_wait", ack_wait_ns}}}};
  return request_ok(nc, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D", body);
}

inline json consumer_info(natsConnection* nc, const std::string& name = "D") {
  return request(nc, "$JS.API.CONSUMER.INFO.ORDERS." + name, "", 2000);
}

// The consumer leader, once one answers (and is not `not_`).
inline std::string wait_consumer_leader(natsConnection* nc, const std::string& not_ = "",
                                 milliseconds t = milliseconds(15000), const std::string& name = "D") {
  std::string leader;
  wait_for([&] {
    json info = consumer_info(nc, name);
    if (!info.is_object() || !info.contains("cluster")) return false;
    leader = info["cluster"].value("leader", "");
    return !leader.empty() && leader != not_;
  }, t);
  return leader;
}

struct Fetched {
  uint64_t sseq = 0;
  uint64_t dc = 0;
  std::string reply;
};

// One pull request for `batch` messages (expires after `expires`): what arrived.
inline std::vector<Fetched> fetch(natsConnection* nc, int batch, milliseconds expires = milliseconds(1000),
                           const std::string& name = "D") {
  std::vector<Fetched> out;
  std::string inbox = "_INBOX.cons." + std::to_string(::getpid()) + "." + std::to_string(std::rand());
  SubPtr sub;
  if (natsConnection_SubscribeSync(&sub.p, nc, inbox.c_str()) != NATS_OK) return out;
  natsConnection_Flush(nc);
  std::string body = json{{"batch", batch}, {"expires", expires.count() * 1000000}}.dump();
  natsConnection_PublishRequestString(nc, ("$JS.API.CONSUMER.MSG.NEXT.ORDERS." + name).c_str(), inbox.c_str(),
                                      body.c_str());
  natsConnection_Flush(nc);
  auto deadline = Clock::now() + expires + milliseconds(1000);
  while (static_cast<int>(out.size()) < batch && Clock::now() < deadline) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 500) != NATS_OK) continue;
    const char* reply = natsMsg_GetReply(m.p);
    if (!reply || !*reply) break;  // a status (408/404/409): the request is over
    // $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending>
    std::vector<std::string> tok;
    std::string r = reply, cur;
    for (char ch : r) {
      if (ch == '.') tok.push_back(std::exchange(cur, ""));
      else cur += ch;
    }
    tok.push_back(cur);
    if (tok.size() != 9) continue;
    out.push_back({std::stoull(tok[5]), std::stoull(tok[4]), r});
  }
  return out;
}

// AckSync: true once the server confirmed the ack (after its commit).
inline bool ack_sync(natsConnection* nc, const Fetched& f) {
  MsgPtr m;
  return natsConnection_RequestString(&m.p, nc, f.reply.c_str(), "+ACK", 5000) == NATS_OK;
}

// Pulls (no more than is missing) until the `want` stream sequences were all seen (or time
// runs out), acking each one; returns every sequence delivered (with repeats).
inline std::vector<uint64_t> drain(natsConnection* nc, const std::set<uint64_t>& want, milliseconds t,
                            const std::string& name = "D") {
  std::vector<uint64_t> seen;
  std::set<uint64_t> missing = want;
  auto deadline = Clock::now() + t;
  while (!missing.empty() && Clock::now() < deadline) {
    for (auto& f : fetch(nc, static_cast<int>(std::min<size_t>(missing.size(), 10)), milliseconds(1000), name)) {
      seen.push_back(f.sseq);
      if (ack_sync(nc, f)) missing.erase(f.sseq);
    }
  }
  return seen;
}

// The replica facts change from run to run: keep what the reference's shape promises (the
// leader is named; each follower has name, current, active and peer; lag only when behind).
inline json masked(json j) {
  if (!j.is_object()) return j;
  if (j.contains("created")) j["created"] = "T";
  for (auto key : {"delivered", "ack_floor"})
    if (j.contains(key) && j[key].contains("last_active")) j[key]["last_active"] = "T";
  if (j.contains("cluster")) {
    json& c = j["cluster"];
    if (c.contains("leader")) c["leader"] = "L";
    if (c.contains("replicas"))
      for (auto& r : c["replicas"]) {
        r.erase("lag");
        for (auto& [k, v] : r.items()) v = k;
      }
  }
  return j;
}

}  // namespace r3c
