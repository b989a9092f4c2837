#include "server/jwt_accounts.h"

#include <algorithm>
#include <ctime>

#include "subject/subject.h"
#include "util/log.h"

namespace nats {

namespace {

// The reference's TrackServiceExportWithSampling checks for an export `se` that comes after
// `earlier` in the JWT (it adds them in order).
bool latency_trackable(const ServiceLatencyConfig& l, const ServiceExport& se, const std::vector<ServiceExport>& earlier) {
  if (l.sampling != 0 && (l.sampling < 1 || l.sampling > 100)) return false;
  if (!is_valid_literal_subject(l.subject) || subject_is_subset_match(l.subject, se.subject)) return false;
  for (const auto& e : earlier)
    if (subject_is_subset_match(l.subject, e.subject)) return false;
  std::string rt;
  for (char ch : se.response_type) rt += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return rt == "singleton";
}

// The jwt library's Import.Validate on an import's activation token, with its texts: errors
// that make the whole account JWT invalid (the reference then refuses the account). Expiry and
// whether a signing key is the exporter's are checked later, per import (activation_error).
// A token that is a URL is not fetched: 2.9.10's jwt library (v2.3.0) decodes tokens inline
// only, so a URL is "an invalid activation token".
void activation_claims_errors(const std::string& importer, const JwtImport& im, std::vector<std::string>& out) {
  if (im.token.empty()) return;
  auto quoted = [](const std::string& s) { return "\"" + s + "\""; };
  auto d = jwt::decode(im.token);
  if (std::holds_alternative<std::string>(d)) {
    out.push_back("import " + quoted(im.subject) + " contains an invalid activation token");
    return;
  }
  const auto& act = std::get<jwt::Decoded>(d);
  auto n = act.claims.find("nats");
  if (act.type != "activation" || n == act.claims.end() || !n->is_object()) {
    out.push_back("import " + quoted(im.subject) + " contains an invalid activation token");
    return;
  }
  std::string issuer_account = n->value("issuer_account", "");
  if (act.issuer != im.account && issuer_account != im.account)
    out.push_back("activation token doesn't match account for import " + quoted(im.subject));
  if (act.subject != importer)
    out.push_back("activation token doesn't match account it is being included in, " + quoted(im.subject));
  std::string kind = n->value("kind", "");
  if (!kind.empty() && kind != im.type)
    out.push_back("mismatch between token import type " + kind + " and type of import " + im.type);
  std::string subject = n->value("subject", "");
  std::string imported = im.type == "service" && im.local_subject.empty() && !im.to.empty() ? im.to : im.subject;
  if (subject.empty() || !subject_is_subset_match(imported, subject))
    out.push_back("activation token import subject " + quoted(subject) + " doesn't match import " + quoted(im.subject));
}

}  // namespace

std::vector<std::string> account_claims_validation_errors(const AccountClaims& ac) {
  std::vector<std::string> out;
  for (const auto& im : ac.imports) activation_claims_errors(ac.base.subject, im, out);
  return out;
}

std::string check_account_jwt(const std::string& key, const std::string& token, const Options& opts,
                              AccountClaimsPtr* out) {
  auto r = decode_account_claims(token);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  auto& ac = std::get<AccountClaims>(r);
  if (ac.base.subject != key) return "account name mismatch";
  if (auto errs = account_claims_validation_errors(ac); !errs.empty()) return "invalid account claims: " + errs.front();
  const auto& trusted = opts.trusted_keys;
  if (std::find(trusted.begin(), trusted.end(), ac.base.issuer) == trusted.end()) return "account not trusted";
  if (out) *out = std::make_shared<const AccountClaims>(std::move(ac));
  return "";
}

JwtAccounts load_jwt_accounts(const Options& opts, const std::map<std::string, std::string>& tokens) {
  JwtAccounts out;
  for (const auto& [key, token] : tokens) {
    AccountClaimsPtr ac;
    if (auto err = check_account_jwt(key, token, opts, &ac); !err.empty()) {
      log::error("Account [{}] not valid: {}", key, err);
      continue;
    }
    out.claims[key] = ac;
  }
  for (const auto& [key, ac] : out.claims) out.configs.push_back(account_config_from_claims(*ac, out.claims));
  return out;
}

namespace {

// The exporter's subject an import names: as the reference, a service import with
// local_subject names it in `subject`; without, `subject` is local and `to` (if any) remote.
std::string remote_subject(const JwtImport& im) {
  if (im.type == "service" && im.local_subject.empty() && !im.to.empty()) return im.to;
  return im.subject;
}

const JwtExport* covering_export(const AccountClaims& exporter, const JwtImport& im) {
  for (const auto& e : exporter.exports)
    if (e.type == im.type && subject_is_subset_match(remote_subject(im), e.subject)) return &e;
  return nullptr;
}

// As the reference's checkActivation with the jwt library's Import.Validate: the import's
// token is an activation JWT signed by the exporter (or one of its signing keys), for the
// importing account, of the import's kind, covering its subject, not expired. "" when valid.
// Whether `ex`'s revocations (read from the exporter's claims: {"<account>" or "*": unix time})
// revoke an activation token for `account` issued at `issued_at`, as the reference's isRevoked
// (revoked if issued at or before the given time). A malformed list revokes (fail closed; the
// reference refuses such an account JWT).
bool activation_revoked(const AccountClaims& exporter, const JwtExport& ex, const std::string& account,
                        int64_t issued_at) {
  auto n = exporter.base.claims.find("nats");
  if (n == exporter.base.claims.end() || !n->is_object()) return false;
  auto exports = n->find("exports");
  if (exports == n->end() || !exports->is_array()) return false;
  for (const auto& e : *exports) {
    if (!e.is_object() || e.value("subject", "") != ex.subject || e.value("type", "") != ex.type) continue;
    auto rv = e.find("revocations");
    if (rv == e.end() || rv->is_null()) return false;
    if (!rv->is_object()) return true;
    for (const char* who : {account.c_str(), "*"}) {
      auto r = rv->find(who);
      if (r == rv->end()) continue;
      if (!r->is_number_integer() || r->get<int64_t>() >= issued_at) return true;
    }
    return false;
  }
  return false;
}

std::string activation_error(const AccountClaims& importer, const AccountClaims& exporter, const JwtExport& ex,
                             const JwtImport& im) {
  if (im.token.empty()) return "no activation token";
  auto d = jwt::decode(im.token);
  if (auto* err = std::get_if<std::string>(&d)) return "activation token not valid: " + *err;
  const auto& act = std::get<jwt::Decoded>(d);
  if (act.type != "activation") return "not an activation token";
  if (act.subject != importer.base.subject) return "activation token doesn't match account it is being included in";
  const std::string& iss = act.issuer;
  if (iss != exporter.base.subject && !exporter.signing_keys.count(iss)) return "activation token not issued by the exporter";
  auto nats_it = act.claims.find("nats");
  if (nats_it == act.claims.end() || !nats_it->is_object()) return "activation token has no claims";
  std::string subject = nats_it->value("subject", ""), kind = nats_it->value("kind", "");
  if (!kind.empty() && kind != im.type) return "activation token kind does not match the import";
  if (subject.empty() || !subject_is_subset_match(remote_subject(im), subject))
    return "activation token import subject doesn't match import subject";
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  // Expired from its `exp` second on, as the reference's checkActivation (`<=`; the jwt
  // library's own time check counts that second as valid).
  if (act.expires > 0 && act.expires <= now) return "activation token has expired";
  if (auto t = jwt::time_check(act, now); !t.empty()) return "activation token " + t;
  if (activation_revoked(exporter, ex, act.subject, act.issued_at)) return "activation token revoked";
  return "";
}

}  // namespace

StreamImport stream_import_of(const JwtImport& im) {
  StreamImport si;
  si.account = im.account;
  si.subject = im.subject;
  if (!im.local_subject.empty()) si.to = im.local_subject;
  else si.prefix = im.to;
  return si;
}

ServiceImport service_import_of(const JwtImport& im) {
  ServiceImport si;
  si.account = im.account;
  si.subject = remote_subject(im);
  si.to = im.local_subject.empty() ? im.subject : im.local_subject;
  si.share = im.share;
  return si;
}

AccountConfig account_config_from_claims(const AccountClaims& ac, const std::map<std::string, AccountClaimsPtr>& all,
                                         const std::function<RefusedImport(const JwtImport&)>& refused) {
  AccountConfig c;
  c.name = ac.base.subject;
  // The JWT's unlimited is -1, as the config's; 0 is a real limit of none.
  c.max_connections = static_cast<int>(std::clamp<int64_t>(ac.conn, -1, INT32_MAX));
  c.max_subscriptions = static_cast<int>(std::clamp<int64_t>(ac.subs, -1, INT32_MAX));
  c.max_leafnodes = static_cast<int>(std::clamp<int64_t>(ac.leaf, -1, INT32_MAX));
  c.max_payload = ac.payload;
  c.jetstream = ac.jetstream_limits;
  c.js_limits = ac.js_limits;
  c.default_permissions = ac.default_permissions;
  c.mappings = ac.mappings;
  for (const auto& e : ac.exports) {
    if (e.type == "stream") {
      c.stream_exports.push_back(StreamExport{e.subject, {}});
    } else {
      ServiceExport se;
      se.subject = e.subject;
      se.response_type = e.response_type.empty() ? "Singleton" : e.response_type;
      se.response_threshold = Duration(e.response_threshold_ns);
      // As the reference, latency tracking the server cannot do here (a sampling out of
      // 1-100, a results subject that is not a literal or is one of the account's services,
      // a non-singleton service) is left off, the export kept.
      if (e.latency && latency_trackable(*e.latency, se, c.service_exports)) se.latency = e.latency;
      c.service_exports.push_back(se);
    }
  }
  for (const auto& im : ac.imports) {
    auto it = all.find(im.account);
    const JwtExport* ex = it == all.end() ? nullptr : covering_export(*it->second, im);
    if (!ex) {
      log::error("Can't locate account [{}] for import of [{}] {}", im.account, im.subject, im.type);
      continue;
    }
    bool invalid = false;
    if (ex->token_req) {
      if (auto err = activation_error(ac, *it->second, *ex, im); !err.empty()) {
        RefusedImport what = refused ? refused(im) : RefusedImport::Drop;
        if (what == RefusedImport::Drop) {
          log::error("Import of [{}] {} from account [{}] refused: {}", im.subject, im.type, im.account, err);
          continue;
        }
        invalid = what == RefusedImport::Invalid;
      }
    }
    if (im.type == "stream") {
      c.stream_imports.push_back(stream_import_of(im));
      c.stream_imports.back().invalid = invalid;
    } else {
      c.service_imports.push_back(service_import_of(im));
      c.service_imports.back().invalid = invalid;
    }
  }
  return c;
}

}  // namespace nats
