// Distinguished names as the reference's internal/ldap package handles them, for mapping a
// client certificate to a user (`verify_and_map`): a user named "CN=alice,O=Acme" matches a
// certificate whose subject, read in RFC 2253 order (last RDN first), has the same RDNs, in
// that order or reordered (ldap.DN.Equal, then RDNsMatch).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nats::net {

struct DnAttribute {
  std::string type;   // "CN"; compared case-insensitively
  std::string value;  // compared exactly
};
using Rdn = std::vector<DnAttribute>;  // one RDN: several attributes when joined by '+'
using Dn = std::vector<Rdn>;

// ldap.ParseDN: "CN=a,O=b+OU=c" with RFC 4514 escapes (\, \+ \2C ...); nullopt where that
// function errs (a value without a type, a bad escape, BER "#..." values).
std::optional<Dn> parse_dn(std::string_view text);
// ldap.DN.Equal: same RDNs in the same order (attributes within an RDN in any order).
bool dn_equal(const Dn& a, const Dn& b);
// ldap.DN.RDNsMatch: as many RDNs, each of a's found among b's, in any order.
bool dn_rdns_match(const Dn& a, const Dn& b);

}  // namespace nats::net
