// Identifiers the protocol exposes: NUIDs (inboxes, nonces), NKey-style public keys (server
// IDs) and the 8-character name hash the reference uses for Raft peer IDs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nats::util {

// A 22-character NUID: base62, random prefix plus a sequence (as nats.go's nuid package
// produces). Not thread-safe per instance; next_nuid() uses a thread-local instance.
class Nuid {
 public:
  Nuid();
  std::string next();
 private:
  void randomize_prefix();
  char prefix_[12];
  uint64_t seq_;
  uint64_t inc_;
};
std::string next_nuid();

// Cryptographically random bytes (from /dev/urandom via OpenSSL).
void random_bytes(void* out, size_t n);

// An NKey public key: base32(prefix byte, 32 key bytes, crc16) without padding, 56 chars.
// prefix: 'N' server, 'A' account, 'U' user, 'C' cluster, 'O' operator.
std::string encode_nkey_public(char prefix, const uint8_t key[32]);
// A fresh random server ID in NKey form ("N...").
std::string new_server_id();

// crc16 (XMODEM polynomial 0x1021), as NKeys use.
uint16_t crc16(const uint8_t* data, size_t n);

// sha256(s) rendered as `len` base62 digits, each digits[b[i] % 62]; the reference uses
// len 8 for Raft node IDs (getHash) and len 6 for gateway reply hashes.
std::string hash_name(std::string_view s, size_t len = 8);

// A random nonce for INFO, as the reference sends it (15 base64url characters).
std::string new_nonce();

}  // namespace nats::util
