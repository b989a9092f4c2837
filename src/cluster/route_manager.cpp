#include "cluster/route_manager.h"
#include "cluster/leaf_manager.h"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "cluster/gateway_manager.h"
#include "cluster/peer_cert_auth.h"
#include "config/duration.h"
#include "config/link_auth_timeout.h"
#include "jetstream/cluster/meta_group.h"
#include "net/socket.h"
#include "server/client.h"
#include "server/import_interest.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/time_format.h"

namespace nats::cluster {


RouteManager::RouteManager(Server& s) : LinkManagerBase(s, s.options().cluster.tls, kMutualTls) {}

RouteManager::~RouteManager() { shutdown(); }

std::string RouteManager::cluster_name() const {
  std::lock_guard lk(mu_);
  return name_;
}

bool RouteManager::auth_required() const {
  std::lock_guard lk(mu_);
  return !cluster_.username.empty();
}

bool RouteManager::authorized(const std::string& user, const std::string& pass,
                              const std::optional<net::PeerCertNames>& cert) const {
  std::lock_guard lk(mu_);
  return authorized_locked(user, pass, cert);
}

bool RouteManager::authorized_locked(const std::string& user, const std::string& pass,
                                     const std::optional<net::PeerCertNames>& cert) const {
  // The certificate replaces the user and password (isRouterAuthorized); the known URLs are
  // the configured routes.
  if (cluster_.tls.map || cluster_.tls.check_known_urls)
    return cert && peer_cert_authorized(*cert, {cluster_.tls.map, cluster_.username, cluster_.tls.check_known_urls,
                                                &cluster_.routes});
  return cluster_.username.empty() || (user == cluster_.username && pass == cluster_.password);
}

Duration RouteManager::tls_timeout() const {
  std::lock_guard lk(mu_);
  return cluster_.tls.timeout;
}

std::optional<Duration> RouteManager::accepted_auth_timeout() const {
  std::lock_guard lk(mu_);
  if (cluster_.username.empty()) return std::nullopt;
  return link_auth_timeout(cluster_.auth_timeout, cluster_.tls);
}

void RouteManager::build_info() {
  const auto& o = server_.options();
  nlohmann::ordered_json j;
  // cluster_advertise: the address peers are told to connect to (gossiped as "ip").
  std::string adv_host = o.cluster.host, adv_ip;
  int adv_port = port_;
  if (!cluster_.advertise.empty()) {
    const std::string& a = cluster_.advertise;  // host, host:port or [v6]:port
    std::string port;
    if (a[0] == '[') {
      auto close = a.find(']');
      adv_host = a.substr(1, close == std::string::npos ? std::string::npos : close - 1);
      if (close != std::string::npos && close + 1 < a.size() && a[close + 1] == ':') port = a.substr(close + 2);
    } else if (auto c = a.find(':'); c != std::string::npos && a.find(':', c + 1) == std::string::npos) {
      adv_host = a.substr(0, c);
      port = a.substr(c + 1);
    } else {
      adv_host = a;
    }
    if (!port.empty()) adv_port = std::atoi(port.c_str());
    bool v6 = adv_host.find(':') != std::string::npos;
    adv_ip = "nats-route://" + (v6 ? "[" + adv_host + "]" : adv_host) + ":" + std::to_string(adv_port) + "/";
  }
  link_info_head(j, server_, 2, adv_host, adv_port);
  if (!adv_ip.empty()) j["ip"] = adv_ip;
  // tls_verify with TLS always: the peer's certificate is required (kMutualTls), as 2.9.10.
  link_info_limits(j, true, !cluster_.username.empty(), tls_context() != nullptr, kMutualTls, o.max_payload);
  j["cluster"] = name_;
  if (dynamic_) j["dynamic"] = true;
  if (!own_client_urls_.empty()) j["connect_urls"] = own_client_urls_;
  if (!own_ws_urls_.empty()) j["ws_connect_urls"] = own_ws_urls_;
  if (auto* gw = server_.gateways()) j["gateway_url"] = gw->own_url();
  if (auto* lf = server_.leafs(); lf && lf->port() && !o.leafnode.no_advertise)
    j["leafnode_urls"] = std::vector<std::string>{lf->own_url()};
  j["lnoc"] = true;
  info_line_ = "INFO " + j.dump() + "\r\n";
}

std::string RouteManager::info_line() const {
  std::lock_guard lk(mu_);
  return info_line_;
}

void RouteManager::start() {
  const auto& o = server_.options();
  cluster_ = o.cluster;
  no_advertise_ = o.cluster.no_advertise;
  name_ = o.cluster.name;
  if (name_.empty()) {
    name_ = util::next_nuid();
    dynamic_ = true;
  }
  self_hash_ = util::hash_name(server_.id(), 6);
  // Interest that exists before the cluster starts (internal and import subscriptions).
  for (auto& acc : server_.accounts()) {
    std::vector<SubscriptionPtr> subs;
    acc->sublist().all_subscriptions(subs);
    for (auto& sub : subs)
      if (!sub->closed.load() && !sub->conn && !is_stream_import_sub(*sub) && !is_local_only_sub(*sub))
        interest_.add_silently(acc->name() + " " + InterestCounts::key(sub->subject, sub->queue));
  }
  for (auto& rec : shadow_interest_all(server_))
    if (rec.internal)
      interest_.add_silently(rec.shadow.account + " " + InterestCounts::key(rec.shadow.subject, rec.shadow.queue));
  int fd = net::listen_tcp(o.cluster.host, o.cluster.port > 0 ? o.cluster.port : 0);
  port_ = net::bound_port(fd);
  {
    std::lock_guard lk(mu_);
    set_own_urls_locked();
    build_info();
  }
  listener_.start(server_.pick_loop(), fd, [this](int cfd, const std::string& ip, int port) {
    accept_route(cfd, ip, port);
  });
  {
    std::lock_guard lk(mu_);
    configured_ = o.cluster.routes;
    for (const auto& r : o.cluster.routes) solicit_locked(r, false, std::chrono::milliseconds(0), true);
  }
  start_dialing();
}

void RouteManager::log_listening() const {
  const auto& o = server_.options();
  log::notice("Cluster name is {}", name_);
  log::notice("Listening for route connections on {}:{}", o.cluster.host, port_);
  if (o.cluster.tls.enabled && o.cluster.tls.insecure)
    log::warn("TLS certificate chain and hostname of solicited routes will not be verified. DO NOT USE IN PRODUCTION!");
}

void RouteManager::set_own_urls_locked() {
  own_client_urls_.clear();
  own_ws_urls_.clear();
  if (cluster_.no_advertise) return;
  const auto& o = server_.options();
  // client_advertise replaces the listen addresses; without a port it takes the client port.
  if (!o.client_advertise.empty())
    own_client_urls_ = {o.client_advertise.find(':') == std::string::npos
                            ? o.client_advertise + ":" + std::to_string(server_.client_port())
                            : o.client_advertise};
  else own_client_urls_ = advertised_urls(o.host, server_.client_port());
  if (int wport = server_.websocket_port(); wport > 0) {
    if (!o.websocket.advertise.empty()) own_ws_urls_ = {advertise_host_port(o.websocket.advertise, wport)};
    else own_ws_urls_ = advertised_urls(o.websocket.host, wport);
  }
}

void RouteManager::shutdown() { stop_links(); }

RedialPolicy RouteManager::policy(bool implicit) const {
  // Explicit routes are dialled forever; implicit ones (gossip) once, or connect_retries
  // more times (connectToRoute's tryForEver).
  RedialPolicy p;
  p.retry_delay = kLinkRetryDelay;
  if (implicit) p.retries = std::max(cluster_.connect_retries, 0);
  return p;
}

void RouteManager::solicit_locked(const std::string& url, bool implicit, std::chrono::nanoseconds delay,
                                  bool first_connect) {
  if (implicit) implicit_urls_.insert(url);
  else implicit_urls_.erase(url);
  schedule_locked(url, policy(implicit), delay, first_connect);
}

bool RouteManager::dial_wanted_locked(const std::string& url) const {
  return !self_urls_.count(url) && (implicit_urls_.count(url) || !removed_urls_.count(url));
}

void RouteManager::log_dial(const Dial& d, const PeerUrl& u, bool failed) const {
  if (!u.ok) {
    if (failed && d.report) log::error("Error trying to connect to route: invalid URL \"{}\"", d.key);
    return;
  }
  if (!failed) log::debug("Trying to connect to route on {}", u.host_port());
  else if (d.report) log::error("Error trying to connect to route (attempt {}): {}", d.attempt, u.host_port());
  else log::debug("Error trying to connect to route (attempt {}): {}", d.attempt, u.host_port());
}

void RouteManager::dialled_locked(const std::string& url, const std::string&, int fd) {
  PeerUrl u = parse_peer_url(url);
  auto& loop = server_.pick_loop();
  auto r = std::make_shared<RouteConnection>(server_, *this, loop, fd, server_.next_connection_id(), url, true,
                                             implicit_urls_.count(url) != 0);
  r->set_peer(u.host, u.port);
  adopt_locked(loop, std::move(r));
}

void RouteManager::accept_route(int fd, const std::string& ip, int port) {
  auto& loop = server_.pick_loop();
  auto r = std::make_shared<RouteConnection>(server_, *this, loop, fd, server_.next_connection_id(), "", false,
                                             false);
  r->set_peer(ip, port);
  adopt(loop, std::move(r));
}

bool RouteManager::agree_cluster_name(const std::string& remote, bool remote_dynamic) {
  std::lock_guard lk(mu_);
  if (remote == name_) return true;
  if (dynamic_) {
    if (!remote_dynamic || remote < name_) {
      log::notice("Cluster name updated to {}", remote);
      name_ = remote;
      if (!remote_dynamic) dynamic_ = false;
      build_info();
    }
    return true;
  }
  return remote_dynamic;
}

bool RouteManager::register_route(const std::shared_ptr<RouteConnection>& r) {
  std::string id = r->remote_id();
  std::vector<std::shared_ptr<RouteConnection>> others;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return false;
    if (auto kept = routes_.find(id); kept != routes_.end()) {
      if (r->solicited() && !kept->second->solicited())
        adopted_dials_[kept->second.get()] = AdoptedDial{r->url(), r->implicit()};
      return false;
    }
    for (auto& [_, o] : routes_) others.push_back(o);
    routes_[id] = r;
    note_peer_urls_locked(r->remote_info());
  }
  // Tell the other routes about the new server so they connect to it (implicit routes).
  RouteInfo ri = r->remote_info();
  nlohmann::ordered_json j;
  j["server_id"] = ri.id;
  j["server_name"] = ri.name;
  j["version"] = ri.version;
  j["proto"] = 2;
  j["host"] = ri.host;
  j["port"] = ri.port;
  j["headers"] = true;
  j["cluster"] = cluster_name();
  if (!ri.connect_urls.empty()) j["connect_urls"] = ri.connect_urls;
  if (!ri.ws_connect_urls.empty()) j["ws_connect_urls"] = ri.ws_connect_urls;
  j["ip"] = ri.ip;
  j["lnoc"] = true;
  std::string line = "INFO " + j.dump() + "\r\n";
  for (auto& o : others) o->send_now(line);
  if (!no_advertise()) notify_clients();
  if (auto* lf = server_.leafs()) lf->send_async_info();
  return true;
}

void RouteManager::on_route_closed(RouteConnection* r, bool self_route) {
  bool was_registered = false;
  bool retry = false;
  bool stopping = false;
  std::string url = r->url();
  bool implicit = r->implicit();
  bool solicited = r->solicited();
  {
    std::lock_guard lk(mu_);
    forget_locked(r);
    if (auto a = adopted_dials_.find(r); a != adopted_dials_.end()) {
      if (!solicited) {
        url = a->second.url;
        implicit = a->second.implicit;
        solicited = true;
      }
      adopted_dials_.erase(a);
    }
    std::string id = r->remote_id();
    auto it = routes_.find(id);
    if (it != routes_.end() && it->second.get() == r) {
      routes_.erase(it);
      was_registered = true;
    }
    stopping = stopping_;
    if (!stopping_ && solicited && !removed_urls_.count(url)) {
      if (self_route) self_urls_.insert(url);
      else retry = !(!id.empty() && routes_.count(id));
    }
    // A solicited route that drops is redialled (reConnectToRoute: a jitter, plus 1 s when
    // explicit), unless the other end is reachable through another route, or is ourselves.
    if (retry) {
      log::debug("Attempting reconnect for solicited route \"{}\"", url);
      solicit_locked(url, implicit, reconnect_jitter() + (implicit ? std::chrono::seconds(0) : kLinkRetryDelay), false);
    } else if (solicited) {
      redial_.forget(url);
    }
  }
  // The server behind this route is gone (a killed process closes its sockets at once):
  // Raft groups it leads campaign now rather than after an election timeout.
  if (was_registered && !stopping && !self_route)
    if (auto* meta = server_.meta_group()) meta->peer_connection_lost(r->remote_info().name);
  // Clients and leafs lose the server's URLs whichever side dialled the route (the
  // reference's removeRoute / closeConnection); not when we stop or it was ourselves.
  if (!was_registered || stopping || self_route) return;
  if (!no_advertise()) notify_clients();
  if (auto* lf = server_.leafs()) lf->send_async_info();
}

void RouteManager::on_gossip(const RouteInfo& info) {
  if (info.id == server_.id() || info.ip.empty()) return;
  {
    std::lock_guard lk(mu_);
    if (stopping_ || routes_.count(info.id)) return;
    for (auto& c : all_conns_)
      if (c->solicited() && c->url() == info.ip) return;
    if (redial_.scheduled(info.ip)) return;
    solicit_locked(info.ip, true, std::chrono::milliseconds(0), true);
  }
}

std::vector<std::string> RouteManager::ws_connect_urls() const { return merged_urls(true); }

std::vector<std::string> RouteManager::peer_ws_urls() const {
  std::vector<std::string> out;
  if (no_advertise()) return out;
  std::lock_guard lk(mu_);
  for (auto& [_, r] : routes_)
    for (auto& u : r->remote_info().ws_connect_urls)
      if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
  return out;
}

void RouteManager::on_route_updated() {
  {
    std::lock_guard lk(mu_);
    for (auto& [_, r] : routes_) note_peer_urls_locked(r->remote_info());
  }
  if (!no_advertise()) notify_clients();
}

void RouteManager::note_peer_urls_locked(const RouteInfo& ri) {
  if (no_advertise()) return;
  if (!ri.connect_urls.empty()) peer_client_urls_seen_ = true;
  if (!ri.ws_connect_urls.empty()) peer_ws_urls_seen_ = true;
}

void RouteManager::notify_clients() {
  for (auto& c : server_.clients_snapshot()) {
    if (c->closing() || c->connect_options().protocol < 1) continue;
    c->send_now(server_.client_info_line(c->cid(), c->peer_ip(), false, "", c->websocket()));
  }
}

std::vector<std::string> RouteManager::client_connect_urls() const { return merged_urls(false); }

std::vector<std::string> RouteManager::merged_urls(bool ws) const {
  std::lock_guard lk(mu_);
  if (!(ws ? peer_ws_urls_seen_ : peer_client_urls_seen_)) return {};
  std::vector<std::string> out = ws ? own_ws_urls_ : own_client_urls_;
  for (auto& [_, r] : routes_) {
    const RouteInfo& ri = r->remote_info();
    for (auto& u : ws ? ri.ws_connect_urls : ri.connect_urls)
      if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
  }
  return out;
}

void RouteManager::on_local_interest(Account& acc, const Subscription& sub, bool added) {
  {
    std::lock_guard lk(interest_mu_);
    const std::string key = InterestCounts::key(sub.subject, sub.queue);
    if (auto u = interest_.change(acc.name() + " " + key, !sub.queue.empty(), added ? 1 : -1)) {
      const std::string line = interest_line("RS", acc.name(), key, *u);
      for (auto& r : routes()) {
        r->enqueue(line);
        r->touch();
      }
    }
  }
  if (auto* gw = server_.gateways()) gw->on_cluster_interest(acc, sub.subject, sub.queue, added);
}

void RouteManager::send_all_subs(RouteConnection& r) {
  std::lock_guard lk(interest_mu_);
  std::string out;
  // By account: subject and queue -> members. Stream imports count by their importers'
  // subscribers (the shadows), not by their own subscription (import_interest.h).
  std::map<std::string, std::map<std::pair<std::string, std::string>, int>> grouped;
  for (auto& acc : server_.accounts()) {
    std::vector<SubscriptionPtr> subs;
    acc->sublist().all_subscriptions(subs);
    for (auto& s : subs) {
      if (s->closed.load(std::memory_order_relaxed) || is_stream_import_sub(*s) || is_local_only_sub(*s)) continue;
      if (s->conn && (s->conn->kind() == ConnKind::Router || s->conn->kind() == ConnKind::Gateway)) continue;
      // What a hub told us (we are its spoke) is the hub's cluster's business, not our routes'.
      if (s->conn && s->conn->kind() == ConnKind::Leaf && static_cast<LeafConnection*>(s->conn.get())->spoke()) continue;
      grouped[acc->name()][{s->subject, s->queue}]++;
    }
  }
  for (auto& rec : shadow_interest_all(server_)) grouped[rec.shadow.account][{rec.shadow.subject, rec.shadow.queue}]++;
  for (auto& [acc, subs] : grouped) {
    for (auto& [sq, n] : subs) {
      out += "RS+ " + acc + " " + sq.first;
      if (!sq.second.empty()) out += " " + sq.second + " " + std::to_string(n);
      out += "\r\n";
    }
  }
  if (!out.empty()) {
    r.enqueue(out);
    r.touch();
  }
}

void RouteManager::forward_gateway(const std::string& name, const std::vector<std::string>& urls) {
  nlohmann::ordered_json j;
  j["server_id"] = "GW" + server_.id();
  j["server_name"] = server_.name();
  j["gateway"] = name;
  j["gateway_urls"] = urls;
  j["gateway_cmd"] = 1;
  std::string line = "INFO " + j.dump() + "\r\n";
  for (auto& r : routes()) r->send_now(line);
}

std::vector<std::shared_ptr<RouteConnection>> RouteManager::routes() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<RouteConnection>> out;
  for (auto& [_, r] : routes_) out.push_back(r);
  return out;
}

std::shared_ptr<RouteConnection> RouteManager::route_by_hash(std::string_view hash) const {
  std::lock_guard lk(mu_);
  for (auto& [_, r] : routes_)
    if (r->server_hash() == hash) return r;
  return nullptr;
}

size_t RouteManager::num_routes() const {
  std::lock_guard lk(mu_);
  return routes_.size();
}

void RouteManager::reload_routes(const std::vector<std::string>& add, const std::vector<std::string>& remove) {
  for (const auto& url : remove) {
    std::vector<std::shared_ptr<RouteConnection>> doomed;
    {
      std::lock_guard lk(mu_);
      removed_urls_.insert(url);
      redial_.forget(url);
      std::erase(configured_, url);
      for (auto& c : all_conns_)
        if (c->solicited() && c->url() == url) doomed.push_back(c);
    }
    for (auto& c : doomed) c->close(CloseReason::RouteRemoved);
    log::notice("Removed route {}", url);
  }
  for (const auto& url : add) {
    std::lock_guard lk(mu_);
    removed_urls_.erase(url);
    configured_.push_back(url);
    solicit_locked(url, false, std::chrono::milliseconds(0), true);
  }
  log::notice("Reloaded: cluster routes");
}

nlohmann::ordered_json RouteManager::routez() const {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  auto list = routes();
  std::sort(list.begin(), list.end(), [](auto& a, auto& b) { return a->cid() < b->cid(); });
  std::vector<std::string> configured;
  {
    std::lock_guard lk(mu_);
    configured = configured_;
  }
  auto now = std::chrono::system_clock::now();
  for (auto& r : list) {
    RouteInfo ri = r->remote_info();
    nlohmann::ordered_json j;
    j["rid"] = r->cid();
    j["remote_id"] = ri.id;
    j["did_solicit"] = r->solicited();
    j["is_configured"] = r->solicited() && std::find(configured.begin(), configured.end(), r->url()) != configured.end();
    j["ip"] = r->peer_ip();
    j["port"] = r->peer_port();
    j["start"] = util::rfc3339_nano(r->start_time());
    j["last_activity"] = util::rfc3339_nano(r->last_activity());
    j["rtt"] = config::format_go_duration(std::chrono::nanoseconds(r->rtt_ns()));
    j["uptime"] = util::uptime_string(now - r->start_time());
    j["idle"] = util::uptime_string(now - r->last_activity());
    j["pending_size"] = r->pending_bytes();
    j["in_msgs"] = r->in_msgs.load();
    j["out_msgs"] = r->out_msgs.load();
    j["in_bytes"] = r->in_bytes.load();
    j["out_bytes"] = r->out_bytes.load();
    j["subscriptions"] = r->num_remote_subs();
    arr.push_back(std::move(j));
  }
  nlohmann::ordered_json out;
  out["num_routes"] = arr.size();
  out["routes"] = std::move(arr);
  return out;
}

nlohmann::ordered_json RouteManager::varz() const {
  const auto& o = server_.options();
  nlohmann::ordered_json j;
  j["name"] = cluster_name();
  j["addr"] = o.cluster.host;
  j["cluster_port"] = port_;
  ClusterOptions c;
  {
    std::lock_guard lk(mu_);
    c = cluster_;  // as reloaded
  }
  set_go_seconds(j, "auth_timeout", link_auth_timeout(c.auth_timeout, c.tls));
  std::vector<std::string> urls;
  for (auto& u : o.cluster.routes) urls.push_back(parse_peer_url(u).host_port());
  j["urls"] = urls;
  set_go_seconds(j, "tls_timeout", c.tls.timeout);
  if (c.tls.enabled) {  // always both, as 2.9.10
    j["tls_required"] = true;
    j["tls_verify"] = true;
  }
  return j;
}

}  // namespace nats::cluster
