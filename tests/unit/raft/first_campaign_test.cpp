// A fresh group's first election (RaftNode::campaign_within): when every member bootstraps in
// the same tick and all campaign at once, each votes for itself and the vote splits, so the
// first leader waits a full election timeout. Drawing each member's first campaign from
// [1, 8] ticks (the reference's 100-800 ms) lets one of them win first in most runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "raft/raft_node.h"
#include "simulator.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

using sim::NetConfig;
using sim::Simulator;

// Ticks until a leader is known to every node of a fresh group whose members all start their
// first campaign in tick 0 (`stagger` 0: at once), or -1 after 200 ticks.
int ticks_to_first_leader(uint64_t seed, int nodes, int stagger) {
  // In-order links with a one-tick delay, as routes between servers on one host.
  Simulator s(nodes, seed, NetConfig{0.0, 1, 1, 0.0, true});
  for (int i = 0; i < nodes; ++i) {
    if (stagger > 0) s.node(i).campaign_within(stagger);
    else s.node(i).campaign_now();
  }
  for (int t = 1; t <= 200; ++t) {
    s.run_tick();
    int l = s.leader();
    if (l < 0) continue;
    bool agreed = true;
    for (int i = 0; i < nodes; ++i)
      if (s.node(i).leader() != s.node(l).id()) agreed = false;
    if (agreed) {
      for (const auto& v : s.violations) ADD_FAILURE() << v;
      return t;
    }
  }
  return -1;
}

TEST(RaftFirstCampaign, StaggeredFirstCampaignElectsSoonerThanAllAtOnce) {
  std::vector<int> at_once, staggered;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    for (int nodes : {3, 5}) {
      int a = ticks_to_first_leader(seed, nodes, 0);
      int b = ticks_to_first_leader(seed, nodes, 8);
      ASSERT_GT(a, 0) << "seed " << seed << " nodes " << nodes;
      ASSERT_GT(b, 0) << "seed " << seed << " nodes " << nodes;
      at_once.push_back(a);
      staggered.push_back(b);
    }
  }
  std::sort(at_once.begin(), at_once.end());
  std::sort(staggered.begin(), staggered.end());
  auto median = [](const std::vector<int>& v) { return v[v.size() / 2]; };
  // Election timeout 10 ticks: all at once splits and waits 10-19 ticks; staggered, the
  // earliest campaign (1-8 ticks) normally wins a couple of ticks later.
  EXPECT_LT(median(staggered), median(at_once));
  EXPECT_LE(median(staggered), 8);
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
