#pragma once
// What recovery needs from a sealed block's records, without reading the records: for each
// record in block order, a message's sequence, time, TTL, subject and lengths, or a removal /
// compact marker. The file store builds it while it appends to the active block (a few bytes
// a record) and saves it beside the block (<dir>/<block>.sum) when it rolls past it, so a
// restart reads the summaries of sealed blocks and scans (and checks the checksums of) the
// last block only.
//
// Summary file: "NSSM" | u32 version | u64 block | u64 block file length | u32 subject count |
// (u32 length | bytes) per subject | u64 entry count | entries | u32 crc32c of everything
// before. Entry: u8 type, then varints: sequence delta from the previous entry (zigzag); for
// a message also time delta (zigzag), TTL, subject index, headers length, payload length; for
// a run (version 2: consecutive sequences of one subject and one size without TTL, the
// common case, written as one entry so a restart replays a full block in a few steps)
// first-time delta (zigzag), count, subject index, headers length, payload length and the
// last time minus the first.
// It is only trusted when its checksum holds and it names this block and the block file's
// current length; otherwise the block is scanned as before.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jetstream/store/subject_table.h"

namespace nats::jetstream {

class BlockSummary {
 public:
  enum Type : uint8_t { kMsg = 1, kRemove = 2, kCompact = 3 };  // as the block's record types
  static constexpr uint8_t kRun = 4;                             // summary files only

  void add_msg(uint64_t seq, int64_t ts, int64_t ttl_ns, std::string_view subject, uint32_t hdr_len,
               uint32_t payload_len);
  void add_marker(uint8_t type, uint64_t seq);  // kRemove or kCompact
  // count messages first..first+count-1 (one subject and size, no TTL) known only as a run:
  // the active block reopened from the summary a clean close saved keeps growing it.
  void add_run(uint64_t first, uint64_t count, int64_t first_ts, int64_t last_ts, std::string_view subject,
               uint32_t hdr_len, uint32_t payload_len);
  void clear();
  uint64_t entries() const { return entries_ + (run_count_ > 0 ? 1 : 0); }
  size_t memory() const;
  // Best effort: a missing summary only costs a scan of the block at the next restart.
  bool write(const std::string& dir, uint64_t block, uint64_t block_len) const;

 private:
  // data_ re-encoded for the file with runs of messages merged; entries: how many.
  std::string with_runs(uint64_t& entries) const;

  uint32_t subject_id(std::string_view subject);
  // Encodes the pending run (see run_count_) at the end of out, as the entry that follows
  // prev_seq/prev_ts; returns whether there was one.
  bool encode_pending(std::string& out, uint64_t& prev_seq, int64_t& prev_ts) const;
  void flush_pending();

  // Why: the active block's summary lives in memory while the block fills (tens of thousands
  // of records); encoding every message (about 10 bytes each, 0.5 MB an 8 MiB block of small
  // messages) only for with_runs to merge them at the roll cost more than the rest of a
  // stream's index. Consecutive messages that would merge are kept as one pending run
  // instead (first message's fields, last sequence and time, count) and encoded when the run
  // breaks: a message run (count >= 2) as a kRun entry, a single one as kMsg, exactly the
  // entries with_runs makes of them, so the file is the same.
  uint64_t run_first_seq_ = 0;
  int64_t run_first_ts_ = 0;
  int64_t run_last_ts_ = 0;
  uint64_t run_count_ = 0;  // 0: no pending run
  uint32_t run_subj_ = 0, run_hl_ = 0, run_pl_ = 0;

  std::string data_;  // encoded entries (runs from add_run and from merged messages)
  uint64_t entries_ = 0;
  uint64_t prev_seq_ = 0;
  int64_t prev_ts_ = 0;
  // The block's subjects by index (never released): a block of a stream with many subjects
  // names tens of thousands, so they are interned compactly.
  SubjectTable subjects_;
};

// count messages with sequences first..first+count-1, one subject and size, no TTL; times
// between first_ts and last_ts (only those two are kept).
struct SummaryRun {
  uint64_t first = 0;
  uint64_t count = 0;
  int64_t first_ts = 0;
  int64_t last_ts = 0;
  std::string_view subject;
  uint32_t hdr_len = 0;
  uint32_t payload_len = 0;
};

struct SummaryMsg {
  uint64_t seq = 0;
  int64_t ts = 0;
  int64_t ttl_ns = 0;
  std::string_view subject;
  uint32_t hdr_len = 0;
  uint32_t payload_len = 0;
};

std::string block_summary_path(const std::string& dir, uint64_t block);
// Replays a block's summary: on_msg for each message, on_run for each run of messages,
// on_marker(type, seq) for removals and compacts, in record order. False (and nothing called) when the file is missing, corrupt,
// or was written for another block or block length.
bool replay_block_summary(const std::string& dir, uint64_t block, uint64_t block_len,
                          const std::function<void(const SummaryMsg&)>& on_msg,
                          const std::function<void(const SummaryRun&)>& on_run,
                          const std::function<void(uint8_t, uint64_t)>& on_marker);

}  // namespace nats::jetstream
