#pragma once
// Little-endian integers in byte buffers: the on-disk formats (message blocks, block index and
// summary files, the Raft log) and in-memory records all store integers this way, so the
// encoding is written once here.
#include <cstdint>
#include <string>

namespace nats::util {

// Appends the low `bytes` bytes of `v`, least significant first.
inline void append_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Reads `bytes` bytes (at most 8) written by append_le.
inline uint64_t load_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline void store_le32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void store_le64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline uint32_t load_le32(const char* p) { return static_cast<uint32_t>(load_le(p, 4)); }
inline uint64_t load_le64(const char* p) { return load_le(p, 8); }

}  // namespace nats::util
