// Accounts of operator mode: account JWTs (from the resolver) turned into the same account
// configuration the config file's accounts use, so that limits, exports, imports and
// mappings run on the one implementation. Accounts are named by their public key.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "server/jwt_claims.h"

namespace nats {

using AccountClaimsPtr = std::shared_ptr<const AccountClaims>;

struct JwtAccounts {
  std::vector<AccountConfig> configs;
  std::map<std::string, AccountClaimsPtr> claims;  // by account public key
};

// Why the account JWT `token` cannot be used as account `key`: not decodable, issued by a
// key the operators do not trust, or for another account. Empty when it can.
std::string check_account_jwt(const std::string& key, const std::string& token, const Options& opts,
                              AccountClaimsPtr* out);

// The accounts of `tokens` (account public key -> JWT) that check out; the others are
// logged and left out (as the reference, which refuses them at lookup).
JwtAccounts load_jwt_accounts(const Options& opts, const std::map<std::string, std::string>& tokens);

// The account configuration for `ac`. Imports are kept only where the exporter (in
// `all`) has a public export covering them; token-required exports need activation tokens,
// which are not implemented, so those imports are left out with an error logged.
AccountConfig account_config_from_claims(const AccountClaims& ac, const std::map<std::string, AccountClaimsPtr>& all);

}  // namespace nats
