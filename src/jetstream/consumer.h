#pragma once
// A live JetStream consumer on one server: ConsumerState (the pure bookkeeping) plus its
// I/O — the ack subscription (`$JS.ACK.<stream>.<consumer>.>`), pull requests
// (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`) and their waiting queue, push delivery
// to the deliver subject while someone listens there, flow control, idle heartbeats,
// ack-wait redelivery, ephemeral inactivity cleanup, and the state file of durables.
//
// Threads: a new message only marks the consumer and posts one wake-up to the worker the
// consumer is pinned to (consumer_worker.h); delivery, timers and expiry run there, so a
// publisher never delivers to consumers on its own thread. Acks are applied on the acking client's thread
// (short, under the consumer lock). Lock order: stream lock, then consumer lock; the
// consumer never calls into Stream while holding its own lock.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "jetstream/consumer_config.h"
#include "jetstream/consumer_state.h"
#include "jetstream/stream.h"
#include "jetstream/consumer_worker.h"
#include "subject/subscription.h"

namespace nats {
class Server;
class Account;
}  // namespace nats

namespace nats::jetstream {

int64_t now_unix_ns();

// The replication hooks of a consumer that runs in its own Raft group (R>1, see
// cluster/consumer_group.h). Only the group leader delivers and takes acks; it proposes
// what it did. An ack's AckSync reply leaves once the ack is committed (the replicator
// sends it), so a confirmed ack survives the leader's death.
class ConsumerReplicator {
 public:
  virtual ~ConsumerReplicator() = default;
  virtual void propose_delivered(uint64_t cseq, uint64_t sseq, uint64_t dc, int64_t ts) = 0;
  // +ACK (term false) or +TERM; false when no longer leader (then nobody answers `reply`).
  virtual bool propose_ack(bool term, uint64_t sseq, uint64_t cseq, std::string_view reply) = 0;
  // A pending message's new ack deadline (-NAK, -NAK with delay, +WPI).
  virtual void propose_deadline(uint64_t sseq, int64_t deadline) = 0;
  // A pull request now waits (add) or was served in full: a new leader tells the ones still
  // waiting "409 Leadership Change", as the reference, so their clients ask it again.
  virtual void propose_request(std::string_view reply, int64_t expires_at, bool add) = 0;
  // Interest retention asks the committed state (the same on every replica), not the
  // leader's, which holds acks its group may never commit.
  virtual bool committed_needs_ack(uint64_t seq, std::string_view subject) const = 0;
};

class Consumer : public StreamConsumer, public std::enable_shared_from_this<Consumer> {
 public:
  Consumer(Server& server, StreamPtr stream, ConsumerConfig cfg, std::string name, int64_t created_ns);
  ~Consumer() override;

  // Sets the start position (or restores `restored`), subscribes and starts the timer.
  void start(const ConsumerSnapshot* restored = nullptr);
  // Unsubscribes, stops timers, tells waiting pull requests; persists a durable's state
  // unless `remove_files`, which deletes it instead.
  void stop(bool remove_files);
  // Applies an allowed config update (check_consumer_update passed).
  void update_config(const ConsumerConfig& cfg);

  const std::string& name() const { return name_; }
  ConsumerConfig config() const;
  int64_t created_ns() const { return created_ns_; }
  const StreamPtr& stream() const { return stream_; }
  // ConsumerInfo (without "type").
  nlohmann::ordered_json info_json();
  // The info as start() left it, before anything was delivered (the reference's initialInfo,
  // which its create response carries), once; afterwards (or when restored) info_json().
  // A mirror trusts its delivered.stream_seq: a later one would make it skip what it never got.
  nlohmann::ordered_json take_initial_info();
  // Persisted files (file-storage streams, durables): <stream dir>/obs/<name>/.
  std::string dir() const;
  bool persistent() const;

  // Replicated consumers (before start()): no state file (the group's log is its state), and
  // passive (no subscriptions, no delivery) until set_leader(true).
  void set_replicator(std::weak_ptr<ConsumerReplicator> r);
  bool replicated() const { return replicated_; }
  bool is_leader() const { return leader_.load(std::memory_order_acquire); }
  // Becoming leader: takes over `state` (the committed state; null: nothing delivered yet,
  // start from the deliver policy), subscribes and delivers. Losing it: unsubscribes and
  // forgets waiting pull requests (their clients re-issue them to the new leader).
  void set_leader(bool leader, const ConsumerSnapshot* state);
  // A follower mirrors the committed state into its own (so its info reads right); no-op
  // on the leader, whose live state is ahead.
  void follow(const std::function<void(ConsumerState&)>& fn);
  ConsumerSnapshot state_snapshot() const;
  // The times CONSUMER.INFO shows as delivered / ack_floor "last_active" (0: none yet). A
  // consumer that goes on as a new object (the stream reopened at a scale-down to R1)
  // carries them over.
  std::pair<int64_t, int64_t> last_active() const;
  void set_last_active(std::pair<int64_t, int64_t> delivered_ack);

  // Called (once, on the consumer's worker) when an ephemeral consumer's inactivity
  // threshold passes; the API layer removes it from the stream.
  std::function<void(const std::shared_ptr<Consumer>&)> on_inactive;

  // StreamConsumer.
  std::string consumer_name() const override { return name_; }
  std::string filter_subject() const override;
  void on_new_message(uint64_t seq, std::string_view subject) override;
  bool needs_ack(uint64_t seq, std::string_view subject) const override;
  void on_stream_purged(uint64_t first_seq) override;
  void on_stream_deleted() override;

  // Handlers (public for tests that feed raw requests).
  void handle_ack(std::string_view subject, std::string_view reply, std::string_view payload);
  void handle_next_request(std::string_view reply, std::string_view payload);

 private:
  nlohmann::ordered_json info_json_locked();
  std::optional<nlohmann::ordered_json> initial_info_;  // start()'s snapshot, under mu_
 public:
  // A pull request waiting for messages.
  struct WaitingRequest {
    std::string reply;
    int64_t batch = 1;
    int64_t max_bytes = 0;
    int64_t bytes_sent = 0;
    int64_t delivered = 0;
    int64_t expires_at = 0;  // unix ns, 0: never
    bool no_wait = false;
    int64_t hb_ns = 0;
    int64_t last_hb = 0;
  };
  // A scale-down to R1 replaces this consumer (on the kept server) by a plain one of the same
  // name: its waiting pull requests go over to that one, taken before stop(), which would
  // answer them 409 Consumer Deleted.
  std::deque<WaitingRequest> take_waiting();
  void adopt_waiting(std::deque<WaitingRequest> w);

 private:
  void subscribe();
  void unsubscribe();
  void kick();                  // schedule a delivery pass on the worker (coalesced)
  // Worker thread; or (in_batch) a client loop inside its input batch, whose flush writes
  // the deliveries (pull requests served where they arrive).
  void deliver_pass(bool in_batch = false);
  bool tick();                  // worker thread, every kConsumerTickMs; false once stopped
  bool deliver_pull_locked(int64_t now, int& budget);
  // Replay original: holds `d` (moved into replay_held_) when its time has not come; false
  // when it goes out now.
  bool hold_for_replay_locked(Delivery& d, int64_t now);
  bool deliver_push_locked(int64_t now, int& budget);
  void send_delivery_locked(const std::string& to, const Delivery& d);
  void start_replay_locked();
  void send_status(const std::string& to, std::string_view headers);
  void send_heartbeat_locked(const std::string& to);
  void finish_request_locked(WaitingRequest& wr, int code);
  bool send_to(std::string_view route_subject, std::string_view shown_subject, std::string_view reply,
               std::string_view headers, std::string_view payload);
  bool deliver_interest() const;
  void persist_locked();
  void write_meta();
  std::string ack_reply(const Delivery& d) const;
  size_t delivery_size(const Delivery& d) const;  // as a pull request's max_bytes counts it
  void apply_retention(const std::vector<uint64_t>& seqs);

  Server& server_;
  Account& account_;
  StreamPtr stream_;
  const std::string name_;
  const int64_t created_ns_;
  ConsumerWorker& worker_;

  mutable std::mutex mu_;
  ConsumerConfig cfg_;
  ConsumerState state_;
  std::deque<WaitingRequest> waiting_;
  std::vector<SubscriptionPtr> subs_;
  bool stopped_ = false;
  bool dirty_ = false;
  bool active_ = false;  // push: someone listens on the deliver subject
  int64_t last_delivered_ns_ = 0;
  int64_t last_ack_ns_ = 0;
  int64_t last_activity_ns_ = 0;  // interest seen, pull request or ack
  int64_t last_hb_ns_ = 0;        // push: last message or heartbeat sent
  int64_t next_deadline_ = 0;     // earliest ack deadline (0: none)
  uint64_t last_cseq_sent_ = 0, last_sseq_sent_ = 0;
  // Flow control: bytes sent since the outstanding request, and its reply id.
  std::string fc_reply_;
  uint64_t fc_bytes_ = 0;
  uint64_t fc_seq_ = 0;
  // Rate limit (bits per second): the earliest time the next push message may go out.
  int64_t rate_next_ns_ = 0;
  // replay_policy original (push and pull): until delivery passes the stream's last sequence at
  // start (replay_lseq_), each message waits the gap between its stored time and the
  // previous one's (replay_lts_), as the reference's loopAndGatherMsgs. A message whose
  // time has not come yet is held (already counted as delivered) until replay_release_ns_.
  bool replay_ = false;
  uint64_t replay_lseq_ = 0;
  int64_t replay_lts_ = 0;
  std::optional<Delivery> replay_held_;
  std::string replay_held_to_;  // pull: the request's reply the held message goes to
  int64_t replay_release_ns_ = 0;
  uint64_t tick_count_ = 0;

  std::weak_ptr<ConsumerReplicator> repl_;
  bool replicated_ = false;
  std::atomic<bool> leader_{true};
  std::atomic<bool> kick_pending_{false};
  std::atomic<bool> persistent_{false};  // durable of a file stream, not mem_storage
};

using ConsumerPtr = std::shared_ptr<Consumer>;

}  // namespace nats::jetstream
