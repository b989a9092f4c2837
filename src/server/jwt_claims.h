// Typed operator, account and user claims of NATS JWTs (fields as the reference's jwt v2
// library names them), decoded from util/jwt. Each decode_* checks the claim type and the
// issuer's role (operators sign operators and accounts, accounts sign users) and refuses a
// field of the wrong JSON type, as Go's json.Unmarshal does.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/options.h"
#include "util/jwt.h"

namespace nats {

inline constexpr int64_t kJwtNoLimit = -1;

struct OperatorClaims {
  jwt::Decoded base;
  std::vector<std::string> signing_keys;
  std::string system_account;
  std::string assert_server_version;
  bool strict_signing_key_usage = false;
};

// User permissions and limits as a user JWT (or a scoped signing key's template) has them.
struct UserPermissionLimits {
  std::optional<Permissions> permissions;  // nullopt: none in the claim
  int64_t subs = kJwtNoLimit, data = kJwtNoLimit, payload = kJwtNoLimit;
  std::vector<std::string> src;  // CIDRs the client must connect from
  bool has_times = false;        // connect-time windows set
  std::vector<std::pair<std::string, std::string>> times;  // {start, end} as "HH:MM:SS"
  std::string times_location;    // "" (the server's local time) or a time zone name
  bool bearer_token = false;
  std::vector<std::string> allowed_connection_types;
  // Whether any permission or limit is set (scoped users must have none).
  bool any_set = false;
};

struct UserClaims {
  jwt::Decoded base;
  UserPermissionLimits limits;
  std::string issuer_account;  // set when a signing key issued the claim
};

struct JwtExport {
  std::string name, subject, type;  // type: "stream" or "service"
  bool token_req = false;
  std::string response_type;        // "Singleton", "Stream", "Chunked"
  int64_t response_threshold_ns = 0;
  std::optional<ServiceLatencyConfig> latency;  // service_latency
  unsigned account_token_position = 0;
};

struct JwtImport {
  std::string name, subject, account, token, to, local_subject, type;
  bool share = false;
};

struct AccountClaims {
  jwt::Decoded base;
  std::vector<JwtImport> imports;
  std::vector<JwtExport> exports;
  int64_t conn = kJwtNoLimit, leaf = kJwtNoLimit, subs = kJwtNoLimit, data = kJwtNoLimit, payload = kJwtNoLimit;
  int64_t max_imports = kJwtNoLimit, max_exports = kJwtNoLimit;
  bool disallow_bearer = false;
  bool jetstream_limits = false;  // mem_storage or disk_storage set (JetStream enabled for the account)
  JsAccountLimits js_limits;      // as the reference maps the JWT's jetstream limits
  // `tiered_limits` (when no untiered limit is set): tier name ("R1", "R3": a stream's
  // replica count picks one) -> its limits; empty for untiered accounts.
  std::map<std::string, JsAccountLimits> js_tiers;
  // Signing keys; a value is the user scope (template) of a scoped key.
  std::map<std::string, std::optional<UserPermissionLimits>> signing_keys;
  std::map<std::string, int64_t> revocations;  // user key (or "*") -> revoked before
  std::optional<Permissions> default_permissions;
  std::vector<MappingConfig> mappings;

  // True if the user `key`, issued at `issued_at`, is revoked.
  bool user_revoked(const std::string& key, int64_t issued_at) const;
};

std::variant<OperatorClaims, std::string> decode_operator_claims(std::string_view token);
std::variant<AccountClaims, std::string> decode_account_claims(std::string_view token);
std::variant<UserClaims, std::string> decode_user_claims(std::string_view token);

}  // namespace nats
