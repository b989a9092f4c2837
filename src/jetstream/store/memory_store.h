#pragma once
// In-memory stream store (reference memstore.go semantics). Also the index the file
// store keeps in memory; removals are reported to an observer so the file store can
// log them.
#include <map>
#include <mutex>
#include <set>

#include "jetstream/store/message_store.h"

namespace nats::jetstream {

// Told about every removal the store makes, including limit and age evictions.
class StoreObserver {
 public:
  virtual ~StoreObserver() = default;
  virtual void on_remove(uint64_t seq) = 0;
  // Everything below seq is gone and first_seq >= seq (purge/compact).
  virtual void on_compact(uint64_t seq) = 0;
};

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
  // Replay of a record whose body is not kept: sizes come from the record. False when
  // the sequence is not past the last one (a duplicate record).
  bool replay_index(StoredMsg msg, size_t hdr_len, size_t payload_len);
  // First and last sequence without building a full state().
  std::pair<uint64_t, uint64_t> seq_range();

 private:
  uint64_t size_of(size_t subj, size_t hdr, size_t payload) const;
  // seq/ts 0: the next sequence and now.
  StoreResult store_impl(std::string_view subject, std::string_view headers, std::string_view payload,
                         std::optional<int64_t> ttl_ns, uint64_t seq, int64_t ts);
  uint64_t msg_size(const StoredMsg& m) const;
  bool remove_locked(uint64_t seq);
  uint64_t compact_locked(uint64_t seq);
  uint64_t purge_all_locked();
  void enforce_limits_locked();
  void expire_locked();
  void insert_locked(StoredMsg msg, uint64_t size);

  // The accounted size is kept with the message: it cannot be recomputed once the body
  // is dropped.
  struct Entry {
    StoredMsg msg;
    uint64_t size = 0;
  };

  std::mutex mu_;
  StoreLimits limits_;
  StoreClock clock_;
  StoreObserver* observer_ = nullptr;
  bool file_sizes_ = false;
  bool keep_bodies_ = true;
  std::map<uint64_t, Entry> msgs_;
  std::unordered_map<std::string, std::set<uint64_t>> subjects_;
  std::set<uint64_t> with_ttl_;  // sequences that carry their own TTL
  uint64_t bytes_ = 0;
  uint64_t first_seq_ = 0;  // reference: first is last+1 once emptied
  uint64_t last_seq_ = 0;
  int64_t last_ts_ = 0;
};

}  // namespace nats::jetstream
