#pragma once
// Shared by the replicated-stream fault suites: stream ORDERS (subjects orders.>, file, R3)
// in account A, publishing with Nats-Msg-Id and checking what each replica stored.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace r3 {

using namespace itest;
using json = nlohmann::json;

inline const char* kR3Accounts =
    "accounts: {\n"
    "  $SYS: { users: [{user: sys, password: pass}] }\n"
    "  A: { jetstream: enabled, users: [{user: a, password: a}] }\n"
    "}\n";

// Sends a request and gathers every answer until `quiet` passes without one.
inline std::vector<json> gather(natsConnection* nc, const std::string& subject, const std::string& body,
                                milliseconds first = milliseconds(3000), milliseconds quiet = milliseconds(300)) {
  std::vector<json> out;
  char inbox[64];
  std::snprintf(inbox, sizeof inbox, "_INBOX.r3.%d.%d", ::getpid(), std::rand());
  SubPtr sub;
  if (natsConnection_SubscribeSync(&sub.p, nc, inbox) != NATS_OK) return out;
  natsConnection_Flush(nc);
  natsConnection_PublishRequest(nc, subject.c_str(), inbox, body.data(), static_cast<int>(body.size()));
  natsConnection_Flush(nc);
  int64_t wait = first.count();
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, wait) != NATS_OK) break;
    wait = quiet.count();
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

// STREAM.CREATE ORDERS with num_replicas 3, the real path: the meta leader places it on the
// three servers, each starts its replica, the answer comes once the group has a leader.
// Retried while the meta group forms (no answer, or 10008).
inline json create_r3(const std::string& url) {
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, url), NATS_OK);
  json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"storage", "file"}, {"num_replicas", 3}};
  json answer;
  wait_for([&] {
    MsgPtr m;
    std::string body = cfg.dump();
    if (natsConnection_RequestString(&m.p, nc.p, "$JS.API.STREAM.CREATE.ORDERS", body.c_str(), 5000) != NATS_OK)
      return false;
    answer = json::parse(m.data(), nullptr, false);
    return !answer.is_discarded() && !answer.contains("error");
  }, milliseconds(30000));
  return answer;
}

// Publishes one message with a Nats-Msg-Id and waits for its PubAck; json null on timeout or
// no responders.
inline json publish(natsConnection* nc, const std::string& id, int64_t timeout_ms = 2000) {
  natsMsg* m = nullptr;
  natsMsg_Create(&m, "orders.new", nullptr, id.data(), static_cast<int>(id.size()));
  natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
  MsgPtr reply;
  natsStatus s = natsConnection_RequestMsg(&reply.p, nc, m, timeout_ms);
  natsMsg_Destroy(m);
  if (s != NATS_OK) return nullptr;
  auto j = json::parse(reply.data(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

// Publishes ids prefix1..prefixN, each until acknowledged; returns id -> seq.
inline std::map<std::string, uint64_t> publish_all(natsConnection* nc, const std::string& prefix, int n) {
  std::map<std::string, uint64_t> acks;
  for (int i = 1; i <= n; ++i) {
    std::string id = prefix + std::to_string(i);
    json a;
    wait_for([&] { return !(a = publish(nc, id, 1000)).is_null() && !a.contains("error"); }, milliseconds(10000));
    if (a.is_null() || a.contains("error")) break;
    acks[id] = a["seq"].get<uint64_t>();
  }
  return acks;
}

// Every acknowledged id is stored exactly once, at the sequence its PubAck named.
inline void expect_all_once(const json& replica, const std::map<std::string, uint64_t>& acks) {
  std::vector<std::string> ids = replica["ids"];
  std::map<std::string, int> count;
  for (auto& id : ids) ++count[id];
  uint64_t first = replica["first_seq"];
  for (auto& [id, seq] : acks) {
    EXPECT_EQ(count[id], 1) << replica["server"] << " " << id;
    if (seq >= first && seq - first < ids.size()) {
      EXPECT_EQ(ids[seq - first], id) << replica["server"];
    }
  }
}

}  // namespace r3
