#include "server/account_lookup.h"

#include <variant>

#include "net/event_loop.h"
#include "server/account_resolver.h"
#include "server/jwt_claims.h"
#include "server/server.h"
#include "server/url_account_fetcher.h"
#include "sys/system_services.h"
#include "util/log.h"
#include "util/time_format.h"

namespace nats {

std::string user_jwt_account(const std::string& user_jwt) {
  auto decoded = decode_user_claims(user_jwt);
  auto* uc = std::get_if<UserClaims>(&decoded);
  if (!uc) return {};
  return uc->issuer_account.empty() ? uc->base.issuer : uc->issuer_account;
}

bool start_missing_account_lookup(Server& server, const std::string& key, std::function<void()> done) {
  auto* store = server.account_resolver();
  auto* sys = server.system_services();
  if (key.empty() || !store || !(store->is_url() || (store->is_dir() && sys))) return false;
  if (auto acc = server.lookup_account(key)) {
    // Registered, but its JWT has expired: with the URL resolver it is fetched again first,
    // as 2.9.10's lookupAccount (updateAccount) does for an expired account; a new JWT that
    // has not expired is applied (the CONNECT then passes), the same one changes nothing.
    // The other resolvers would read back what they hold.
    auto claims = acc->claims();
    if (!store->is_url() || !claims || claims->base.expires <= 0 || claims->base.expires > util::unix_now_seconds())
      return false;
    log::debug("Requested account [{}] has expired", key);
    url_refresh_account(server, key, std::move(done));
    return true;
  }
  if (store->fetch(key)) return false;
  if (store->is_url()) {
    log::debug("fetching account {} from the resolver URL", key);
    url_lookup_account(server, key, std::move(done));
  } else {
    log::debug("looking up account {} from the other servers", key);
    sys->lookup_account_jwt(key, std::move(done));
  }
  return true;
}

bool AccountLookupHold::start(Server& server, const std::string& key, net::EventLoop& loop,
                              std::function<void()> resume, std::string op) {
  net::EventLoop* l = &loop;
  // The answer comes on another thread: posted to the owner's loop, handled after this returns.
  auto done = [l, resume = std::move(resume)] { l->post(resume); };
  if (!start_missing_account_lookup(server, key, std::move(done))) return false;
  pending_ = true;
  op_ = std::move(op);
  return true;
}

bool AccountLookupHold::keep(const char* data, size_t len) {
  input_.append(data, len);
  return input_.size() <= (4u << 20);
}

AccountLookupHold::Held AccountLookupHold::finish() {
  pending_ = false;
  done_ = true;
  Held h{std::move(op_), std::move(input_)};
  op_.clear();
  input_.clear();
  return h;
}

}  // namespace nats
