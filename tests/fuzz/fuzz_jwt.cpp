// Fuzz target: JWT decoding, which takes untrusted text from clients (the `jwt` field of
// CONNECT), config files (operator JWTs, resolver_preload) and creds files. Every decoder
// must refuse malformed input without crashing; a token that decodes must have a verified
// signature by its issuer, so the fuzzer's random bytes can only decode as inputs from the
// corpus (changed claims break the signature).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/jwt_claims.h"
#include "util/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Creds and operator files first, as the server reads them.
  auto dec = nats::jwt::parse_decorated(text);
  for (const std::string& token : {std::string(text), dec.jwt}) {
    auto d = nats::jwt::decode(token);
    if (auto* ok = std::get_if<nats::jwt::Decoded>(&d)) {
      // Decoding is deterministic: the same token decodes to the same claims.
      auto again = nats::jwt::decode(token);
      if (!std::holds_alternative<nats::jwt::Decoded>(again) || std::get<nats::jwt::Decoded>(again).claims != ok->claims)
        std::abort();
      (void)nats::jwt::time_check(*ok, 0);
    }
    (void)nats::decode_operator_claims(token);
    (void)nats::decode_account_claims(token);
    if (auto u = nats::decode_user_claims(token); auto* uc = std::get_if<nats::UserClaims>(&u)) (void)uc->limits.any_set;
  }
  if (auto b = nats::jwt::base64url_decode(text)) {
    if (nats::jwt::base64url_encode(*b) != text) std::abort();
  }
  return 0;
}
