// The Server's cluster hooks: creating and stopping the route and gateway managers, the
// cluster fields of the client INFO, varz counts and local interest propagation. Kept here
// so server.cpp only carries one-line calls.
#include <nlohmann/json.hpp>

#include "cluster/gateway_manager.h"
#include "cluster/leaf.h"
#include "cluster/leaf_manager.h"
#include "cluster/route_manager.h"
#include "server/import_interest.h"
#include "server/imports.h"
#include "server/server.h"

namespace nats {

// Created before the event loops and the monitor start, and never replaced: those threads
// read routes_/gateways_ without a lock (STATSZ, varz), so the pointers must be set first.
void Server::create_cluster() {
  if (opts_.gateway.configured && !opts_.gateway.name.empty()) {
    gateways_ = std::make_unique<cluster::GatewayManager>(*this);
  }
  if (opts_.cluster.configured) {
    routes_ = std::make_unique<cluster::RouteManager>(*this);
  }
  if (opts_.leafnode.configured && (opts_.leafnode.port != 0 || !opts_.leafnode.remotes.empty())) {
    leafs_ = std::make_unique<cluster::LeafManager>(*this);
  }
}

void Server::start_cluster(const std::function<void()>& between) {
  // Gateways first: the route INFO advertises this server's gateway URL.
  if (gateways_) gateways_->start();
  between();
  // Leafs before routes: the route INFO advertises this server's leafnode URL.
  if (leafs_) leafs_->start();
  if (routes_) routes_->start();
}

void Server::log_route_listener() {
  if (routes_) routes_->log_listening();
}

void Server::stop_cluster() {
  if (gateways_) gateways_->shutdown();
  if (routes_) routes_->shutdown();
  if (leafs_) leafs_->shutdown();
}

size_t Server::num_leafs() const { return leafs_ ? leafs_->num_leafs() : 0; }

void Server::accept_websocket_leaf(Connection& c) {
  if (!leafs_ || opts_.leafnode.port == 0) {
    log::error("Not configured to accept leaf node connections");
    c.close(CloseReason::ProtocolViolation);
    return;
  }
  leafs_->accept_websocket(c);
}

std::string Server::cluster_info_fields(bool websocket) const {
  std::string s;
  std::string name = routes_ ? routes_->cluster_name() : gateways_ ? gateways_->name() : std::string();
  if (!name.empty()) s += ",\"cluster\":" + nlohmann::json(name).dump();
  s += domain_info_field();
  if (routes_ && !routes_->no_advertise()) {
    auto urls = websocket ? routes_->ws_connect_urls() : routes_->client_connect_urls();
    if (!urls.empty()) s += ",\"connect_urls\":" + nlohmann::json(urls).dump();
  }
  return s;
}

nlohmann::ordered_json Server::cluster_varz_live() const { return routes_->varz(); }

nlohmann::ordered_json Server::gateway_varz_live() const { return gateways_->varz(); }

size_t Server::num_routes() const { return routes_ ? routes_->num_routes() : 0; }

size_t Server::num_remotes() const { return routes_ ? routes_->num_routes() : 0; }

void Server::on_local_interest_change(Account& acc, const Subscription& sub, bool added) {
  auto announce = [this](Account& a, const Subscription& s, bool add) {
    if (routes_) routes_->on_local_interest(a, s, add);
    else if (gateways_) gateways_->on_cluster_interest(a, s.subject, s.queue, add);
  };
  // A stream import's own subscription is not interest of this server's: its importers'
  // local subscribers are (their shadows, import_interest.h). Leafs still learn it, as the
  // hub's whole interest.
  if (!is_stream_import_sub(sub)) {
    announce(acc, sub, added);
    announce_shadows(shadow_interest_update(*this, acc, sub, added), added);
    if (added) add_queue_shadows(*this, acc, sub);
    else remove_queue_shadows(*this, sub);
  }
  if (leafs_) leafs_->on_interest(acc.name(), sub, added);
  if (!added && tracked_requests_pending()) on_reply_interest_removed(*this, acc, sub.subject);
}

void Server::announce_shadows(const std::vector<ShadowInterest>& shadows, bool added) {
  if (!routes_ && !gateways_) return;
  for (const auto& sh : shadows) {
    auto exporter = lookup_account(sh.account);
    if (!exporter) continue;
    Subscription s;
    s.subject = sh.subject;
    s.queue = sh.queue;
    if (routes_) routes_->on_local_interest(*exporter, s, added);
    else gateways_->on_cluster_interest(*exporter, s.subject, s.queue, added);
  }
}

void Server::refresh_import_interest(Account& acc) {
  std::vector<SubscriptionPtr> all, local;
  acc.sublist().all_subscriptions(all);
  for (auto& s : all) {
    if (s->closed.load(std::memory_order_relaxed) || is_stream_import_sub(*s) || is_local_only_sub(*s)) continue;
    if (s->conn) {
      const ConnKind k = s->conn->kind();
      if (k == ConnKind::Router || k == ConnKind::Gateway) continue;
      if (k == ConnKind::Leaf && static_cast<cluster::LeafConnection*>(s->conn.get())->spoke()) continue;
    }
    local.push_back(std::move(s));
  }
  auto change = shadow_interest_refresh(*this, acc, local);
  announce_shadows(change.removed, false);
  announce_shadows(change.added, true);
  // Queue subscriptions' shadows are made again for the new imports.
  for (auto& s : local) {
    if (s->queue.empty()) continue;
    remove_queue_shadows(*this, *s);
    add_queue_shadows(*this, acc, *s);
  }
}

}  // namespace nats
