// A route's interest (RS+) in an account this server does not have, in operator mode with a
// URL, FULL or CACHE resolver (the account not registered here yet): as the reference, which
// keeps such interest in a placeholder account until the account is resolved, the interest
// is kept aside and applied once the account is registered. The account is fetched at once
// (the reference's LookupAccount): from the URL, from a FULL store or the CACHE store if it
// holds the JWT, else looked up from the other servers over $SYS. Registered, the interest
// counts here and reaches the other clusters through this server's gateways (their messages
// for it come through here when their gateway connection lands on this server). A $SYS lookup
// sent while the routes are still forming may get no answer: it is retried a few times,
// while interest is still kept aside (a client's lookup of the same account shares it). With
// MEMORY, or outside operator mode, such interest is dropped as the reference does.
#include "cluster/route.h"
#include "server/account_lookup.h"
#include "server/account_resolver.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::cluster {

bool RouteConnection::defer_rsub(std::string_view account, std::string_view subject, std::string_view queue,
                                 int32_t weight) {
  auto* store = server_.account_resolver();
  if (!store || !(store->is_url() || store->is_dir())) {
    log::debug("{}:{} - rid:{} - Unknown account \"{}\" for remote subject \"{}\"", peer_ip_, peer_port_, cid_,
               account, subject);
    return false;
  }
  std::string key;
  key.append(subject).append(" ").append(queue);
  bool first = deferred_subs_.find(account) == deferred_subs_.end();
  auto& kept = deferred_subs_[std::string(account)];
  kept[key] = DeferredRsub{std::string(subject), std::string(queue), weight};
  if (first) fetch_deferred_account(std::string(account), 0);
  return true;
}

void RouteConnection::fetch_deferred_account(const std::string& account, int attempt) {
  std::weak_ptr<RouteConnection> weak = std::static_pointer_cast<RouteConnection>(shared_from_this());
  auto on_loop = [weak, account, attempt] {
    if (auto c = weak.lock(); c && !c->closing()) c->deferred_account_fetched(account, attempt);
  };
  net::EventLoop* loop = &loop_;
  // False: nothing to wait for (the JWT is at hand, or the account arrived meanwhile).
  if (!start_missing_account_lookup(server_, account, [loop, on_loop] { loop->post(on_loop); })) loop_.post(on_loop);
}

void RouteConnection::deferred_account_fetched(const std::string& account, int attempt) {
  if (deferred_subs_.find(account) == deferred_subs_.end()) return;  // resumed or unsubscribed meanwhile
  // Registered (or already there): account_registered resumes the interest on this loop.
  if (server_.jwt_account_claims(account)) {
    if (server_.lookup_account(account)) resume_deferred_rsubs(account);
    return;
  }
  constexpr int kMaxAttempts = 5;
  if (attempt + 1 >= kMaxAttempts) {
    log::debug("{}:{} - rid:{} - Account \"{}\" not found, its remote interest stays aside", peer_ip_, peer_port_,
               cid_, account);
    return;
  }
  std::weak_ptr<RouteConnection> weak = std::static_pointer_cast<RouteConnection>(shared_from_this());
  loop_.add_timer(std::chrono::milliseconds(500) * (attempt + 1), [weak, account, attempt] {
    if (auto c = weak.lock(); c && !c->closing() && c->deferred_subs_.count(account))
      c->fetch_deferred_account(account, attempt + 1);
  });
}

void RouteConnection::drop_deferred_rsub(std::string_view account, std::string_view subject, std::string_view queue) {
  auto it = deferred_subs_.find(account);
  if (it == deferred_subs_.end()) return;
  std::string key;
  key.append(subject).append(" ").append(queue);
  it->second.erase(key);
  if (it->second.empty()) deferred_subs_.erase(it);
}

void RouteConnection::account_registered(const std::string& account) {
  std::weak_ptr<RouteConnection> weak = std::static_pointer_cast<RouteConnection>(shared_from_this());
  loop_.post([weak, account] {
    if (auto c = weak.lock()) c->resume_deferred_rsubs(account);
  });
}

void RouteConnection::resume_deferred_rsubs(const std::string& account) {
  if (closing()) return;
  auto it = deferred_subs_.find(account);
  if (it == deferred_subs_.end() || !server_.lookup_account(account)) return;
  auto subs = std::move(it->second);
  deferred_subs_.erase(it);
  for (auto& [_, d] : subs) on_rsub(account, d.subject, d.queue, d.weight);
  Connection::flush_touched();
}

}  // namespace nats::cluster
