#include "util/highwayhash.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <openssl/sha.h>

namespace nats::util {

namespace {

// The algorithm's initialisation constants (digits of pi), from its specification.
constexpr uint64_t kInit0[4] = {0xdbe6d5d5fe4cce2full, 0xa4093822299f31d0ull, 0x13198a2e03707344ull,
                                0x243f6a8885a308d3ull};
constexpr uint64_t kInit1[4] = {0x3bd39e10cb0ef593ull, 0xc0acf169b5f18a8cull, 0xbe5466cf34e90c6cull,
                                0x452821e638d01377ull};

uint64_t load64(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  } else {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
}

uint64_t swap_halves(uint64_t v) { return (v >> 32) | (v << 32); }

uint32_t rotl32(uint32_t v, unsigned c) { return c == 0 ? v : (v << c) | (v >> (32 - c)); }

// Byte shuffle of two lanes added into two others: spreads the multiplications' well-mixed
// middle bytes to the positions the next multiply reads.
void zipper_merge_add(uint64_t v1, uint64_t v0, uint64_t& add1, uint64_t& add0) {
  add0 += (((v0 & 0xff000000ull) | (v1 & 0xff00000000ull)) >> 24) |
          (((v0 & 0xff0000000000ull) | (v1 & 0xff000000000000ull)) >> 16) | (v0 & 0xff0000ull) |
          ((v0 & 0xff00ull) << 32) | ((v1 & 0xff00000000000000ull) >> 8) | (v0 << 56);
  add1 += (((v1 & 0xff000000ull) | (v0 & 0xff00000000ull)) >> 24) | (v1 & 0xff0000ull) |
          ((v1 & 0xff0000000000ull) >> 16) | ((v1 & 0xff00ull) << 24) | ((v0 & 0xff000000000000ull) >> 8) |
          ((v1 & 0xffull) << 48) | (v0 & 0xff00000000000000ull);
}

}  // namespace

HighwayHash64::HighwayHash64(const std::array<uint8_t, 32>& key) {
  for (int i = 0; i < 4; ++i) key_[i] = load64(key.data() + 8 * i);
  reset();
}

void HighwayHash64::reset() {
  for (int i = 0; i < 4; ++i) {
    st_.mul0[i] = kInit0[i];
    st_.mul1[i] = kInit1[i];
    st_.v0[i] = kInit0[i] ^ key_[i];
    st_.v1[i] = kInit1[i] ^ swap_halves(key_[i]);
  }
  buffered_ = 0;
}

void HighwayHash64::update(State& s, const uint64_t lanes[4]) {
  for (int i = 0; i < 4; ++i) {
    s.v1[i] += s.mul0[i] + lanes[i];
    s.mul0[i] ^= (s.v1[i] & 0xffffffffull) * (s.v0[i] >> 32);
    s.v0[i] += s.mul1[i];
    s.mul1[i] ^= (s.v0[i] & 0xffffffffull) * (s.v1[i] >> 32);
  }
  zipper_merge_add(s.v1[1], s.v1[0], s.v0[1], s.v0[0]);
  zipper_merge_add(s.v1[3], s.v1[2], s.v0[3], s.v0[2]);
  zipper_merge_add(s.v0[1], s.v0[0], s.v1[1], s.v1[0]);
  zipper_merge_add(s.v0[3], s.v0[2], s.v1[3], s.v1[2]);
}

void HighwayHash64::update_packet(State& s, const uint8_t* p) {
  uint64_t lanes[4] = {load64(p), load64(p + 8), load64(p + 16), load64(p + 24)};
  update(s, lanes);
}

// The final partial packet (1..31 bytes): its length is mixed into the state first, and the
// last bytes are placed where the specification puts them, so lengths cannot collide.
void HighwayHash64::update_remainder(State& s, const uint8_t* p, size_t n) {
  const size_t mod4 = n & 3;
  const uint8_t* rem = p + (n & ~size_t{3});
  uint8_t packet[32] = {};
  for (int i = 0; i < 4; ++i) {
    s.v0[i] += (static_cast<uint64_t>(n) << 32) + n;
    uint32_t lo = rotl32(static_cast<uint32_t>(s.v1[i]), static_cast<unsigned>(n));
    uint32_t hi = rotl32(static_cast<uint32_t>(s.v1[i] >> 32), static_cast<unsigned>(n));
    s.v1[i] = (static_cast<uint64_t>(hi) << 32) | lo;
  }
  std::memcpy(packet, p, static_cast<size_t>(rem - p));
  if (n & 16) {
    // The 4 bytes ending at the remainder's end (they may start before `rem`): the offset is
    // taken as pointer arithmetic, since i + mod4 - 4 wraps around as a size_t.
    const uint8_t* last4 = rem + mod4 - 4;
    for (size_t i = 0; i < 4; ++i) packet[28 + i] = last4[i];
  } else if (mod4 != 0) {
    packet[16] = rem[0];
    packet[17] = rem[mod4 >> 1];
    packet[18] = rem[mod4 - 1];
  }
  update_packet(s, packet);
}

void HighwayHash64::write(const void* data, size_t len) {
  auto p = static_cast<const uint8_t*>(data);
  if (buffered_ > 0) {
    size_t take = std::min(len, 32 - buffered_);
    std::memcpy(buf_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    len -= take;
    if (buffered_ < 32) return;
    update_packet(st_, buf_);
    buffered_ = 0;
  }
  for (; len >= 32; p += 32, len -= 32) update_packet(st_, p);
  std::memcpy(buf_, p, len);
  buffered_ = len;
}

uint64_t HighwayHash64::sum64() const {
  State s = st_;
  if (buffered_ > 0) update_remainder(s, buf_, buffered_);
  for (int r = 0; r < 4; ++r) {
    uint64_t permuted[4] = {swap_halves(s.v0[2]), swap_halves(s.v0[3]), swap_halves(s.v0[0]),
                            swap_halves(s.v0[1])};
    update(s, permuted);
  }
  return s.v0[0] + s.v1[0] + s.mul0[0] + s.mul1[0];
}

std::string HighwayHash64::sum_bytes() const {
  uint64_t h = sum64();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(h >> (8 * i));
  return out;
}

std::array<uint8_t, 32> highway_key_sha256(std::string_view name) {
  std::array<uint8_t, 32> k{};
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), k.data());
  return k;
}

std::string highway_hex(const HighwayHash64& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string b = h.sum_bytes(), out;
  for (unsigned char c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace nats::util
