#pragma once
// A replicated (R>1) consumer on one of its peers: the consumer's own Raft group
// ("C-R3F-xxxxxxxx", peers taken from its stream's peers) and the consumer it drives. The
// meta log places it (ConsumerAssignment); every peer starts one; they elect a leader.
//
//  - Only the group leader delivers (push and pull) and takes acks: its Consumer subscribes
//    the ack, next-request and flow-control subjects; followers' consumers stay passive.
//  - The leader proposes what it did: each delivery (cseq, sseq, delivery count, time), each
//    ack or term, each new ack deadline (nak, work in progress). Every replica applies the
//    committed entries to `committed_` (a ConsumerState over its local stream copy), and a
//    follower mirrors them into its consumer so its info reads right.
//  - On a work-queue stream every replica removes a message once its ack is committed; on an
//    interest stream, once no consumer's committed state still needs it (as the reference).
//    Also when the ack comes first (this replica's stream stores the message after the ack
//    applied) or comes inside a snapshot: stream_retention.cpp.
//    Such consumers run on all the stream's peers, so their copies end up alike: each
//    replica applies every consumer's committed acks, and whichever ack applies last there
//    removes the message.
//  - An AckSync (+ACK with a reply) is answered by the leader once its ack entry commits:
//    an ack the client saw confirmed is on a quorum.
//  - A new leader takes over the committed state plus the entries it has past its applied
//    index (its predecessor's proposals, which it will commit), so a durable resumes from
//    its ack floor; pending messages are redelivered when their ack deadline passes. Pull
//    requests waiting at the old leader are gone: clients re-issue them (as the reference).
//  - Compaction: every so many entries a replica compacts its log to a snapshot of the
//    committed state; a replica handed that snapshot takes it over. A restarted replica
//    replays its snapshot and log: the log is the consumer's durable state (no o.dat).
//
// Log entry formats (ours; u8 op first, then raft/wire.h uvarints and strs):
//   1 delivered: cseq, sseq, dc, ts
//   2 ack:       cseq, sseq, u8 term, str reply, str proposer
//   3 deadline:  sseq, deadline (unix ns)
//   4 start:     sseq (the leader's start position before its first delivery)
//   5 request:   u8 add, str reply, expires (unix ns, 0: none) — waiting pull requests
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "jetstream/api/errors.h"
#include "jetstream/cluster/cluster_info.h"
#include "jetstream/cluster/raft_group.h"
#include "jetstream/consumer.h"

namespace nats::jetstream {

class JetStream;
struct ConsumerAssignment;

// A consumer state as JSON (compaction snapshots; the state an R1 durable takes along when it
// moves to another server, r1_handoff.h): `started` and waiting pull `requests` besides.
nlohmann::json consumer_snapshot_json(const ConsumerSnapshot& s, bool started,
                                      const std::map<std::string, int64_t>& requests);
bool consumer_snapshot_from_json(std::string_view blob, ConsumerSnapshot& s, bool& started,
                                 std::map<std::string, int64_t>& requests);

class ConsumerGroup : public ConsumerReplicator, public std::enable_shared_from_this<ConsumerGroup> {
 public:
  // Starts (or after a restart resumes) this server's replica of `ca` on its local copy of
  // the stream, registering the consumer with the stream. `create_reply` (may be empty): the
  // create request's reply subject, answered with the consumer info by whichever peer
  // becomes the group's first leader. The consumer followed its stream's peers:
  //  - join: this server was added to the running group; it waits for the leader to add it
  //    and catches up from the leader's log or snapshot;
  //  - seed: the plain (R1) consumer of that name here becomes a group of this server alone
  //    that starts from its state; seed_log() then puts that state into the log so the
  //    servers that join next copy it.
  enum class Start { fresh, join, seed };
  static std::shared_ptr<ConsumerGroup> start(JetStream& js, const StreamPtr& stream, const ConsumerAssignment& ca,
                                              std::string create_reply, ApiError& err, Start mode = Start::fresh);
  static std::shared_ptr<ConsumerGroup> find(JetStream& js, const std::string& account, const std::string& stream,
                                             const std::string& consumer);
  ~ConsumerGroup() override;
  // Shutdown: drops this server's replicas (files and logs stay).
  static void release_all(JetStream& js);

  // Stops the replica and removes its consumer from the stream; with remove_files (the
  // consumer was deleted) its Raft log goes too.
  void stop(bool remove_files);

  const ConsumerPtr& consumer() const { return consumer_; }
  // The state this replica applied from its log (a plain consumer taking over after a
  // scale down starts from it).
  ConsumerSnapshot committed_snapshot() const;
  // The committed state plus `rest`, the proposals its halted group had past it
  // (RaftGroup::halt_applying_rest): the state the one server kept at a scale-down to R1
  // continues from, as a new leader takes over its predecessor's proposals.
  ConsumerSnapshot final_snapshot(const std::vector<raft::Entry>& rest) const;
  // A seeded group's leader, once it applied an entry: compacts its log to a snapshot of the
  // committed state. True when done (or nothing to do).
  bool seed_log();
  // A config update ordered by the meta log (check_consumer_update passed): the live
  // consumer and the committed state (ack wait, backoff) take it.
  void update_config(const ConsumerConfig& cfg);
  const RaftGroupPtr& group() const { return group_; }
  bool is_leader() const { return group_ && group_->is_leader() && consumer_->is_leader(); }
  // A leader is known to this replica.
  bool has_leader() const { return group_ && !group_->leader().empty(); }
  GroupStatus cluster_info() const;
  // `$JS.API.CONSUMER.LEADER.STEPDOWN`: hands leadership to a current follower. False when
  // not leader.
  bool step_down() { return group_ && group_->step_down(); }

  // ConsumerReplicator (the leader's consumer).
  void propose_delivered(uint64_t cseq, uint64_t sseq, uint64_t dc, int64_t ts) override;
  bool propose_ack(bool term, uint64_t sseq, uint64_t cseq, std::string_view reply) override;
  void propose_deadline(uint64_t sseq, int64_t deadline) override;
  void propose_request(std::string_view reply, int64_t expires_at, bool add) override;
  bool committed_needs_ack(uint64_t seq, std::string_view subject) const override;

 private:
  ConsumerGroup(JetStream& js, StreamPtr stream, ConsumerPtr consumer);
  void apply(const raft::Entry& e);
  // Applies one entry to `st` (committed_ or a copy); an ack's reply and proposer come back,
  // and in `acked` the stream sequences it removed from the pending ones (an AckAll: many).
  static bool apply_to(ConsumerState& st, std::string_view data, bool& started, std::string* reply,
                       std::string* proposer, std::vector<uint64_t>* acked);
  // A request entry (op 5) applied to `requests`; false for every other entry.
  static bool apply_request(std::map<std::string, int64_t>& requests, std::string_view data);
  void on_leader_changed(const std::string& leader, bool self);
  // Inside leader_changed (mu_ held, group_ set): the committed state plus the entries past
  // it, with its start flag and waiting requests.
  ConsumerState latest_locked(bool& started, std::map<std::string, int64_t>& requests) const;
  void restore(const raft::Snapshot& s);
  void maybe_compact(raft::Index next_index);  // mu_ held
  void answer_create();

  JetStream& js_;
  StreamPtr stream_;
  ConsumerPtr consumer_;
  RaftGroupPtr group_;
  std::string self_id_;

  mutable std::mutex mu_;   // everything below
  ConsumerState committed_;
  bool started_ = false;  // a start position or a delivery is in the log
  bool seeding_ = false;  // started from a plain consumer's state not yet in the log
  raft::Index applying_index_ = 0, compacted_index_ = 0;
  std::string create_reply_;
  std::map<std::string, int64_t> requests_;  // waiting pull requests at the leader: reply -> expiry
};

using ConsumerGroupPtr = std::shared_ptr<ConsumerGroup>;

}  // namespace nats::jetstream
