// NKeys, the reference's Ed25519 keys in text form: base32 (RFC 4648, no padding) of a
// prefix byte, the 32-byte key and a CRC16 (XModem, little endian). Public keys start
// with a letter naming their role (U user, A account, N server, O operator, C cluster);
// seeds start with 'S' followed by that letter. Header-only so that the `nats` tool, which
// does not link the server library, uses the same code. Ed25519 comes from OpenSSL.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bit_encoding.h"

namespace nats::nkey {

inline constexpr uint8_t kPrefixSeed = 18 << 3;     // 'S'
inline constexpr uint8_t kPrefixUser = 20 << 3;     // 'U'
inline constexpr uint8_t kPrefixAccount = 0;        // 'A'
inline constexpr uint8_t kPrefixServer = 13 << 3;   // 'N'
inline constexpr uint8_t kPrefixOperator = 14 << 3; // 'O'
inline constexpr uint8_t kPrefixCluster = 2 << 3;   // 'C'

using Key = std::array<uint8_t, 32>;

inline uint16_t crc16(const uint8_t* p, size_t n) {
  uint16_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(p[i]) << 8;
    for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

inline std::optional<std::string> base32_decode(std::string_view s) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= '2' && c <= '7') v = c - '2' + 26;
    else return std::nullopt;
    buf = (buf << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

using util::base32_encode;

// The raw bytes of an encoded key with its CRC checked; nullopt if it does not decode.
inline std::optional<std::string> decode_checked(std::string_view text) {
  auto raw = base32_decode(text);
  if (!raw || raw->size() < 3) return std::nullopt;
  size_t n = raw->size() - 2;
  auto* p = reinterpret_cast<const uint8_t*>(raw->data());
  uint16_t want = static_cast<uint16_t>(p[n] | (p[n + 1] << 8));
  if (crc16(p, n) != want) return std::nullopt;
  raw->resize(n);
  return raw;
}

// The 32-byte key of a public key with the given role prefix.
inline std::optional<Key> decode_public(std::string_view text, uint8_t prefix) {
  auto raw = decode_checked(text);
  if (!raw || raw->size() != 33 || static_cast<uint8_t>((*raw)[0]) != prefix) return std::nullopt;
  Key k;
  std::copy(raw->begin() + 1, raw->end(), k.begin());
  return k;
}

inline bool is_valid_public_user_key(std::string_view text) { return decode_public(text, kPrefixUser).has_value(); }
inline bool is_valid_public_account_key(std::string_view text) {
  return decode_public(text, kPrefixAccount).has_value();
}

inline std::string encode_public(const Key& k, uint8_t prefix) {
  std::string raw(1, static_cast<char>(prefix));
  raw.append(reinterpret_cast<const char*>(k.data()), k.size());
  uint16_t crc = crc16(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  raw.push_back(static_cast<char>(crc & 0xff));
  raw.push_back(static_cast<char>(crc >> 8));
  return base32_encode(raw);
}

struct Seed {
  uint8_t role;  // the public prefix, e.g. kPrefixUser
  Key seed;
};

inline std::optional<Seed> decode_seed(std::string_view text) {
  auto raw = decode_checked(text);
  if (!raw || raw->size() != 34) return std::nullopt;
  auto b0 = static_cast<uint8_t>((*raw)[0]), b1 = static_cast<uint8_t>((*raw)[1]);
  if ((b0 & 0xf8) != kPrefixSeed) return std::nullopt;
  Seed s;
  s.role = static_cast<uint8_t>(((b0 & 7) << 5) | ((b1 & 0xf8) >> 3));
  std::copy(raw->begin() + 2, raw->end(), s.seed.begin());
  return s;
}

// The public key ("U...") of a seed ("SU..."); empty if the seed does not decode.
inline std::string public_key_of_seed(std::string_view seed_text) {
  auto s = decode_seed(seed_text);
  if (!s) return "";
  EVP_PKEY* pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, s->seed.data(), s->seed.size());
  if (!pk) return "";
  Key pub;
  size_t len = pub.size();
  bool ok = EVP_PKEY_get_raw_public_key(pk, pub.data(), &len) == 1 && len == pub.size();
  EVP_PKEY_free(pk);
  return ok ? encode_public(pub, s->role) : "";
}

// True if `sig` is the Ed25519 signature of `msg` by `pub`.
inline bool verify(const Key& pub, std::string_view msg, std::string_view sig) {
  EVP_PKEY* pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size());
  if (!pk) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pk) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pk);
  return ok;
}

// The Ed25519 signature of `msg` by the key of a seed ("SU...", "SA...", ...); empty if the
// seed does not decode.
inline std::string sign(std::string_view seed_text, std::string_view msg) {
  auto s = decode_seed(seed_text);
  if (!s) return "";
  EVP_PKEY* pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, s->seed.data(), s->seed.size());
  if (!pk) return "";
  std::string sig(64, '\0');
  size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, pk) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pk);
  if (!ok) return "";
  sig.resize(len);
  return sig;
}

// The text form of a seed of the given role (a public prefix such as kPrefixAccount).
inline std::string encode_seed(const Key& seed, uint8_t role) {
  std::string raw;
  raw.push_back(static_cast<char>(kPrefixSeed | (role >> 5)));
  raw.push_back(static_cast<char>((role & 31) << 3));
  raw.append(reinterpret_cast<const char*>(seed.data()), seed.size());
  uint16_t crc = crc16(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  raw.push_back(static_cast<char>(crc & 0xff));
  raw.push_back(static_cast<char>(crc >> 8));
  return base32_encode(raw);
}

// A signature as clients send it: unpadded base64url, or (as the reference also accepts)
// standard base64. nullopt if neither decodes.
inline std::optional<std::string> decode_signature(std::string_view text) {
  auto decode = [&](bool url) -> std::optional<std::string> {
    std::string out;
    uint32_t buf = 0;
    int bits = 0;
    size_t end = text.size();
    if (!url)
      while (end > 0 && text[end - 1] == '=') --end;
    for (size_t i = 0; i < end; ++i) {
      char c = text[i];
      int v;
      if (c >= 'A' && c <= 'Z') v = c - 'A';
      else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
      else if (c >= '0' && c <= '9') v = c - '0' + 52;
      else if (c == (url ? '-' : '+')) v = 62;
      else if (c == (url ? '_' : '/')) v = 63;
      else return std::nullopt;
      buf = (buf << 6) | static_cast<uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<char>((buf >> bits) & 0xff));
      }
    }
    return out;
  };
  if (auto s = decode(true)) return s;
  return decode(false);
}

}  // namespace nats::nkey
