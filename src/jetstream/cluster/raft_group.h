#pragma once
// One Raft group on this server: the I/O shell around raft::RaftNode shared by the meta
// group and every replicated stream and consumer. It owns the node, its durable LogStore and
// its transport over internal subjects of the system account, shaped as the reference's NRG:
//   `$NRG.V.<group>`           vote requests (every member subscribes),
//   `$NRG.AE.<group>`          append entries and heartbeats (every member subscribes),
//   `$NRG.R.<group>.<node id>` responses addressed to one member.
// Our wire format (raft/wire.h) does not interoperate with the Go server's.
//
// Threading: ticks and proposals run on the group's event loop (assigned by RaftGroups; the
// owner ticks every group of the server from one timer). Raft messages from peers are posted
// there too when appends are fsynced (a route loop must not wait on the disk); without fsync
// they are stepped right on the receiving thread, saving two thread hops per commit. `mu_`
// serialises all access to the node; `apply_mu_` is taken before `mu_` is released in drain(),
// so sends and applies keep log order whichever thread drains. Hooks run holding apply_mu_
// only: they must not call what takes mu_ (status(), leader(), peers()); is_leader() is
// lock-free.
//
// The output contract of RaftNode is kept in drain(): persist, then send, then apply.
// Proposals queued while the loop is busy become ONE log entry (one append, one message per
// follower, one fsync each): an entry's data is u8 0 + the proposal, or u8 1 + uvarint count +
// count x str (raft/wire.h). Hooks see the proposals, never the envelope.
// Committed normal entries go to Hooks::apply on the loop thread with no lock held, in log
// order, each once per process lifetime (after a restart the log is applied again from the
// start: the state machine must skip what it already has).
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "raft/log_store.h"
#include "raft/raft_node.h"
#include "subject/subscription.h"

namespace nats {
class Server;
class Account;
namespace net {
class EventLoop;
}
}  // namespace nats

namespace nats::jetstream {

// Replica facts of a group as its leader sees them (the reference's PeerInfo).
struct RaftReplica {
  std::string peer;  // node id
  bool current = false;
  int64_t active_ns = 0;  // since last heard from
  uint64_t lag = 0;
};

struct RaftStatus {
  std::string leader;  // node id; empty while unknown
  bool is_leader = false;
  bool bootstrapped = false;
  uint64_t term = 0;  // current term (0 before the node starts)
  uint64_t commit = 0, applied = 0, last_index = 0, snapshot_index = 0;
  std::vector<RaftReplica> replicas;  // leader only; every member but the leader
};

struct RaftGroupTiming {
  int election_ticks = 10;  // x the owner's tick (100 ms): 1-2 s without a leader
  int heartbeat_ticks = 2;
  bool sync_appends = true;  // fdatasync every log append (see LogStore::set_sync_appends)
};

class RaftGroup : public std::enable_shared_from_this<RaftGroup> {
 public:
  using Clock = std::chrono::steady_clock;
  struct Hooks {
    // A committed proposal (loop thread, no lock held, log order; the proposals batched into
    // one entry share its index).
    std::function<void(const raft::Entry&)> apply;
    // The known leader changed (node id, empty when none); after the entries committed in
    // the same step were applied.
    std::function<void(const std::string& leader, bool self)> leader_changed;
    // Reset the state machine to a snapshot (installed from the leader, or the stored one
    // after a restart), before the entries that follow it are applied.
    std::function<void(const raft::Snapshot&)> restore;
    // Called on every tick while the group has no membership yet (the meta group discovers
    // its peers here); returns nothing, may call bootstrap().
    std::function<void()> unbootstrapped_tick;
    // Called on every tick once the node runs, after it (loop thread, no lock held).
    std::function<void()> tick;
  };

  RaftGroup(Server& server, Account& sys, std::string name, std::string self_id, std::string store_dir,
            net::EventLoop& loop, RaftGroupTiming timing, Hooks hooks);
  ~RaftGroup();
  RaftGroup(const RaftGroup&) = delete;
  RaftGroup& operator=(const RaftGroup&) = delete;

  const std::string& name() const { return name_; }
  const std::string& self_id() const { return self_id_; }
  net::EventLoop& loop() const { return loop_; }

  // Opens the store and subscribes; if the store holds a membership, starts the node from
  // it. Throws on store errors.
  void open();
  // Starts the node with `peers` (fresh: save them and campaign at once, as the reference
  // does on a new group). Loop thread, or before the group is ticked. False on store errors
  // or when self is not a member.
  // first_campaign_ticks: 0 campaigns at once; N > 0 campaigns within [1, N] ticks, drawn at
  // random (the meta group, whose members all bootstrap in the same tick or so).
  bool bootstrap(raft::PeerState ps, bool fresh, int first_campaign_ticks = 0);
  bool bootstrapped() const;
  // Starts the node as a server being added to a running group (no membership of its own:
  // it waits for the leader to add it and learns the membership from the log). Persisted,
  // so a restart resumes the same way. Loop thread.
  bool join();
  // Unsubscribes and stops all work; with remove_files, deletes the store directory (also
  // of a group halt_applying_rest() stopped before).
  void stop(bool remove_files);
  // For a group halted for good on a server whose state machine lives on without it (the
  // kept server of a scale-down to R1): takes no more Raft messages, hands every entry it
  // knows committed and has not applied yet to Hooks::apply, waits for an apply in progress
  // on another thread, and only then stops (files kept). Not from inside a hook. Returns
  // the proposals in its log past that (not known committed here): what this server would
  // commit as the group's only member.
  std::vector<raft::Entry> halt_applying_rest();

  // Thread-safe. Queues `data` for the log; queued proposals are handed to the node together
  // on the loop (one durable append for all of them). False when not leader now.
  bool propose(std::string data);
  // Leader only (false otherwise): hands leadership to a current follower (TimeoutNow), or
  // steps down when none is eligible.
  bool step_down();
  // Leader only: a single-server membership change (the new server joins as a learner and
  // is promoted once caught up). Runs on the loop; `done(ok)` is called there (ok false when
  // refused: not leader, another change in flight, already a member / not a member).
  void add_peer(const std::string& id, std::function<void(bool)> done = {});
  void remove_peer(const std::string& id, std::function<void(bool)> done = {});
  // Voters and learners of the latest configuration (empty before the node starts).
  raft::Membership membership() const;
  // After applying everything up to `index`: `data` is the state machine as of there; the log
  // prefix up to index is dropped (a follower that needs it gets the snapshot instead).
  // Thread-safe (runs on the loop).
  void compact(raft::Index index, std::string data);
  bool is_leader() const;
  // Lock-free (hooks may call it): while false this member votes but never campaigns (see
  // raft::RaftNode::set_campaign_allowed); takes effect on the next message or tick.
  void set_campaign_allowed(bool allowed) { may_campaign_ = allowed; }
  std::string leader() const;
  // The leader, or a follower that heard from the leader within `within`.
  bool current(std::chrono::milliseconds within = std::chrono::milliseconds(2000)) const;
  RaftStatus status() const;
  // Only inside Hooks::leader_changed when self became leader: the proposals that were in the
  // log past the applied index at that moment (a new leader continues after what its
  // predecessor had proposed).
  const std::vector<raft::Entry>& unapplied_entries() const { return elected_unapplied_; }
  // Only inside Hooks::apply: whether this server led the group when it learnt the entry
  // committed, i.e. it is the one that committed it (a leader's commits are handed out in the
  // drain of the step that made them). The client's answer for a committed proposal comes
  // from there, as the reference's leader answers on apply: a proposal its proposer did not
  // live to see committed (leader change, leader transfer of a move) is answered by the
  // leader that committed it. Two leaders may both answer the entries the new leader saw
  // committed only in its own term; a duplicate reply is harmless, a missing one is not.
  bool applying_as_leader() const { return applying_as_leader_; }
  // Members (node ids) once bootstrapped.
  std::vector<std::string> peers() const;
  raft::Index match_index(const std::string& peer) const;
  std::map<std::string, Clock::time_point> last_heard() const;
  // Lock-free: the last index whose entries Hooks::apply (or restore) has returned from.
  // status().applied counts an entry as soon as it is handed out, before its hook has run.
  raft::Index applied_through() const { return applied_through_.load(std::memory_order_acquire); }

  // Owner's tick (loop thread).
  void tick();
  // Thread-safe: this server's connection to the server of node id `peer` closed (its
  // process died, or the link dropped). If that is the leader we follow, campaign within a
  // few ticks instead of an election timeout (raft::RaftNode::leader_lost). Runs on the loop,
  // after the messages that arrived before the close.
  void peer_connection_lost(const std::string& peer);

  // Test-only partitions (NATSCPP_TEST_HOOKS): every group of `server` drops Raft messages
  // from and to these node ids. Client traffic is untouched.
  static void set_blocked_peers(const Server* server, std::vector<std::string> peers);

 private:
  void on_wire(std::string_view payload);
  void stop_now(bool remove_files);
  bool blocked(const std::string& peer) const;
  void flush_proposals();
  void change_peer(const std::string& id, bool add, std::function<void(bool)> done);
  bool start_node(raft::PeerState ps, bool fresh, int first_campaign_ticks = 0);
  void drain(std::unique_lock<std::mutex>& lk);
  std::string vote_subject() const;
  std::string append_subject() const;
  std::string reply_subject(const std::string& id) const;

  Server& server_;
  Account& sys_;
  const std::string name_, self_id_, dir_;
  net::EventLoop& loop_;
  const RaftGroupTiming timing_;
  Hooks hooks_;
  std::atomic<bool> stopped_{false};
  std::vector<SubscriptionPtr> subs_;

  std::mutex qmu_;  // proposal queue
  std::vector<std::string> queued_;

  std::atomic<bool> leader_flag_{false};
  std::atomic<bool> may_campaign_{true};
  std::mutex apply_mu_;
  std::vector<raft::Entry> elected_unapplied_;  // guarded by apply_mu_
  bool applying_as_leader_ = false;              // guarded by apply_mu_
  std::atomic<raft::Index> applied_through_{0};  // written holding apply_mu_

  mutable std::mutex mu_;  // everything below
  std::unique_ptr<raft::LogStore> store_;
  std::unique_ptr<raft::RaftNode> node_;
  std::map<std::string, Clock::time_point> last_heard_;
  Clock::time_point started_at_ = Clock::now();
  std::string last_leader_;
  raft::Index applied_ = 0;
};

using RaftGroupPtr = std::shared_ptr<RaftGroup>;

}  // namespace nats::jetstream
