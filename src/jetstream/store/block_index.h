#pragma once
// Where each message record of one block file lies, by sequence. The file store keeps this
// for the block it appends to and for a few recently read blocks only; a sealed block's
// index is saved beside it (<dir>/<block>.idx) when the store rolls past it, so that a
// later read needs neither the whole block nor a per-message index kept in memory.
//
// Index file: "NSIX" | u32 version | u64 block file length | u64 first seq | u64 count |
// u32 offsets[count] | u32 crc32c of everything before. It is only trusted when its
// checksum holds and the block file still has the recorded length; otherwise the block is
// scanned again (its records carry their own checksums).
#include <cstdint>
#include <string>
#include <vector>

namespace nats::jetstream {

struct BlockIndex {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint64_t block = 0;
  uint64_t first = 0;          // sequence of offs[0]
  std::vector<uint32_t> offs;  // record offset of first + i; kNone: not in this block

  void add(uint64_t seq, uint32_t off);
  bool find(uint64_t seq, uint32_t& off) const;
  size_t memory() const { return offs.capacity() * sizeof(uint32_t); }
};

std::string block_index_path(const std::string& dir, uint64_t block);
// Saves the index of a sealed block whose file is block_len bytes long. Best effort: a
// missing index only costs a scan.
bool write_block_index(const std::string& dir, const BlockIndex& idx, uint64_t block_len);
// False when the file is missing, corrupt, or was written for a different block length.
bool read_block_index(const std::string& dir, uint64_t block, uint64_t block_len, BlockIndex& out);

}  // namespace nats::jetstream
