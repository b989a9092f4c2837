#pragma once
// A replicated (R>1) stream on one of its peers: the stream's Raft group and the stream it
// drives. The asset manager (meta state machine) starts one on every server of the stream's
// peer set; they elect a leader among themselves.
//
//  - The Raft leader is the stream leader: only it subscribes the stream's subjects; it
//    checks each publish (dedupe, expected-* headers, sizes) against what it has proposed,
//    numbers it and proposes it. Publishes that queue up while an append is in flight go to
//    the log together (RaftGroup batches proposals).
//  - Every replica stores a committed message with the leader's sequence and timestamp; the
//    PubAck leaves only then (a quorum has the entry durably), from the leader that committed
//    it (RaftGroup::applying_as_leader), not necessarily the one that proposed it.
//  - Purge, message delete and config updates are log entries too.
//  - A new leader continues from its log: what was proposed but not yet applied keeps its
//    sequences. A restarted replica replays its log and skips what its store already has.
//  - Compaction: every few thousand entries or few MiB a replica flushes its store and compacts
//    its log to a snapshot {first_seq, last_seq, clfs}. A replica handed a snapshot beyond its store (it fell
//    behind the leader's compaction) catches up the missing messages from the leader over
//    `$NRG.CU.<group>` (request "from to", answers with batches) before it applies the entries
//    that follow, which wait meanwhile (stream_group_catchup.cpp). Until then it votes but
//    does not campaign: its log looks as complete as the others' to Raft, its store is not.
//
// Log entry formats (ours; u8 op first, fields as raft/wire.h's uvarint and str):
//   1 msg:    seq, ts, str subject, str reply, str headers, str payload, str proposer
//             (seq: the leader's proposal number; stored at seq - clfs, see Stream::apply_msg)
//   2 purge:  str filter, seq, keep, last_seq, answer_token
//   3 delete: seq, u8 erase, answer_token
//   (answer_token: the proposer's handle for answering its client on apply, see
//   Stream::purge; 0 for none, absent in entries of older builds)
//   4 update: str config JSON
#include <memory>
#include <string>
#include <vector>

#include "jetstream/api/errors.h"
#include "jetstream/cluster/cluster_info.h"
#include "jetstream/cluster/raft_group.h"
#include "jetstream/stream.h"
#include "jetstream/stream_config.h"

namespace nats::jetstream {

class JetStream;
struct JsAccount;

// ReplicaStatus and GroupStatus (what `cluster {leader, replicas}` renders) live in
// cluster_info.h with their JSON rendering.

class StreamGroup : public StreamReplicator, public std::enable_shared_from_this<StreamGroup> {
 public:
  // Starts (or, after a restart, resumes) this server's replica of a replicated stream.
  // `group` is the Raft group name (S-R3F-xxxxxxxx), `peers` the node ids of its members
  // (empty: join the running group, see start_replicated_stream).
  // The stream is registered in the account (STREAM.INFO, lookup_stream) like a local one.
  static std::shared_ptr<StreamGroup> start(JetStream& js, JsAccount& jsa, StreamConfig cfg, int64_t created_ns,
                                            const std::string& group, const std::vector<std::string>& peers,
                                            ApiError& err);
  // The running replica of a stream on this server, if any.
  static std::shared_ptr<StreamGroup> find(JetStream& js, const std::string& account, const std::string& stream);

  ~StreamGroup() override;

  // Stops the replica; with remove_files (stream deleted), its stream and log are deleted.
  // With apply_rest (the kept server of a scale-down to R1), the stream first applies every
  // entry its group knows committed (RaftGroup::halt_applying_rest): none is lost; then
  // the proposals past them (as the group's only member it commits them; their PubAcks
  // leave if it led); its stream files stay, its log goes.
  void stop(bool remove_files, bool apply_rest = false);

  const StreamPtr& stream() const { return stream_; }
  const RaftGroupPtr& group() const { return group_; }
  bool is_leader() const { return group_->is_leader(); }
  std::string leader_name() const;
  GroupStatus cluster_info() const;
  // `$JS.API.STREAM.LEADER.STEPDOWN`: false when not leader.
  bool step_down() override { return group_->step_down(); }
  // Fetching the messages a snapshot covers from the leader (see above).
  bool catching_up();
  // Test-only (NATSCPP_TEST_HOOKS): while paused, this server's replicas serve no catch-up.
  static void set_catchup_paused(const Server* server, bool paused);

  // StreamReplicator.
  bool propose_msg(uint64_t seq, int64_t ts, std::string_view subject, std::string_view reply,
                   std::string_view headers, std::string_view payload) override;
  bool propose_purge(std::string_view filter, uint64_t seq, uint64_t keep, uint64_t last_seq,
                     uint64_t answer_token) override;
  bool propose_delete(uint64_t seq, bool erase, uint64_t answer_token) override;
  bool propose_update(const StreamConfig& cfg) override;

 private:
  StreamGroup(JetStream& js, StreamPtr stream);
  void apply(const raft::Entry& e);
  // answer: this server committed the entry as leader (it sends the PubAck).
  void apply_now(const raft::Entry& e, bool answer);
  void on_leader_changed(bool self);
  void send_leader_elected();
  void subscribe_stepdown();

  // Compaction and catch-up (stream_group_catchup.cpp).
  void subscribe_catchup();
  void maybe_compact(raft::Index next_index);  // cu_mu_ held
  void compact_to(raft::Index done);           // cu_mu_ held; `done` and all before it applied
  void allow_campaign_locked();                // cu_mu_ held
  void restore(const raft::Snapshot& s);
  void serve_catchup(std::string_view reply, std::string_view body);  // leader
  void request_catchup();
  void on_catchup_batch(std::string_view payload);
  void finish_catchup();

  JetStream& js_;
  StreamPtr stream_;
  RaftGroupPtr group_;
  std::string self_id_;
  SubscriptionPtr stepdown_sub_;

  std::mutex cu_mu_;  // everything below; apply order while catching up
  bool catching_up_ = false;
  uint64_t catchup_target_ = 0;  // the snapshot's last sequence
  uint64_t catchup_round_ = 0;   // request number, for the retry timer
  std::vector<raft::Entry> deferred_;
  raft::Index applying_index_ = 0, compacted_index_ = 0;
  uint64_t bytes_since_compact_ = 0;  // proposal bytes applied since the last compaction
  // A committed message failed to store since the last compaction. The "already stored"
  // skip of a log replay can tell a failed entry from a stored one only while no stored
  // message follows it beyond the snapshot (a failed one replayed then fails again): so the
  // first message stored after a failure compacts the log up to itself, snapshot with clfs.
  bool failed_since_compact_ = false;
  std::vector<SubscriptionPtr> catchup_subs_;
};

using StreamGroupPtr = std::shared_ptr<StreamGroup>;

// The entry points the asset manager (meta state machine) calls for R>1 streams, on every
// server in sa.group.peers. start_replicated_stream registers the stream in jsa.streams
// itself; after a restart it takes over the stream restored from disk.
struct StreamAssignment;
// With `joining`, this server was added to a running group: it starts with no membership
// and waits for the group's leader to add it (and send it the stream's history).
StreamPtr start_replicated_stream(JetStream& js, JsAccount& jsa, const StreamAssignment& sa, ApiError& err,
                                  bool joining = false);
// Config change ordered by the meta log: applied on this replica directly.
ApiError update_replicated_stream(const StreamPtr& s, const StreamAssignment& sa);
// apply_rest: see StreamGroup::stop's apply_rest.
void stop_replicated_stream(const StreamPtr& s, bool delete_data, bool apply_rest = false);
// True for the group leader; also true for a stream that is not replicated.
bool is_group_leader(const StreamPtr& s);
GroupStatus group_status(const StreamPtr& s);
// The `cluster` facts of any replicated group (stream or consumer) as this server sees them.
GroupStatus raft_group_status(Server& server, const RaftGroup& group);

}  // namespace nats::jetstream
