#pragma once
// HighwayHash-64 (Alakuijala, Cox, Wassenberg; the public algorithm of github.com/google/highwayhash),
// portable scalar form. The reference's file store checksums its message records, block
// indexes and meta.sum files with it (github.com/minio/highwayhash New64, keyed with a SHA-256),
// so snapshots must carry these exact values to restore into 2.9.10 and for us to verify
// 2.9.10's. Checked against minio/highwayhash's published 64-bit test vectors
// (tests/unit/util/highwayhash_test.cpp). Not on a hot path (snapshots only), so no SIMD.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nats::util {

class HighwayHash64 {
 public:
  // `key` is 32 bytes (four little-endian 64-bit lanes).
  explicit HighwayHash64(const std::array<uint8_t, 32>& key);
  void reset();
  void write(const void* data, size_t len);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // The hash of everything written since the last reset (the state is not consumed).
  uint64_t sum64() const;
  // sum64() as the 8 little-endian bytes Go's hash.Hash Sum(nil) appends.
  std::string sum_bytes() const;

 private:
  struct State {
    uint64_t v0[4], v1[4], mul0[4], mul1[4];
  };
  static void update(State& s, const uint64_t lanes[4]);
  static void update_packet(State& s, const uint8_t* p);
  static void update_remainder(State& s, const uint8_t* p, size_t n);

  uint64_t key_[4];
  State st_{};
  uint8_t buf_[32];
  size_t buffered_ = 0;
};

// The reference's keys: sha256 of a name (the stream name for meta.sum, "<stream>-<block>"
// for a message block, "<stream>/<consumer>" for a consumer's meta.sum).
std::array<uint8_t, 32> highway_key_sha256(std::string_view name);

// 16 lowercase hex digits of the 8 Sum bytes, as meta.sum holds them.
std::string highway_hex(const HighwayHash64& h);

}  // namespace nats::util
