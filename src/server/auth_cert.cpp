// tls { verify_and_map } for clients (the reference's processClientOrLeafAuthentication with
// TLSMap): the user is the first of the certificate's names that is a user, in the order of
// checkClientTLSCertSubject: e-mail SANs, DNS SANs, URI SANs, then a user whose name parsed
// as a DN equals the certificate's subject DN (in order, then reordered), then the subject as
// Go prints it with its domain components, then without. The CONNECT's user is ignored (with
// a warning); its password must still be the user's.
#include "server/auth.h"
#include "util/log.h"

namespace nats {

const Authenticator::Entry* Authenticator::user_for_dn(const net::Dn& cert_dn,
                                                       std::string_view connection_type) const {
  std::vector<std::pair<const Entry*, net::Dn>> parsed;
  for (const auto& [name, e] : users_) {
    if (e.single || !connection_type_allowed(e.user.allowed_connection_types, connection_type)) continue;
    auto dn = net::parse_dn(name);
    if (!dn) continue;
    if (net::dn_equal(*dn, cert_dn)) return &e;
    parsed.emplace_back(&e, std::move(*dn));
  }
  // The same RDNs in another order.
  for (const auto& [e, dn] : parsed)
    if (net::dn_rdns_match(dn, cert_dn)) return e;
  return nullptr;
}

std::optional<AuthResult> Authenticator::authenticate_cert(const ClientCredentials& c) const {
  if (!c.cert) return std::nullopt;  // "User required in cert, no peer certificates found"
  const Entry* found = nullptr;
  auto by_name = [&](const std::string& name) {
    auto it = users_.find(name);
    if (it == users_.end() || it->second.single ||
        !connection_type_allowed(it->second.user.allowed_connection_types, c.connection_type))
      return false;
    found = &it->second;
    return true;
  };
  auto by_dn = [&](const net::Dn& dn) -> std::optional<std::string> {
    found = user_for_dn(dn, c.connection_type);
    if (!found) return std::nullopt;
    return found->user.username;
  };
  if (!net::map_cert_to_user(*c.cert, by_name, by_dn) || !found) return std::nullopt;
  if (!c.user.empty())
    log::warn("User \"{}\" found in connect proto, but user required from cert", c.user);
  if (!password_matches(found->user.password, c.pass)) return std::nullopt;
  return result_for(*found, c.connection_type);
}

}  // namespace nats
