#include "server/reload_links.h"

#include "cluster/gateway_manager.h"
#include "cluster/leaf_manager.h"
#include "cluster/route_manager.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {

// The TLS settings the reference reloads inside the gateway, leafnodes and websocket blocks
// (those of its tls.Config); the timeout, pinned certificates and verify_and_map are fields
// of the blocks themselves there, so a change of them is refused.
void take_tls_files(TlsOptions& x, const TlsOptions& from) {
  if (!x.enabled || !from.enabled) return;  // turned on or off: refused (link_refusal)
  x.cert_file = from.cert_file;
  x.key_file = from.key_file;
  x.ca_file = from.ca_file;
  x.verify = from.verify;
}

bool tls_files_changed(const TlsOptions& a, const TlsOptions& b) {
  return a.cert_file != b.cert_file || a.key_file != b.key_file || a.ca_file != b.ca_file || a.verify != b.verify;
}

// The cluster block without its routes (the routes option has its own reload).
bool cluster_changed(const Options& a, const Options& b) {
  ClusterOptions x = a.cluster, y = b.cluster;
  x.routes.clear();
  y.routes.clear();
  return !(x == y);
}

std::string tls_toggled(const char* block, const TlsOptions& a, const TlsOptions& b) {
  if (a.enabled == b.enabled) return "";
  // The reference takes it but its INFO keeps the old tls_required: refused here.
  return std::string("config reload not supported for ") + block + " TLS turned " + (b.enabled ? "on" : "off");
}

}  // namespace

void take_reloadable_links(Options& x, const Options& from) {
  // Every cluster setting but the listen host and port (refused with the reference's text).
  // A new name is taken (as the reference's setClusterName); none keeps the one in use.
  if (x.cluster.configured == from.cluster.configured) {
    ClusterOptions kept = x.cluster;
    x.cluster = from.cluster;
    x.cluster.host = kept.host;
    x.cluster.port = kept.port;
    if (from.cluster.name.empty()) x.cluster.name = kept.name;
  }
  take_tls_files(x.gateway.tls, from.gateway.tls);
  take_tls_files(x.leafnode.tls, from.leafnode.tls);
  take_tls_files(x.websocket.tls, from.websocket.tls);
}

std::string link_refusal(const Options& a, const Options& b) {
  // With clustered JetStream the meta group, its peers and every asset know the cluster by
  // its name; 2.9.10 renames under them, which is not something to copy: refused.
  if (a.cluster.configured && b.cluster.configured && !b.cluster.name.empty() && a.cluster.name != b.cluster.name &&
      a.jetstream.enabled)
    return "config reload not supported for cluster name with JetStream enabled: old=" + a.cluster.name +
           ", new=" + b.cluster.name;
  if (auto m = tls_toggled("Gateway", a.gateway.tls, b.gateway.tls); !m.empty()) return m;
  if (auto m = tls_toggled("LeafNode", a.leafnode.tls, b.leafnode.tls); !m.empty()) return m;
  if (auto m = tls_toggled("Websocket", a.websocket.tls, b.websocket.tls); !m.empty()) return m;
  return "";
}

std::string prepare_link_reload(const Options& old, const Options& next, LinkTlsReload& out) {
  try {
    if (old.cluster.configured && cluster_changed(old, next)) {
      out.cluster_changed = true;
      if (!next.cluster.advertise.empty()) {
        std::string host;
        int port = 0;
        if (auto err = parse_host_port(next.cluster.advertise, 0, host, port); !err.empty())
          return "invalid Cluster.Advertise value of " + next.cluster.advertise + ", err=" + err;
      }
      if (!(old.cluster.tls == next.cluster.tls)) {
        out.cluster_tls = true;
        out.cluster = cluster::RouteManager::make_tls(next.cluster.tls);
      }
    }
    if (old.gateway.tls.enabled && tls_files_changed(old.gateway.tls, next.gateway.tls)) {
      out.gateway_tls = true;
      out.gateway = cluster::GatewayManager::make_tls(next.gateway.tls);
    }
    if (old.leafnode.tls.enabled && tls_files_changed(old.leafnode.tls, next.leafnode.tls)) {
      out.leaf_tls = true;
      out.leaf = cluster::LeafManager::make_tls(next.leafnode.tls);
    }
    if (old.websocket.tls.enabled && tls_files_changed(old.websocket.tls, next.websocket.tls)) {
      out.ws_tls = true;
      out.ws = cluster::LeafManager::make_tls(next.websocket.tls);
      out.ws->release_idle_buffers();
    }
  } catch (const std::exception& e) {
    return std::string("error loading the TLS certificate: ") + e.what();
  }
  return "";
}

void Server::reload_links(const Options&, const Options& next, LinkTlsReload& p) {
  if (p.cluster_changed && routes_ && routes_->reload_cluster(next.cluster, p.cluster_tls, std::move(p.cluster)) &&
      leafs_) {
    // As the reference's setClusterName: the leaf connections this server dialled are closed
    // ("Cluster Name Conflict") and redialled, their new CONNECT carrying the new name; the
    // accepted ones stay.
    for (auto& l : leafs_->leafs())
      if (l->solicited()) l->close(CloseReason::ClusterNameConflict);
  }
  if (p.gateway_tls && gateways_) gateways_->install_tls(std::move(p.gateway));
  if (p.leaf_tls && leafs_) leafs_->install_tls(std::move(p.leaf));
  if (p.ws_tls) install_ws_tls(std::move(p.ws));
  if (p.gateway_tls || p.leaf_tls || p.ws_tls)
    log::notice("Reloaded: TLS of the{}{}{} connections", p.gateway_tls ? " gateway" : "", p.leaf_tls ? " leafnode" : "",
                p.ws_tls ? " websocket" : "");
}

}  // namespace nats
