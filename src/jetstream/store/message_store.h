#pragma once
// The stream store contract shared by the memory and file stores: what a JetStream stream
// needs from its storage (append with limits, load by sequence/subject, remove, purge,
// compact, state). Semantics follow the reference's StreamStore (server/store.go).
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nats::jetstream {

enum class StoreErr {
  ok,
  closed,              // "store is closed"
  not_found,           // "no message found": a sequence within range that was removed
  eof,                 // "stream store EOF": past the last sequence / nothing further
  max_msgs,            // discard-new and the message limit is reached
  max_bytes,           // discard-new and the byte limit would be exceeded
  max_msgs_per_subject,
  msg_too_large,       // larger than max_msg_size
  io,                  // file store: a read/write failed
};
const char* store_err_text(StoreErr e);

enum class DiscardPolicy { old_msgs, new_msgs };

// Limits; zero means unlimited (the reference uses -1/0; the stream config layer maps).
struct StoreLimits {
  uint64_t max_msgs = 0;
  uint64_t max_bytes = 0;
  int64_t max_age_ns = 0;
  uint64_t max_msgs_per_subject = 0;
  uint64_t max_msg_size = 0;  // headers + payload, as the stream checks it
  DiscardPolicy discard = DiscardPolicy::old_msgs;
  bool discard_new_per_subject = false;  // with discard new: reject instead of evicting per subject
};

struct StoredMsg {
  std::string subject;
  std::string headers;
  std::string payload;
  uint64_t seq = 0;
  int64_t ts = 0;      // unix nanoseconds
  int64_t ttl_ns = 0;  // 0: no per-message TTL
};

// Removed sequences as sorted, disjoint, non-touching runs [first, last], so a large interior
// delete (a purge by subject, a long unacked gap) costs a pair per run, not a word per
// sequence.
class DeletedSeqs {
 public:
  DeletedSeqs() = default;
  DeletedSeqs(std::initializer_list<uint64_t> seqs) {
    for (uint64_t s : seqs) add(s);
  }
  // Appends seq (at or past the last one added), merged into the last run when it touches.
  void add(uint64_t seq) { add_run(seq, seq); }
  void add_run(uint64_t first, uint64_t last);
  bool empty() const { return runs_.empty(); }
  uint64_t count() const;
  uint64_t count_from(uint64_t from) const;  // removed sequences >= from
  std::vector<uint64_t> expand() const;      // one entry per sequence (API's deleted details)
  const std::vector<std::pair<uint64_t, uint64_t>>& runs() const { return runs_; }
  bool operator==(const DeletedSeqs& o) const { return runs_ == o.runs_; }
  bool operator==(const std::vector<uint64_t>& seqs) const { return expand() == seqs; }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> runs_;
};

struct StoreState {
  uint64_t msgs = 0;
  uint64_t bytes = 0;
  uint64_t first_seq = 0;
  int64_t first_ts = 0;
  uint64_t last_seq = 0;
  int64_t last_ts = 0;
  uint64_t num_subjects = 0;
  uint64_t num_deleted = 0;
  DeletedSeqs deleted;  // interior gaps between first_seq and last_seq
};

struct SubjectState {
  uint64_t msgs = 0;
  uint64_t first = 0;
  uint64_t last = 0;
};

struct StoreResult {
  StoreErr err = StoreErr::ok;
  uint64_t seq = 0;
  int64_t ts = 0;
};

// Unix nanoseconds; injected so tests can move time for max_age.
using StoreClock = std::function<int64_t()>;
int64_t system_clock_ns();

// The reference's accounting: subject + headers + payload + 16 (seq and timestamp).
inline uint64_t store_msg_size(size_t subj, size_t hdr, size_t payload) {
  return static_cast<uint64_t>(subj + hdr + payload + 16);
}

// The reference's file store accounting: record length, seq, ts, subject length (22),
// subject, payload and checksum (8), plus a 4-byte length and the headers when present.
inline uint64_t file_store_msg_size(size_t subj, size_t hdr, size_t payload) {
  return static_cast<uint64_t>(22 + subj + payload + 8 + (hdr > 0 ? 4 + hdr : 0));
}

// Filter: "" or ">" matches all; wildcards allowed.
bool store_filter_matches(std::string_view filter, std::string_view subject);

class MessageStore {
 public:
  virtual ~MessageStore() = default;
  virtual StoreResult store_msg(std::string_view subject, std::string_view headers,
                                std::string_view payload, std::optional<int64_t> ttl_ns = {}) = 0;
  // Replicated streams: store with the sequence and time the stream leader chose. seq must
  // be past the last one (a gap is left as deleted sequences); limits apply as in store_msg.
  virtual StoreResult store_msg_at(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                                   std::string_view payload) = 0;
  virtual StoreErr load_msg(uint64_t seq, StoredMsg& out) = 0;
  // First message with seq >= start whose subject matches filter.
  virtual StoreErr load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) = 0;
  virtual StoreErr load_last_msg(std::string_view filter, StoredMsg& out) = 0;
  virtual StoreErr remove_msg(uint64_t seq) = 0;
  // Same as remove for now: nothing outlives the process in memory; the file store
  // does not scrub on disk either (a later compaction would).
  virtual StoreErr erase_msg(uint64_t seq) = 0;
  // Reference PurgeEx: subject filter ("" = all), sequence bound (seq > 0: remove below
  // seq) and keep (leave the newest `keep`). Returns number purged.
  virtual uint64_t purge(std::string_view subject = {}, uint64_t up_to_seq = 0,
                         uint64_t keep = 0) = 0;
  // Remove everything below seq. Returns number removed.
  virtual uint64_t compact(uint64_t seq) = 0;
  // Run age/TTL expiry now (the store also does it on every store_msg).
  virtual void expire_msgs() = 0;
  virtual StoreState state() = 0;
  // state() without the deleted list (num_deleted is still set): O(1) instead of a walk over
  // the whole index, for callers that only need the counts and bounds.
  virtual StoreState fast_state() = 0;
  // The last sequence alone, in O(1) (state() walks the whole index for its deleted list).
  virtual uint64_t last_seq() = 0;
  virtual std::unordered_map<std::string, SubjectState> subjects_state(std::string_view filter) = 0;
  virtual void update_limits(const StoreLimits& limits) = 0;
};

// The first stored sequence whose time is at or after ts_ns (0: none), found by binary search
// over sequences with about 2*log2(n) loads; like the reference's GetSeqFromTime it assumes
// that message times grow with sequences.
uint64_t first_seq_at_or_after(MessageStore& store, int64_t ts_ns);

}  // namespace nats::jetstream
