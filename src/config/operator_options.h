// Operator mode settings: `operator` (JWT files or inline JWTs), `resolver` and
// `resolver_preload`, with the reference's checks and messages.
#pragma once

#include <string>

#include "config/options.h"

namespace nats::config {

// Reads one operator JWT (a file, decorated or not, or the JWT itself inline) into
// opts.operator_jwts; the system account comes from the first operator unless configured.
// Returns the error text, empty on success.
std::string add_operator(const std::string& file_or_jwt, Options& opts);

// The reference's validateTrustedOperators, once the whole config is read: a resolver is
// required, accounts and users may not be configured directly, the system account must
// match the operator's; fills opts.trusted_keys. Returns the error text, empty if fine.
std::string validate_trusted_operators(Options& opts);
// The reference's NewServer check that a configured system_account is the operator JWT's:
// at start-up only (not with -t, as 2.9.10; a reload compares instead and answers "config
// reload not supported for SystemAccount: old=..., new=...").
std::string check_operator_system_account(const Options& opts);

}  // namespace nats::config
