// The directory resolver's requests (resolver type FULL), answered as the reference's
// DirAccResolver: account JWT pushes ($SYS.REQ.CLAIMS.UPDATE, $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE
// and the older $SYS.ACCOUNT.<id>.CLAIMS.UPDATE), lookups ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP:
// the JWT itself), the list of stored accounts ($SYS.REQ.CLAIMS.LIST) and deletes
// ($SYS.REQ.CLAIMS.DELETE: a generic JWT self-signed by a trusted operator key listing the
// accounts in nats.accounts). Replies carry the ServerInfo as "server", then "data" or "error".
#include <algorithm>

#include "server/jwt_accounts.h"
#include "server/jwt_claims.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/nkey.h"

namespace nats {

namespace {

// The <id> of $SYS.REQ.ACCOUNT.<id>.CLAIMS.<X> or $SYS.ACCOUNT.<id>.CLAIMS.UPDATE; empty if
// the subject has another shape.
std::string account_of(std::string_view subject) {
  std::vector<std::string_view> t;
  size_t pos = 0;
  while (true) {
    size_t dot = subject.find('.', pos);
    t.push_back(subject.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos));
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (t.size() == 6) return std::string(t[3]);
  if (t.size() == 5) return std::string(t[2]);
  return "";
}

// The reference's claimValidate error: Go's %v of the jwt library's []error.
std::string validation_errors_text(const std::vector<std::string>& errs) {
  std::string out = "validation errors: [";
  for (size_t i = 0; i < errs.size(); ++i) out += (i ? " " : "") + errs[i];
  return out + "]";
}

std::string hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

}  // namespace

void SystemServices::respond_claims(std::string_view reply_subject, const std::string& account, const std::string& message,
                                    const std::string& error) {
  if (error.empty()) {
    if (account.empty()) log::debug("{}", message);
    else log::debug("{} - {}", message, account);
  } else if (account.empty()) {
    log::error("{} - {}", message, error);
  } else {
    log::error("{} - {} - {}", message, account, error);
  }
  if (reply_subject.empty()) return;
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  if (!account.empty()) m["account"] = account;
  nlohmann::ordered_json r = nlohmann::ordered_json::object();
  if (error.empty()) {
    m["code"] = 200;
    m["message"] = message;
    r["data"] = m;
  } else {
    m["code"] = 500;
    m["description"] = message + " - " + error;
    r["error"] = m;
  }
  r["server"] = server_info();
  reply(reply_subject, r.dump());
}

void SystemServices::handle_claims_update(std::string_view subject_key, std::string_view reply_subject,
                                          std::string_view payload) {
  auto* store = server_.account_resolver();
  std::string token(payload);
  auto decoded = decode_account_claims(token);
  if (auto* err = std::get_if<std::string>(&decoded)) {
    respond_claims(reply_subject, "n/a", "jwt update resulted in error", *err);
    return;
  }
  const auto& ac = std::get<AccountClaims>(decoded);
  std::string key = subject_key.empty() ? ac.base.subject : std::string(subject_key);
  // The reference's claimValidate: before the subject check on $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE,
  // after the signing-key check on $SYS.REQ.CLAIMS.UPDATE.
  auto invalid = [&] {
    auto errs = account_claims_validation_errors(ac);
    if (errs.empty()) return false;
    respond_claims(reply_subject, ac.base.subject, "jwt validation failed", validation_errors_text(errs));
    return true;
  };
  if (!subject_key.empty() && invalid()) return;
  if (ac.base.subject != key) {
    respond_claims(reply_subject, key, "jwt update resulted in error", "subject does not match jwt content");
    return;
  }
  const auto& trusted = server_.options().trusted_keys;
  bool issuer_is_operator_identity = false;
  for (const auto& t : server_.options().operator_jwts) {
    auto oc = decode_operator_claims(t);
    if (auto* o = std::get_if<OperatorClaims>(&oc); o && o->strict_signing_key_usage && o->base.subject == ac.base.issuer)
      issuer_is_operator_identity = true;
  }
  if (issuer_is_operator_identity) {
    respond_claims(reply_subject, key, "jwt update resulted in error", "operator requires issuer to be a signing key");
    return;
  }
  (void)trusted;
  if (subject_key.empty() && invalid()) return;
  if (auto err = store->save(key, token, ac.base.issued_at); !err.empty()) {
    respond_claims(reply_subject, key, "jwt update resulted in error", err);
    return;
  }
  // As the reference, stored is "updated" even if the account then refuses the JWT (logged).
  server_.apply_account_jwt(key);
  respond_claims(reply_subject, key, "jwt updated", "");
}

void SystemServices::handle_claims_delete(std::string_view reply_subject, std::string_view payload) {
  auto* store = server_.account_resolver();
  auto d = jwt::decode(payload);
  std::string who, err;
  std::vector<std::string> keys;
  if (auto* e = std::get_if<std::string>(&d)) {
    err = *e;
  } else {
    const auto& g = std::get<jwt::Decoded>(d);
    who = g.subject;
    const auto& trusted = server_.options().trusted_keys;
    auto n = g.claims.find("nats");
    const nlohmann::json* list = nullptr;
    if (n != g.claims.end() && n->is_object() && n->contains("accounts")) list = &(*n)["accounts"];
    if (!store->allow_delete()) err = "delete must be enabled in server config";
    else if (g.subject != g.issuer) err = "not self signed";
    else if (std::find(trusted.begin(), trusted.end(), g.issuer) == trusted.end()) err = "not trusted";
    else if (!list || !list->is_array()) err = "malformed request";
    else {
      std::string sys = server_.system_account() ? server_.system_account()->name() : "";
      for (const auto& e : *list) {
        if (!e.is_string() || !nkey::is_valid_public_account_key(e.get<std::string>())) {
          err = "malformed request";
          break;
        }
        if (e.get<std::string>() == sys) {
          err = "not allowed to delete system account";
          break;
        }
        keys.push_back(e.get<std::string>());
      }
    }
  }
  if (!err.empty()) {
    respond_claims(reply_subject, "", "delete accounts request by " + who + " failed", err);
    return;
  }
  int deleted = 0, failed = 0;
  for (const auto& k : keys) {
    if (store->remove(k)) {
      ++deleted;
      server_.disable_jwt_account(k);
    } else {
      ++failed;
    }
  }
  if (failed == 0) respond_claims(reply_subject, "", "deleted " + std::to_string(deleted) + " accounts", "");
  else
    respond_claims(reply_subject, "",
                   "deleted " + std::to_string(deleted) + " accounts, failed for " + std::to_string(failed),
                   "no such account");
}

// The MEMORY resolver (as the reference's accountClaimUpdate): an update applies to an
// account already registered; others are skipped.
void SystemServices::handle_memory_update(std::string_view key, std::string_view reply_subject,
                                          std::string_view payload) {
  std::string k(key);
  if (payload.empty()) {
    respond_claims(reply_subject, k, "jwt update error", "request body is empty");
    return;
  }
  std::string token(payload);
  auto decoded = decode_account_claims(token);
  if (auto* err = std::get_if<std::string>(&decoded)) {
    respond_claims(reply_subject, k, "jwt update resulted in error", *err);
    return;
  }
  const auto& ac = std::get<AccountClaims>(decoded);
  if (ac.base.subject != k) {
    respond_claims(reply_subject, k, "jwt update resulted in error", "subject does not match jwt content");
    return;
  }
  if (!server_.lookup_account(k)) {
    respond_claims(reply_subject, k, "jwt update skipped", "");
    return;
  }
  auto* store = server_.account_resolver();
  if (auto err = store->save(k, token, ac.base.issued_at); !err.empty()) {
    respond_claims(reply_subject, k, "jwt update resulted in error", err);
    return;
  }
  if (auto err = server_.apply_account_jwt(k); !err.empty()) {
    respond_claims(reply_subject, k, "jwt update resulted in error", err);
    return;
  }
  respond_claims(reply_subject, k, "jwt updated", "");
}

// The CACHE resolver (as the reference's CacheDirAccResolver): an update is stored only for
// an account this server already uses; the others are "skipped" (looked up when needed).
void SystemServices::handle_cache_update(std::string_view subject_key, std::string_view reply_subject,
                                         std::string_view payload) {
  std::string token(payload);
  std::string k(subject_key);
  auto decoded = decode_account_claims(token);
  if (auto* err = std::get_if<std::string>(&decoded)) {
    respond_claims(reply_subject, k.empty() ? "n/a" : k, "jwt update cache resulted in error", *err);
    return;
  }
  const auto& ac = std::get<AccountClaims>(decoded);
  if (k.empty()) k = ac.base.subject;
  if (ac.base.subject != k) {
    respond_claims(reply_subject, k, "jwt update cache resulted in error", "subject does not match jwt content");
    return;
  }
  for (const auto& t : server_.options().operator_jwts) {
    auto oc = decode_operator_claims(t);
    if (auto* o = std::get_if<OperatorClaims>(&oc); o && o->strict_signing_key_usage && o->base.subject == ac.base.issuer) {
      respond_claims(reply_subject, k, "jwt update cache resulted in error", "operator requires issuer to be a signing key");
      return;
    }
  }
  if (!server_.lookup_account(k)) {
    respond_claims(reply_subject, k, "jwt update cache skipped", "");
    return;
  }
  if (auto errs = account_claims_validation_errors(ac); !errs.empty()) {
    respond_claims(reply_subject, ac.base.subject, "jwt update cache validation failed", validation_errors_text(errs));
    return;
  }
  if (auto err = server_.account_resolver()->save(k, token, ac.base.issued_at); !err.empty()) {
    respond_claims(reply_subject, k, "jwt update cache resulted in error", err);
    return;
  }
  server_.apply_account_jwt(k);
  respond_claims(reply_subject, k, "jwt updated cache", "");
}

void SystemServices::subscribe_claims_requests() {
  auto* store = server_.account_resolver();
  if (!store) return;
  subscribe_account_lookups();
  if (store->is_cache()) {
    auto update = [this](const Subscription&, std::string_view subject, std::string_view reply, std::string_view,
                         std::string_view payload) {
      std::string key = account_of(subject);
      if (!key.empty()) handle_cache_update(key, reply, payload);
    };
    subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", update);
    subscribe("$SYS.ACCOUNT.*.CLAIMS.UPDATE", update);
    subscribe("$SYS.REQ.CLAIMS.UPDATE", [this](const Subscription&, std::string_view, std::string_view reply,
                                               std::string_view, std::string_view payload) {
      handle_cache_update("", reply, payload);
    });
    subscribe_claims_list_and_delete();
    cache_expire_tick();
    return;
  }
  if (!store->is_full()) {
    auto update = [this](const Subscription&, std::string_view subject, std::string_view reply, std::string_view,
                         std::string_view payload) {
      std::string key = account_of(subject);
      if (!key.empty()) handle_memory_update(key, reply, payload);
    };
    subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", update);
    subscribe("$SYS.ACCOUNT.*.CLAIMS.UPDATE", update);
    return;
  }
  auto update = [this](const Subscription&, std::string_view subject, std::string_view reply, std::string_view,
                       std::string_view payload) {
    std::string key = account_of(subject);
    if (key.empty()) return;
    handle_claims_update(key, reply, payload);
  };
  subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", update);
  subscribe("$SYS.ACCOUNT.*.CLAIMS.UPDATE", update);
  subscribe("$SYS.REQ.CLAIMS.UPDATE", [this](const Subscription&, std::string_view, std::string_view reply,
                                             std::string_view, std::string_view payload) {
    handle_claims_update("", reply, payload);
  });
  subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP", [this, store](const Subscription&, std::string_view subject,
                                                             std::string_view reply, std::string_view, std::string_view) {
    if (reply.empty()) return;
    if (auto token = store->fetch(account_of(subject))) this->reply(reply, *token);
  });
  subscribe_claims_list_and_delete();
  subscribe_claims_sync();
  cache_expire_tick();  // JWTs past their expiry leave the directory (every minute)
}

void SystemServices::subscribe_claims_list_and_delete() {
  auto* store = server_.account_resolver();
  subscribe("$SYS.REQ.CLAIMS.LIST", [this, store](const Subscription&, std::string_view, std::string_view reply,
                                                 std::string_view, std::string_view) {
    if (reply.empty()) return;
    nlohmann::ordered_json r = nlohmann::ordered_json::object();
    r["data"] = store->keys();
    r["server"] = server_info();
    this->reply(reply, r.dump());
  });
  subscribe("$SYS.REQ.CLAIMS.DELETE", [this](const Subscription&, std::string_view, std::string_view reply,
                                             std::string_view, std::string_view payload) {
    handle_claims_delete(reply, payload);
  });
}

// CACHE and FULL: expired entries go every half ttl (at most a minute apart; FULL has no ttl:
// every minute), as the reference's expiration tracker; the first check is at start.
void SystemServices::cache_expire_tick() {
  if (stopped_) return;
  server_.account_resolver()->expire();
  std::chrono::nanoseconds every = server_.options().resolver.ttl / 2;
  if (every.count() <= 0 || every > std::chrono::minutes(1)) every = std::chrono::minutes(1);
  loop_->run_after(std::chrono::duration_cast<std::chrono::milliseconds>(every) + std::chrono::milliseconds(1),
                   [this] { cache_expire_tick(); });
}

void SystemServices::subscribe_claims_sync() {
  subscribe("$SYS.REQ.CLAIMS.PACK",
            [this](const Subscription&, std::string_view, std::string_view reply, std::string_view,
                   std::string_view payload) { handle_pack_request(reply, payload); },
            "responder");
  pack_inbox_ = "$SYS._INBOX." + util::next_nuid();
  subscribe(pack_inbox_, [this](const Subscription&, std::string_view, std::string_view, std::string_view,
                                std::string_view payload) { handle_pack_response(payload); });
  auto every = server_.options().resolver.interval;
  // As the reference: a zero or negative interval means one minute.
  if (every.count() <= 0) every = std::chrono::minutes(1);
  loop_->run_after(every, [this] { claims_sync_tick(); });
}

void SystemServices::claims_sync_tick() {
  if (stopped_) return;
  auto* store = server_.account_resolver();
  log::debug("Checking store state: {}", hex(store->hash()));
  server_.publish_internal(*sys_, "$SYS.REQ.CLAIMS.PACK", pack_inbox_, {}, store->hash());
  auto every = server_.options().resolver.interval;
  if (every.count() <= 0) every = std::chrono::minutes(1);
  loop_->run_after(every, [this] { claims_sync_tick(); });
}

void SystemServices::handle_pack_request(std::string_view reply_subject, std::string_view their_hash) {
  if (reply_subject.empty()) return;
  auto* store = server_.account_resolver();
  if (their_hash == store->hash()) {
    reply(reply_subject, "");
    return;
  }
  // One JWT per message, as the reference's PackWalk(1, ...); the empty one ends the answer.
  for (const auto& line : store->pack_lines()) reply(reply_subject, line);
  reply(reply_subject, "");
}

void SystemServices::handle_pack_response(std::string_view payload) {
  if (payload.empty()) return;  // end of an answer
  std::vector<std::string> changed;
  if (auto err = server_.account_resolver()->merge(std::string(payload), changed); !err.empty())
    log::error("Merging resulted in error: {}", err);
  // The accounts in use take their new JWT at once, as after a push.
  for (const auto& key : changed) server_.apply_account_jwt(key);
}

}  // namespace nats
