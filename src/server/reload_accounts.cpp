// Config reload of the config accounts themselves, as the reference's accountsOption (its
// reloadAuthorization builds the accounts anew and moves the clients over): accounts removed
// from the config leave the account table (their clients are cut by the authorization reload:
// their users are gone, closed without an -ERR as 2.9.10 does), and an account still there takes
// its new limits, subject mappings and JetStream settings at once. Top-level `mappings` are the
// global account's. Users, permissions, imports and exports are reloaded in reload.cpp.
// In operator mode the resolver (reload_resolver): MEMORY and URL replace each other or take
// another URL; with MEMORY the `resolver_preload` JWTs are the accounts: as the reference's
// reloadAuthorization with a MemAccResolver, an account whose JWT is gone is deleted (its
// clients fail the new authorization: -ERR 'Authorization Violation'), one whose JWT changed
// is updated as by a pushed JWT, a new one resolves on first use. FULL and CACHE store new
// preloads.
#include <algorithm>

#include "cluster/leaf_manager.h"
#include "cluster/route.h"
#include "cluster/route_manager.h"
#include "jetstream/jetstream.h"
#include "server/account_resolver.h"
#include "server/client.h"
#include "server/jwt_claims.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {

const AccountConfig* find_config(const Options& o, const std::string& name) {
  for (const auto& a : o.accounts)
    if (a.name == name) return &a;
  return nullptr;
}

// New mappings apply to the next publish (Account swaps its list atomically); leafs bound to
// the account are told the new sources, as for a JWT update.
void reload_mappings(Server& server, Account& acc, const std::vector<MappingConfig>& old_m,
                     const std::vector<MappingConfig>& new_m) {
  if (old_m == new_m) return;
  std::vector<std::string> added;
  try {
    added = replace_account_mappings(acc, old_m, new_m);
  } catch (const std::exception& e) {
    log::error("Account [{}] reload: {}", acc.name(), e.what());
    return;
  }
  log::notice("Reloaded: account {} mappings", acc.name());
  if (auto* leafs = server.leafs())
    for (const auto& src : added) {
      Subscription s;
      s.subject = src;
      leafs->on_interest(acc.name(), s, true);
    }
}

// A lower account max_connections: the connections over it are closed with the reference's
// error, the newest kept (as for a JWT's lower limit). 2.9.10 closes one more: each client
// re-registers into the new account that already counts all of them, and is refused while
// the count is at the limit (it keeps limit-1, and cuts one at a limit just reached on any
// reload); that off-by-one is not copied.
void cut_over_limit(Server& server, const AccountConfig& cfg) {
  std::vector<std::shared_ptr<ClientConnection>> in;
  for (auto& c : server.clients_snapshot())
    if (!c->closing() && c->account_name() == cfg.name) in.push_back(c);
  if (in.size() <= static_cast<size_t>(cfg.max_connections)) return;
  std::sort(in.begin(), in.end(), [](const auto& a, const auto& b) { return a->cid() > b->cid(); });
  for (size_t i = static_cast<size_t>(cfg.max_connections); i < in.size(); ++i)
    in[i]->kick("maximum account active connections exceeded", CloseReason::MaxAccountConnectionsExceeded);
  log::notice("Account {}: closed {} connections to fall within max_connections", cfg.name,
              in.size() - static_cast<size_t>(cfg.max_connections));
}

int64_t issued_at(const std::string& token) {
  auto d = jwt::decode(token);
  auto* ok = std::get_if<jwt::Decoded>(&d);
  return ok ? ok->issued_at : 0;
}

}  // namespace

void Server::reload_accounts(const Options& old, const Options& next,
                             std::shared_ptr<const net::TlsContext> resolver_tls) {
  std::lock_guard jlk(jwt_mu_);
  std::string sys = system_account_ ? system_account_->name() : std::string();
  for (const auto& oa : old.accounts) {
    if (find_config(next, oa.name) || oa.name == sys || oa.name == kGlobalAccount) continue;
    // As the reference, which deletes it from its table (the system account stays).
    // Connections and stopped streams may still refer to the Account: it is kept alive, only
    // no longer found.
    AccountPtr gone;
    {
      std::lock_guard lk(accounts_mu_);
      auto it = accounts_.find(oa.name);
      if (it == accounts_.end()) continue;
      gone = it->second;
      accounts_.erase(it);
    }
    retired_accounts_.push_back(gone);
    log::notice("Reloaded: account {} removed", oa.name);
    // Its streams stop (2.9.10 leaves them running on the old account, where no client
    // reaches them any more): nothing serves or stores for an account that is gone.
    if (auto* js = jetstream()) js->remove_account(*gone);
    // Interest the routes heard in it waits for an account of that name (a later reload).
    if (auto* rm = routes())
      for (auto& r : rm->routes()) r->account_removed(oa.name);
  }
  for (const auto& na : next.accounts) {
    const AccountConfig* oa = find_config(old, na.name);
    if (!oa) continue;  // added: registered with all its settings by reload()
    AccountPtr acc = na.name == kGlobalAccount ? global_account_ : lookup_account(na.name);
    if (!acc) continue;
    // The reference's new Account carries the new limits: new clients count against them,
    // a lower max_payload reaches each client with the reload task
    // (ClientConnection::apply_live_limits).
    acc->max_connections = na.max_connections;
    if (na.max_connections >= 0 && na.max_connections != oa->max_connections) cut_over_limit(*this, na);
    acc->max_leafnodes = na.max_leafnodes;
    acc->max_subscriptions = na.max_subscriptions;
    acc->max_payload = na.max_payload;
    reload_mappings(*this, *acc, oa->mappings, na.mappings);
    if (oa->jetstream != na.jetstream || !(oa->js_limits == na.js_limits)) {
      // As the reference's configJetStream on reload: new limits apply to the account's
      // streams now (UpdateJetStreamLimits); JetStream turned on or off for the account.
      acc->set_js_limits(na.js_limits);
      acc->jetstream_enabled.store(na.jetstream);
      if (auto* js = jetstream()) js->update_account(*acc);
      log::notice("Reloaded: account {} JetStream", na.name);
    }
  }
  reload_mappings(*this, *global_account_, old.mappings, next.mappings);

  reload_resolver(old, next, resolver_tls);
}

void Server::reload_resolver(const Options& old, const Options& next, std::shared_ptr<const net::TlsContext> tls) {
  if (!resolver_ || (old.resolver == next.resolver && old.resolver_preload == next.resolver_preload)) return;
  std::lock_guard jlk(jwt_mu_);
  if (resolver_->is_dir()) {
    // FULL or CACHE with other preloads (their settings cannot change: refusal()): as the
    // reference's configureResolver, new and changed ones are stored unless the directory
    // has a newer one; accounts already in use keep their JWT, removed preloads stay stored.
    for (const auto& [key, token] : next.resolver_preload) {
      auto was = old.resolver_preload.find(key);
      if (was != old.resolver_preload.end() && was->second == token) continue;
      if (auto err = resolver_->save(key, token, issued_at(token)); !err.empty())
        log::error("Preloaded account [{}] not stored: {}", key, err);
    }
    return;
  }
  // MEMORY or URL to MEMORY or URL: the reference's new resolver holds the new preloads only
  // (MEMORY) or fetches from the new URL.
  resolver_->retarget(next, std::move(tls));
  if (!(old.resolver == next.resolver)) log::notice("Reloaded: account resolver {}", next.resolver.type);
  if (next.resolver.type != "MEMORY") return;  // URL: the accounts in use stay as they are
  // MEMORY: as the reference's walk of its accounts, one the preloads no longer have is
  // deleted (its clients fail the new authorization: -ERR 'Authorization Violation'), the
  // others are updated as by a pushed JWT; a new one resolves on first use.
  const std::string sys = system_account_ ? system_account_->name() : std::string();
  for (const auto& acc : accounts()) {
    const std::string key = acc->name();
    if (acc == global_account_ || key == sys) continue;  // the reference puts the system account back
    if (resolver_->fetch(key)) {
      apply_account_jwt(key);
      continue;
    }
    {
      std::lock_guard lk(accounts_mu_);
      auto it = accounts_.find(key);
      if (it == accounts_.end() || it->second != acc) continue;
      accounts_.erase(it);
    }
    acc->max_connections = 0;
    acc->max_leafnodes = 0;
    retired_accounts_.push_back(acc);
    log::notice("Reloaded: deleting account [removed]: \"{}\"", key);
    if (auto* js = jetstream()) js->remove_account(*acc);
    if (auto* rm = routes())
      for (auto& r : rm->routes()) r->account_removed(key);
    for (auto& c : clients_snapshot())
      if (!c->closing() && c->account_name() == key)
        c->kick("Authorization Violation", CloseReason::AuthenticationViolation);
  }
}

}  // namespace nats
