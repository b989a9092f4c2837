// Operator mode authentication, step by step as the reference's
// processClientOrLeafAuthentication: decode and validate the user JWT, find its account,
// check the signer (the account or one of its signing keys, with a scoped key's template),
// expiry, bearer tokens or the nonce signature, revocation and source networks.
#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "server/auth.h"

#include "util/time_format.h"
#include "util/log.h"
#include "util/nkey.h"

namespace nats {

namespace {

// Seconds after midnight of "HH:MM:SS" (Go's "15:04:05" layout), or -1.
int parse_hms(const std::string& s) {
  int h, m, sec;
  char extra;
  if (std::sscanf(s.c_str(), "%d:%d:%d%c", &h, &m, &sec, &extra) != 3) return -1;
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return -1;
  return h * 3600 + m * 60 + sec;
}

}  // namespace

// As the reference's validateTimes: each range starts today; one whose start is after its
// end ends tomorrow; now must be strictly inside. (So, as there, an overnight window admits
// no one after midnight.) Only the server's local time and UTC are known here.
ConnectWindow connect_window(const std::vector<std::pair<std::string, std::string>>& times,
                             const std::string& location, std::time_t now) {
  ConnectWindow w;
  std::tm tmv{};
  if (location.empty() || location == "Local") localtime_r(&now, &tmv);
  else if (location == "UTC" || location == "Etc/UTC") gmtime_r(&now, &tmv);
  else {
    w.supported = false;
    return w;
  }
  std::time_t midnight = now - (tmv.tm_hour * 3600 + tmv.tm_min * 60 + tmv.tm_sec);
  for (const auto& [s, e] : times) {
    int start = parse_hms(s), end = parse_hms(e);
    if (start < 0 || end < 0) return w;  // the reference refuses on a parse failure
    std::time_t st = midnight + start, en = midnight + end + (start > end ? 86400 : 0);
    if (st <= now && en > now) {
      w.allowed = true;
      w.until = en;
      return w;
    }
  }
  return w;
}


namespace {

// Whether `ip` is inside the CIDR `cidr` (v4 or v6).
bool in_cidr(const std::string& ip, const std::string& cidr) {
  size_t slash = cidr.find('/');
  std::string net = cidr.substr(0, slash);
  int bits = slash == std::string::npos ? -1 : std::atoi(cidr.c_str() + slash + 1);
  unsigned char a[16], b[16];
  int len = 0;
  if (inet_pton(AF_INET, ip.c_str(), a) == 1 && inet_pton(AF_INET, net.c_str(), b) == 1) len = 4;
  else if (inet_pton(AF_INET6, ip.c_str(), a) == 1 && inet_pton(AF_INET6, net.c_str(), b) == 1) len = 16;
  else return false;
  if (bits < 0 || bits > len * 8) bits = len * 8;
  for (int i = 0; i < bits / 8; ++i)
    if (a[i] != b[i]) return false;
  if (bits % 8) {
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - bits % 8));
    if ((a[bits / 8] & mask) != (b[bits / 8] & mask)) return false;
  }
  return true;
}

bool has_template(const std::optional<Permissions>& p) {
  if (!p) return false;
  for (const auto* sp : {p->publish ? &*p->publish : nullptr, p->subscribe ? &*p->subscribe : nullptr}) {
    if (!sp) continue;
    for (const auto* l : {&sp->allow, &sp->deny})
      for (const auto& s : *l)
        if (s.find("{{") != std::string::npos) return true;
  }
  return false;
}

std::optional<AuthResult> refuse(const char* why) {
  log::debug("{}", why);
  return std::nullopt;
}

}  // namespace

std::optional<AuthResult> Authenticator::authenticate_jwt(const ClientCredentials& c, const std::string& nonce,
                                                          const std::string& client_ip) const {
  if (c.jwt.empty()) return refuse("Authentication requires a user JWT");
  auto decoded = decode_user_claims(c.jwt);
  if (auto* err = std::get_if<std::string>(&decoded)) {
    log::debug("User JWT not valid: {}", *err);
    return std::nullopt;
  }
  const auto& uc = std::get<UserClaims>(decoded);
  int64_t now = util::unix_now_seconds();
  if (auto t = jwt::time_check(uc.base, now); !t.empty()) {
    log::debug("User JWT no longer valid: {}", t);
    return std::nullopt;
  }
  if (!connection_type_allowed(uc.limits.allowed_connection_types, c.connection_type)) return refuse("Connection type not allowed");
  const std::string& account_key = uc.issuer_account.empty() ? uc.base.issuer : uc.issuer_account;
  AccountClaimsPtr acc = lookup_ ? lookup_(account_key) : nullptr;
  if (!acc) return refuse("Account JWT lookup error");
  UserPermissionLimits lim = uc.limits;
  bool signer_ok = uc.base.issuer == acc->base.subject && !strict_signing_keys_;
  if (!signer_ok) {
    auto sk = acc->signing_keys.find(uc.base.issuer);
    if (sk == acc->signing_keys.end()) return refuse("User JWT issuer is not known");
    if (sk->second) {
      // A scoped signing key: its template is the user's permissions and limits.
      if (uc.limits.any_set) return refuse("User JWT is not valid: scoped users require no permissions or limits set");
      if (has_template(sk->second->permissions)) return refuse("User JWT generated invalid permissions");
      lim = *sk->second;
    }
  }
  if (acc->base.expires > 0 && acc->base.expires <= now) return refuse("Account JWT has expired");
  if (lim.bearer_token && acc->disallow_bearer) return refuse("Account does not allow bearer token");
  if (!lim.bearer_token) {
    if (c.sig.empty()) return refuse("Signature missing");
    auto sig = nkey::decode_signature(c.sig);
    if (!sig) return refuse("Signature not valid base64");
    auto pub = nkey::decode_public(uc.base.subject, nkey::kPrefixUser);
    if (!pub) return refuse("User nkey not valid");
    if (nonce.empty() || !nkey::verify(*pub, nonce, *sig)) return refuse("Signature not verified");
  }
  if (acc->user_revoked(uc.base.subject, uc.base.issued_at)) return refuse("User authentication revoked");
  if (!lim.src.empty()) {
    bool ok = false;
    for (const auto& cidr : lim.src) ok = ok || in_cidr(client_ip, cidr);
    if (!ok) {
      log::error("Bad src Ip {}", client_ip);
      return std::nullopt;
    }
  }
  int64_t window_end = 0;
  if (lim.has_times) {
    auto w = connect_window(lim.times, lim.times_location, std::time(nullptr));
    if (!w.supported) {
      log::error("User JWT times_location {} is not supported by this server (local time and UTC are)", lim.times_location);
      return std::nullopt;
    }
    if (!w.allowed) {
      log::error("Outside connect times");
      return std::nullopt;
    }
    window_end = w.until;
  }
  AuthResult r;
  r.account = acc->base.subject;
  r.user = uc.base.subject;
  r.permissions = lim.permissions ? lim.permissions : acc->default_permissions;
  r.user_expires = uc.base.expires;
  // The window's end cuts the connection as an expiry does (the reference's validFor).
  if (window_end > 0 && (r.user_expires <= 0 || window_end < r.user_expires)) r.user_expires = window_end;
  r.max_subs = lim.subs;
  r.max_payload = lim.payload;
  r.user_issued_at = uc.base.issued_at;
  if (uc.base.issuer != acc->base.subject) r.signing_key = uc.base.issuer;
  r.bearer = lim.bearer_token;
  return r;
}

}  // namespace nats
