#pragma once
// The JetStream meta group: one Raft group (`_meta_`) spanning every JetStream server of the
// supercluster, carried over `$NRG.*` internal subjects in the system account through routes
// and gateways. It elects the leader that places streams and consumers, and reports its
// state for /jsz meta_cluster, /healthz and STATSZ.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nats {
class Server;
}

namespace nats::jetstream {

class RaftGroups;

// One peer of the meta group as the leader sees it (the reference's PeerInfo).
struct MetaReplica {
  std::string name;  // server name, or "Server name unknown at this time (peerID: X)"
  std::string peer;  // 8-char node id (getHash(name))
  bool current = false;
  bool offline = false;
  int64_t active_ns = 0;  // time since the peer was last heard from
  uint64_t lag = 0;
};

// What /jsz meta_cluster, /varz and STATSZ report. `replicas` is filled only on the leader
// and excludes the leader itself (as the reference).
struct MetaSnapshot {
  std::string cluster_name;  // this server's cluster name
  std::string leader;        // leader's server name, empty when unknown
  std::string leader_peer;   // leader's node id, empty when unknown
  std::string self_peer;     // this server's node id
  int cluster_size = 0;      // expected size (0 before the group is bootstrapped)
  uint64_t pending = 0;
  bool is_leader = false;
  std::vector<MetaReplica> replicas;
};

class MetaGroup {
 public:
  explicit MetaGroup(Server& server);
  ~MetaGroup();
  MetaGroup(const MetaGroup&) = delete;
  MetaGroup& operator=(const MetaGroup&) = delete;

  void start();
  void shutdown();

  // Every Raft group of this server (replicated streams and consumers join it); null before
  // start() or without a system account.
  RaftGroups* raft_groups() const;

  // Whether this server is the meta leader right now (the JetStream API's "answer or stay
  // silent" rule in clustered mode).
  bool is_leader() const;
  // The leader's server name; empty while no leader is known.
  std::string leader_name() const;
  // Whether a leader is known (its name may not be yet, right after a restart).
  bool leader_known() const;
  // The leader, or a follower that heard from the leader recently (the reference's
  // Healthy()); /healthz reports "not current" otherwise.
  bool current() const;
  // A read barrier for answers the leader's state decides (e.g. "consumer not found" for a
  // consumer not created here yet): the meta log index this server must have applied to hold
  // every entry the leader had committed at `since` (meta_read_index.h); nullopt while not
  // known yet (the follower asked the leader: ask again shortly).
  std::optional<uint64_t> read_index_since(std::chrono::steady_clock::time_point since) const;
  // The last meta log index whose entries the apply handler has returned from.
  uint64_t applied_index() const;
  MetaSnapshot snapshot() const;

  // Hook for the replicated state machine: called in log order (on the meta group's thread,
  // without the meta lock held) for every committed normal entry. Stream and consumer
  // assignments will go through here.
  using ApplyFn = std::function<void(const std::string& data)>;
  void set_apply_handler(ApplyFn fn);
  // Leader only: replicate `data` through the meta log. Returns false when not leader.
  bool propose(std::string data);
  // Leader only: give up leadership (`$JS.API.META.LEADER.STEPDOWN`). Returns false if not leader.
  bool step_down();

  // Meta snapshots: every so many applied entries the log is compacted to snapshot_fn()
  // (the state machine as of the last applied entry, called on the meta group's thread in
  // apply order); restore_fn replaces the state machine with a snapshot (installed from the
  // leader or, after a restart, the stored one) before the entries after it are applied.
  using SnapshotFn = std::function<std::string()>;
  using RestoreFn = std::function<void(const std::string& blob)>;
  void set_snapshot_handlers(SnapshotFn snapshot_fn, RestoreFn restore_fn);

  // Membership. The leader adds every online JetStream server the $SYS directory knows that
  // is not a member (a server that joins later); removed servers are never added again.
  // `$JS.API.SERVER.REMOVE` (system account, leader only): remove_fn proposes the removal
  // through the meta log (so every server learns it); once applied, note_removed(id) is
  // called on every server and the leader takes the server out of the Raft membership.
  using RemoveFn = std::function<bool(const std::string& peer_id)>;
  void set_server_remove_handler(RemoveFn fn);
  void note_removed(const std::string& peer_id);
  // Called every few ticks on the meta group's thread, on every server once the group runs
  // (replicated streams reconcile their peers from it).
  void set_tick_handler(std::function<void()> fn);
  // Voters and learners (node ids); empty before the group runs.
  std::vector<std::string> members() const;
  // The server name of a node id, empty when unknown.
  std::string name_of(const std::string& peer_id) const;
  // A route or gateway connection to the server named `server_name` closed (any thread):
  // the Raft groups it leads here campaign early instead of waiting for their election
  // timeouts (fast failover after a crash; a partition without a closed socket still takes
  // the timeout).
  void peer_connection_lost(const std::string& server_name);
  // The same for a connection that knows the remote server's ID only (gateways): the name
  // comes from the $SYS server directory; unknown IDs are ignored.
  void server_connection_lost(const std::string& server_id);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with callbacks posted to the event loop
};

}  // namespace nats::jetstream
