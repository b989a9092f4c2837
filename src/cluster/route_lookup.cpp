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
// operator mode, such interest is dropped as the reference does.
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
