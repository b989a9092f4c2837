// Meta leader kill -9: the survivors see their connections to it close and campaign at once
// (RaftNode::leader_lost) instead of waiting out an election timeout. Injected: SIGKILL of
// the meta leader; verified: the survivors agree on a new leader within a generous bound
// (the target is 2 s; the bound is 5 s so the test stays robust on a loaded machine) and the
// measured time is printed. Once over routes (one cluster of three), once over gateways (the
// seed's three single-server clusters).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using namespace jsc;

// Starts the servers, kills the agreed meta leader and returns the milliseconds until the
// survivors agree on another one (-1: not within the bound).
long long meta_failover_ms(JsSupercluster& sc, const char* label) {
  for (auto& n : sc.nodes) n->start();
  std::string leader = sc.agreed_leader(milliseconds(20000));
  EXPECT_FALSE(leader.empty()) << sc.node(0).proc->log();
  if (leader.empty()) return -1;
  // Let the followers hear a few heartbeats, as in a running cluster.
  std::this_thread::sleep_for(milliseconds(500));
  size_t li = sc.index_of(leader);
  auto t0 = Clock::now();
  sc.node(li).kill9();  // injected: kill -9 of the meta leader
  std::string next = sc.agreed_leader(milliseconds(5000), {li}, leader);
  auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  EXPECT_FALSE(next.empty()) << "no new meta leader within 5 s of killing " << leader;
  if (next.empty()) return -1;
  std::printf("[ meta failover ] %s: killed %s, %s agreed by the survivors after %lld ms\n", label, leader.c_str(),
              next.c_str(), static_cast<long long>(ms));
  return ms;
}

TEST(JsMetaFailover, KilledLeaderReplacedOverRoutes) {
  JsSupercluster sc(1, 3);
  meta_failover_ms(sc, "routes (1 cluster x 3)");
}

TEST(JsMetaFailover, KilledLeaderReplacedOverGateways) {
  JsSupercluster sc(3, 1);
  meta_failover_ms(sc, "gateways (3 clusters x 1)");
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
