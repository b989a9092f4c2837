#include "simulator.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "raft/wire.h"

namespace nats::raft::sim {

std::string encode_state(const std::vector<Entry>& applied, size_t upto) {
  std::string blob;
  for (size_t k = 0; k < upto && k < applied.size(); ++k) wire::put_entry(blob, applied[k]);
  return blob;
}

bool decode_state(const std::string& blob, std::vector<Entry>& applied) {
  applied.clear();
  size_t pos = 0;
  while (pos < blob.size()) {
    Entry e;
    if (!wire::get_entry(blob, pos, e)) return false;
    applied.push_back(std::move(e));
  }
  return true;
}

namespace {
// The entry at `index` in a persisted state, or null when compacted or beyond the log.
const Entry* entry_at(const PersistedState& ps, Index index) {
  Index base = ps.snapshot ? ps.snapshot->index : 0;
  if (index <= base || index > base + ps.log.size()) return nullptr;
  return &ps.log[index - base - 1];
}
Index first_index(const PersistedState& ps) { return (ps.snapshot ? ps.snapshot->index : 0) + 1; }
Index last_index(const PersistedState& ps) { return first_index(ps) - 1 + ps.log.size(); }
}  // namespace

Simulator::Simulator(int n, uint64_t seed, NetConfig net, int spares, size_t snapshot_chunk)
    : n_(n), seed_(seed), net_(net), rng_(seed), snapshot_chunk_(snapshot_chunk) {
  max_batch_ = std::array<size_t, 3>{1, 2, 8}[seed % 3];
  int total = n + spares;
  for (int i = 0; i < total; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "S%07d", i);  // 8 chars, like the reference's peer hashes
    ids_.push_back(buf);
  }
  nodes_.resize(total);
  disk_.resize(total);
  alive_.assign(total, false);
  io_pending_.assign(total, false);
  applied_.resize(total);
  heal();
  for (int i = 0; i < total; ++i) restart(i);
}

Config Simulator::config_for(int i) const {
  Config c;
  c.id = ids_[i];
  // Spares know no membership: they learn it from the leader once added.
  if (i < n_) c.peers.assign(ids_.begin(), ids_.begin() + n_);
  c.election_timeout = 10;
  c.heartbeat_interval = 2;
  // Small batches (some scenarios send one entry per append) make partial acknowledgements
  // common, which is what exposes a leader counting replicas of an old-term entry (Figure 8).
  c.max_entries_per_append = max_batch_;
  // Tiny chunks so that snapshots take several round trips and chunk loss is exercised.
  c.max_snapshot_chunk = snapshot_chunk_ ? snapshot_chunk_ : 16 << (seed_ % 4);
  c.rng_seed = seed_ * 1000003 + restarts_;
  return c;
}

int Simulator::index_of(const NodeId& id) const {
  for (int i = 0; i < size(); ++i)
    if (ids_[i] == id) return i;
  return -1;
}

bool Simulator::chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

void Simulator::fail(std::string what) {
  violations.push_back("seed " + std::to_string(seed_) + " t=" + std::to_string(now_) + ": " + what);
}

void Simulator::partition(const std::vector<int>& group) {
  for (int a = 0; a < size(); ++a)
    for (int b = 0; b < size(); ++b) cut_[a][b] = group[a] != group[b];
}

void Simulator::heal() { cut_.assign(size(), std::vector<bool>(size(), false)); }

void Simulator::crash(int i) {
  if (!alive_[i]) return;
  alive_[i] = false;
  io_pending_[i] = false;  // output not yet written is lost with the process
  nodes_[i].reset();
  applied_[i].clear();  // the state machine is rebuilt from snapshot and log after restart
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
  for (int i = 0; i < size(); ++i) {
    if (!alive_[i] || nodes_[i]->role() != Role::kLeader) continue;
    if (best < 0 || nodes_[i]->term() > nodes_[best]->term()) best = i;
  }
  return best;
}

bool Simulator::propose(const std::string& data) {
  int l = leader();
  if (l < 0) return false;
  bool ok = nodes_[l]->propose(data).has_value();
  settle(l);
  return ok;
}

bool Simulator::compact(int i, Index index) {
  if (!alive_[i] || index > applied_[i].size() || index <= nodes_[i]->snapshot_index()) return false;
  bool ok = nodes_[i]->compact(index, encode_state(applied_[i], index));
  if (!ok) fail(ids_[i] + " refused to compact at an applied index");
  settle(i);
  return ok;
}

void Simulator::check_log_matching(int i) {
  // Log Matching (§5.3): if two logs have an entry with the same index and term, the logs are
  // identical up to that index. Checked against every other node's persisted log, over the
  // indexes both still hold (snapshots cover the rest, and are checked when applied).
  const auto& a = disk_[i];
  for (int j = 0; j < size(); ++j) {
    if (j == i) continue;
    const auto& b = disk_[j];
    Index lo = std::max(first_index(a), first_index(b)), hi = std::min(last_index(a), last_index(b));
    Index k = hi;
    while (k >= lo && k > 0 && entry_at(a, k)->term != entry_at(b, k)->term) --k;
    for (Index x = lo; x <= k && x > 0; ++x) {
      if (!(*entry_at(a, x) == *entry_at(b, x))) {
        fail("log matching: " + ids_[i] + " and " + ids_[j] + " agree at index " + std::to_string(k) +
             " but differ at " + std::to_string(x));
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
  // Leader Completeness: a new leader holds every entry any node has applied (in its log, or
  // in its snapshot, whose content was checked when it was made or installed).
  if (n.snapshot_index() > committed_.size())
    fail("leader " + n.id() + " has a snapshot beyond anything applied");
  for (const auto& e : committed_) {
    if (e.index <= n.snapshot_index()) continue;
    Index k = e.index - n.snapshot_index() - 1;
    if (k >= n.log().size() || !(n.log()[k] == e)) {
      fail("leader " + n.id() + " term " + std::to_string(n.term()) + " lacks committed index " +
           std::to_string(e.index));
      return;
    }
  }
}

bool Simulator::persist(int i, Output& out) {
  auto& d = disk_[i];
  if (out.hard_state) {
    if (out.hard_state->term < d.hard_state.term) fail(ids_[i] + " term went backwards");
    d.hard_state = *out.hard_state;
  }
  if (chance(chaos_.crash_mid_io)) return crash(i), false;
  if (out.snapshot) {
    const Snapshot& s = *out.snapshot;
    if (d.snapshot && s.index <= d.snapshot->index) fail(ids_[i] + " snapshot did not move forward");
    if (out.snapshot_discards_log) {
      d.log.clear();
    } else {
      Index base = first_index(d) - 1;
      size_t drop = std::min<size_t>(d.log.size(), s.index > base ? s.index - base : 0);
      d.log.erase(d.log.begin(), d.log.begin() + static_cast<ptrdiff_t>(drop));
    }
    d.snapshot = s;
    if (!d.log.empty() && d.log.front().index != s.index + 1) fail(ids_[i] + " log does not follow its snapshot");
    if (chance(chaos_.crash_mid_io)) return crash(i), false;
  }
  if (!out.entries.empty()) {
    Index first = out.entries.front().index, base = first_index(d) - 1;
    if (first <= base || first > last_index(d) + 1) {
      fail(ids_[i] + " log gap on persist");
      return true;
    }
    d.log.resize(first - base - 1);
    // A crash part-way through leaves a prefix of the entries written (a torn append).
    size_t n = out.entries.size();
    bool torn = chance(chaos_.crash_mid_io);
    if (torn) n = std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
    for (size_t k = 0; k < n; ++k) {
      const Entry& e = out.entries[k];
      if (e.index != last_index(d) + 1) fail(ids_[i] + " non-contiguous entries");
      d.log.push_back(e);
    }
    check_log_matching(i);
    if (torn) return crash(i), false;
  }
  return true;
}

void Simulator::enqueue(int from, Message m) {
  int to = index_of(m.to);
  if (to < 0) {
    fail("message to unknown node " + m.to);
    return;
  }
  ++messages_sent_;
  if (cut_[from][to] || chance(net_.loss)) return;
  auto delay = [&] { return static_cast<uint64_t>(std::uniform_int_distribution<int>(net_.min_delay, net_.max_delay)(rng_)); };
  if (chance(net_.dup)) net_queue_.push_back(InFlight{now_ + delay(), rng_(), m});
  net_queue_.push_back(InFlight{now_ + delay(), rng_(), std::move(m)});
}

void Simulator::apply(int i, Output& out) {
  auto& mine = applied_[i];
  if (out.snapshot_to_apply) {
    // The snapshot replaces the state machine: its content must be exactly the committed prefix.
    const Snapshot& s = *out.snapshot_to_apply;
    std::vector<Entry> state;
    if (!decode_state(s.data, state) || state.size() != s.index) {
      fail(ids_[i] + " got a malformed snapshot at index " + std::to_string(s.index));
    } else if (state.size() > committed_.size()) {
      fail(ids_[i] + " got a snapshot beyond anything applied");
    } else {
      for (size_t k = 0; k < state.size(); ++k)
        if (!(state[k] == committed_[k])) {
          fail(ids_[i] + " snapshot differs from the committed log at index " + std::to_string(k + 1));
          break;
        }
      if (!state.empty() && state.back().term != s.term) fail(ids_[i] + " snapshot term is wrong");
    }
    mine = std::move(state);
    ++snapshots_installed_;
  }
  // State Machine Safety: every node applies the same entry at each index.
  for (const auto& e : out.committed) {
    if (e.index != mine.size() + 1) fail(ids_[i] + " applied out of order");
    if (e.index <= committed_.size()) {
      if (!(committed_[e.index - 1] == e))
        fail(ids_[i] + " applied a different entry at index " + std::to_string(e.index));
    } else {
      committed_.push_back(e);
    }
    mine.push_back(e);
    const Entry* stored = entry_at(disk_[i], e.index);
    if (!stored || !(*stored == e)) {
      bool in_snapshot = disk_[i].snapshot && e.index <= disk_[i].snapshot->index;
      if (!in_snapshot) fail(ids_[i] + " applied an entry it has not persisted");
    }
  }
}

void Simulator::drain(int i) {
  io_pending_[i] = false;
  while (alive_[i] && nodes_[i]->has_output()) {
    Output out = nodes_[i]->get_output();
    // 1. persist (possibly crashing part-way), 2. send, 3. apply.
    if (!persist(i, out)) return;
    for (auto& m : out.messages) enqueue(i, std::move(m));
    apply(i, out);
    if (out.role_changed && *out.role_changed == Role::kLeader) check_leader(i);
  }
}

void Simulator::settle(int i) {
  if (!alive_[i]) return;
  // A late owner: the node runs ahead of what is durable until the next tick.
  if (chance(chaos_.late_io)) io_pending_[i] = true;
  else drain(i);
}

void Simulator::run_tick() {
  ++now_;
  for (int i = 0; i < size(); ++i) {
    if (!alive_[i]) continue;
    if (io_pending_[i]) drain(i);
    if (!alive_[i]) continue;
    nodes_[i]->tick();
    settle(i);
  }
  std::vector<InFlight> due, later;
  for (auto& f : net_queue_) (f.due <= now_ ? due : later).push_back(std::move(f));
  net_queue_ = std::move(later);
  std::sort(due.begin(), due.end(), [](const InFlight& a, const InFlight& b) { return a.order < b.order; });
  for (auto& f : due) {
    int from = index_of(f.msg.from), to = index_of(f.msg.to);
    if (!alive_[to] || cut_[from][to]) continue;  // crashed or cut off in flight
    nodes_[to]->step(f.msg);
    settle(to);
  }
}

void Simulator::chaos_tick() {
  std::uniform_int_distribution<int> pick(0, size() - 1);
  if (chance(chaos_.propose) && proposals_ < chaos_.max_proposals) {
    if (propose("v" + std::to_string(proposals_))) ++proposals_;
  }
  if (chance(chaos_.crash)) crash(pick(rng_));
  if (chance(chaos_.restart)) {
    int i = pick(rng_);
    if (!alive_[i]) restart(i);
  }
  if (chance(chaos_.partition)) {
    std::vector<int> g(size());
    for (auto& x : g) x = std::uniform_int_distribution<int>(0, 1)(rng_);
    partition(g);
  }
  if (chance(chaos_.one_way_cut)) {
    int a = pick(rng_), b = pick(rng_);
    if (a != b) cut_one_way(a, b);
  }
  if (chance(chaos_.heal)) heal();
  if (chance(chaos_.snapshot)) {
    int i = pick(rng_);
    if (alive_[i] && applied_[i].size() > nodes_[i]->snapshot_index()) {
      Index at = std::uniform_int_distribution<Index>(nodes_[i]->snapshot_index() + 1, applied_[i].size())(rng_);
      compact(i, at);
    }
  }
  if (chance(chaos_.membership)) {
    int l = leader();
    if (l >= 0) {
      const Membership& m = nodes_[l]->membership();
      NodeId id = ids_[pick(rng_)];
      std::optional<Index> ok;
      if (!m.contains(id)) ok = nodes_[l]->add_peer(id);
      else if (m.voters.size() > 2 || !m.is_voter(id)) ok = nodes_[l]->remove_peer(id);
      config_changes_ += ok.has_value();
      settle(l);
    }
  }
  if (chance(chaos_.transfer)) {
    int l = leader();
    if (l >= 0) {
      int how = std::uniform_int_distribution<int>(0, 2)(rng_);
      bool ok = true;
      if (how == 0) ok = nodes_[l]->transfer_leadership();
      else if (how == 1) ok = nodes_[l]->transfer_leadership(ids_[pick(rng_)]);
      else nodes_[l]->step_down();
      transfers_ += ok;
      settle(l);
    }
  }
  run_tick();
}

}  // namespace nats::raft::sim
