// Config reload of the cluster block, as the reference's clusterOption: every setting but the
// listen host and port (refused in server/reload.cpp) takes effect for routes made from now
// on, and a changed authorization cuts the accepted routes whose credentials no longer pass.
// A new cluster name is taken too (the caller then cuts the leafs this server dialled).
#include "cluster/route.h"
#include "cluster/route_manager.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::cluster {

void RouteConnection::cut_unauthorized() {
  auto self = std::static_pointer_cast<RouteConnection>(shared_from_this());
  loop().post([self] { self->send_err_and_close("Authorization Violation", CloseReason::AuthenticationViolation); });
}

bool RouteManager::reload_cluster(const ClusterOptions& next, bool tls_changed, std::unique_ptr<net::TlsContext> tls) {
  if (tls_changed) install_tls(std::move(tls));
  std::vector<std::shared_ptr<RouteConnection>> cut;
  bool advertise_changed;
  bool renamed = false;
  {
    std::lock_guard lk(mu_);
    advertise_changed = cluster_.no_advertise != next.no_advertise;
    // A new name, as the reference's setClusterName: the route INFO and the client INFO
    // carry it from now on; routes already up stay (a new route must agree with it).
    if (!next.name.empty() && next.name != name_) {
      name_ = next.name;
      dynamic_ = false;
      renamed = true;
    }
    cluster_ = next;
    no_advertise_ = next.no_advertise;
    set_own_urls_locked();
    build_info();
    // Only routes that sent a CONNECT to us: for the ones we dialled we do not know what the
    // other side expects (the reference checks accepted routes only, and does not let the
    // cut route reconnect; the other side's redial then meets the new authorization).
    for (auto& c : all_conns_) {
      if (c->solicited() || c->closing()) continue;
      auto [user, pass] = c->connect_credentials();
      if (!c->registered() && user.empty() && pass.empty()) continue;  // CONNECT not read yet
      if (!authorized_locked(user, pass, c->peer_cert_names())) cut.push_back(c);
    }
  }
  for (auto& c : cut) {
    log::error("{}:{} - rid:{} - authentication error", c->peer_ip(), c->peer_port(), c->cid());
    c->cut_unauthorized();
  }
  if (renamed) log::notice("Cluster name updated to {}", next.name);
  // Clients learn (or stop learning) the cluster's URLs at once.
  if (advertise_changed) notify_clients();
  log::notice("Reloaded: cluster");
  return renamed;
}

}  // namespace nats::cluster
