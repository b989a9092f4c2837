// A route's interest (RS+) in an account this server does not have, in operator mode with a
// URL or CACHE resolver (or FULL, missing the JWT): the reference keeps such interest in a
// placeholder account until the account is fetched; here the account is looked up at once
// (server/account_lookup.h) and the interest kept aside meanwhile, then applied once the
// account is registered, so that messages published here later reach the remote
// subscribers. Until then nothing is published here in that account either (no client can
// bind to it). A lookup that finds nothing keeps the interest aside: the next RS+ in that
// account looks again.
#include "cluster/route.h"
#include "server/account_lookup.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::cluster {

bool RouteConnection::defer_rsub(std::string_view account, std::string_view subject, std::string_view queue,
                                 int32_t weight) {
  std::string acc(account);
  auto it = deferred_subs_.find(account);
  if (!accounts_looked_up_.count(acc)) {
    std::weak_ptr<RouteConnection> weak = std::static_pointer_cast<RouteConnection>(shared_from_this());
    net::EventLoop* loop = &loop_;
    auto done = [weak, loop, acc] {
      loop->post([weak, acc] {
        if (auto c = weak.lock()) c->resume_deferred_rsubs(acc);
      });
    };
    if (!start_missing_account_lookup(server_, acc, std::move(done))) {
      // Nothing to look up (static resolver, or not operator mode): dropped, as the reference
      // drops interest in an account it does not know.
      if (it == deferred_subs_.end()) log::debug("{}:{} - rid:{} - Unknown account \"{}\" for remote subject \"{}\"",
                                                 peer_ip_, peer_port_, cid_, acc, subject);
      return false;
    }
    accounts_looked_up_.insert(acc);
  }
  std::string key;
  key.append(subject).append(" ").append(queue);
  deferred_subs_[acc][key] = DeferredRsub{std::string(subject), std::string(queue), weight};
  return true;
}

void RouteConnection::drop_deferred_rsub(std::string_view account, std::string_view subject, std::string_view queue) {
  auto it = deferred_subs_.find(account);
  if (it == deferred_subs_.end()) return;
  std::string key;
  key.append(subject).append(" ").append(queue);
  it->second.erase(key);
  if (it->second.empty() && !accounts_looked_up_.count(std::string(account))) deferred_subs_.erase(it);
}

void RouteConnection::resume_deferred_rsubs(const std::string& account) {
  accounts_looked_up_.erase(account);
  if (closing()) return;
  auto it = deferred_subs_.find(account);
  if (it == deferred_subs_.end()) return;
  if (it->second.empty()) {
    deferred_subs_.erase(it);
    return;
  }
  // Registered from the JWT the lookup stored; not found: the interest stays aside.
  if (!server_.lookup_account(account) && !server_.jwt_account_claims(account)) {
    log::debug("{}:{} - rid:{} - account \"{}\" of remote interest not found", peer_ip_, peer_port_, cid_, account);
    return;
  }
  auto subs = std::move(it->second);
  deferred_subs_.erase(it);
  for (auto& [_, d] : subs) on_rsub(account, d.subject, d.queue, d.weight);
  Connection::flush_touched();
}

}  // namespace nats::cluster
