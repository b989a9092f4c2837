// A missing account JWT with the URL resolver (the reference's URLAccResolver.Fetch on a
// lookup miss): fetched over HTTP off the event loops, checked to be that account's JWT, kept
// in the resolver's memory; the accounts it imports from are fetched too, since registering
// it registers them. A failed fetch is logged at debug level (as the reference's "Account JWT
// lookup error") and the waiter goes on: authentication then refuses the user. A registered
// account whose JWT has expired is fetched again when a connection needs it (as 2.9.10's
// lookupAccount of an expired account): a new JWT is applied as an update.
#include <atomic>
#include <memory>

#include "server/account_resolver.h"
#include "server/jwt_claims.h"
#include "server/server.h"
#include "server/url_account_fetcher.h"
#include "util/log.h"

namespace nats {

bool url_fetch_account_now(const std::string& key, AccountResolverStore& store) {
  auto* fetcher = store.url_fetcher();
  if (!fetcher) return false;
  auto r = fetcher->get(key);
  std::string err = r.error;
  if (err.empty()) {
    auto decoded = decode_account_claims(r.jwt);
    auto* ac = std::get_if<AccountClaims>(&decoded);
    if (!ac || ac->base.subject != key) err = "the JWT fetched is not the account's JWT";
    else err = store.save(key, r.jwt, ac->base.issued_at);
  }
  if (err.empty()) return true;
  log::error("Account {} could not be fetched: {}", key, err);
  return false;
}

void url_lookup_account(Server& server, const std::string& key, std::function<void()> done, int depth) {
  auto* store = server.account_resolver();
  auto* fetcher = store ? store->url_fetcher() : nullptr;
  if (!fetcher) {
    done();
    return;
  }
  fetcher->get_async(key, [&server, store, key, done = std::move(done), depth](const UrlFetchResult& r) {
    if (!r.error.empty()) {
      log::debug("Account JWT lookup error: {}", r.error);
      done();
      return;
    }
    auto decoded = decode_account_claims(r.jwt);
    auto* ac = std::get_if<AccountClaims>(&decoded);
    if (!ac || ac->base.subject != key) {
      log::debug("Account JWT lookup error: the JWT fetched for {} is not its account JWT", key);
      done();
      return;
    }
    if (auto err = store->save(key, r.jwt, ac->base.issued_at); !err.empty()) {
      log::error("Account fetch for {} not stored: {}", key, err);
      done();
      return;
    }
    std::vector<std::string> missing;
    // Import chains deeper than registration follows (8) are not fetched either.
    if (depth < 8)
      for (const auto& im : ac->imports)
        if (im.account != key && !server.lookup_account(im.account) && !store->fetch(im.account))
          missing.push_back(im.account);
    if (missing.empty()) {
      done();
      return;
    }
    auto left = std::make_shared<std::atomic<size_t>>(missing.size());
    auto all_done = std::make_shared<std::function<void()>>(done);
    for (const auto& m : missing)
      url_lookup_account(server, m, [left, all_done] {
        if (left->fetch_sub(1) == 1) (*all_done)();
      }, depth + 1);
  });
}

void url_refresh_account(Server& server, const std::string& key, std::function<void()> done) {
  auto* store = server.account_resolver();
  auto* fetcher = store ? store->url_fetcher() : nullptr;
  if (!fetcher) {
    done();
    return;
  }
  fetcher->get_async(key, [&server, store, key, done = std::move(done)](const UrlFetchResult& r) {
    std::string err = r.error;
    bool changed = false;
    if (err.empty()) {
      auto decoded = decode_account_claims(r.jwt);
      auto* ac = std::get_if<AccountClaims>(&decoded);
      if (!ac || ac->base.subject != key) err = "the JWT fetched is not the account's JWT";
      else err = store->save(key, r.jwt, ac->base.issued_at, &changed);
    }
    if (!err.empty()) log::warn("Account fetch failed: {}", err);
    else if (!changed) log::debug("Requested account update for [{}], same claims detected", key);
    else if (auto e = server.apply_account_jwt(key); !e.empty()) log::debug("Account [{}] update: {}", key, e);
    done();
  });
}

}  // namespace nats
