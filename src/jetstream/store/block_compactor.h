#pragma once
// Block compaction's file step: rewrites a sealed block file with only the records that must
// survive, into a temporary file the caller renames over the block (see FileStore's
// compaction for the protocol that keeps it crash safe).
//
// Kept, in their order: message records whose sequence is marked live, and removal markers
// for sequences of earlier blocks at or after stream_first (those messages may still lie in
// their own block). Dropped: removed messages, removal markers for this block's own
// sequences (their messages are gone with them) or below stream_first, and compact markers:
// the caller has made a compact(stream_first) record durable in a later block first, which
// covers all of them.
#include <cstdint>
#include <string>
#include <vector>

#include "jetstream/store/block_index.h"
#include "jetstream/store/block_summary.h"

namespace nats::jetstream {

struct BlockCompactPlan {
  std::string dir;
  uint64_t block = 0;
  uint64_t range_first = 0;   // the block's sequences are range_first..range_first+live.size()-1
  std::vector<bool> live;     // [seq - range_first]: keep this message
  uint64_t stream_first = 0;  // a durable compact(stream_first) record exists in a later block
};

struct BlockCompactResult {
  uint64_t old_len = 0;
  uint64_t new_len = 0;       // 0: nothing to keep (the caller deletes the block instead)
  uint64_t kept_msgs = 0;
  uint64_t kept_markers = 0;
  uint64_t dropped_records = 0;
  BlockIndex index;           // offsets in the new file
  BlockSummary summary;       // of the new file, for its .sum
};

std::string block_compact_tmp_path(const std::string& dir, uint64_t block);

// Reads the block, writes the kept records to block_compact_tmp_path and fdatasyncs it (when
// something is kept). False, with no temporary file left, when the block cannot be read
// whole (a corrupt remainder is left alone) or the write fails.
bool rewrite_block(const BlockCompactPlan& plan, BlockCompactResult& out);

}  // namespace nats::jetstream
