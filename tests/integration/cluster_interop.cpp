// Mixed-version clusters and superclusters: our server next to Debian's nats-server 2.9.10,
// messages, requests and queue traffic both ways.
#include <gtest/gtest.h>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

std::vector<std::unique_ptr<Node>> mixed_cluster(const std::vector<std::string>& bins) {
  int seed = testing_harness::free_port();
  std::vector<std::unique_ptr<Node>> nodes;
  for (size_t i = 0; i < bins.size(); ++i) {
    auto n = std::make_unique<Node>();
    n->name = "m" + std::to_string(i);
    n->cluster = "mix";
    n->cluster_port = i == 0 ? seed : testing_harness::free_port();
    n->routes = {"nats-route://127.0.0.1:" + std::to_string(seed)};
    n->binary = bins[i];
    nodes.push_back(std::move(n));
  }
  for (auto& n : nodes) n->start();
  return nodes;
}

bool mesh(std::vector<std::unique_ptr<Node>>& nodes) {
  return wait_for([&] {
    for (auto& n : nodes)
      if (n->num_routes() != static_cast<int>(nodes.size()) - 1) return false;
    return true;
  }, std::chrono::seconds(10));
}

void traffic_both_ways(Node& ours, Node& ref, Node& third) {
  EXPECT_TRUE(can_reach(ours, ref));
  EXPECT_TRUE(can_reach(ref, ours));
  EXPECT_TRUE(can_reach(third, ours));
  EXPECT_TRUE(can_reach(ours, third));
  // Requests both ways.
  for (auto [svc_node, req_node] : {std::pair<Node*, Node*>{&ours, &ref}, {&ref, &ours}}) {
    ConnPtr svc, req;
    ASSERT_EQ(connect_url(svc, svc_node->url()), NATS_OK);
    ASSERT_EQ(connect_url(req, req_node->url()), NATS_OK);
    SubPtr s;
    ASSERT_EQ(natsConnection_Subscribe(&s.p, svc.p, "interop.svc", echo_handler, nullptr), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
    ASSERT_TRUE(wait_for([&] {
      MsgPtr r;
      return natsConnection_RequestString(&r.p, req.p, "interop.svc", "w", 300) == NATS_OK;
    }, std::chrono::seconds(8)));
    for (int i = 0; i < 10; ++i) {
      MsgPtr r;
      ASSERT_EQ(natsConnection_RequestString(&r.p, req.p, "interop.svc", "hi", 2000), NATS_OK);
      EXPECT_EQ(r.data(), "echo:hi");
    }
  }
  // Queue group with one member on each server, published from each: one copy each.
  ConnPtr c0, c1, c2;
  ASSERT_EQ(connect_url(c0, ours.url()), NATS_OK);
  ASSERT_EQ(connect_url(c1, ref.url()), NATS_OK);
  ASSERT_EQ(connect_url(c2, third.url()), NATS_OK);
  MsgCounter m0, m1, m2;
  SubPtr q0, q1, q2;
  ASSERT_EQ(natsConnection_QueueSubscribe(&q0.p, c0.p, "interop.q", "g", MsgCounter::on_msg, &m0), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&q1.p, c1.p, "interop.q", "g", MsgCounter::on_msg, &m1), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&q2.p, c2.p, "interop.q", "g", MsgCounter::on_msg, &m2), NATS_OK);
  for (auto* c : {c0.p, c1.p, c2.p}) natsConnection_Flush(c);
  for (auto* n : {&ours, &ref, &third}) ASSERT_TRUE(wait_interest(*n, "interop.q", 3));
  for (auto* c : {c0.p, c1.p, c2.p}) {
    for (int i = 0; i < 100; ++i) natsConnection_PublishString(c, "interop.q", "x");
    natsConnection_Flush(c);
  }
  EXPECT_TRUE(wait_for([&] { return m0.get() + m1.get() + m2.get() >= 300; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(m0.get() + m1.get() + m2.get(), 300);
}

}  // namespace

TEST(ClusterInterop, ReferenceSeedWithOurServer) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  auto ref = testing_harness::reference_binary(), ours = testing_harness::server_binary();
  auto nodes = mixed_cluster({ref, ours, ref});
  ASSERT_TRUE(mesh(nodes)) << nodes[1]->proc->log();
  traffic_both_ways(*nodes[1], *nodes[0], *nodes[2]);
}

TEST(ClusterInterop, OurSeedWithReferenceServers) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  auto ref = testing_harness::reference_binary(), ours = testing_harness::server_binary();
  auto nodes = mixed_cluster({ours, ref, ours});
  ASSERT_TRUE(mesh(nodes)) << nodes[0]->proc->log();
  traffic_both_ways(*nodes[0], *nodes[1], *nodes[2]);
}

TEST(ClusterInterop, GatewaysWithReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  auto ref = testing_harness::reference_binary(), ours = testing_harness::server_binary();
  const char* names[] = {"east", "central", "west"};
  std::vector<std::string> bins = {ref, ours, ours};
  std::vector<int> gw;
  for (int i = 0; i < 3; ++i) gw.push_back(testing_harness::free_port());
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 3; ++i) {
    auto n = std::make_unique<Node>();
    n->cluster = names[i];
    n->cluster_port = testing_harness::free_port();
    n->routes = {"nats-route://127.0.0.1:" + std::to_string(n->cluster_port)};
    n->gateway = names[i];
    n->gateway_port = gw[i];
    for (int k = 0; k < 3; ++k) n->gateways.emplace_back(names[k], "nats://127.0.0.1:" + std::to_string(gw[k]));
    n->binary = bins[i];
    nodes.push_back(std::move(n));
  }
  for (auto& n : nodes) n->start();
  ASSERT_TRUE(wait_for([&] {
    for (auto& n : nodes)
      if (n->num_outbound_gateways() != 2 || n->num_inbound_gateways() != 2) return false;
    return true;
  }, std::chrono::seconds(10)));
  Node& east = *nodes[0];   // reference
  Node& west = *nodes[2];   // ours
  EXPECT_TRUE(can_reach(west, east));
  EXPECT_TRUE(can_reach(east, west));
  // Requests both ways across the gateway.
  for (auto [svc_node, req_node] : {std::pair<Node*, Node*>{&east, &west}, {&west, &east}}) {
    ConnPtr svc, req;
    ASSERT_EQ(connect_url(svc, svc_node->url()), NATS_OK);
    ASSERT_EQ(connect_url(req, req_node->url()), NATS_OK);
    SubPtr s;
    ASSERT_EQ(natsConnection_Subscribe(&s.p, svc.p, "gw.svc", echo_handler, nullptr), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
    ASSERT_TRUE(wait_for([&] {
      MsgPtr r;
      return natsConnection_RequestString(&r.p, req.p, "gw.svc", "w", 300) == NATS_OK;
    }, std::chrono::seconds(8)));
    for (int i = 0; i < 10; ++i) {
      MsgPtr r;
      ASSERT_EQ(natsConnection_RequestString(&r.p, req.p, "gw.svc", "hi", 2000), NATS_OK);
      EXPECT_EQ(r.data(), "echo:hi");
    }
  }
  // Queue group in east (reference) and west (ours): each side's publishes stay local.
  ConnPtr ce, cw;
  ASSERT_EQ(connect_url(ce, east.url()), NATS_OK);
  ASSERT_EQ(connect_url(cw, west.url()), NATS_OK);
  MsgCounter me, mw;
  SubPtr qe, qw;
  ASSERT_EQ(natsConnection_QueueSubscribe(&qe.p, ce.p, "gw.q", "g", MsgCounter::on_msg, &me), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&qw.p, cw.p, "gw.q", "g", MsgCounter::on_msg, &mw), NATS_OK);
  natsConnection_Flush(ce.p);
  natsConnection_Flush(cw.p);
  std::this_thread::sleep_for(milliseconds(500));
  for (int i = 0; i < 40; ++i) natsConnection_PublishString(cw.p, "gw.q", "w");
  for (int i = 0; i < 30; ++i) natsConnection_PublishString(ce.p, "gw.q", "e");
  natsConnection_Flush(cw.p);
  natsConnection_Flush(ce.p);
  EXPECT_TRUE(wait_for([&] { return mw.get() >= 40 && me.get() >= 30; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(mw.get(), 40);
  EXPECT_EQ(me.get(), 30);
}

}  // namespace NATS_TEST_FILE_ID
