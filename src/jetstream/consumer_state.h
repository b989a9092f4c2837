#pragma once
// The bookkeeping of one consumer, without I/O: where it starts in the stream, which
// message goes out next (redeliveries first), pending acks with their deadlines, the
// redelivery queue, ack floors, delivery counts and the number of messages still to come.
// Mirrors the reference consumer.go fields: sseq (next stream seq), dseq (next consumer
// seq), adflr/asflr (ack floors), pending, rdq/rdc, npc. Time is passed in (unix ns) so
// tests drive it directly against a MemoryStore. Not thread-safe: the owner locks.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "jetstream/consumer_config.h"
#include "jetstream/store/message_store.h"

namespace nats::jetstream {

struct PendingAck {
  uint64_t cseq = 0;     // consumer sequence of the first delivery (kept on redelivery)
  int64_t deliver_ts = 0;  // when it was (re)delivered; the ack deadline counts from here
  int64_t deadline = 0;    // ack deadline (unix ns)
};

// One message handed out.
struct Delivery {
  StoredMsg msg;
  uint64_t cseq = 0;       // consumer sequence assigned to this delivery
  uint64_t dc = 1;         // delivery count (1 = first delivery)
  uint64_t pending = 0;    // messages still to come after this one (ack subject field)
};

// The persisted part (the reference's ConsumerState).
struct ConsumerSnapshot {
  uint64_t delivered_cseq = 0, delivered_sseq = 0;
  uint64_t ack_floor_cseq = 0, ack_floor_sseq = 0;
  std::map<uint64_t, PendingAck> pending;     // by stream seq
  std::map<uint64_t, uint64_t> redelivered;   // stream seq -> times redelivered
};

class ConsumerState {
 public:
  ConsumerState(ConsumerConfig cfg, MessageStore& store);

  // Sets the starting point from the deliver policy and the store's current content.
  void init_start(int64_t now);
  // Restores persisted state (instead of init_start).
  void restore(const ConsumerSnapshot& s);
  ConsumerSnapshot snapshot() const;

  const ConsumerConfig& config() const { return cfg_; }
  // An allowed update (which may change the filter).
  void set_config(ConsumerConfig cfg);

  // The next message to hand out, or nullopt when there is nothing to deliver now (caught
  // up, or max_ack_pending reached and no redelivery is due).
  std::optional<Delivery> next(int64_t now);
  // What next(now) would return, without taking it (a pull request's max_bytes checks the
  // full size first).
  std::optional<Delivery> peek();
  // Messages waiting in the redelivery queue.
  size_t redelivery_queue_size() const { return rdq_.size(); }

  // Acks. `sseq`/`cseq` come from the ack subject. Each returns true when the stream may
  // now drop the message (for retention: it was acked/terminated by this consumer).
  bool ack(uint64_t sseq, uint64_t cseq);
  bool term(uint64_t sseq, uint64_t cseq);
  // Negative ack: redeliver now (delay 0) or after delay_ns. False (nothing done) when the
  // delivery is at or below the ack floor, not yet made, or the message is not pending.
  bool nak(uint64_t sseq, uint64_t cseq, int64_t delay_ns, int64_t now);
  // Work in progress: restart the ack timer.
  void progress(uint64_t sseq, int64_t now);

  // Replication (cluster/consumer_group.h): a replica replays what its leader did. A delivery
  // (first or redelivery) with its consumer sequence, delivery count and time; a nak with
  // delay or a work-in-progress as the pending message's new deadline; the start position
  // the leader chose before delivering anything.
  void record_delivery(uint64_t sseq, uint64_t cseq, uint64_t dc, int64_t ts);
  void set_deadline(uint64_t sseq, int64_t deadline);
  void set_start(uint64_t sseq);
  int64_t ack_wait_ns(uint64_t dc) const { return ack_wait_for(dc); }

  // Moves pending messages whose ack deadline passed into the redelivery queue. Returns the
  // earliest remaining deadline (0: none).
  int64_t check_ack_deadlines(int64_t now);

  // New message stored at seq (subject for the filter).
  void on_new_message(uint64_t seq, std::string_view subject);
  // Everything below first_seq is gone.
  void on_purged(uint64_t first_seq);

  // Info.
  uint64_t delivered_cseq() const { return dseq_ - 1; }
  uint64_t delivered_sseq() const { return sseq_ - 1; }
  uint64_t ack_floor_cseq() const { return adflr_; }
  uint64_t ack_floor_sseq() const { return asflr_; }
  size_t num_ack_pending() const { return pending_.size(); }
  size_t num_redelivered() const { return rdc_.size(); }
  // Messages in the stream at or after the next sequence that match the filter (exact).
  uint64_t num_pending();
  // Interest retention: does this consumer still need seq?
  bool needs_ack(uint64_t seq, std::string_view subject) const;
  bool has_redeliveries() const { return !rdq_.empty(); }
  // Anything deliverable right now without looking at the store?
  bool max_ack_pending_reached() const;
  const std::map<uint64_t, PendingAck>& pending() const { return pending_; }
  uint64_t delivery_count(uint64_t sseq) const;
  // Messages next() dropped for reaching max_deliver since the last call: (stream seq,
  // deliveries), for the MAX_DELIVERIES advisory.
  std::vector<std::pair<uint64_t, uint64_t>> take_exceeded() { return std::exchange(exceeded_, {}); }

 private:
  bool filter_matches(std::string_view subject) const;
  int64_t ack_wait_for(uint64_t dc) const;
  void advance_floor_after_remove();
  bool remove_pending(uint64_t sseq);
  std::optional<StoredMsg> next_new_msg();

  ConsumerConfig cfg_;
  MessageStore& store_;
  bool filtered_ = false;
  uint64_t sseq_ = 1;   // next stream sequence to consider
  uint64_t dseq_ = 1;   // next consumer sequence to assign
  uint64_t adflr_ = 0;  // ack floor, consumer seq
  uint64_t asflr_ = 0;  // ack floor, stream seq
  std::map<uint64_t, PendingAck> pending_;  // stream seq -> pending
  std::map<uint64_t, uint64_t> rdc_;        // stream seq -> redelivery count
  std::deque<uint64_t> rdq_;                // stream seqs due for redelivery, in order
  std::set<uint64_t> rdq_set_;
  std::deque<uint64_t> lss_;  // deliver last_per_subject: the remaining start sequences
  int64_t npc_ = 0;           // pending count kept incrementally between exact recounts
  bool npc_valid_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> exceeded_;
};

}  // namespace nats::jetstream
