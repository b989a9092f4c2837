#pragma once
// One JetStream stream on this server: its configuration, its MessageStore, the internal
// subscriptions that ingest published messages, the PubAck/expected-header/dedupe logic, and
// the retention bookkeeping the consumers drive.
//
// How the consumer layer hooks in (src/jetstream/consumer*):
//  - Find a stream with JetStream::lookup_stream(account, name) (a shared_ptr; a deleted
//    stream stays valid while held, but is_deleted() turns true).
//  - Implement StreamConsumer and register it with Stream::add_consumer(); remove it with
//    remove_consumer(name). Stream::consumer_count()/consumers() feed STREAM.INFO and the
//    account info. The max_consumers limit and workqueue filter uniqueness are checked by
//    the consumer layer (config() and consumers() give what it needs).
//  - After every stored message, Stream calls on_new_message(seq, subject) on each consumer,
//    on the publishing thread, with no stream lock held. Keep it short: wake your deliverer.
//  - Read messages straight from store() (the store is thread-safe): load_next_msg(filter,
//    seq), load_msg(seq), state(). Sequences only grow; purge/compact/limits can remove any.
//  - Stream never calls a consumer while holding its own lock; call Stream functions
//    without holding your consumer lock (ack_for_retention asks the other consumers).
//  - Retention: on ack, call ack_for_retention(seq, *this). Workqueue streams remove the
//    message; interest streams remove it once no registered consumer needs_ack() it. Limits
//    streams ignore it. When a consumer is removed from an interest stream,
//    remove_consumer() re-checks the messages it was holding.
//  - Deleting the stream calls on_stream_deleted() on every consumer (without stream lock),
//    purging calls on_stream_purged(first_seq).
//  - Persist consumer state under dir() + "/obs/<consumer>/" (file streams; dir() is "" for
//    memory streams). On restart, JetStream restores streams and then calls
//    restore_consumers() (see api/api_router.h for the consumer API hook).
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jetstream/api/errors.h"
#include "jetstream/group_commit.h"
#include "jetstream/store/message_store.h"
#include "jetstream/stream_config.h"
#include "subject/subscription.h"

namespace nats {
class Server;
class Account;
}  // namespace nats

namespace nats::jetstream {

class FileStore;
class Republisher;
class StreamSourcing;

class JetStream;

class StreamConsumer {
 public:
  virtual ~StreamConsumer() = default;
  virtual std::string consumer_name() const = 0;
  virtual std::string filter_subject() const = 0;  // "" = every subject of the stream
  // A message was stored (publishing thread, no stream lock held).
  virtual void on_new_message(uint64_t seq, std::string_view subject) = 0;
  // Interest retention: true while this consumer still needs seq (its filter matches and it
  // has not acked it). Called without the stream lock, possibly from another consumer's
  // ack path: take only your own lock.
  virtual bool needs_ack(uint64_t seq, std::string_view subject) const = 0;
  // Messages below first_seq may be gone (purge, compact).
  virtual void on_stream_purged(uint64_t first_seq) {}
  // The stream is being deleted; drop state and stop delivering.
  virtual void on_stream_deleted() {}
};

using StreamConsumerPtr = std::shared_ptr<StreamConsumer>;

// The replication hook of an R>1 stream (implemented by jetstream/cluster/stream_group.cpp).
// The leader checks a publish as a local stream would, numbers it and proposes it; every
// replica stores it when the log commits it (Stream::apply_*). The propose_* calls are made
// with the stream lock held (they only queue), so log order is sequence order.
class StreamReplicator {
 public:
  virtual ~StreamReplicator() = default;
  virtual bool propose_msg(uint64_t seq, int64_t ts, std::string_view subject, std::string_view reply,
                           std::string_view headers, std::string_view payload) = 0;
  // last_seq: the leader's last proposed sequence (a replayed purge older than the store's
  // state is skipped).
  // answer_token: non-zero when the proposer waits for the entry's apply to answer its client
  // (Stream::apply_purge / apply_delete hand it back).
  virtual bool propose_purge(std::string_view filter, uint64_t seq, uint64_t keep, uint64_t last_seq,
                             uint64_t answer_token) = 0;
  virtual bool propose_delete(uint64_t seq, bool erase, uint64_t answer_token) = 0;
  virtual bool propose_update(const StreamConfig& cfg) = 0;
  // Leader only: hand leadership to another replica (false when not leader).
  virtual bool step_down() = 0;
};

// Result of storing one message through the ingest path (also used by tests).
struct PubResult {
  ApiError error;  // empty on success
  uint64_t seq = 0;
  bool duplicate = false;
};

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  // Opens (or creates) the store; dir is <store_dir>/jetstream/<account>/streams/<name> for
  // file storage. Returns null and sets err on failure.
  // memory: a memory store to go on with (a memory stream's replica scaled down to R1, see
  // hand_over_memory); its limits become cfg's.
  static std::shared_ptr<Stream> create(JetStream& js, Account& account, StreamConfig cfg, int64_t created_ns,
                                        ApiError& err, std::unique_ptr<MessageStore> memory = nullptr);
  ~Stream();

  const std::string& name() const { return name_; }
  Account& account() const { return account_; }
  Server& server() const;
  JetStream& jetstream() const { return js_; }
  StreamConfig config() const;
  RetentionPolicy retention() const;
  StorageType storage_type() const { return storage_; }
  int64_t created_ns() const { return created_ns_; }
  const std::string& dir() const { return dir_; }
  MessageStore& store() { return *store_; }
  // A restore (snapshot/snapshot_api.h): fill stores messages with their own sequences and
  // times, the stream's limits lifted meanwhile (they apply again after).
  void restore_messages(const std::function<void(MessageStore&)>& fill);
  bool is_deleted() const { return deleted_.load(); }

  // Consumers.
  void add_consumer(StreamConsumerPtr c);
  void remove_consumer(const std::string& name);
  StreamConsumerPtr lookup_consumer(const std::string& name) const;
  std::vector<StreamConsumerPtr> consumers() const;
  size_t consumer_count() const;
  void ack_for_retention(uint64_t seq, const StreamConsumer& by);
  // A replica's consumer state taken over whole (a Raft snapshot of its group): every stored
  // message up to `upto` that `by` matches and no longer needs goes through
  // ack_for_retention, as if its ack had been applied here (stream_retention.cpp).
  void release_acked(const StreamConsumer& by, uint64_t upto);

  // Ingest: the whole PUB path (headers checks, dedupe, store, PubAck), as the internal
  // subscription calls it. Replies on `reply` when set and not no_ack.
  void process_inbound(std::string_view subject, std::string_view reply, std::string_view headers,
                       std::string_view payload);
  // Same without replying; returns what the PubAck would carry.
  PubResult store_inbound(std::string_view subject, std::string_view headers, std::string_view payload);

  // API operations (the API layer validates the request first).
  ApiError update(StreamConfig cfg);
  // Purge and message delete: `done` gets the result once the change is in place (at once for
  // a plain stream; a replicated one's leader proposes it and calls `done` on the applying
  // thread, without the stream lock, once this server applies the entry, so the API answers
  // after the change as the reference's leader does). False: a replica that is not the
  // leader, or the proposal failed. A proposal whose entry never reaches this server's apply
  // (leadership lost) is not answered, as on the reference.
  bool purge(std::string_view filter, uint64_t seq, uint64_t keep, std::function<void(uint64_t)> done);
  bool delete_msg(uint64_t seq, bool erase, std::function<void(StoreErr)> done);
  // Stops ingest, closes the store; with remove_files, deletes dir(). Notifies consumers.
  void stop(bool remove_files);
  // A stopped memory stream's messages, for the stream that replaces it here (nothing on disk
  // would bring them back); this one keeps an empty store. Null for a file stream.
  std::unique_ptr<MessageStore> hand_over_memory();
  // Subscribe the stream's subjects in its account.
  void subscribe();

  // Replication (R>1). With a replicator, client publishes are taken only while leader
  // (set_leader subscribes the subjects; followers are unsubscribed) and purge, delete and
  // update go through the log; the stream group applies committed entries with apply_*.
  void set_replicator(std::shared_ptr<StreamReplicator> r);
  // Drops the replicator at shutdown: it holds this stream, so the pair would otherwise keep
  // each other alive past the server's end (released outside mu_: its destructor reads us).
  void release_replicator();
  bool replicated() const;
  bool is_leader() const;
  // last_seq: the highest sequence already proposed (log entries not yet applied included);
  // pending: their Nats-Msg-Id headers with sequence and time, so a client's retry of one of
  // them is answered as a duplicate by the new leader.
  struct PendingId {
    std::string id;
    uint64_t seq;
    int64_t ts;
    std::string source;  // its Nats-Stream-Source value ("" when not sourced)
  };
  void set_leader(bool leader, uint64_t last_seq, const std::vector<PendingId>& pending = {});
  // A committed message (every replica, log order). `pseq` is the leader's proposal number;
  // the message is stored at pseq minus the committed messages that failed to store before
  // it (failed_count(), the reference's clfs), so a publish the store rejects at apply (per
  // subject limit, discard new, ...) leaves no gap. One the store already has (the log is
  // replayed after a restart) is skipped and reported as stored. A failure counts only for
  // a stream that is not a mirror (a mirror stores at its origin's sequences).
  PubResult apply_msg(uint64_t pseq, int64_t ts, std::string_view subject, std::string_view headers,
                      std::string_view payload);
  // A message fetched by a catch-up: stored at its (stored) sequence, no failure counted.
  PubResult apply_caught_up(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                            std::string_view payload);
  // The committed messages that failed to store (carried by stream snapshots as "clfs").
  uint64_t failed_count() const;
  void set_failed_count(uint64_t n);
  uint64_t apply_purge(std::string_view filter, uint64_t seq, uint64_t keep, uint64_t last_seq,
                       uint64_t answer_token = 0);
  void apply_delete(uint64_t seq, bool erase, uint64_t answer_token = 0);
  void apply_update(StreamConfig cfg);
  void send_pub_ack(std::string_view reply, const PubResult& r);

  // Mirrors and sources (stream_source.h). The position a new origin consumer starts from:
  // the last sequence and time stored (a leader's proposals included); empty: nothing ever.
  struct SourcingPosition {
    uint64_t last_seq = 0;
    int64_t last_ts = 0;
    bool empty = true;
  };
  SourcingPosition sourcing_position();
  // Sources: the origin sequence of the newest stored message from the source `iname`
  // (its Nats-Stream-Source header), scanning back from the last message.
  std::optional<uint64_t> last_sourced_seq(const std::string& iname);
  // Mirror: stores (or, replicated, proposes) a message at the origin's sequence and time.
  // False when it cannot follow what is stored (the caller recreates its consumer).
  bool store_mirrored(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                      std::string_view payload);
  // Sources: stores it as a publish without a reply (dedupe and limits apply). A message
  // from source `iname` at or below what this leader already proposed from it is skipped.
  bool store_sourced(const std::string& iname, uint64_t origin_seq, std::string_view subject,
                     std::string_view headers, std::string_view payload);
  // STREAM.INFO "mirror" / "sources" (null when the stream does not run any here).
  nlohmann::ordered_json mirror_info() const;
  nlohmann::ordered_json sources_info() const;

  // STREAM.INFO "state" (with optional per-subject counts and deleted list).
  nlohmann::ordered_json state_json(bool deleted_details, std::string_view subjects_filter);
  // Writes meta.inf (config + created) for file streams.
  void write_meta();
  // After a restart: the Nats-Msg-Id table (and the last message's id) is refilled from
  // the stored messages still inside the duplicate window, lazily, as the reference: the
  // first publish that needs it pays for the read, not the start-up.
  void restore_dedupe_later();

 private:
  Stream(JetStream& js, Account& account, StreamConfig cfg, int64_t created_ns);
  void unsubscribe_locked();
  void check_interest(const std::vector<StreamConsumerPtr>& consumers);
  void prune_dedupe_locked(int64_t now);
  // The ingest checks (sealed, headers, dedupe, expected-*, sizes) against `last_seq` (the
  // store's, or the leader's last proposed). Sets r.error or r.duplicate when the message
  // must not be stored; fills msg_id.
  void check_inbound_locked(std::string_view subject, std::string_view headers, std::string_view payload,
                            uint64_t last_seq, PubResult& r, std::string& msg_id);
  void record_msg_id_locked(const std::string& msg_id, uint64_t seq, int64_t ts);
  // Reads the stored messages inside the duplicate window into the table, once, if
  // restore_dedupe_later asked for it.
  void ensure_dedupe_locked();
  // After a message is stored: rollups, interest retention, consumer wake-ups (no lock held).
  void after_store(uint64_t seq, std::string_view subject, std::string_view headers,
                   const std::vector<StreamConsumerPtr>& consumers, bool interest_retention);
  // A replicated stream's message just stored that a consumer's committed state already
  // acknowledged (its group applied the ack before this replica's stream had the message, so
  // the ack removed nothing): the retention it missed (stream_retention.cpp).
  void drop_if_acked(uint64_t seq, std::string_view subject, RetentionPolicy retention,
                     const std::vector<StreamConsumerPtr>& consumers);
  void ingest_as_leader(std::string_view subject, std::string_view reply, std::string_view headers,
                        std::string_view payload);
  PubResult apply_committed(uint64_t seq, bool proposed, int64_t ts, std::string_view subject,
                            std::string_view headers, std::string_view payload);
  // Group commit (see group_commit_): store now, acknowledge after the fsync that covers it.
  using PendingAck = std::pair<std::string, PubResult>;  // reply, result
  void store_for_group_commit(std::string_view subject, std::string_view reply, std::string_view headers,
                              std::string_view payload);
  using AckCommitQueue = GroupCommitQueue<PendingAck, StoreErr>;
  void commit_acks(std::vector<PendingAck>& acks);  // one fsync, then the PubAcks
  // Committer thread, once the fsync covering acks returned e: the PubAcks (errors if e failed).
  void send_committed_acks(std::vector<PendingAck>& acks, StoreErr e);
  // RePublish (stream_republish.cpp). Under mu_, before a message is stored: where it goes
  // and its subject's previous sequence, if this server republishes it.
  struct RepublishPlan {
    std::string dest;
    uint64_t last_seq = 0;
  };
  std::optional<RepublishPlan> plan_republish_locked(std::string_view subject);
  // Under mu_, once stored: queue it (in store order) ...
  void queue_republish_locked(const RepublishPlan& plan, uint64_t seq, std::string_view subject,
                              std::string_view headers, std::string_view payload);
  // ... and send the queue without any lock held (the send may deliver into other streams).
  void flush_republish();
  // Runs the configured mirror/sources while this server leads the stream, restarting them
  // when their configuration changed; stop_sourcing ends them (never with mu_ held).
  void start_sourcing();
  void stop_sourcing();

  JetStream& js_;
  Account& account_;
  const std::string name_;
  const int64_t created_ns_;
  const StorageType storage_;  // fixed at creation (an update can not change it)
  std::string dir_;
  std::unique_ptr<MessageStore> store_;
  std::atomic<bool> deleted_{false};
  // sync_always: PubAcks of stored messages wait in committer_ for the fsync that covers
  // them (group commit, group_commit.h) instead of one fsync per message.
  FileStore* group_commit_ = nullptr;
  std::unique_ptr<AckCommitQueue> committer_;

  mutable std::mutex mu_;  // config, consumers, subscriptions, dedupe table; serialises ingest
  StreamConfig cfg_;
  std::vector<SubscriptionPtr> subs_;
  std::vector<StreamConsumerPtr> consumers_;
  // Nats-Msg-Id dedupe within duplicate_window: id -> (seq, ts), plus insertion order.
  std::unordered_map<std::string, std::pair<uint64_t, int64_t>> dedupe_;
  std::deque<std::pair<int64_t, std::string>> dedupe_order_;
  std::string last_msg_id_;
  bool dedupe_pending_ = false;   // restore_dedupe_later: the table is not read yet
  bool last_id_recorded_ = false;  // a message stored since the start set last_msg_id_
  // RePublish: fixed at creation (an update can not change it). The queue keeps store order
  // across publishing threads; one thread at a time drains it.
  std::unique_ptr<Republisher> republish_;
  struct RepublishMsg {
    std::string subject, headers, payload;
  };
  std::mutex republish_mu_;
  std::deque<RepublishMsg> republish_q_;
  bool republish_draining_ = false;
  // Replicated: the first sequence this leader proposed. Earlier ones were its predecessors'
  // to republish (they did as they applied them); republishing them again on a new leader
  // would send some twice across a step-down (at most once, as lightweight subscribers expect).
  uint64_t republish_from_ = 1;
  // Replication.
  std::shared_ptr<StreamReplicator> repl_;
  bool leader_ = false;
  // Leader: the last proposal number. Proposal numbers count every proposed message, the
  // ones that fail to store at apply too: stored sequence = proposal number - clfs_.
  uint64_t clseq_ = 0;
  uint64_t clfs_ = 0;   // committed messages that failed to store (every replica, log order)
  // Leader: purges and deletes proposed here, waiting for their apply (see purge, delete_msg).
  std::unordered_map<uint64_t, std::function<void(uint64_t, StoreErr)>> pending_answers_;
  std::function<void(uint64_t, StoreErr)> take_pending_answer(uint64_t token);
  uint64_t new_answer_token_locked();
  uint64_t next_answer_token_ = 0;
  int64_t clts_ = 0;    // leader: last proposed timestamp
  std::shared_ptr<StreamSourcing> sourcing_;
  // Leader of a replicated stream: per source, the highest origin sequence proposed (log
  // entries not yet applied included), so a new leader neither repeats nor skips them.
  std::unordered_map<std::string, uint64_t> source_proposed_;
  std::string sourcing_cfg_;  // the mirror/sources JSON sourcing_ runs
};

using StreamPtr = std::shared_ptr<Stream>;

}  // namespace nats::jetstream
