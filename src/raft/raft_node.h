// A Raft participant as a pure state machine (in the style of ScyllaDB's raft::fsm): no
// sockets, threads or clocks. The owner feeds it messages (step), logical time (tick) and
// proposals (propose), then drains get_output() and must, in this order:
//   1. durably write Output::hard_state and Output::entries (truncating its stored log to
//      entries.front().index - 1 first: a follower may overwrite an uncommitted suffix),
//   2. send Output::messages (votes and acks promise the writes of step 1),
//   3. apply Output::committed to the state machine, in order.
// Covered: leader election with pre-vote, randomized election timeouts and check-quorum,
// log replication with the AppendEntries consistency check and conflict truncation,
// commit only of current-term entries on a quorum, heartbeats. Not yet: snapshots,
// membership changes, leader transfer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "raft/types.h"

namespace nats::raft {

struct Config {
  NodeId id;
  std::vector<NodeId> peers;  // the whole voting membership, including id
  // Election timeout is drawn uniformly from [election_timeout, 2 * election_timeout) ticks
  // each time it is reset, so that split votes resolve (paper §5.2).
  int election_timeout = 10;
  int heartbeat_interval = 2;  // ticks; must be well below election_timeout
  size_t max_entries_per_append = 64;
  bool pre_vote = true;
  bool check_quorum = true;  // a leader not hearing from a quorum for an election timeout steps down
  uint64_t rng_seed = 1;     // the only source of randomness, so runs are reproducible
};

struct Output {
  std::optional<HardState> hard_state;  // set when term or vote changed
  std::vector<Entry> entries;           // contiguous; replaces stored log from front().index
  std::vector<Message> messages;
  std::vector<Entry> committed;         // newly committed, in index order, each exactly once
  std::optional<Role> role_changed;     // the latest role, if it changed since the last output
};

class RaftNode {
 public:
  explicit RaftNode(Config cfg, PersistedState restored = {});

  // Advance logical time by one tick.
  void tick();
  // Handle one message addressed to this node.
  void step(const Message& msg);
  // Leader only: append a client entry; returns its index, or nullopt when not leader.
  std::optional<Index> propose(std::string data);
  // Starts an election now (pre-vote first, when enabled) instead of waiting for the timer:
  // the reference campaigns at once on a freshly bootstrapped group. No-op on a leader.
  void campaign_now();
  // Leader only: become a follower of the same term with no known leader, and hold back its
  // own campaign so that another node normally wins the election that follows.
  void step_down();

  bool has_output() const;
  Output get_output();

  const NodeId& id() const { return cfg_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  const NodeId& voted_for() const { return voted_for_; }
  const NodeId& leader() const { return leader_; }  // empty when unknown
  Index commit_index() const { return commit_; }
  Index last_index() const { return log_.size(); }
  Term last_term() const { return log_.empty() ? 0 : log_.back().term; }
  Term term_at(Index i) const { return i == 0 || i > log_.size() ? 0 : log_[i - 1].term; }
  const std::vector<Entry>& log() const { return log_; }
  const std::vector<NodeId>& peers() const { return cfg_.peers; }
  // Leader only: the highest index known to be stored on `peer` (0 when unknown).
  Index match_index(const NodeId& peer) const {
    auto it = match_index_.find(peer);
    return it == match_index_.end() ? 0 : it->second;
  }

 private:
  size_t quorum() const { return cfg_.peers.size() / 2 + 1; }
  bool log_up_to_date(Index last_index, Term last_term) const;
  void reset_election_timer();
  void set_term(Term t);
  void set_role(Role r);
  void become_follower(Term t, const NodeId& leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign(bool pre_vote);
  void append_local(Entry e);
  void send(const NodeId& to, Payload p);
  void send_append(const NodeId& to);
  void broadcast_append();
  void maybe_advance_commit();
  void set_commit(Index c);

  void on_vote_request(const NodeId& from, const VoteRequest& r);
  void on_vote_response(const NodeId& from, const VoteResponse& r);
  void on_append(const NodeId& from, const AppendEntries& a);
  void on_append_response(const NodeId& from, const AppendResponse& r);

  Config cfg_;
  std::mt19937_64 rng_;

  // Persistent (mirrored by the owner through Output).
  Term term_ = 0;
  NodeId voted_for_;
  std::vector<Entry> log_;  // invariant: log_[i].index == i + 1, terms non-decreasing

  // Volatile.
  Role role_ = Role::kFollower;
  NodeId leader_;
  Index commit_ = 0;   // invariant: commit_ <= last_index(), never decreases while running
  Index applied_ = 0;  // last index handed out in Output::committed
  int election_elapsed_ = 0;
  int randomized_timeout_ = 0;
  int heartbeat_elapsed_ = 0;
  std::set<NodeId> votes_;  // granted votes (pre-votes while kPreCandidate)

  // Leader only.
  std::map<NodeId, Index> next_index_;
  std::map<NodeId, Index> match_index_;
  std::set<NodeId> recently_active_;  // peers heard from in this check-quorum window

  // Pending output.
  bool hard_state_dirty_ = false;
  Index persist_from_ = 0;  // 0: no unpersisted log change; else first changed index
  std::vector<Message> outbox_;
  bool role_dirty_ = false;
};

}  // namespace nats::raft
