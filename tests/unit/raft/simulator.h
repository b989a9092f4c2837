// Deterministic network simulator for RaftNode: a pool of nodes (some start as spares outside
// the group), one seeded RNG for everything. Faults: message loss, delay (=> reordering),
// duplication, symmetric and one-way partitions, crashes that keep only what the owner had
// made durable (outputs are drained late, and a crash can strike between the writes of one
// output), snapshots at random applied points, membership changes and leader transfers.
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
  double dup = 0.0;   // probability a message is delivered twice (with its own delay)
};

// Per-tick probabilities of chaos_tick()'s actions.
struct Chaos {
  double propose = 0.3;
  double crash = 0.03;
  double restart = 0.1;
  double partition = 0.01;
  double one_way_cut = 0.0;  // block one direction between two nodes
  double heal = 0.02;
  double snapshot = 0.0;     // a random live node compacts at a random applied index
  double membership = 0.0;   // the leader adds or removes a server
  double transfer = 0.0;     // the leader transfers leadership or steps down
  double late_io = 0.0;      // a node's output waits for the next tick (lost if it crashes first)
  double crash_mid_io = 0.0; // crash between the writes of one output, before its sends
  int max_proposals = 60;
};

class Simulator {
 public:
  // n voters form the group; `spares` more nodes run outside it until added.
  // snapshot_chunk: bytes per InstallSnapshot (0: tiny chunks chosen by the seed).
  Simulator(int n, uint64_t seed, NetConfig net = {}, int spares = 0, size_t snapshot_chunk = 0);

  // One unit of logical time: tick every live node, then deliver due messages (shuffled).
  void run_tick();
  void run(int ticks) { for (int i = 0; i < ticks; ++i) run_tick(); }

  // Propose on the current leader (the live leader of the highest term); false if none.
  bool propose(const std::string& data);
  int leader() const;  // index of that leader, -1 if none

  void crash(int i);    // drops volatile state, unwritten output and messages to it
  void restart(int i);  // rebuilds from persisted state
  bool alive(int i) const { return alive_[i]; }
  // group[i] = partition of node i; messages between different groups are dropped.
  void partition(const std::vector<int>& group);
  void cut_one_way(int from, int to) { cut_[from][to] = true; }
  void heal();
  void set_net(NetConfig net) { net_ = net; }
  void set_chaos(Chaos c) { chaos_ = c; }
  // Node i compacts its log at `index` (<= what it applied) with its state machine as blob.
  bool compact(int i, Index index);

  // Random chaos for one tick, then run_tick().
  void chaos_tick();

  int size() const { return static_cast<int>(ids_.size()); }
  RaftNode& node(int i) { return *nodes_[i]; }
  int index_of(const NodeId& id) const;
  // The state machine of node i: every entry applied since index 1 (restored from snapshots).
  const std::vector<Entry>& applied(int i) const { return applied_[i]; }
  const std::vector<Entry>& committed() const { return committed_; }
  std::mt19937_64& rng() { return rng_; }
  int proposals() const { return proposals_; }
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t snapshots_installed() const { return snapshots_installed_; }
  uint64_t config_changes() const { return config_changes_; }
  uint64_t transfers() const { return transfers_; }

  std::vector<std::string> violations;

 private:
  struct InFlight {
    uint64_t due;
    uint64_t order;  // random tiebreak so equal-due messages are reordered too
    Message msg;
  };
  void drain(int i);
  void settle(int i);  // drain now, or (late_io) leave it for the next tick
  bool persist(int i, Output& out);  // false: crashed part-way
  void enqueue(int from, Message m);
  void apply(int i, Output& out);
  void check_log_matching(int i);
  void check_leader(int i);
  void fail(std::string what);
  Config config_for(int i) const;
  bool chance(double p);

  int n_;
  uint64_t seed_;
  NetConfig net_;
  Chaos chaos_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t restarts_ = 0;
  std::vector<NodeId> ids_;
  std::vector<std::unique_ptr<RaftNode>> nodes_;
  std::vector<PersistedState> disk_;
  std::vector<bool> alive_;
  std::vector<bool> io_pending_;
  std::vector<std::vector<bool>> cut_;  // cut_[a][b]: messages a -> b are dropped
  std::vector<InFlight> net_queue_;
  std::vector<std::vector<Entry>> applied_;
  std::vector<Entry> committed_;  // union of everything any node applied
  std::map<Term, NodeId> leader_of_term_;
  int proposals_ = 0;
  size_t max_batch_ = 8;
  size_t snapshot_chunk_ = 0;
  uint64_t messages_sent_ = 0;
  uint64_t snapshots_installed_ = 0;
  uint64_t config_changes_ = 0;  // accepted add_peer/remove_peer calls
  uint64_t transfers_ = 0;       // accepted transfer_leadership/step_down calls
};

// Encodes a state machine (the applied entries) as a snapshot blob, and back.
std::string encode_state(const std::vector<Entry>& applied, size_t upto);
bool decode_state(const std::string& blob, std::vector<Entry>& applied);

}  // namespace nats::raft::sim
