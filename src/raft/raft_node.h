// A Raft participant as a pure state machine (in the style of ScyllaDB's raft::fsm): no
// sockets, threads or clocks. The owner feeds it messages (step), logical time (tick) and
// proposals (propose), then drains get_output() and must, in this order:
//   1. durably write, before anything else of this output is acted on:
//      a. Output::hard_state;
//      b. Output::snapshot, if set, replacing any stored snapshot; then drop the stored log
//         entries up to snapshot->index (all stored entries when snapshot_discards_log);
//      c. Output::entries (truncating the stored log to entries.front().index - 1 first: a
//         follower may overwrite an uncommitted suffix);
//   2. send Output::messages (votes and acks promise the writes of step 1);
//   3. if Output::snapshot_to_apply is set, reset the state machine to it (it replaces
//      everything applied so far); then apply Output::committed, in order.
// A write that fails must stop the owner from sending this output's messages (leave the group).
// Crash recovery: construct the node from what step 1 made durable (PersistedState). After a
// restart the node hands the stored snapshot back as snapshot_to_apply and then re-delivers
// the committed entries after it, so a volatile state machine is rebuilt the same way.
// Compaction is the owner's choice: after applying up to index I it may call compact(I, blob)
// with its state machine serialised as of I; the node then emits Output::snapshot to persist.
// Followers that need compacted entries get the snapshot (InstallSnapshot, in chunks of
// Config::max_snapshot_chunk), so compacting too eagerly costs snapshot transfers.
// Batching: a leader sends proposals from get_output(), so several propose() calls before one
// drain go out in shared appends (Config::max_entries_per_append each, up to
// Config::max_inflight_appends in flight per follower).
// Joining: a server being added is constructed with an empty Config::peers and fed the
// leader's messages (step() does not filter by membership); it learns the membership from the
// log or snapshot. The owner should route messages from any node id of the group.
// Message kinds: every message is addressed to one peer (Message::to); owners that route some
// kinds over shared subjects must route InstallSnapshot, SnapshotResponse and TimeoutNow too.
//
// Covered: leader election with pre-vote, randomized election timeouts and check-quorum,
// log replication with the AppendEntries consistency check and conflict truncation,
// commit only of current-term entries on a quorum, heartbeats, snapshots (compaction and
// chunked InstallSnapshot), leadership transfer (TimeoutNow), single-server membership
// changes through kConfig entries (new servers join as learners and are promoted once
// caught up; a removed leader steps down once its removal commits).
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
  // The bootstrap voting membership, including id. A server added to a running group starts
  // with an empty list: it learns the membership from the leader's log or snapshot. The log's
  // latest kConfig entry (or the snapshot's membership) overrides this.
  std::vector<NodeId> peers;
  // Election timeout is drawn uniformly from [election_timeout, 2 * election_timeout) ticks
  // each time it is reset, so that split votes resolve (paper §5.2).
  int election_timeout = 10;
  int heartbeat_interval = 2;  // ticks; must be well below election_timeout
  size_t max_entries_per_append = 64;
  // Appends in flight to one follower before waiting for acks (window = this x entries/append).
  size_t max_inflight_appends = 16;
  size_t max_snapshot_chunk = 256 * 1024;  // bytes of snapshot data per InstallSnapshot
  bool pre_vote = true;
  bool check_quorum = true;  // a leader not hearing from a quorum for an election timeout steps down
  // After leader_lost(): campaign within [1, this] ticks (drawn at random so that the
  // survivors rarely split the vote), instead of a full election timeout.
  int leader_lost_ticks = 3;
  uint64_t rng_seed = 1;     // the only source of randomness, so runs are reproducible
  // A leader tells each follower at once what it may commit (an empty append in the next
  // output, when no append there carries it): when the commit index moves, and when a
  // follower's ack shows it has entries already committed. As 2.9.10's leader sends a
  // heartbeat when a quorum commits and no proposal waits; otherwise followers learn it
  // with the next append or heartbeat, and apply that much later. Costs a message per
  // follower per commit that no append carries.
  bool notify_commit = false;
};

struct Output {
  std::optional<HardState> hard_state;  // set when term or vote changed
  std::vector<Entry> entries;           // contiguous; replaces stored log from front().index
  std::vector<Message> messages;
  std::vector<Entry> committed;         // newly committed, in index order, each exactly once
  std::optional<Role> role_changed;     // the latest role, if it changed since the last output
  // Persist (step 1b). Set after compact() and after a snapshot from the leader is installed.
  std::optional<Snapshot> snapshot;
  bool snapshot_discards_log = false;  // the stored log conflicts with the snapshot: drop it all
  // Reset the state machine to this (step 3): a snapshot from the leader, or after a restart.
  std::optional<Snapshot> snapshot_to_apply;
};

class RaftNode {
 public:
  explicit RaftNode(Config cfg, PersistedState restored = {});

  // Advance logical time by one tick.
  void tick();
  // Handle one message addressed to this node.
  void step(const Message& msg);
  // Leader only: append a client entry; returns its index, or nullopt when not leader (or
  // while a leadership transfer is under way).
  std::optional<Index> propose(std::string data);
  // Starts an election now (pre-vote first, when enabled) instead of waiting for the timer:
  // the reference campaigns at once on a freshly bootstrapped group. No-op on a leader and
  // on a node that is not a voter.
  void campaign_now();
  // Campaign after a delay drawn uniformly from [1, max_ticks] ticks instead of at once (as
  // the reference's 100-800 ms campaign timeout of a fresh group): servers that bootstrap a
  // group together then rarely campaign in the same tick and split the vote, which would cost
  // a full election timeout. No-op on a leader.
  void campaign_within(int max_ticks);
  // Leader only: hand leadership over and become a follower of the same term at once. When a
  // voter is fully caught up it is told to campaign immediately (TimeoutNow); either way our
  // own campaign is held back so that another node normally wins the election that follows.
  void step_down();
  // Leader only: transfer leadership to `to` (empty: the most up-to-date voter). Proposals are
  // refused until the transfer ends; the leader brings the target up to date and sends it
  // TimeoutNow. Gives up after an election timeout. False when there is no eligible target.
  bool transfer_leadership(const NodeId& to = {});
  bool transferring() const { return !transfer_target_.empty(); }
  // While false this node never starts an election (timer, campaign_now, TimeoutNow) but
  // still votes. The owner holds it off while its state machine is behind the log it has
  // (a stream replica fetching the messages a snapshot covers): the log comparison of
  // §5.4.1 cannot see that, and such a node must not lead a more complete one.
  void set_campaign_allowed(bool allowed) { campaign_allowed_ = allowed; }
  // Fast failure detection: the owner learnt that `peer` is gone (its connection closed, as
  // when the process died). If it is the leader this follower follows, the leader is
  // forgotten (so pre-votes and votes are no longer refused on its lease) and the election
  // timer is cut to [1, Config::leader_lost_ticks] ticks. Any other peer: no effect. A
  // leader that merely stops talking (partition, stopped process) is still detected by the
  // normal election timeout; a message from the leader later restores it as usual.
  void leader_lost(const NodeId& peer);
  bool campaign_allowed() const { return campaign_allowed_; }

  // The state machine has applied everything up to `index` (<= the last committed index
  // handed out) and `data` is its serialised state as of there: drop the log prefix up to
  // index and keep this snapshot (emitted in Output::snapshot). False when index is not
  // above the current snapshot or not applied yet.
  bool compact(Index index, std::string data);

  // Leader only, one change at a time (the previous kConfig entry must be committed, and an
  // entry of this term too): append a kConfig entry adding `id` as a learner (promoted to
  // voter by the leader once caught up) or removing it. Returns the entry's index, or nullopt
  // when refused. A leader that removes itself steps down once the removal commits.
  std::optional<Index> add_peer(const NodeId& id);
  std::optional<Index> remove_peer(const NodeId& id);

  bool has_output() const;
  Output get_output();

  const NodeId& id() const { return cfg_.id; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  const NodeId& voted_for() const { return voted_for_; }
  const NodeId& leader() const { return leader_; }  // empty when unknown
  Index commit_index() const { return commit_; }
  Index last_index() const { return snap_.index + log_.size(); }
  Term last_term() const { return log_.empty() ? snap_.term : log_.back().term; }
  // 0 for indexes beyond the log or compacted into the snapshot (except its own index).
  Term term_at(Index i) const;
  // The entries after the snapshot: log()[k].index == snapshot_index() + 1 + k.
  const std::vector<Entry>& log() const { return log_; }
  Index snapshot_index() const { return snap_.index; }
  const Snapshot& snapshot() const { return snap_; }
  // The voters of the latest configuration in the log (or snapshot, or bootstrap).
  const std::vector<NodeId>& peers() const { return membership_.voters; }
  const Membership& membership() const { return membership_; }
  // Leader only: the highest index known to be stored on `peer` (0 when unknown).
  Index match_index(const NodeId& peer) const {
    auto it = progress_.find(peer);
    return it == progress_.end() ? 0 : it->second.match;
  }

 private:
  struct Progress {
    Index next = 1;
    Index match = 0;
    // Probing: where its log matches ours is not known yet; one append at a time. Otherwise
    // replicating: appends are pipelined up to the in-flight window.
    bool probing = true;
    bool probe_sent = false;
    int stalled = 0;  // heartbeats without progress while entries are in flight
    bool snapshotting = false;  // sending snapshot snap_index chunk by chunk
    Index snap_index = 0;
    uint64_t snap_offset = 0;  // the chunk awaiting acknowledgement
    int snap_wait = 0;         // ticks since that chunk was sent
    Index sent_commit = 0;     // what the last append sent to it let it commit
  };

  const Entry& entry(Index i) const { return log_[i - snap_.index - 1]; }
  bool is_voter() const { return membership_.is_voter(cfg_.id); }
  size_t quorum() const { return membership_.voters.size() / 2 + 1; }
  size_t count_voters(const std::set<NodeId>& ids) const;
  bool log_up_to_date(Index last_index, Term last_term) const;
  void reset_election_timer();
  void set_term(Term t);
  void set_role(Role r);
  void become_follower(Term t, const NodeId& leader);
  void become_pre_candidate();
  void become_candidate(bool transfer = false);
  void become_leader();
  void campaign(bool pre_vote, bool transfer = false);
  void append_local(Entry e);
  void truncate_after(Index i);
  void send(const NodeId& to, Payload p);
  void send_append(const NodeId& to, bool heartbeat = false);
  void send_entries(const NodeId& to, Progress& pr, Index from, bool advance, bool empty = false);
  void detect_stalls();
  void send_snapshot_chunk(const NodeId& to);
  void broadcast_append(bool heartbeat = false);
  void broadcast_commit();
  void maybe_advance_commit();
  void set_commit(Index c);
  std::optional<Index> change_membership(Membership next);
  void on_membership_changed();
  void forget_removed_peers();
  void recompute_membership();
  Membership membership_at(Index i) const;
  void maybe_promote_learner();
  NodeId best_transfer_target() const;
  void install_snapshot(Snapshot s);

  void on_vote_request(const NodeId& from, const VoteRequest& r);
  void on_vote_response(const NodeId& from, const VoteResponse& r);
  void on_append(const NodeId& from, const AppendEntries& a);
  void on_append_response(const NodeId& from, const AppendResponse& r);
  void on_install_snapshot(const NodeId& from, const InstallSnapshot& s);
  void on_snapshot_response(const NodeId& from, const SnapshotResponse& r);
  void on_timeout_now(const NodeId& from, const TimeoutNow& t);

  Config cfg_;
  std::mt19937_64 rng_;

  // Persistent (mirrored by the owner through Output).
  Term term_ = 0;
  NodeId voted_for_;
  Snapshot snap_;           // index 0: none (then its membership is the bootstrap one)
  std::vector<Entry> log_;  // invariant: log_[i].index == snap_.index + i + 1, terms non-decreasing

  // Derived from the log: the latest configuration and the index of its entry (0: from the
  // snapshot or bootstrap).
  Membership membership_;
  Index membership_index_ = 0;

  // Volatile.
  Role role_ = Role::kFollower;
  NodeId leader_;
  Index commit_ = 0;   // invariant: snap_.index <= commit_ <= last_index(), never decreases
  Index applied_ = 0;  // last index handed out in Output::committed (or by a snapshot)
  int election_elapsed_ = 0;
  int randomized_timeout_ = 0;
  int heartbeat_elapsed_ = 0;
  bool campaign_allowed_ = true;
  std::set<NodeId> votes_;  // granted votes (pre-votes while kPreCandidate)
  std::optional<Snapshot> incoming_snap_;  // chunks received so far from the leader
  std::map<Index, AppendEntries> held_;    // this term's leader's appends that arrived early, by prev

  // Leader only.
  std::map<NodeId, Progress> progress_;  // every member but this node
  std::set<NodeId> recently_active_;     // peers heard from in this check-quorum window
  NodeId transfer_target_;
  int transfer_elapsed_ = 0;

  // Pending output.
  bool hard_state_dirty_ = false;
  Index persist_from_ = 0;  // 0: no unpersisted log change; else first changed index
  bool snapshot_dirty_ = false;
  bool snapshot_discards_log_ = false;
  bool snapshot_to_apply_ = false;
  std::vector<Message> outbox_;
  bool role_dirty_ = false;
  bool broadcast_pending_ = false;  // proposals not yet sent to followers
  bool commit_notice_pending_ = false;  // Config::notify_commit: a follower may need telling
  std::vector<Index> scratch_;      // maybe_advance_commit's working space
};

}  // namespace nats::raft
