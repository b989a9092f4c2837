#include "util/ids.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace nats::util {

namespace {
constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr uint64_t kMaxSeq = 839299365868340224ULL;  // 62^10
constexpr uint64_t kMinInc = 33, kMaxInc = 333;
}  // namespace

void random_bytes(void* out, size_t n) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
}

Nuid::Nuid() {
  randomize_prefix();
  uint64_t r[2];
  random_bytes(r, sizeof r);
  seq_ = r[0] % kMaxSeq;
  inc_ = kMinInc + r[1] % (kMaxInc - kMinInc);
}

void Nuid::randomize_prefix() {
  uint8_t b[12];
  random_bytes(b, sizeof b);
  for (int i = 0; i < 12; ++i) prefix_[i] = kDigits[b[i] % 62];
}

std::string Nuid::next() {
  seq_ += inc_;
  if (seq_ >= kMaxSeq) {
    randomize_prefix();
    uint64_t r[2];
    random_bytes(r, sizeof r);
    seq_ = r[0] % kMaxSeq;
    inc_ = kMinInc + r[1] % (kMaxInc - kMinInc);
  }
  std::string out(22, '0');
  for (int i = 0; i < 12; ++i) out[i] = prefix_[i];
  uint64_t s = seq_;
  for (int i = 21; i >= 12; --i) { out[i] = kDigits[s % 62]; s /= 62; }
  return out;
}

std::string next_nuid() {
  thread_local Nuid n;
  return n.next();
}

uint16_t crc16(const uint8_t* data, size_t n) {
  uint16_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(data[i]) << 8;
    for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

std::string encode_nkey_public(char prefix, const uint8_t key[32]) {
  uint8_t pfx;
  switch (prefix) {
    case 'N': pfx = 13 << 3; break;
    case 'A': pfx = 0; break;
    case 'U': pfx = 20 << 3; break;
    case 'C': pfx = 2 << 3; break;
    case 'O': pfx = 14 << 3; break;
    default: throw std::invalid_argument("bad nkey prefix");
  }
  uint8_t raw[35];
  raw[0] = pfx;
  for (int i = 0; i < 32; ++i) raw[1 + i] = key[i];
  uint16_t c = crc16(raw, 33);
  raw[33] = static_cast<uint8_t>(c & 0xff);
  raw[34] = static_cast<uint8_t>(c >> 8);
  static constexpr char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (uint8_t byte : raw) {
    buf = (buf << 8) | byte;
    bits += 8;
    while (bits >= 5) { out.push_back(b32[(buf >> (bits - 5)) & 31]); bits -= 5; }
  }
  if (bits > 0) out.push_back(b32[(buf << (5 - bits)) & 31]);
  return out;
}

std::string new_server_id() {
  uint8_t key[32];
  random_bytes(key, sizeof key);
  return encode_nkey_public('N', key);
}

std::string hash_name(std::string_view s, size_t len) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string out;
  for (size_t i = 0; i < len && i < sizeof d; ++i) out.push_back(kDigits[d[i] % 62]);
  return out;
}

std::string new_nonce() {
  static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint8_t b[11];
  random_bytes(b, sizeof b);
  std::string out;
  for (uint8_t x : b) out.push_back(b64[x & 63]);
  return out;
}

}  // namespace nats::util
