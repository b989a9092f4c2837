// Unpadded encodings that pack bytes into fixed-width characters: base32 (5 bits a
// character, NKeys) and base64url (6 bits, JWTs and nonce signatures). Header-only so that
// the `nats` tool and the black-box integration tests, which do not link the server
// library, use the same code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nats::util {

// Each `bits`-wide group of the input, most significant first, becomes one character of
// `alphabet` (which has 1 << bits characters); a last partial group is padded with zeros.
inline std::string encode_bit_groups(std::string_view in, const char* alphabet, int bits) {
  const uint32_t mask = (1u << bits) - 1;
  std::string out;
  out.reserve((in.size() * 8 + bits - 1) / bits);
  uint32_t buf = 0;
  int pending = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    pending += 8;
    while (pending >= bits) {
      pending -= bits;
      out.push_back(alphabet[(buf >> pending) & mask]);
    }
  }
  if (pending > 0) out.push_back(alphabet[(buf << (bits - pending)) & mask]);
  return out;
}

inline std::string base32_encode(std::string_view in) {
  return encode_bit_groups(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 5);
}

inline std::string base64url_encode(std::string_view in) {
  return encode_bit_groups(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 6);
}

}  // namespace nats::util
