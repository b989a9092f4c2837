// NATS JWTs (the reference's jwt v2 library format): base64url (unpadded) header, claims
// JSON and Ed25519 signature, joined by dots. decode() checks the header, parses the
// claims and verifies the signature with the issuer's public key (the "iss" claim), so a
// decoded token is authentic; whether its issuer is trusted is the caller's question.
// Creds and operator files wrap tokens and seeds in "-----BEGIN ...-----" decorations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace nats::jwt {

// The reference refuses longer tokens.
inline constexpr size_t kMaxTokenSize = 1024 * 1024;
// Tokens start with the encoding of `{"typ"` or `{"alg"`: how an inline JWT is told from a file name.
inline constexpr std::string_view kJwtPrefix = "eyJ";

struct Decoded {
  nlohmann::json claims;  // the whole claims object
  std::string type;       // "operator", "account", "user", "activation", ...
  int version = 1;
  std::string issuer, subject, name, id;
  int64_t issued_at = 0, expires = 0, not_before = 0;
};

// The token's claims, or why it is not valid (signature, format, newer version).
std::variant<Decoded, std::string> decode(std::string_view token);

// Time checks of the jwt library's Validate: "claim is expired", "claim is not yet valid",
// or empty when the claims are valid at `now` (unix seconds).
std::string time_check(const Decoded& d, int64_t now);

// Unpadded base64url, as JWTs use. decode refuses padding and other alphabets.
std::optional<std::string> base64url_decode(std::string_view s);
std::string base64url_encode(std::string_view s);

// The first JWT and the first seed of a decorated file (creds file, operator JWT file); an
// undecorated text is taken as a bare JWT. Empty fields when absent.
struct Decorated {
  std::string jwt;
  std::string seed;
};
Decorated parse_decorated(std::string_view text);

}  // namespace nats::jwt
