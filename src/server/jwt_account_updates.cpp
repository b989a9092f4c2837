// Operator mode accounts at run time: registering an account from the resolver on first
// use, and applying an updated account JWT to the account and its live clients, as the
// reference's updateAccountClaimsWithRefresh: new limits and signing keys for new
// connections, new subject mappings at once; revoked users, disallowed bearer users and
// connections over the new limit (oldest first) are disconnected; an expired or deleted
// account cuts all its clients.
#include <algorithm>
#include <functional>
#include <chrono>
#include <set>

#include "cluster/gateway_manager.h"
#include "cluster/leaf_manager.h"
#include "cluster/route.h"
#include "cluster/route_manager.h"
#include "jetstream/jetstream.h"
#include "server/client.h"
#include "server/imports.h"
#include "server/jwt_accounts.h"
#include "server/server.h"
#include "util/time_format.h"
#include "util/log.h"

namespace nats {

namespace {

bool same_mappings(const AccountClaims& a, const AccountClaims& b) {
  auto mappings = [](const AccountClaims& c) {
    std::vector<std::string> v;
    for (const auto& m : c.mappings) {
      std::string s = m.src;
      for (const auto& d : m.dests) s += "|" + d.subject + "|" + std::to_string(d.weight) + "|" + d.cluster;
      v.push_back(s);
    }
    return v;
  };
  return mappings(a) == mappings(b);
}

bool same_imports_exports(const AccountClaims& a, const AccountClaims& b) {
  auto imports = [](const AccountClaims& c) {
    std::vector<std::string> v;
    // The token too: a new one (renewed, or expired) decides again whether the import runs.
    for (const auto& i : c.imports)
      v.push_back(i.type + "|" + i.account + "|" + i.subject + "|" + i.to + "|" + i.local_subject + "|" + i.token + "|" +
                  (i.share ? "s" : ""));
    return v;
  };
  auto exports = [](const AccountClaims& c) {
    std::vector<std::string> v;
    for (const auto& e : c.exports) v.push_back(e.type + "|" + e.subject + "|" + (e.token_req ? "t" : "") + "|" + e.response_type + "|" +
                  (e.latency ? std::to_string(e.latency->sampling) + "|" + e.latency->subject : "") + "|" +
                  std::to_string(e.response_threshold_ns));
    return v;
  };
  return imports(a) == imports(b) && exports(a) == exports(b);
}

// Whether two signing keys' scopes (templates; nullopt: unscoped) are the same.
bool same_scope(const std::optional<UserPermissionLimits>& a, const std::optional<UserPermissionLimits>& b) {
  if (!a || !b) return !a && !b;
  return a->permissions == b->permissions && a->subs == b->subs && a->data == b->data && a->payload == b->payload &&
         a->src == b->src && a->has_times == b->has_times && a->times == b->times &&
         a->times_location == b->times_location && a->bearer_token == b->bearer_token &&
         a->allowed_connection_types == b->allowed_connection_types;
}

std::vector<std::shared_ptr<ClientConnection>> clients_of(const Server& s, const std::string& account) {
  std::vector<std::shared_ptr<ClientConnection>> out;
  for (auto& c : s.clients_snapshot())
    if (c->account_name() == account && !c->closing()) out.push_back(c);
  // Newest first: over a lowered connection limit the reference keeps the newest.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->cid() > b->cid(); });
  return out;
}

// An account JWT update that changes imports or exports (as the reference's
// updateAccountClaimsWithRefresh): the account's imports are wired again, and so are those of
// the registered accounts importing from it (an export added or removed allows or drops
// them), through the config reload's rewire: unchanged imports keep flowing, new internal
// subscriptions are announced, removed ones withdrawn. `reg` registers a newly imported
// account (the server's register_jwt_account; jwt_mu_ held).
void rewire_jwt_account(Server& server, const std::string& key,
                        const std::function<AccountPtr(const std::string&)>& reg) {
  std::map<std::string, AccountPtr> all;
  for (auto& a : server.accounts()) all[a->name()] = a;
  auto config_of = [&](const AccountPtr& a) {
    auto c = a->claims();
    std::map<std::string, AccountClaimsPtr> known{{a->name(), c}};
    for (const auto& im : c->imports) {
      if (known.count(im.account)) continue;
      auto ex = server.lookup_account(im.account);
      if (!ex) ex = reg(im.account);  // newly imported: registered now
      if (ex && ex->claims()) known[im.account] = ex->claims();
    }
    return account_config_from_claims(*c, known);
  };
  std::vector<AccountConfig> configs;
  for (const auto& [name, a] : all) {
    auto c = a->claims();
    if (!c) continue;
    bool affected = name == key;
    for (const auto& im : c->imports) affected = affected || im.account == key;
    if (affected) configs.push_back(config_of(a));
  }
  for (auto& a : server.accounts()) all[a->name()] = a;  // with the ones registered just now
  rewire_imports(server, all, configs);
  log::debug("Account [{}]: imports and exports rewired after the update", key);
}

// The updated JWT's mappings apply at once, as the reference's update: each source of the
// new claims replaces its mapping in place or is added at the end, and the sources of the
// old claims the new ones lack are removed; mappings the server added itself (the JetStream
// domain's) stay. Leafs bound to the account are told the new sources (the reference's
// forceAddToSmap); removed ones are not withdrawn there either.
void apply_jwt_mappings(Server& server, Account& acc, const AccountClaims& old, const AccountClaims& now) {
  std::vector<std::string> added;
  try {
    added = replace_account_mappings(acc, old.mappings, now.mappings);
  } catch (const std::exception& e) {
    log::error("Account [{}] update: {}", acc.name(), e.what());
    return;
  }
  log::debug("Account [{}]: mappings updated", acc.name());
  if (auto* leafs = server.leafs())
    for (const auto& src : added) {
      Subscription s;
      s.subject = src;
      leafs->on_interest(acc.name(), s, true);
    }
}

}  // namespace

AccountClaimsPtr Server::jwt_account_claims(const std::string& key) {
  if (auto a = lookup_account(key)) return a->claims();
  if (!resolver_) return nullptr;
  std::lock_guard lk(jwt_mu_);
  auto a = register_jwt_account(key, 0);
  return a ? a->claims() : nullptr;
}

AccountPtr Server::register_jwt_account(const std::string& key, int depth) {
  if (auto a = lookup_account(key)) return a;
  // Import chains deeper than this are left incomplete rather than followed forever.
  if (depth > 8) return nullptr;
  auto token = resolver_->fetch(key);
  if (!token) return nullptr;
  AccountClaimsPtr claims;
  if (auto err = check_account_jwt(key, *token, opts_, &claims); !err.empty()) {
    log::error("Account [{}] not valid: {}", key, err);
    return nullptr;
  }
  // Exporters first, so that this account's imports find them.
  std::map<std::string, AccountClaimsPtr> known{{key, claims}};
  for (const auto& im : claims->imports) {
    if (known.count(im.account)) continue;
    if (auto ex = register_jwt_account(im.account, depth + 1)) known[im.account] = ex->claims();
  }
  if (auto a = lookup_account(key)) return a;  // an import cycle registered it meanwhile
  auto acc = std::make_shared<Account>(key);
  install_jwt_account(acc, claims, account_config_from_claims(*claims, known));
  log::debug("Registered account [{}] from the resolver", key);
  return acc;
}

void Server::install_jwt_account(const AccountPtr& acc, const AccountClaimsPtr& claims, const AccountConfig& cfg) {
  acc->max_connections = cfg.max_connections;
  acc->max_leafnodes = cfg.max_leafnodes;
  acc->max_subscriptions = cfg.max_subscriptions;
  acc->max_payload = cfg.max_payload;
  acc->jetstream_enabled.store(cfg.jetstream);
  acc->set_js_limits(cfg.js_limits);
  acc->default_permissions = cfg.default_permissions;
  try {
    install_account_mappings(*acc, cfg.mappings);
  } catch (const std::exception& e) {
    log::error("Account [{}]: {}", cfg.name, e.what());
  }
  acc->set_claims(claims);
  std::map<std::string, AccountPtr> all;
  {
    std::lock_guard lk(accounts_mu_);
    accounts_[cfg.name] = acc;
    all = accounts_;
  }
  // At run time routes, gateways and leafs already know this server's interest: the import
  // subscriptions are announced to them (rewire announces what it inserts).
  rewire_imports(*this, all, {cfg});
  if (system_account_ && system_account_ != acc) install_system_imports(*this, {{cfg.name, acc}}, *system_account_);
  // After its imports: whether it imports another account's JetStream API decides whether
  // it answers its own (2.9.10 enables JetStream for an account resolved at run time too).
  if (auto* js = jetstream()) js->add_account(*acc);
  // Interest the routes heard in it before it was here counts from now on (route_lookup.cpp).
  if (auto* rm = routes())
    for (auto& r : rm->routes()) r->account_registered(cfg.name);
  // The remote clusters stop sending its messages optimistically (gateway_lookup.cpp).
  if (auto* gm = gateways()) gm->account_registered(cfg.name);
  arm_jwt_account_timer(acc);  // its JWT's and activations' expiries (jwt_account_timers.cpp)
}

std::string Server::apply_account_jwt(const std::string& key) {
  std::lock_guard lk(jwt_mu_);
  auto acc = lookup_account(key);
  if (!resolver_) return "";
  if (!acc) {
    // Registered on first use; but an account with JetStream now, while JetStream runs: in
    // a cluster every server needs its API subscription (the meta leader or a stream's host
    // answers requests from clients connected elsewhere), as 2.9.10 has it in every server.
    if (jetstream_enabled()) {
      AccountClaimsPtr claims;
      if (auto token = resolver_->fetch(key); token && check_account_jwt(key, *token, opts_, &claims).empty() &&
                                             claims && claims->jetstream_limits)
        register_jwt_account(key, 0);
    }
    return "";
  }
  auto token = resolver_->fetch(key);
  if (!token) return "";
  AccountClaimsPtr claims;
  if (auto err = check_account_jwt(key, *token, opts_, &claims); !err.empty()) {
    log::error("update resulted in error {}", err);
    return err;
  }
  auto old = acc->claims();
  if (old && !same_mappings(*old, *claims)) apply_jwt_mappings(*this, *acc, *old, *claims);
  bool rewire = old && !same_imports_exports(*old, *claims);
  // Signing keys removed, or whose scope changed (as the reference's signersChanged and
  // alteredScope): their users are cut.
  std::set<std::string> gone_signers;
  if (old)
    for (const auto& [sk, scope] : old->signing_keys) {
      auto now = claims->signing_keys.find(sk);
      if (now == claims->signing_keys.end() || !same_scope(scope, now->second)) gone_signers.insert(sk);
    }
  AccountConfig cfg = account_config_from_claims(*claims, {{key, claims}});
  acc->max_connections = cfg.max_connections;
  acc->max_leafnodes = cfg.max_leafnodes;
  acc->max_subscriptions = cfg.max_subscriptions;
  acc->max_payload = cfg.max_payload;
  // JetStream limits apply to the streams at once, as the reference's UpdateJetStreamLimits
  // (tiered limits come with the claims); limits added or removed switch the account's
  // JetStream on or off (the reference's configJetStream).
  acc->set_js_limits(cfg.js_limits);
  acc->jetstream_enabled.store(cfg.jetstream);
  acc->set_claims(claims);
  if (auto* js = jetstream()) js->update_account(*acc);
  if (rewire) rewire_jwt_account(*this, key, [this](const std::string& k) { return register_jwt_account(k, 1); });

  bool expired = claims->base.expires > 0 && claims->base.expires <= util::unix_now_seconds();
  int64_t kept = 0;
  for (auto& c : clients_of(*this, key)) {
    auto id = c->jwt_identity();
    if (expired) c->kick("Account Authentication Expired", CloseReason::AuthenticationExpired);
    else if (claims->conn >= 0 && kept >= claims->conn)
      c->kick("maximum account active connections exceeded", CloseReason::MaxAccountConnectionsExceeded);
    else if (!id.user.empty() && id.bearer && claims->disallow_bearer)
      c->kick("Authorization Violation", CloseReason::AuthenticationViolation);
    else if (!id.user.empty() && claims->user_revoked(id.user, id.issued_at))
      c->kick("User Authentication Revoked", CloseReason::Revocation);
    else {
      ++kept;
      c->on_account_limits_changed();
    }
  }
  // After the limits and revocations, as the reference (closed without an -ERR there).
  if (!gone_signers.empty())
    for (auto& c : clients_of(*this, key))
      if (auto id = c->jwt_identity(); !id.signing_key.empty() && gone_signers.count(id.signing_key))
        c->close(CloseReason::AuthenticationViolation);
  // The new JWT's expiries replace the old ones', as the reference's checkExpiration.
  arm_jwt_account_timer(acc);
  return "";
}

void Server::disable_jwt_account(const std::string& key) {
  std::lock_guard lk(jwt_mu_);
  auto acc = lookup_account(key);
  if (!acc) return;
  // No claims: no new user authenticates; the ones connected are cut, as the reference does
  // when it expires a deleted account.
  acc->max_connections = 0;
  acc->max_leafnodes = 0;
  acc->set_claims(nullptr);
  arm_jwt_account_timer(acc);  // no claims: the timer set before does nothing
  expire_account_connections(*this, key);  // its leafs too, as the reference's expiredTimeout
}

}  // namespace nats
