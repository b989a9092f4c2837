// A replicated stream moved to another cluster of a supercluster by updating its
// `placement.cluster`: the target cluster's servers join the stream's group over the
// gateways and copy every message, then the old cluster's replicas leave.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;

json ask(natsConnection* nc, const std::string& subject, const json& body = nullptr) {
  auto all = collect(nc, subject, milliseconds(300), body.is_null() ? std::string() : body.dump());
  return all.empty() ? json::object() : all.front();
}

std::set<std::string> peers_of(const json& info) {
  std::set<std::string> out;
  if (!info.contains("cluster")) return out;
  if (auto l = info["cluster"].value("leader", ""); !l.empty()) out.insert(l);
  for (const auto& r : info["cluster"].value("replicas", json::array())) out.insert(r.value("name", ""));
  return out;
}

TEST(JsClusterMove, ReplicatedStreamMovesToAnotherCluster) {
  ::setenv("NATSCPP_TEST_HOOKS", "1", 1);  // replicas report their stores ($SYS.TEST.JS.STREAM.STATUS)
  JsSupercluster sc(2, 2);                   // east: n1 n2, central: n3 n4
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc, sys;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  ASSERT_EQ(connect_url(sys, sc.node(0).sys_url()), NATS_OK);
  json cfg = {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"num_replicas", 2}, {"placement", {{"cluster", "east"}}}};
  json created;
  ASSERT_TRUE(wait_for([&] {
    created = ask(nc.p, "$JS.API.STREAM.CREATE.ORDERS", cfg);
    return created.contains("config");
  }, milliseconds(20000))) << created.dump();
  for (int i = 1; i <= 10; ++i) {
    MsgPtr m;
    ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "orders.x", "v", 5000), NATS_OK) << i;
  }
  cfg["placement"] = {{"cluster", "central"}};
  json moved = ask(nc.p, "$JS.API.STREAM.UPDATE.ORDERS", cfg);
  ASSERT_TRUE(moved.contains("config")) << moved.dump();
  json info;
  EXPECT_TRUE(wait_for([&] {
    info = ask(nc.p, "$JS.API.STREAM.INFO.ORDERS");
    return peers_of(info) == std::set<std::string>{"n3", "n4"} && info["cluster"].value("name", "") == "central";
  }, milliseconds(25000))) << info.dump();
  std::map<std::string, json> st;
  EXPECT_TRUE(wait_for([&] {
    st.clear();
    for (auto& j : collect(sys.p, "$SYS.TEST.JS.STREAM.STATUS", milliseconds(300),
                           json{{"account", "$G"}, {"stream", "ORDERS"}}.dump()))
      st[j.value("server", "")] = j;
    if (st.size() != 2 || !st.count("n3") || !st.count("n4")) return false;
    for (auto& [_, j] : st)
      if (j.value("messages", 0) != 10 || j.value("first_seq", 0) != 1) return false;
    return true;
  }, milliseconds(15000))) << json(st).dump();
  MsgPtr m;
  ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "orders.x", "v", 5000), NATS_OK);
  EXPECT_EQ(json::parse(m.data(), nullptr, false).value("seq", 0), 11) << m.data();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
