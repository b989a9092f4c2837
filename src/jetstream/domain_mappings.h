// A JetStream domain (`jetstream { domain: X }`) makes the API reachable under
// `$JS.X.API.>` too: each JetStream-enabled account gets subject mappings from the domain's
// prefix to the plain API (as the reference's generateJSMappingTable; `$KV`/`$OBJ` keep
// their own spaces under `$JS.X.API.$KV.>` and `$JS.X.API.$OBJ.>`).
#pragma once

#include <string>

namespace nats {
class Account;
}

namespace nats::jetstream {

// Appends the domain's mappings to the account, leaving any source the account already
// maps to its own mapping.
void install_domain_mappings(Account& acc, const std::string& domain);

}  // namespace nats::jetstream
