// Fuzz target: NKey decoding, which crosses a trust boundary twice: public keys and seeds in
// config files (and `nats --nkey` seed files), and the `nkey`/`sig` fields of a client's
// CONNECT. Every decoder must reject malformed text without crashing; a public key that
// decodes must survive encode -> decode unchanged; a signature check on garbage is false.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/nkey.h"

using namespace nats::nkey;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto k = decode_public(text, kPrefixUser)) {
    auto again = decode_public(encode_public(*k, kPrefixUser), kPrefixUser);
    if (!again || *again != *k) std::abort();
    // The same bytes as a signature of a fixed nonce: must be refused, never crash.
    if (auto sig = decode_signature(text); sig && verify(*k, "nonce", *sig)) std::abort();
  }
  (void)decode_public(text, kPrefixAccount);
  (void)decode_seed(text);
  (void)public_key_of_seed(text);
  (void)decode_signature(text);
  return 0;
}
