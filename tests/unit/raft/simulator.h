// Deterministic network simulator for RaftNode: N nodes, one seeded RNG for everything
// (message delay => reordering, loss, partitions, crashes that keep only persisted state).
// Every node output is checked against Raft's safety properties as it happens; a violation
// is recorded in `violations` (tests assert it stays empty).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "raft/raft_node.h"

namespace nats::raft::sim {

struct NetConfig {
  double loss = 0.0;  // probability a message is dropped
  int min_delay = 1;  // delivery delay in ticks, uniform in [min_delay, max_delay]
  int max_delay = 3;
};

class Simulator {
 public:
  Simulator(int n, uint64_t seed, NetConfig net = {});

  // One unit of logical time: tick every live node, then deliver due messages (shuffled).
  void run_tick();
  void run(int ticks) { for (int i = 0; i < ticks; ++i) run_tick(); }

  // Propose on the current leader (the live leader of the highest term); false if none.
  bool propose(const std::string& data);
  int leader() const;  // index of that leader, -1 if none

  void crash(int i);    // drops volatile state and messages to it
  void restart(int i);  // rebuilds from persisted state
  bool alive(int i) const { return alive_[i]; }
  // group[i] = partition of node i; messages between different groups are dropped.
  void partition(std::vector<int> group) { group_ = std::move(group); }
  void heal() { group_.assign(n_, 0); }
  void set_net(NetConfig net) { net_ = net; }

  // Random chaos for one tick: maybe propose, crash/restart, re-partition or heal.
  void chaos_tick();

  int size() const { return n_; }
  RaftNode& node(int i) { return *nodes_[i]; }
  const std::vector<Entry>& applied(int i) const { return applied_[i]; }
  const std::vector<Entry>& committed() const { return committed_; }
  std::mt19937_64& rng() { return rng_; }

  std::vector<std::string> violations;

 private:
  struct InFlight {
    uint64_t due;
    uint64_t order;  // random tiebreak so equal-due messages are reordered too
    Message msg;
  };
  void drain(int i);
  void check_log_matching(int i);
  void check_leader(int i);
  void fail(std::string what);
  int index_of(const NodeId& id) const;
  Config config_for(int i) const;

  int n_;
  uint64_t seed_;
  NetConfig net_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t restarts_ = 0;
  std::vector<NodeId> ids_;
  std::vector<std::unique_ptr<RaftNode>> nodes_;
  std::vector<PersistedState> disk_;
  std::vector<bool> alive_;
  std::vector<int> group_;
  std::vector<InFlight> net_queue_;
  std::vector<std::vector<Entry>> applied_;  // per node, since its last restart
  std::vector<Entry> committed_;             // union of everything any node applied
  std::map<Term, NodeId> leader_of_term_;
  int proposals_ = 0;
  size_t max_batch_ = 8;
};

}  // namespace nats::raft::sim
