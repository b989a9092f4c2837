// Whether an accepted route's or gateway's TLS certificate lets it in, when the block's tls
// has verify_and_map and/or verify_cert_and_check_known_urls (the reference's
// isRouterAuthorized / isGatewayAuthorized through checkClientTLSCertSubject).
#pragma once

#include <string>
#include <vector>

#include "net/tls.h"

namespace nats::cluster {

// What the certificate check looks at: `map` with the block's authorization user, and/or
// `known_urls` with the URLs this server was configured to dial (cluster routes, or every
// remote gateway's URLs).
struct PeerCertRule {
  bool map = false;
  std::string user;
  bool check_known_urls = false;
  const std::vector<std::string>* known_urls = nullptr;
};

// A certificate with neither an e-mail, a subject nor a URI names nothing (the reference gives
// up before looking at its DNS names). Otherwise: one of its DNS names matches the host of a
// known URL (dns_name_matches_url), or, with `map`, one of its names is the user.
bool peer_cert_authorized(const net::PeerCertNames& cert, const PeerCertRule& rule);

// RFC 6125 6.4.3 as the reference reads it (dnsAltNameMatches): the same number of labels,
// compared case-insensitively, a leftmost "*" label matching any one label.
bool dns_name_matches_url(const std::string& dns_name, const std::string& url);

// The host of a URL as Go's url.Hostname gives it: no scheme, user info, port, path or
// IPv6 brackets.
std::string url_hostname(const std::string& url);

}  // namespace nats::cluster
