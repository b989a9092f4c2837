// Operator mode: expiries that pass while the server runs, as 2.9.10's account expiration
// timer (accounts.go checkExpiration / expiredTimeout) and its activation timers
// (checkActivation's AfterFunc calling activationExpired). One timer per account, at the
// earliest `exp` still ahead among its JWT's and its imports' activation tokens; set anew at
// registration and after each update, so an update moves the account's expiry for the clients
// already connected (a user's own `exp` is its connection's timer: client.cpp).
// When it fires:
//  - the account's JWT has expired: its clients and leaf connections are cut with "Account
//    Authentication Expired" (closed reason "Authentication Expired"); new users and leafs
//    are refused at CONNECT (auth_jwt.cpp) until an update brings a JWT that has not expired
//    (with the URL resolver, a CONNECT fetches the account again first: account_lookup.cpp);
//  - an activation token has expired: its import becomes invalid, as 2.9.10 marks it: listed
//    in /accountz with "invalid": true, a stream import delivers nothing more, a service
//    import keeps its subscription (requests find interest) but forwards nothing. The next
//    update of the account (or of its exporter) drops it, as the reference re-adds imports.
//    2.9.10 finds the import by the token's subject (a stream import's subject, a service
//    import's local subject): an import the token names otherwise (a wildcard token, a
//    renamed service import) keeps working there, and here too.
#include <algorithm>
#include <chrono>

#include "cluster/leaf_manager.h"
#include "net/event_loop.h"
#include "server/client.h"
#include "server/imports.h"
#include "server/jwt_accounts.h"
#include "server/server.h"
#include "util/jwt.h"
#include "util/log.h"
#include "util/time_format.h"

namespace nats {

namespace {

// A timer at most this far ahead; a later expiry re-arms when it fires. The event loop cannot
// cancel a timer from another thread, so replaced ones linger until they fire: this bounds them.
constexpr auto kMaxWait = std::chrono::hours(1);

struct TokenInfo {
  int64_t expires = 0;
  std::string subject;  // the activation's subject
};

TokenInfo token_info(const std::string& token) {
  TokenInfo t;
  if (token.empty()) return t;
  auto d = jwt::decode(token);
  auto* ok = std::get_if<jwt::Decoded>(&d);
  if (!ok) return t;
  t.expires = ok->expires;
  auto n = ok->claims.find("nats");
  if (n != ok->claims.end() && n->is_object()) t.subject = n->value("subject", "");
  return t;
}

// The earliest expiry after `now` (unix seconds; 0: none).
int64_t next_expiry(const AccountClaims& c, int64_t now) {
  int64_t next = c.base.expires > now ? c.base.expires : 0;
  for (const auto& im : c.imports) {
    int64_t e = token_info(im.token).expires;
    if (e > now && (next == 0 || e < next)) next = e;
  }
  return next;
}

}  // namespace

void expire_account_connections(Server& server, const std::string& key) {
  constexpr const char* kText = "Account Authentication Expired";
  for (auto& c : server.clients_snapshot())
    if (c->account_name() == key && !c->closing()) c->kick(kText, CloseReason::AuthenticationExpired);
  if (auto* leafs = server.leafs())
    for (auto& l : leafs->leafs())
      if (l->account_name() == key) l->kick(kText, CloseReason::AuthenticationExpired);
}

void Server::arm_jwt_account_timer(const AccountPtr& acc) {
  std::lock_guard lk(jwt_mu_);
  uint64_t gen = ++jwt_timer_gen_[acc->name()];
  auto claims = acc->claims();
  if (!claims || loops_.empty()) return;
  int64_t next = next_expiry(*claims, util::unix_now_seconds());
  if (next == 0) return;
  auto wait = std::chrono::system_clock::time_point(std::chrono::seconds(next)) - std::chrono::system_clock::now();
  wait = std::clamp<std::chrono::system_clock::duration>(wait, std::chrono::system_clock::duration::zero(), kMaxWait);
  // Just past the second, so that the expiry has passed when it fires.
  auto after = std::chrono::duration_cast<net::Clock::duration>(wait) + std::chrono::milliseconds(5);
  loops_[0]->run_after(after, [this, key = acc->name(), gen] { on_jwt_account_timer(key, gen); });
}

void Server::on_jwt_account_timer(const std::string& key, uint64_t gen) {
  std::lock_guard lk(jwt_mu_);
  if (auto g = jwt_timer_gen_.find(key); g == jwt_timer_gen_.end() || g->second != gen) return;
  auto acc = lookup_account(key);
  auto claims = acc ? acc->claims() : nullptr;
  if (!claims) return;
  int64_t now = util::unix_now_seconds();
  if (claims->base.expires > 0 && claims->base.expires <= now) {
    log::debug("Account [{}] has expired", key);
    expire_account_connections(*this, key);
    return;  // expired until an update
  }
  // The imports wired now (invalid ones too), and which of them expire now.
  std::vector<StreamImport> streams;
  std::vector<ServiceImport> services;
  {
    auto wl = lock_account_wiring();
    streams = acc->stream_imports;
    services = acc->service_imports;
  }
  auto same = [](auto a, auto b) {
    a.invalid = b.invalid = false;
    return a == b;
  };
  bool newly_invalid = false;
  // An expired import wired now becomes invalid if 2.9.10 finds it by its token's subject,
  // else it keeps running as it does there; one already invalid stays so.
  auto refused = [&](const JwtImport& im) {
    TokenInfo t = token_info(im.token);
    if (t.expires == 0 || t.expires > now) return RefusedImport::Drop;
    bool found_by_token = false, was_invalid = false;
    const void* wired = nullptr;
    if (im.type == "stream") {
      StreamImport si = stream_import_of(im);
      auto w = std::find_if(streams.begin(), streams.end(), [&](const auto& x) { return same(x, si); });
      if (w != streams.end()) wired = &*w, was_invalid = w->invalid;
      found_by_token = t.subject == si.subject;
    } else {
      ServiceImport si = service_import_of(im);
      auto w = std::find_if(services.begin(), services.end(), [&](const auto& x) { return same(x, si); });
      if (w != services.end()) wired = &*w, was_invalid = w->invalid;
      found_by_token = t.subject == si.to;  // 2.9.10 keys service imports by their local subject
    }
    if (!wired) return RefusedImport::Drop;
    if (was_invalid) return RefusedImport::Invalid;
    if (!found_by_token) return RefusedImport::Keep;
    newly_invalid = true;
    return RefusedImport::Invalid;
  };
  std::map<std::string, AccountClaimsPtr> known{{key, claims}};
  for (const auto& im : claims->imports)
    if (auto ex = lookup_account(im.account); ex && ex->claims()) known[im.account] = ex->claims();
  AccountConfig cfg = account_config_from_claims(*claims, known, refused);
  if (newly_invalid) {
    log::debug("Account [{}]: an import's activation token has expired", key);
    std::map<std::string, AccountPtr> all;
    for (auto& a : accounts()) all[a->name()] = a;
    rewire_imports(*this, all, {cfg});
  }
  arm_jwt_account_timer(acc);
}

}  // namespace nats
