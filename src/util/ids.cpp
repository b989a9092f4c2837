#include "util/ids.h"

#include <openssl/sha.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "util/bit_encoding.h"
#include "util/nkey.h"

namespace nats::util {

namespace {
constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr uint64_t kMaxSeq = 839299365868340224ULL;  // 62^10
constexpr uint64_t kMinInc = 33, kMaxInc = 333;
}  // namespace

// The kernel's CSPRNG (getrandom), not OpenSSL's RAND_bytes: the first RAND_bytes sets up
// OpenSSL's providers and DRBG, about 2 MB of resident memory, in every server (the server
// id and nuids are made at start) even when nothing else uses OpenSSL.
void random_bytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
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

uint16_t crc16(const uint8_t* data, size_t n) { return nkey::crc16(data, n); }

std::string encode_nkey_public(char prefix, const uint8_t key[32]) {
  uint8_t pfx;
  switch (prefix) {
    case 'N': pfx = nkey::kPrefixServer; break;
    case 'A': pfx = nkey::kPrefixAccount; break;
    case 'U': pfx = nkey::kPrefixUser; break;
    case 'C': pfx = nkey::kPrefixCluster; break;
    case 'O': pfx = nkey::kPrefixOperator; break;
    default: throw std::invalid_argument("bad nkey prefix");
  }
  nkey::Key k;
  std::copy(key, key + 32, k.begin());
  return nkey::encode_public(k, pfx);
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
  // The reference's: 11 random bytes in unpadded base64url, 15 characters.
  uint8_t b[11];
  random_bytes(b, sizeof b);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
}

}  // namespace nats::util
