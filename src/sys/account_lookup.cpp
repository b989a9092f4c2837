// Looking up a missing account JWT from the other servers, as the reference's Server.fetch:
// a $SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP request with an empty body; the servers of the
// supercluster with a FULL resolver that have the JWT answer with it, the first answer is
// stored (if newer) and later ones are ignored. After `timeout` (1.9 s by default) without an
// answer the waiters go on without it.
#include <atomic>

#include "server/jwt_claims.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats {

void SystemServices::subscribe_account_lookups() {
  lookup_inbox_ = "$SYS._INBOX." + util::next_nuid() + ".L";
  subscribe(lookup_inbox_ + ".*", [this](const Subscription&, std::string_view subject, std::string_view,
                                         std::string_view, std::string_view payload) {
    auto dot = subject.rfind('.');
    if (dot == std::string_view::npos || payload.empty()) return;
    finish_lookup(std::string(subject.substr(dot + 1)), 0, std::string(payload));
  });
}

void SystemServices::lookup_account_jwt(const std::string& key, std::function<void()> done) {
  uint64_t gen = 0;
  {
    std::lock_guard lk(lookup_mu_);
    if (stopped_ || !loop_ || lookup_inbox_.empty()) {
      gen = 0;
    } else {
      auto& p = lookups_[key];
      p.waiters.push_back(std::move(done));
      if (p.waiters.size() > 1) return;  // one request already asks for it
      p.gen = gen = ++lookup_gen_;
    }
  }
  if (gen == 0) {
    done();
    return;
  }
  server_.publish_internal(*sys_, "$SYS.REQ.ACCOUNT." + key + ".CLAIMS.LOOKUP", lookup_inbox_ + "." + key, {}, {});
  auto timeout = server_.options().resolver.fetch_timeout;
  loop_->run_after(timeout, [this, key, gen] { finish_lookup(key, gen, ""); });
}

void SystemServices::finish_lookup(const std::string& key, uint64_t gen, const std::string& token) {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lk(lookup_mu_);
    auto it = lookups_.find(key);
    // Not waited for (a later answer, or the timeout of a lookup already answered).
    if (it == lookups_.end() || (gen != 0 && it->second.gen != gen)) return;
    waiters = std::move(it->second.waiters);
    lookups_.erase(it);
  }
  auto* store = server_.account_resolver();
  std::vector<std::string> missing;
  if (token.empty()) {
    log::debug("Account fetch for {} failed: fetching jwt timed out", key);
  } else if (store) {
    auto decoded = decode_account_claims(token);
    auto* ac = std::get_if<AccountClaims>(&decoded);
    if (!ac || ac->base.subject != key) {
      log::error("Account fetch for {} answered with a JWT that is not its account JWT", key);
    } else if (auto err = store->save(key, token, ac->base.issued_at); !err.empty()) {
      log::error("Account fetch for {} not stored: {}", key, err);
    } else {
      // The accounts it imports from are registered with it: look up the missing ones now.
      for (const auto& im : ac->imports)
        if (im.account != key && !server_.lookup_account(im.account) && !store->fetch(im.account))
          missing.push_back(im.account);
    }
  }
  if (missing.empty()) {
    for (auto& w : waiters) w();
    return;
  }
  auto left = std::make_shared<std::atomic<size_t>>(missing.size());
  auto all = std::make_shared<std::vector<std::function<void()>>>(std::move(waiters));
  for (const auto& m : missing)
    lookup_account_jwt(m, [left, all] {
      if (left->fetch_sub(1) == 1)
        for (auto& w : *all) w();
    });
}

}  // namespace nats
