// Accounts of operator mode: account JWTs (from the resolver) turned into the same account
// configuration the config file's accounts use, so that limits, exports, imports and
// mappings run on the one implementation. Accounts are named by their public key.
#pragma once

#include <functional>
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

// The blocking errors the jwt library's AccountClaims.Validate finds in `ac`, with its texts
// (the reference's claimValidate): so far those of the imports' activation tokens.
std::vector<std::string> account_claims_validation_errors(const AccountClaims& ac);

// Why the account JWT `token` cannot be used as account `key`: not decodable, issued by a
// key the operators do not trust, or for another account. Empty when it can.
std::string check_account_jwt(const std::string& key, const std::string& token, const Options& opts,
                              AccountClaimsPtr* out);

// The accounts of `tokens` (account public key -> JWT) that check out; the others are
// logged and left out (as the reference, which refuses them at lookup).
JwtAccounts load_jwt_accounts(const Options& opts, const std::map<std::string, std::string>& tokens);

// What to make of an import whose activation token no longer checks out (account_config_from_claims).
enum class RefusedImport { Drop, Invalid, Keep };

// The account configuration for `ac`. Imports are kept only where the exporter (in
// `all`) has an export covering them; a token-required export needs a valid activation
// token, else the import is left out with an error logged, unless `refused` (if given) says
// to list it as invalid or keep it (an activation that expired while the server ran:
// jwt_account_timers.cpp).
AccountConfig account_config_from_claims(const AccountClaims& ac, const std::map<std::string, AccountClaimsPtr>& all,
                                         const std::function<RefusedImport(const JwtImport&)>& refused = {});

// The import entries account_config_from_claims makes of a JWT import.
StreamImport stream_import_of(const JwtImport& im);
ServiceImport service_import_of(const JwtImport& im);

class Server;
// An account's JWT has expired (or was deleted): every connection bound to it is cut with
// "Account Authentication Expired" (closed reason "Authentication Expired"), as 2.9.10's
// expiredTimeout, whose account clients include the leaf connections bound to it, accepted
// (the leaf gets the -ERR, then is refused while the account stays expired) or dialled (the
// hub gets it; 2.9.10 redials and binds the account again). jwt_account_timers.cpp.
void expire_account_connections(Server& server, const std::string& key);

}  // namespace nats
