#include "server/reload_links.h"

#include <algorithm>

#include "cluster/gateway_manager.h"
#include "cluster/leaf_manager.h"
#include "cluster/route_manager.h"
#include "config/link_auth_timeout.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {

// The TLS settings the reference's comparison leaves out for the gateway, leafnodes and
// websocket blocks and the leaf remotes (what goes into Go's tls.Config: on or off, the
// files, verify, insecure). The timeout, pinned certificates, verify_and_map and
// check_known_urls are fields of the blocks themselves there, compared, so a change is
// refused (the websocket block has no TLS timeout field: its change is taken, and unused).
void take_tls_config(TlsOptions& x, const TlsOptions& from, bool with_timeout = false) {
  x.enabled = from.enabled;
  x.cert_file = from.cert_file;
  x.key_file = from.key_file;
  x.ca_file = from.ca_file;
  x.verify = from.verify;
  x.insecure = from.insecure;
  if (with_timeout) x.timeout = from.timeout;
}

bool tls_config_changed(const TlsOptions& a, const TlsOptions& b) {
  TlsOptions x = a;
  take_tls_config(x, b, true);
  return !(x == a);
}

// The block's authorization timeout as 2.9.10 compares it, after setBaselineOptions: the
// one its links are given (config/link_auth_timeout.h).
Duration effective_auth_timeout(Duration configured, const TlsOptions& t) { return link_auth_timeout(configured, t); }

// Turning TLS on or off changes that default, so 2.9.10 refuses it unless the block sets
// its timeout. Leaves in `x` the value 2.9.10 compares when the two differ (the refusal
// shows it), the running one when they do not.
void take_auth_timeout(Duration& x, const TlsOptions& xt, Duration from, const TlsOptions& ft) {
  Duration ex = effective_auth_timeout(x, xt), ef = effective_auth_timeout(from, ft);
  x = ex == ef ? from : ex;
}

// A leaf remote as 2.9.10's reload compares it (copyRemoteLNConfigForReloadCompare): its TLS
// config left out but whether it has a tls block and its timeout (its TLSTimeout is 0
// without one), the local account named, and its deny_imports/deny_exports left out (2.9.10
// takes a change of them and goes on with the ones it started with; here they apply:
// prepare_link_reload, LeafManager::reload_remote_denies).
RemoteLeaf comparable(RemoteLeaf r) {
  TlsOptions t;
  t.enabled = r.tls.enabled;
  t.timeout = r.tls.timeout;
  r.tls = t;
  if (r.account.empty()) r.account = "$G";
  r.deny_imports.clear();
  r.deny_exports.clear();
  return r;
}

// As 2.9.10's leafRemotesChanged: as many remotes, each with an equal one in the other list
// (in any order).
bool same_remotes(const std::vector<RemoteLeaf>& a, const std::vector<RemoteLeaf>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& x : a) {
    RemoteLeaf cx = comparable(x);
    if (std::none_of(b.begin(), b.end(), [&](const RemoteLeaf& y) { return comparable(y) == cx; })) return false;
  }
  return true;
}

// The cluster block without its routes (the routes option has its own reload).
bool cluster_changed(const Options& a, const Options& b) {
  ClusterOptions x = a.cluster, y = b.cluster;
  x.routes.clear();
  y.routes.clear();
  return !(x == y);
}

std::string seconds_text(Duration d) { return fmt::format("{}", std::chrono::duration<double>(d).count()); }

std::string auth_timeout_refusal(const char* block, Duration a, const TlsOptions& at, Duration b, const TlsOptions& bt) {
  if (a == b) return "";
  // b holds 2.9.10's compared value already (take_auth_timeout).
  return std::string("config reload not supported for ") + block + ": old=AuthTimeout:" +
         seconds_text(effective_auth_timeout(a, at)) + ", new=AuthTimeout:" + seconds_text(effective_auth_timeout(b, bt));
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
  // The gateway block: only 2.9.10 sets its default auth timeout (a gateway has a port).
  if (x.gateway.configured && from.gateway.configured)
    take_auth_timeout(x.gateway.auth_timeout, x.gateway.tls, from.gateway.auth_timeout, from.gateway.tls);
  take_tls_config(x.gateway.tls, from.gateway.tls);
  // The leafnodes block: the default auth timeout only with a listen port.
  if (x.leafnode.port != 0 && from.leafnode.port != 0)
    take_auth_timeout(x.leafnode.auth_timeout, x.leafnode.tls, from.leafnode.auth_timeout, from.leafnode.tls);
  take_tls_config(x.leafnode.tls, from.leafnode.tls);
  take_tls_config(x.websocket.tls, from.websocket.tls, true);
  // The remotes: when none changed but for their TLS config, 2.9.10 takes the new TLS
  // configs (by index, updateRemoteLeafNodesTLSConfig).
  if (same_remotes(x.leafnode.remotes, from.leafnode.remotes)) x.leafnode.remotes = from.leafnode.remotes;
}

std::string link_refusal(const Options& a, const Options& b) {
  // With clustered JetStream the meta group, its peers and every asset know the cluster by
  // its name; 2.9.10 renames under them, which is not something to copy: refused.
  if (a.cluster.configured && b.cluster.configured && !b.cluster.name.empty() && a.cluster.name != b.cluster.name &&
      a.jetstream.enabled)
    return "config reload not supported for cluster name with JetStream enabled: old=" + a.cluster.name +
           ", new=" + b.cluster.name;
  if (auto m = auth_timeout_refusal("Gateway", a.gateway.auth_timeout, a.gateway.tls, b.gateway.auth_timeout,
                                    b.gateway.tls);
      !m.empty())
    return m;
  if (auto m = auth_timeout_refusal("LeafNode", a.leafnode.auth_timeout, a.leafnode.tls, b.leafnode.auth_timeout,
                                    b.leafnode.tls);
      !m.empty())
    return m;
  // A remote's tls block added or removed (2.9.10: its TLSTimeout differs).
  for (const auto& x : a.leafnode.remotes)
    for (const auto& y : b.leafnode.remotes)
      if (x.urls == y.urls && x.tls.enabled != y.tls.enabled)
        return std::string("config reload not supported for LeafNode: old=remote ") +
               (x.urls.empty() ? std::string() : x.urls.front()) + " TLS " + (x.tls.enabled ? "on" : "off") +
               ", new=TLS " + (y.tls.enabled ? "on" : "off");
  return "";
}

std::string prepare_link_reload(const Options& start, const Options& old, const Options& next, LinkTlsReload& out) {
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
        out.cluster = cluster::RouteManager::make_tls(next.cluster.tls, cluster::RouteManager::kMutualTls);
      }
    }
    // Gateways: 2.9.10's accepted links read the block as reloaded (TLS turned on or off
    // included; null here is off); dialled ones keep the last TLS (GatewayManager).
    if (tls_config_changed(old.gateway.tls, next.gateway.tls)) {
      out.gateway_tls = true;
      out.gateway = cluster::GatewayManager::make_tls(next.gateway.tls, cluster::GatewayManager::kMutualTls);
    }
    // Leafnodes: 2.9.10 builds the INFO that says whether TLS follows once, at start-up, and
    // hands the new config to the handshake that INFO asks for. So a listener started
    // without TLS stays so; one started with it keeps the last certificate when TLS is
    // turned off (2.9.10 would fail, then crash, on the next leaf's handshake).
    const TlsOptions &lo = old.leafnode.tls, &ln = next.leafnode.tls;
    if (tls_config_changed(lo, ln) && start.leafnode.port != 0) {
      if (!start.leafnode.tls.enabled || !ln.enabled) {
        out.ignored.push_back("leafnodes");
      } else {
        out.leaf_tls = true;
        out.leaf = cluster::LeafManager::make_tls(ln, cluster::LeafManager::kMutualTls);
      }
    }
    // Websocket: 2.9.10's listener is TLS or not from start-up; with TLS, each handshake asks
    // for the block's config as reloaded, and takes the start-up one when there is none.
    const TlsOptions &wo = old.websocket.tls, &wn = next.websocket.tls;
    if (tls_config_changed(wo, wn) && start.websocket.port != 0) {
      if (!start.websocket.tls.enabled) {
        out.ignored.push_back("websocket");
      } else if (!wn.enabled) {
        out.ws_back_to_start = true;
        out.ignored.push_back("websocket");
      } else {
        out.ws_tls = true;
        out.ws = cluster::LeafManager::make_tls(wn, false);  // websocket: `verify` only, as 2.9.10
        out.ws->release_idle_buffers();
      }
    }
    // Leaf remotes (their tls blocks neither added nor removed: refused): by index, as
    // 2.9.10's updateRemoteLeafNodesTLSConfig, for the next dials.
    const auto& ro = old.leafnode.remotes;
    const auto& rn = next.leafnode.remotes;
    for (size_t i = 0; i < rn.size() && i < ro.size() && i < start.leafnode.remotes.size(); ++i)
      if (rn[i].tls.enabled && tls_config_changed(ro[i].tls, rn[i].tls))
        out.remotes.emplace_back(static_cast<int>(i),
                                 cluster::LeafManager::make_remote_tls(rn[i].tls, start.leafnode.tls.pinned_certs));
  } catch (const std::exception& e) {
    return std::string("error loading the TLS certificate: ") + e.what();
  }
  // Each remote's denies as reloaded, by the index it started with (its dialler's): the
  // remote of `next` equal to it but for TLS files and denies, the one at its index first
  // (2.9.10 lets the remotes come in another order).
  const auto& rs = start.leafnode.remotes;
  const auto& rn = next.leafnode.remotes;
  if (same_remotes(rs, rn))
    for (size_t i = 0; i < rs.size(); ++i) {
      RemoteLeaf c = comparable(rs[i]);
      const RemoteLeaf* match = i < rn.size() && comparable(rn[i]) == c ? &rn[i] : nullptr;
      for (size_t j = 0; !match && j < rn.size(); ++j)
        if (comparable(rn[j]) == c) match = &rn[j];
      if (match) out.remote_denies.push_back({static_cast<int>(i), match->deny_imports, match->deny_exports});
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
  if (p.ws_back_to_start) {
    std::lock_guard lk(tls_mu_);
    if (!ws_tls_all_.empty()) ws_tls_cur_.store(ws_tls_all_.front().get(), std::memory_order_release);
  }
  for (auto& [i, ctx] : p.remotes)
    if (leafs_) leafs_->install_remote_tls(i, std::move(ctx));
  for (auto& d : p.remote_denies)
    if (leafs_) leafs_->reload_remote_denies(d.remote, {std::move(d.imports), std::move(d.exports)});
  if (p.gateway_tls || p.leaf_tls || p.ws_tls || !p.remotes.empty())
    log::notice("Reloaded: TLS of the{}{}{}{} connections", p.gateway_tls ? " gateway" : "", p.leaf_tls ? " leafnode" : "",
                p.ws_tls ? " websocket" : "", p.remotes.empty() ? "" : " leafnode remote");
  // 2.9.10 takes these silently; the operator is told that the listener did not change.
  for (const auto& block : p.ignored)
    log::warn("Reloaded {} tls: the {} listener keeps the TLS mode it started with until a restart (as 2.9.10)", block,
              block);
}

}  // namespace nats
