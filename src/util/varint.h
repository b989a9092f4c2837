#pragma once
// Base-128 varints (Go's encoding/binary Uvarint, least significant group first) and zigzag for
// signed values (Go's Varint): the Raft wire format, the block summary files and the
// reference's snapshot formats all use them, so the encoding is written once here.
#include <cstdint>
#include <string>

namespace nats::util {

inline void append_uvarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Go's binary.PutVarint: the zigzag of `v` as a uvarint.
inline void append_varint(std::string& out, int64_t v) { append_uvarint(out, zigzag(v)); }

}  // namespace nats::util
