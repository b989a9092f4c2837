#pragma once
// In-memory stream store (reference memstore.go semantics). Also the index the file
// store keeps in memory; removals are reported to an observer so the file store can
// log them.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "jetstream/store/message_store.h"
#include "jetstream/store/slot_index.h"
#include "jetstream/store/subject_table.h"

namespace nats::jetstream {

// Told about every removal the store makes, including limit and age evictions.
class StoreObserver {
 public:
  virtual ~StoreObserver() = default;
  // size: the removed message's accounted size.
  virtual void on_remove(uint64_t seq, uint64_t size) = 0;
  // Everything below seq is gone and first_seq >= seq (purge/compact).
  virtual void on_compact(uint64_t seq) = 0;
};

// Memory layout (kept small: the file store's index is this class without bodies):
// - per sequence from base_ its subject id and accounted size in a SlotIndex (a few bytes
//   per 4096 messages when they share subject and size, up to 8 bytes a message otherwise,
//   plus a bit per sequence in chunks with removals) and its time (8 bytes, not kept in
//   index-only mode: the file store reads it from the record); a removed message stays a
//   removed slot until the front of the stream passes it;
// - message bodies (headers + payload) in one allocation per message, only when kept;
// - per subject its name once (SubjectTable: an arena and a table of ids, ~16 bytes beyond
//   the name) and a count and its first/last sequence (24 bytes; no per-message sets): the next
//   first of a subject is found by scanning slots forward, which is O(1) when messages
//   leave in order (limits, work queues) and bounded by the subject's span otherwise;
// - per-message TTLs in a side map, which is empty unless messages carry a TTL.
class MemoryStore : public MessageStore {
 public:
  explicit MemoryStore(StoreLimits limits = {}, StoreClock clock = system_clock_ns);

  StoreResult store_msg(std::string_view subject, std::string_view headers,
                        std::string_view payload, std::optional<int64_t> ttl_ns = {}) override;
  StoreResult store_msg_at(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                           std::string_view payload) override;
  StoreErr load_msg(uint64_t seq, StoredMsg& out) override;
  StoreErr load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) override;
  StoreErr load_last_msg(std::string_view filter, StoredMsg& out) override;
  StoreErr remove_msg(uint64_t seq) override;
  StoreErr erase_msg(uint64_t seq) override { return remove_msg(seq); }
  uint64_t purge(std::string_view subject = {}, uint64_t up_to_seq = 0, uint64_t keep = 0) override;
  uint64_t compact(uint64_t seq) override;
  void expire_msgs() override;
  StoreState state() override;
  StoreState fast_state() override;
  uint64_t last_seq() override { return seq_range().second; }
  std::unordered_map<std::string, SubjectState> subjects_state(std::string_view filter) override;
  void update_limits(const StoreLimits& limits) override;

  // For the file store: observer for removals, and replay of a stored record without
  // limit checks (sequence and time come from the record).
  void set_observer(StoreObserver* obs) { observer_ = obs; }
  void replay_store(StoredMsg msg);
  StoreLimits limits() const { return limits_; }
  // Count bytes as the reference's file store does (file_store_msg_size), so a file
  // stream's state and max_bytes agree with the reference's.
  void use_file_sizes() { file_sizes_ = true; }
  // Index only: keep subject, sequence, time and accounted size but not headers/payload
  // (the file store reads bodies from its blocks); loads return empty bodies.
  void drop_bodies() { keep_bodies_ = false; }
  // Index only, further: no per-message time either. Loads return ts 0 (the caller fills
  // it in); age expiry and first_ts ask time_of, which runs under this store's lock (it
  // must not call back into it).
  void drop_times(std::function<int64_t(uint64_t seq)> time_of) {
    keep_times_ = false;
    time_of_ = std::move(time_of);
  }
  // Replay of a record whose body is not kept: sizes come from the record. False when
  // the sequence is not past the last one (a duplicate record).
  bool replay_index(const StoredMsg& msg, size_t hdr_len, size_t payload_len);
  // Replay of a run of count messages (sequences first..first+count-1, one subject and size,
  // no TTL; only the last one's time). Index-only stores; false when nothing was new.
  bool replay_run(uint64_t first, uint64_t count, std::string_view subject, size_t hdr_len, size_t payload_len,
                  int64_t last_ts);
  // First and last sequence without building a full state().
  std::pair<uint64_t, uint64_t> seq_range();
  // Which sequences of first..last are live (live[seq - first]) and their accounted bytes;
  // walks only the live slots of the range (block compaction).
  uint64_t live_in(uint64_t first, uint64_t last, std::vector<bool>* live);
  bool is_live(uint64_t seq);

 private:
  static constexpr uint32_t kGone = SlotIndex::kGone;  // slot of a removed sequence
  // Subject id and accounted size (which cannot be recomputed once the body is dropped).
  using Slot = SlotIndex::Slot;
  // Per subject id (names_): its count and first/last sequence.
  struct Subject {
    uint64_t msgs = 0;
    uint64_t first = 0;
    uint64_t last = 0;
  };
  // Body: u32 headers length | u32 payload length | headers | payload.
  using Body = std::unique_ptr<char[]>;

  uint64_t size_of(size_t subj, size_t hdr, size_t payload) const;
  // seq/ts 0: the next sequence and now.
  StoreResult store_impl(std::string_view subject, std::string_view headers, std::string_view payload,
                         std::optional<int64_t> ttl_ns, uint64_t seq, int64_t ts);
  // The slot of a live sequence; false when removed or out of range.
  bool live(uint64_t seq, Slot& out) const;
  int64_t time_at(uint64_t seq);  // seq must be live
  // A store that never held a message reports first 0 (reference); once emptied, last+1.
  StoreState fast_state_locked();  // counts and bounds, no deleted list
  uint64_t first_seq_locked() const { return msgs_ > 0 ? base_ : used_ ? last_seq_ + 1 : 0; }
  uint32_t intern(std::string_view subject);
  const Subject* find_subject(std::string_view subject) const;
  void fill(uint64_t seq, const Slot& s, StoredMsg& out) const;
  bool remove_locked(uint64_t seq);
  void trim_front();
  uint64_t compact_locked(uint64_t seq);
  void enforce_subject_limit(uint32_t id);
  void enforce_limits_locked(bool all_subjects, uint32_t stored_subj);
  void expire_locked();
  void insert_locked(uint64_t seq, int64_t ts, int64_t ttl_ns, uint32_t subj, uint64_t size, Body body);

  std::mutex mu_;
  StoreLimits limits_;
  StoreClock clock_;
  StoreObserver* observer_ = nullptr;
  bool file_sizes_ = false;
  bool keep_bodies_ = true;
  bool keep_times_ = true;
  std::function<int64_t(uint64_t)> time_of_;
  std::pair<uint64_t, int64_t> front_time_{0, 0};  // time_of_ answer for the front, cached
  SlotIndex slots_;           // slots_[i] is sequence base_ + i; the front slot is live
  std::deque<Body> bodies_;   // parallel to slots_ when bodies are kept
  std::deque<int64_t> times_;  // parallel to slots_ when times are kept
  uint64_t base_ = 1;
  uint64_t msgs_ = 0;
  bool used_ = false;  // a message was stored or the store compacted
  // Subjects with messages: names interned compactly (ids of emptied subjects are reused),
  // and their records by id (subjects_.size() >= names_.ids()).
  SubjectTable names_;
  std::vector<Subject> subjects_;
  uint32_t last_id_ = kGone;  // the last subject interned: consecutive messages often share it
  std::map<uint64_t, std::pair<int64_t, int64_t>> ttls_;  // seq -> (time, TTL) of messages with their own TTL
  uint64_t bytes_ = 0;
  uint64_t last_seq_ = 0;
  int64_t last_ts_ = 0;
};

}  // namespace nats::jetstream
