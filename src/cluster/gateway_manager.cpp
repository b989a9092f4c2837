#include "cluster/gateway_manager.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "cluster/peer_cert_auth.h"
#include "cluster/route_manager.h"
#include "config/duration.h"
#include "config/link_auth_timeout.h"
#include "jetstream/cluster/meta_group.h"
#include "net/socket.h"
#include "server/import_interest.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/time_format.h"

namespace nats::cluster {

namespace {
constexpr auto kReplyMappingTtl = std::chrono::seconds(10);

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// An INFO carrying only a gateway command, shaped as the reference sends it (its Info
// struct with empty server fields).
std::string cmd_info(const std::string& gateway, int cmd, const std::string& payload,
                     const std::vector<std::string>* urls = nullptr, const std::string& id = "") {
  nlohmann::ordered_json j;
  j["server_id"] = id;
  j["server_name"] = "";
  j["version"] = "";
  j["proto"] = 0;
  j["go"] = "";
  j["host"] = "";
  j["port"] = 0;
  j["headers"] = false;
  j["max_payload"] = 0;
  j["gateway"] = gateway;
  if (urls) j["gateway_urls"] = *urls;
  j["gateway_cmd"] = cmd;
  if (!payload.empty()) j["gateway_cmd_payload"] = base64(payload);
  return "INFO " + j.dump() + "\r\n";
}

std::string key3(std::string_view a, std::string_view b, std::string_view c) {
  std::string k;
  k.append(a).append(" ").append(b).append(" ").append(c);
  return k;
}
}  // namespace

GatewayManager::GatewayManager(Server& s) : LinkManagerBase(s, s.options().gateway.tls, kMutualTls) {}

GatewayManager::~GatewayManager() { shutdown(); }

bool GatewayManager::auth_required() const { return !server_.options().gateway.username.empty(); }

Duration GatewayManager::accepted_auth_timeout() const {
  const auto& g = server_.options().gateway;
  return link_auth_timeout(g.auth_timeout, g.tls);
}

bool GatewayManager::authorized(const std::string& user, const std::string& pass,
                                const std::optional<net::PeerCertNames>& cert) const {
  const auto& g = server_.options().gateway;
  // The certificate replaces the user and password (isGatewayAuthorized); the known URLs
  // are those of every configured remote gateway.
  if (g.tls.map || g.tls.check_known_urls) {
    std::vector<std::string> known;
    for (const auto& r : g.gateways) known.insert(known.end(), r.urls.begin(), r.urls.end());
    return cert && peer_cert_authorized(*cert, {g.tls.map, g.username, g.tls.check_known_urls, &known});
  }
  return !auth_required() || (user == g.username && pass == g.password);
}

bool GatewayManager::known_gateway(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = remotes_.find(name);
  return it != remotes_.end() && it->second.configured;
}

std::string GatewayManager::info_line() const {
  const auto& o = server_.options();
  std::vector<std::string> urls{own_url_};
  if (auto* rm = server_.routes())
    for (auto& r : rm->routes()) {
      auto u = r->remote_info().gateway_url;
      if (!u.empty() && std::find(urls.begin(), urls.end(), u) == urls.end()) urls.push_back(u);
    }
  nlohmann::ordered_json j;
  link_info_head(j, server_, 1, o.gateway.host, port_);
  // tls_required as at start-up, whatever a reload did since: 2.9.10 builds this INFO once;
  // tls_verify with it (kMutualTls).
  link_info_limits(j, true, auth_required(), o.gateway.tls.enabled, kMutualTls, o.max_payload);
  j["gateway"] = name_;
  j["gateway_urls"] = urls;
  j["gateway_url"] = own_url_;
  j["gateway_nrp"] = true;
  j["gateway_iom"] = true;
  return "INFO " + j.dump() + "\r\n";
}

void GatewayManager::start() {
  const auto& o = server_.options();
  name_ = o.gateway.name;
  cluster_hash_ = util::hash_name(name_, 6);
  server_hash_ = util::hash_name(server_.id(), 6);
  for (auto& acc : server_.accounts()) {
    std::vector<SubscriptionPtr> subs;
    acc->sublist().all_subscriptions(subs);
    for (auto& sub : subs)
      if (!sub->closed.load() && !sub->conn && !is_stream_import_sub(*sub) && !is_local_only_sub(*sub))
        interest_[key3(acc->name(), sub->subject, sub->queue)]++;
  }
  for (auto& rec : shadow_interest_all(server_))
    if (rec.internal) interest_[key3(rec.shadow.account, rec.shadow.subject, rec.shadow.queue)]++;
  int fd = net::listen_tcp(o.gateway.host, o.gateway.port > 0 ? o.gateway.port : 0);
  port_ = net::bound_port(fd);
  if (!o.gateway.advertise.empty()) own_url_ = o.gateway.advertise;
  else own_url_ = advertised_urls(o.gateway.host, port_).front();
  listener_.start(server_.pick_loop(), fd, [this](int cfd, const std::string& ip, int port) {
    accept_gateway(cfd, ip, port);
  });
  log::notice("Gateway name is {}", name_);
  log::notice("Listening for gateways connections on {}:{}", o.gateway.host, port_);
  if (o.gateway.tls.enabled && o.gateway.tls.insecure)
    log::warn("TLS certificate chain and hostname of solicited gateways will not be verified. DO NOT USE IN PRODUCTION!");
  log::notice("Address for gateway \"{}\" is {}", name_, own_url_);
  {
    std::lock_guard lk(mu_);
    for (const auto& g : o.gateway.gateways) {
      if (g.name == name_) continue;  // our own entry in a shared list
      Remote& r = remotes_[g.name];
      r.name = g.name;
      r.configured = true;
      for (auto& u : g.urls) r.urls.push_back(u);
      schedule_locked(g.name, policy(true), std::chrono::milliseconds(50), true);
    }
  }
  start_dialing();
}

void GatewayManager::shutdown() { stop_links(); }

RedialPolicy GatewayManager::policy(bool configured) const {
  // Explicit gateways are dialled forever; implicit ones (discovered) once, or
  // connect_retries more times (solicitGateway). An attempt is a round over every URL.
  RedialPolicy p;
  p.retry_delay = kLinkRetryDelay;
  p.every_url_per_attempt = true;
  if (!configured) p.retries = std::max(server_.options().gateway.connect_retries, 0);
  return p;
}

size_t GatewayManager::dial_url_count_locked(const std::string& name) const {
  auto it = remotes_.find(name);
  return it == remotes_.end() || it->second.outbound ? 0 : it->second.urls.size();
}

std::string GatewayManager::dial_url_locked(const std::string& name, size_t i) const {
  return remotes_.at(name).urls.at(i);
}

void GatewayManager::log_dial(const Dial& d, const PeerUrl& u, bool failed) const {
  if (!u.ok) {
    if (failed && d.report) log::error("Invalid gateway URL for \"{}\"", d.key);
    return;
  }
  if (!failed) log::debug("Connecting to gateway \"{}\" ({}) (attempt {})", d.key, u.host_port(), d.attempt);
  else if (d.report) log::error("Error connecting to gateway \"{}\" ({}) (attempt {})", d.key, u.host_port(), d.attempt);
  else log::debug("Error connecting to gateway \"{}\" ({}) (attempt {})", d.key, u.host_port(), d.attempt);
}

void GatewayManager::given_up_locked(const std::string& name) {
  // A remote that has just connected to us is tried again; otherwise it is forgotten.
  bool inbound = std::any_of(inbound_.begin(), inbound_.end(), [&](auto& c) { return c->remote_name() == name; });
  if (inbound) schedule_locked(name, policy(false), kLinkRetryDelay, false);
  else remotes_.erase(name);
}

void GatewayManager::dialled_locked(const std::string& name, const std::string& url, int fd) {
  PeerUrl u = parse_peer_url(url);
  auto& loop = server_.pick_loop();
  auto c = std::make_shared<GatewayConnection>(server_, *this, loop, fd, server_.next_connection_id(), true, name,
                                               url);
  c->set_peer(u.host, u.port);
  auto it = remotes_.find(name);
  c->set_dial_tls(it == remotes_.end() || it->second.configured ? last_tls_context() : it->second.tls);
  adopt_locked(loop, std::move(c));
}

void GatewayManager::accept_gateway(int fd, const std::string& ip, int port) {
  auto& loop = server_.pick_loop();
  auto c = std::make_shared<GatewayConnection>(server_, *this, loop, fd, server_.next_connection_id(), false, "",
                                               "");
  c->set_peer(ip, port);
  adopt(loop, std::move(c));
}

bool GatewayManager::register_outbound(const std::shared_ptr<GatewayConnection>& c,
                                       const std::vector<std::string>& urls) {
  std::lock_guard lk(mu_);
  if (stopping_) return false;
  auto& r = remotes_[c->remote_name()];
  if (r.outbound && r.outbound != c) return false;
  r.name = c->remote_name();
  r.outbound = c;
  rebuild_outbound_cache();
  for (auto& u : urls)
    if (std::find(r.urls.begin(), r.urls.end(), u) == r.urls.end()) r.urls.push_back(u);
  return true;
}

bool GatewayManager::register_inbound(const std::shared_ptr<GatewayConnection>& c) {
  std::lock_guard lk(mu_);
  if (stopping_) return false;
  inbound_.push_back(c);
  return true;
}

void GatewayManager::on_closed(GatewayConnection* c) {
  // The server at the other end may be gone (a killed process closes its sockets at once):
  // Raft groups it leads campaign now rather than after an election timeout. Only the
  // servers with a gateway connection to it see this; the others keep their timeouts. (At
  // shutdown the meta group stops first and ignores this.)
  if (auto* meta = server_.meta_group(); meta && c->registered()) meta->server_connection_lost(c->remote_id());
  std::lock_guard lk(mu_);
  forget_locked(c);
  std::erase_if(inbound_, [c](auto& x) { return x.get() == c; });
  if (c->outbound()) {
    auto it = remotes_.find(c->remote_name());
    if (it != remotes_.end()) {
      auto& r = it->second;
      if (r.outbound.get() == c) {
        r.outbound.reset();
        rebuild_outbound_cache();
      }
      // Redialled after a jitter, plus 1 s when configured (reconnectGateway).
      if (!r.outbound && !stopping_) {
        log::debug("Attempting reconnect for gateway \"{}\"", r.name);
        schedule_locked(r.name, policy(r.configured),
                        reconnect_jitter() + (r.configured ? kLinkRetryDelay : std::chrono::seconds(0)), false);
      }
    }
  }
  cv_.notify_all();
}

void GatewayManager::on_discovered(const std::string& name, const std::vector<std::string>& urls, bool forward) {
  if (name == name_ || urls.empty()) return;
  bool added = false;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    auto it = remotes_.find(name);
    if (it == remotes_.end()) {
      if (server_.options().gateway.reject_unknown) return;
      Remote r;
      r.name = name;
      r.urls = urls;
      r.tls = tls_context();
      remotes_.emplace(name, std::move(r));
      schedule_locked(name, policy(false), std::chrono::milliseconds(0), true);
      added = true;
      log::notice("Discovered gateway \"{}\" ({})", name, urls.front());
    } else {
      for (auto& u : urls)
        if (std::find(it->second.urls.begin(), it->second.urls.end(), u) == it->second.urls.end())
          it->second.urls.push_back(u);
    }
  }
  cv_.notify_all();
  if (added) gossip(name, urls);
  if (forward)
    if (auto* rm = server_.routes()) rm->forward_gateway(name, urls);
}

void GatewayManager::gossip(const std::string& name, const std::vector<std::string>& urls) {
  std::string line = cmd_info(name, 1, "", &urls, server_.id());
  for (auto& c : inbound_snapshot())
    if (c->remote_name() != name) c->send_now(line);
}

std::vector<std::shared_ptr<GatewayConnection>> GatewayManager::inbound_snapshot() const {
  std::lock_guard lk(mu_);
  return inbound_;
}

std::vector<std::shared_ptr<GatewayConnection>> GatewayManager::outbound_snapshot() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<GatewayConnection>> out;
  for (auto& [_, r] : remotes_)
    if (r.outbound && r.outbound->registered()) out.push_back(r.outbound);
  return out;
}

void GatewayManager::on_cluster_interest(Account& acc, const std::string& subject, const std::string& queue,
                                         bool added) {
  std::lock_guard lk(interest_mu_);
  std::string key = key3(acc.name(), subject, queue);
  int& n = interest_[key];
  n += added ? 1 : -1;
  std::string line;
  if (n <= 0) {
    interest_.erase(key);
    line = "RS- " + acc.name() + " " + subject + (queue.empty() ? "" : " " + queue) + "\r\n";
  } else if (added && n == 1) {
    line = "RS+ " + acc.name() + " " + subject + (queue.empty() ? "" : " " + queue + " 1") + "\r\n";
  }
  if (line.empty()) return;
  for (auto& c : inbound_snapshot()) {
    c->enqueue(line);
    c->touch();
  }
}

void GatewayManager::send_all_interest(GatewayConnection& c) {
  std::lock_guard lk(interest_mu_);
  std::string out;
  auto accounts = server_.accounts();
  for (auto& acc : accounts) out += cmd_info(name_, 2, acc->name());
  for (auto& acc : accounts) {
    std::vector<SubscriptionPtr> subs;
    acc->sublist().all_subscriptions(subs);
    std::map<std::string, std::pair<std::string, std::string>> seen;
    for (auto& s : subs) {
      if (s->closed.load(std::memory_order_relaxed) || is_stream_import_sub(*s) || is_local_only_sub(*s)) continue;
      if (s->conn && s->conn->kind() == ConnKind::Gateway) continue;
      seen.emplace(key3(acc->name(), s->subject, s->queue), std::make_pair(s->subject, s->queue));
    }
    // Stream imports count by their importers' subscribers (import_interest.h).
    for (auto& rec : shadow_interest_all(server_))
      if (rec.shadow.account == acc->name())
        seen.emplace(key3(acc->name(), rec.shadow.subject, rec.shadow.queue),
                     std::make_pair(rec.shadow.subject, rec.shadow.queue));
    for (auto& [_, s] : seen)
      out += "RS+ " + acc->name() + " " + s.first + (s.second.empty() ? "" : " " + s.second + " 1") + "\r\n";
  }
  for (auto& acc : accounts) out += cmd_info(name_, 3, acc->name());
  // Every other gateway we know, so the remote cluster can complete its mesh.
  {
    std::string remote = c.remote_name();
    std::lock_guard lk2(mu_);
    for (auto& [n, r] : remotes_)
      if (n != remote && !r.urls.empty()) out += cmd_info(n, 1, "", &r.urls, server_.id());
  }
  c.enqueue(out);
  c.touch();
}

void GatewayManager::account_registered(const std::string& account) {
  auto inbound = inbound_snapshot();
  if (inbound.empty()) return;
  auto acc = server_.lookup_account(account);
  if (!acc) return;
  std::lock_guard lk(interest_mu_);
  std::vector<SubscriptionPtr> subs;
  acc->sublist().all_subscriptions(subs);
  std::set<std::string> seen;
  std::string out = cmd_info(name_, 2, account);
  for (auto& s : subs) {
    if (s->closed.load(std::memory_order_relaxed) || is_stream_import_sub(*s) || is_local_only_sub(*s)) continue;
    if (s->conn && s->conn->kind() == ConnKind::Gateway) continue;
    if (seen.insert(key3(account, s->subject, s->queue)).second)
      out += "RS+ " + account + " " + s->subject + (s->queue.empty() ? "" : " " + s->queue + " 1") + "\r\n";
  }
  for (auto& rec : shadow_interest_all(server_))
    if (rec.shadow.account == account && seen.insert(key3(account, rec.shadow.subject, rec.shadow.queue)).second)
      out += "RS+ " + account + " " + rec.shadow.subject +
             (rec.shadow.queue.empty() ? "" : " " + rec.shadow.queue + " 1") + "\r\n";
  out += cmd_info(name_, 3, account);
  for (auto& c : inbound) {
    c->clear_account_no_interest(account);
    c->enqueue(out);
    c->touch();
  }
}

void GatewayManager::rebuild_outbound_cache() {
  auto list = std::make_shared<OutList>();
  for (auto& [_, r] : remotes_)
    if (r.outbound) list->push_back(r.outbound);
  std::lock_guard lk(outbound_cache_mu_);
  outbound_cache_ = std::move(list);
}

bool GatewayManager::forward(Account& acc, std::string_view subject, std::string_view reply,
                             std::string_view headers, std::string_view payload, const MatchResult* local) {
  auto cached = outbound_cache();
  if (cached->empty()) return false;
  const OutList& outs = *cached;
  // Start at a different gateway each time: spreads queue traffic that has no member in
  // this cluster over the remote clusters.
  thread_local uint32_t turn = 0;
  const size_t n_out = outs.size();
  const size_t first = n_out > 1 ? turn++ % n_out : 0;
  std::string mapped;
  if (have_replies_.load(std::memory_order_relaxed)) {
    std::string key;
    key.append(acc.name()).append(" ").append(subject);
    std::lock_guard lk(reply_mu_);
    auto it = replies_.find(key);
    if (it != replies_.end()) {
      if (std::chrono::steady_clock::now() - it->second.when > kReplyMappingTtl) replies_.erase(it);
      else mapped = it->second.full;
    }
  }
  std::string gr_reply;
  if (!reply.empty()) {
    if (is_gateway_reply(reply)) {
      gr_reply = reply;
    } else {
      gr_reply.reserve(reply.size() + 19);
      gr_reply.append("_GR_.").append(cluster_hash_).append(".").append(server_hash_).append(".").append(reply);
    }
  }
  if (is_gateway_reply(subject) && subject.substr(5, 6) != cluster_hash_) {
    // A reply addressed straight to a `_GR_` subject (e.g. by an internal responder that
    // saw the mapped reply): it goes to that cluster whatever its interest.
    for (const auto& out : outs)
      if (out->remote_hash() == subject.substr(5, 6))
        return out->send_msg(acc.name(), subject, gr_reply, {}, headers, payload);
    return false;
  }
  bool sent = false;
  GatewayInterest gi;
  std::string qs;
  std::vector<std::string> queues_sent;  // a queue group gets the message from one cluster only
  for (size_t k = 0; k < n_out; ++k) {
    const auto& out = outs[(first + k) % n_out];
    if (!mapped.empty() && std::string_view(mapped).substr(5, 6) == out->remote_hash()) {
      sent |= out->send_msg(acc.name(), mapped, gr_reply, {}, headers, payload);
      continue;
    }
    if (!out->interest(acc.name(), subject, gi)) continue;
    qs.clear();
    for (auto& q : gi.queues) {
      bool served = false;
      if (local)
        for (auto& g : local->qsubs)
          if (!g.empty() && g.front()->queue == q) {
            served = true;
            break;
          }
      if (served || std::find(queues_sent.begin(), queues_sent.end(), q) != queues_sent.end()) continue;
      queues_sent.push_back(q);
      if (!qs.empty()) qs += ' ';
      qs += q;
    }
    if (!gi.plain && qs.empty()) continue;
    sent |= out->send_msg(acc.name(), subject, gr_reply, qs, headers, payload);
  }
  return sent;
}

bool GatewayManager::local_reply_target(std::string_view subject, std::string_view& local) const {
  if (!is_gateway_reply(subject) || subject[11] != '.' || subject[18] != '.') return false;
  if (subject.substr(5, 6) != cluster_hash_ || subject.substr(12, 6) != server_hash_) return false;
  local = subject.substr(19);
  return true;
}

void GatewayManager::route_reply(Account& acc, std::string_view subject, std::string_view reply,
                                 std::string_view headers, std::string_view payload) {
  if (!is_gateway_reply(subject) || subject.substr(5, 6) != cluster_hash_) return;
  auto* rm = server_.routes();
  if (!rm) return;
  if (auto r = rm->route_by_hash(subject.substr(12, 6))) r->send_msg(acc.name(), subject, reply, {}, headers, payload);
}

std::string GatewayManager::recorded_reply(const std::string& account, std::string_view subject) const {
  if (!have_replies_.load(std::memory_order_relaxed)) return {};
  std::string key = account + " " + std::string(subject);
  std::lock_guard lk(reply_mu_);
  auto it = replies_.find(key);
  return it == replies_.end() ? std::string() : it->second.full;
}

void GatewayManager::record_reply(const std::string& account, std::string_view gw_reply) {
  if (!is_gateway_reply(gw_reply)) return;
  std::string key = account + " " + std::string(strip_reply(gw_reply));
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lk(reply_mu_);
  if (replies_.size() > 10000) {
    for (auto it = replies_.begin(); it != replies_.end();) {
      if (now - it->second.when > kReplyMappingTtl) it = replies_.erase(it);
      else ++it;
    }
  }
  replies_[key] = ReplyEntry{std::string(gw_reply), now};
  have_replies_.store(true, std::memory_order_relaxed);
}

size_t GatewayManager::num_outbound() const { return outbound_snapshot().size(); }

std::vector<std::string> GatewayManager::outbound_names_by_rtt() const {
  auto outs = outbound_snapshot();
  std::stable_sort(outs.begin(), outs.end(), [](const auto& a, const auto& b) { return a->rtt_ns() < b->rtt_ns(); });
  std::vector<std::string> names;
  names.reserve(outs.size());
  for (const auto& c : outs) names.push_back(c->remote_name());
  return names;
}

void GatewayManager::remote_interest(const std::string& account, std::vector<SubscriptionPtr>& out) const {
  for (auto& c : outbound_snapshot()) c->interest_subscriptions(account, out);
}

size_t GatewayManager::num_inbound() const {
  std::lock_guard lk(mu_);
  return inbound_.size();
}

namespace {
nlohmann::ordered_json conn_json(const GatewayConnection& c) {
  auto now = std::chrono::system_clock::now();
  nlohmann::ordered_json j;
  j["cid"] = c.cid();
  j["kind"] = "Gateway";
  j["ip"] = c.peer_ip();
  j["port"] = c.peer_port();
  j["start"] = util::rfc3339_nano(c.start_time());
  j["last_activity"] = util::rfc3339_nano(c.last_activity());
  j["rtt"] = config::format_go_duration(std::chrono::nanoseconds(c.rtt_ns()));
  j["uptime"] = util::uptime_string(now - c.start_time());
  j["idle"] = util::uptime_string(now - c.last_activity());
  j["pending_bytes"] = c.pending_bytes();
  j["in_msgs"] = c.in_msgs.load();
  j["out_msgs"] = c.out_msgs.load();
  j["in_bytes"] = c.in_bytes.load();
  j["out_bytes"] = c.out_bytes.load();
  j["subscriptions"] = c.outbound() ? c.num_interest() : 0;
  j["name"] = c.remote_id();
  return j;
}
}  // namespace

nlohmann::ordered_json GatewayManager::gatewayz() const {
  nlohmann::ordered_json out;
  out["name"] = name_;
  out["host"] = server_.options().gateway.host;
  out["port"] = port_;
  nlohmann::ordered_json ob = nlohmann::ordered_json::object();
  nlohmann::ordered_json ib = nlohmann::ordered_json::object();
  std::lock_guard lk(mu_);
  for (auto& [n, r] : remotes_) {
    if (!r.outbound || !r.outbound->registered()) continue;
    nlohmann::ordered_json g;
    g["configured"] = r.configured;
    g["connection"] = conn_json(*r.outbound);
    ob[n] = std::move(g);
  }
  for (auto& c : inbound_) {
    std::string n = c->remote_name();
    nlohmann::ordered_json g;
    g["configured"] = false;  // the reference reports inbound connections as not configured
    g["connection"] = conn_json(*c);
    if (!ib.contains(n)) ib[n] = nlohmann::ordered_json::array();
    ib[n].push_back(std::move(g));
  }
  out["outbound_gateways"] = std::move(ob);
  out["inbound_gateways"] = std::move(ib);
  return out;
}

nlohmann::ordered_json GatewayManager::varz() const {
  const auto& o = server_.options().gateway;
  nlohmann::ordered_json j;
  j["name"] = name_;
  j["host"] = o.host;
  j["port"] = port_;
  set_go_seconds(j, "auth_timeout", accepted_auth_timeout());
  set_go_seconds(j, "tls_timeout", o.tls.timeout);
  if (o.tls.enabled) {  // always both, as 2.9.10
    j["tls_required"] = true;
    j["tls_verify"] = true;
  }
  if (!o.advertise.empty()) j["advertise"] = o.advertise;
  if (o.connect_retries) j["connect_retries"] = o.connect_retries;
  nlohmann::ordered_json gws = nlohmann::ordered_json::array();
  std::lock_guard lk(mu_);
  for (auto& [n, r] : remotes_) {
    nlohmann::ordered_json g;
    g["name"] = n;
    std::vector<std::string> urls;
    for (auto& u : r.urls) urls.push_back(parse_peer_url(u).host_port());
    g["urls"] = urls;
    gws.push_back(std::move(g));
  }
  j["gateways"] = std::move(gws);
  if (o.reject_unknown) j["reject_unknown"] = true;
  return j;
}

}  // namespace nats::cluster
