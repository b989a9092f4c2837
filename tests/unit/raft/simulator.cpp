#include "simulator.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace nats::raft::sim {

Simulator::Simulator(int n, uint64_t seed, NetConfig net)
    : n_(n), seed_(seed), net_(net), rng_(seed) {
  max_batch_ = std::array<size_t, 3>{1, 2, 8}[seed % 3];
  for (int i = 0; i < n; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "S%07d", i);  // 8 chars, like the reference's peer hashes
    ids_.push_back(buf);
  }
  nodes_.resize(n);
  disk_.resize(n);
  alive_.assign(n, false);
  applied_.resize(n);
  heal();
  for (int i = 0; i < n; ++i) restart(i);
}

Config Simulator::config_for(int i) const {
  Config c;
  c.id = ids_[i];
  c.peers = ids_;
  c.election_timeout = 10;
  c.heartbeat_interval = 2;
  // Small batches (some scenarios send one entry per append) make partial acknowledgements
  // common, which is what exposes a leader counting replicas of an old-term entry (Figure 8).
  c.max_entries_per_append = max_batch_;
  c.rng_seed = seed_ * 1000003 + restarts_;
  return c;
}

int Simulator::index_of(const NodeId& id) const {
  for (int i = 0; i < n_; ++i)
    if (ids_[i] == id) return i;
  return -1;
}

void Simulator::fail(std::string what) {
  violations.push_back("seed " + std::to_string(seed_) + " t=" + std::to_string(now_) + ": " +
                       what);
}

void Simulator::crash(int i) {
  if (!alive_[i]) return;
  alive_[i] = false;
  nodes_[i].reset();
  applied_[i].clear();  // the state machine is rebuilt from the log after restart
}

void Simulator::restart(int i) {
  if (alive_[i]) return;
  ++restarts_;
  nodes_[i] = std::make_unique<RaftNode>(config_for(i), disk_[i]);
  alive_[i] = true;
  drain(i);
}

int Simulator::leader() const {
  int best = -1;
  for (int i = 0; i < n_; ++i) {
    if (!alive_[i] || nodes_[i]->role() != Role::kLeader) continue;
    if (best < 0 || nodes_[i]->term() > nodes_[best]->term()) best = i;
  }
  return best;
}

bool Simulator::propose(const std::string& data) {
  int l = leader();
  if (l < 0) return false;
  bool ok = nodes_[l]->propose(data).has_value();
  drain(l);
  return ok;
}

void Simulator::check_log_matching(int i) {
  // Log Matching (§5.3): if two logs have an entry with the same index and term, the logs are
  // identical up to that index. Checked against every other node's persisted log.
  const auto& a = disk_[i].log;
  for (int j = 0; j < n_; ++j) {
    if (j == i) continue;
    const auto& b = disk_[j].log;
    size_t k = std::min(a.size(), b.size());
    while (k > 0 && a[k - 1].term != b[k - 1].term) --k;
    for (size_t x = 0; x < k; ++x) {
      if (!(a[x] == b[x])) {
        fail("log matching: " + ids_[i] + " and " + ids_[j] + " agree at index " +
             std::to_string(k) + " but differ at " + std::to_string(x + 1));
        return;
      }
    }
  }
}

void Simulator::check_leader(int i) {
  const RaftNode& n = *nodes_[i];
  // Election Safety: at most one leader per term (ever, across restarts).
  auto [it, inserted] = leader_of_term_.emplace(n.term(), n.id());
  if (!inserted)
    fail("two leaders in term " + std::to_string(n.term()) + ": " + it->second + " and " + n.id());
  // Leader Completeness: a new leader holds every entry any node has applied.
  const auto& log = n.log();
  for (const auto& e : committed_) {
    if (e.index > log.size() || !(log[e.index - 1] == e)) {
      fail("leader " + n.id() + " term " + std::to_string(n.term()) + " lacks committed index " +
           std::to_string(e.index));
      return;
    }
  }
}

void Simulator::drain(int i) {
  while (alive_[i] && nodes_[i]->has_output()) {
    Output out = nodes_[i]->get_output();
    // 1. persist (synchronously: an output is durable before anything else happens)
    if (out.hard_state) {
      if (out.hard_state->term < disk_[i].hard_state.term) fail(ids_[i] + " term went backwards");
      disk_[i].hard_state = *out.hard_state;
    }
    if (!out.entries.empty()) {
      Index first = out.entries.front().index;
      if (first == 0 || first > disk_[i].log.size() + 1) fail(ids_[i] + " log gap on persist");
      disk_[i].log.resize(std::min<size_t>(first - 1, disk_[i].log.size()));
      for (const auto& e : out.entries) {
        if (e.index != disk_[i].log.size() + 1) fail(ids_[i] + " non-contiguous entries");
        disk_[i].log.push_back(e);
      }
      check_log_matching(i);
    }
    // 2. send
    for (auto& m : out.messages) {
      int to = index_of(m.to);
      if (to < 0) { fail("message to unknown node " + m.to); continue; }
      if (group_[i] != group_[to]) continue;
      if (std::uniform_real_distribution<double>(0, 1)(rng_) < net_.loss) continue;
      uint64_t delay = std::uniform_int_distribution<int>(net_.min_delay, net_.max_delay)(rng_);
      net_queue_.push_back(InFlight{now_ + delay, rng_(), std::move(m)});
    }
    // 3. apply. State Machine Safety: every node applies the same entry at each index.
    for (const auto& e : out.committed) {
      auto& mine = applied_[i];
      if (e.index != mine.size() + 1) fail(ids_[i] + " applied out of order");
      if (e.index <= committed_.size()) {
        if (!(committed_[e.index - 1] == e))
          fail(ids_[i] + " applied a different entry at index " + std::to_string(e.index));
      } else {
        committed_.push_back(e);
      }
      mine.push_back(e);
      if (e.index > disk_[i].log.size() || !(disk_[i].log[e.index - 1] == e))
        fail(ids_[i] + " applied an entry it has not persisted");
    }
    if (out.role_changed && *out.role_changed == Role::kLeader) check_leader(i);
  }
}

void Simulator::run_tick() {
  ++now_;
  for (int i = 0; i < n_; ++i) {
    if (!alive_[i]) continue;
    nodes_[i]->tick();
    drain(i);
  }
  std::vector<InFlight> due, later;
  for (auto& f : net_queue_) (f.due <= now_ ? due : later).push_back(std::move(f));
  net_queue_ = std::move(later);
  std::sort(due.begin(), due.end(), [](const InFlight& a, const InFlight& b) { return a.order < b.order; });
  for (auto& f : due) {
    int from = index_of(f.msg.from), to = index_of(f.msg.to);
    if (!alive_[to] || group_[from] != group_[to]) continue;  // crashed or cut off in flight
    nodes_[to]->step(f.msg);
    drain(to);
  }
}

void Simulator::chaos_tick() {
  std::uniform_real_distribution<double> p(0, 1);
  std::uniform_int_distribution<int> pick(0, n_ - 1);
  if (p(rng_) < 0.3 && proposals_ < 60) {
    if (propose("v" + std::to_string(proposals_))) ++proposals_;
  }
  if (p(rng_) < 0.03) crash(pick(rng_));
  if (p(rng_) < 0.1) {
    int i = pick(rng_);
    if (!alive_[i]) restart(i);
  }
  if (p(rng_) < 0.01) {
    std::vector<int> g(n_);
    for (auto& x : g) x = std::uniform_int_distribution<int>(0, 1)(rng_);
    partition(g);
  }
  if (p(rng_) < 0.02) heal();
  run_tick();
}

}  // namespace nats::raft::sim
