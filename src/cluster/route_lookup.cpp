// A route's interest (RS+) in an account this server does not have, in operator mode with a
// URL, FULL or CACHE resolver (the account not registered here yet, and its JWT not at hand):
// as the reference, which keeps such interest in a placeholder account until a client
// brings the account in, the interest is kept aside and applied once the account is
// registered (a client's CONNECT looks it up), so that what that client publishes reaches
// the remote subscribers. With the URL resolver the account is fetched at once, as the
// reference's LookupAccount in processRemoteSub: registered, the interest counts here and
// reaches the other clusters through this server's gateways (their messages for it come
// through here when their gateway connection lands on this server). With FULL or CACHE no
// lookup is started: one sent over $SYS while the route is still forming could get no
// answer, and a client's lookup of the same account would share it. With MEMORY, or outside
// operator mode, such interest is dropped as the reference does, but for the accounts a
// reload removed (account_removed). Without operator mode it is kept aside too: a config
// reload adding an account runs on each server in turn, and the interest a peer that reloaded
// first announces (a JetStream meta leader's API subscription for it) must count here once
// this server adds it (2.9.10 drops it, and keeps a removed account's interest in its route's
// map where the account added again never sees it).
#include "cluster/route.h"
#include "server/account_lookup.h"
#include "server/account_resolver.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::cluster {

bool RouteConnection::defer_rsub(std::string_view account, std::string_view subject, std::string_view queue,
                                 int32_t weight) {
  auto* store = server_.account_resolver();
  // Config accounts (no resolver): a reload may add it (on the peer first, then here).
  if (!store || removed_accounts_.count(account)) {
    std::string key;
    key.append(subject).append(" ").append(queue);
    deferred_subs_[std::string(account)][key] = DeferredRsub{std::string(subject), std::string(queue), weight};
    return true;
  }
  if (!(store->is_url() || store->is_dir())) {
    log::debug("{}:{} - rid:{} - Unknown account \"{}\" for remote subject \"{}\"", peer_ip_, peer_port_, cid_,
               account, subject);
    return false;
  }
  std::string key;
  key.append(subject).append(" ").append(queue);
  bool first = deferred_subs_.find(account) == deferred_subs_.end();
  auto& kept = deferred_subs_[std::string(account)];
  kept[key] = DeferredRsub{std::string(subject), std::string(queue), weight};
  if (first && store->is_url()) {
    std::weak_ptr<RouteConnection> weak = std::static_pointer_cast<RouteConnection>(shared_from_this());
    net::EventLoop* loop = &loop_;
    std::string name(account);
    // Once fetched it is registered (which resumes the interest kept aside, account_registered).
    start_missing_account_lookup(server_, name, [weak, loop, name] {
      loop->post([weak, name] {
        if (auto c = weak.lock(); c && !c->closing()) c->server_.jwt_account_claims(name);
      });
    });
  }
  return true;
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

void RouteConnection::account_removed(const std::string& account) {
  std::weak_ptr<RouteConnection> weak = std::static_pointer_cast<RouteConnection>(shared_from_this());
  loop_.post([weak, account] {
    auto c = weak.lock();
    if (!c || c->closing()) return;
    c->removed_accounts_.insert(account);
    const std::string prefix = account + " ";
    for (auto it = c->subs_.lower_bound(prefix); it != c->subs_.end() && it->first.starts_with(prefix);) {
      auto& sub = it->second;
      sub->closed.store(true, std::memory_order_release);  // in the old account's sublist only
      std::string key = sub->subject + " " + sub->queue;
      c->deferred_subs_[account][key] = DeferredRsub{sub->subject, sub->queue, sub->qweight};
      c->num_subs_.fetch_sub(1, std::memory_order_relaxed);
      it = c->subs_.erase(it);
    }
  });
}

void RouteConnection::resume_deferred_rsubs(const std::string& account) {
  if (closing()) return;
  removed_accounts_.erase(account);
  auto it = deferred_subs_.find(account);
  if (it == deferred_subs_.end() || !server_.lookup_account(account)) return;
  auto subs = std::move(it->second);
  deferred_subs_.erase(it);
  for (auto& [_, d] : subs) on_rsub(account, d.subject, d.queue, d.weight);
  Connection::flush_touched();
}

}  // namespace nats::cluster
