// Randomized fault scenarios over the simulator: each seed runs 300 ticks of chaos (loss,
// delay, duplication, partitions both ways and one way, crashes that lose unwritten output,
// snapshots, membership changes, leader transfers), then heals everything and requires a
// leader that commits a new entry on every member within a bound. Safety is checked after
// every step by the simulator.
//
//   quick set (ctest):   ./unit_raft --gtest_filter='RaftSim.*'
//   long mode:           RAFT_SIM_SEEDS=10000 [RAFT_SIM_FROM=1] ./unit_raft --gtest_filter=RaftSim.Seeds
//   replay one seed:     RAFT_SIM_SEED=<n> ./unit_raft --gtest_filter=RaftSim.Seeds
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "simulator.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

using sim::Chaos;
using sim::NetConfig;
using sim::Simulator;

struct SeedResult {
  std::vector<std::string> problems;
  size_t committed = 0;
  uint64_t snapshots = 0;
  uint64_t config_changes = 0;
  uint64_t transfers = 0;
};

bool applied_data(const Simulator& s, int i, const std::string& data) {
  for (const auto& e : s.applied(i))
    if (e.type == EntryType::kNormal && e.data == data) return true;
  return false;
}

// The seed picks the group size and which fault classes are on, so that every class also
// runs without the others drowning it out.
SeedResult run_seed(uint64_t seed) {
  const int nodes = seed % 2 ? 3 : 5;
  const unsigned mix = static_cast<unsigned>((seed / 2) % 8);
  NetConfig net{0.05, 1, 5, 0.02};
  net.fifo = (seed / 16) % 4 == 0;  // a quarter of the seeds keep each link's order (no duplicates then)
  Chaos chaos;
  chaos.one_way_cut = 0.005;
  chaos.snapshot = (mix & 1) ? 0.03 : 0.005;
  chaos.membership = (mix & 2) ? 0.06 : 0.0;
  chaos.transfer = (mix & 4) ? 0.02 : 0.002;
  chaos.late_io = 0.2;
  chaos.crash_mid_io = 0.01;
  Simulator s(nodes, seed, net, (mix & 2) ? 2 : 0);
  s.set_chaos(chaos);
  for (int t = 0; t < 300; ++t) s.chaos_tick();

  // Recovery: everything up, no faults. A leader must emerge and commit a new entry on every
  // member of its configuration within a bound.
  s.set_chaos(Chaos{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  s.heal();
  s.set_net(NetConfig{0.0, 1, 3, 0.0});
  for (int i = 0; i < s.size(); ++i) s.restart(i);
  s.run(100);
  bool proposed = false;
  for (int t = 0; t < 100 && !proposed; ++t) {
    proposed = s.propose("final");
    s.run_tick();
  }
  SeedResult r;
  bool done = false;
  for (int t = 0; t < 300 && proposed && !done; t += 10) {
    s.run(10);
    int l = s.leader();
    if (l < 0) continue;
    done = true;
    const Membership& m = s.node(l).membership();
    for (const auto& ids : {m.voters, m.learners})
      for (const auto& id : ids) done = done && applied_data(s, s.index_of(id), "final");
  }
  if (!proposed) r.problems.push_back("no leader accepted a proposal after recovery");
  else if (!done) r.problems.push_back("the final proposal did not reach every member after recovery");
  // No acknowledged write lost: every member that applied "final" holds, before it, exactly the
  // entries ever applied anywhere at those indexes (acknowledged writes included).
  if (done) {
    size_t final_index = 0;
    for (const auto& e : s.committed())
      if (e.type == EntryType::kNormal && e.data == "final") final_index = e.index;
    const Membership& m = s.node(s.leader()).membership();
    for (const auto& id : m.voters) {
      const auto& mine = s.applied(s.index_of(id));
      if (mine.size() < final_index) r.problems.push_back(id + " misses entries committed before the final one");
      for (size_t k = 0; k < final_index && k < mine.size(); ++k)
        if (!(mine[k] == s.committed()[k])) {
          r.problems.push_back(id + " differs from the committed log at index " + std::to_string(k + 1));
          break;
        }
    }
  }
  for (const auto& v : s.violations) r.problems.push_back(v);
  r.committed = s.committed().size();
  r.snapshots = s.snapshots_installed();
  r.config_changes = s.config_changes();
  r.transfers = s.transfers();
  return r;
}

uint64_t env_u64(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}

TEST(RaftSim, Seeds) {
  uint64_t from = env_u64("RAFT_SIM_FROM", 1), count = env_u64("RAFT_SIM_SEEDS", 2000);
  if (const char* one = std::getenv("RAFT_SIM_SEED")) {
    from = std::strtoull(one, nullptr, 10);
    count = 1;
  }
  auto start = std::chrono::steady_clock::now();
  size_t committed = 0, failed = 0;
  uint64_t snapshots = 0, config_changes = 0, transfers = 0;
  for (uint64_t seed = from; seed < from + count; ++seed) {
    SeedResult r = run_seed(seed);
    committed += r.committed;
    snapshots += r.snapshots;
    config_changes += r.config_changes;
    transfers += r.transfers;
    if (r.problems.empty()) continue;
    ++failed;
    for (const auto& p : r.problems) ADD_FAILURE() << "seed " << seed << ": " << p;
    ADD_FAILURE() << "replay with RAFT_SIM_SEED=" << seed;
    if (failed >= 5) break;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "raft sim: %llu seeds from %llu in %.1f s, %zu entries committed, %llu snapshots applied, %llu membership "
      "changes, %llu transfers, %zu failed\n",
      static_cast<unsigned long long>(count), static_cast<unsigned long long>(from), secs, committed,
      static_cast<unsigned long long>(snapshots), static_cast<unsigned long long>(config_changes),
      static_cast<unsigned long long>(transfers), failed);
  // The chaos must let things commit and snapshots flow, or the checks above test nothing.
  EXPECT_GT(committed, count * 5);
  if (count >= 20) {
    EXPECT_GT(snapshots, count / 4);
    EXPECT_GT(config_changes, count / 8);
    EXPECT_GT(transfers, count / 8);
  }
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
