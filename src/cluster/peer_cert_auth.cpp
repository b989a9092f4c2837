#include "cluster/peer_cert_auth.h"

#include "util/strings.h"

namespace nats::cluster {

namespace {
std::vector<std::string> labels(const std::string& host) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = host.find('.', start);
    out.push_back(util::ascii_lower(host.substr(start, dot == std::string::npos ? std::string::npos : dot - start)));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}
}  // namespace

std::string url_hostname(const std::string& url) {
  std::string rest = url;
  if (auto p = rest.find("://"); p != std::string::npos) rest = rest.substr(p + 3);
  if (auto slash = rest.find_first_of("/?#"); slash != std::string::npos) rest.resize(slash);
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') {
    auto e = rest.find(']');
    return e == std::string::npos ? rest.substr(1) : rest.substr(1, e - 1);
  }
  if (auto c = rest.rfind(':'); c != std::string::npos) rest.resize(c);
  return rest;
}

bool dns_name_matches_url(const std::string& dns_name, const std::string& url) {
  const auto want = labels(dns_name);
  const auto have = labels(url_hostname(url));
  if (want.size() != have.size()) return false;
  for (size_t i = want[0] == "*" ? 1 : 0; i < want.size(); ++i)
    if (want[i] != have[i]) return false;
  return true;
}

bool peer_cert_authorized(const net::PeerCertNames& cert, const PeerCertRule& rule) {
  if (cert.emails.empty() && cert.subject.empty() && cert.domain_components.empty() && cert.uris.empty()) return false;
  if (rule.check_known_urls && rule.known_urls)
    for (const auto& name : cert.dns_names)
      for (const auto& url : *rule.known_urls)
        if (dns_name_matches_url(name, url)) return true;
  return rule.map && net::cert_names_user(cert, rule.user);
}

}  // namespace nats::cluster
