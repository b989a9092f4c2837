#include "server/server.h"
#include "server/import_interest.h"
#include "server/url_account_fetcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cluster/gateway_manager.h"
#include "cluster/leaf_manager.h"
#include "cluster/route_manager.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/jetstream.h"
#include "monitor/monitor_server.h"
#include "net/socket.h"
#include "server/client.h"
#include "sys/system_services.h"
#include "server/imports.h"
#include "server/service_latency.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats {

// Accepts client connections on loop 0 and hands each to a loop, round-robin: plain
// NATS clients, or WebSocket clients on the websocket port.
class Server::Listener : public net::IoHandler {
 public:
  Listener(Server& s, int fd, bool websocket = false) : server_(s), fd_(fd), websocket_(websocket) {}
  ~Listener() override { ::close(fd_); }
  void on_io(uint32_t) override { server_.accept_ready(*this); }
  int fd() const { return fd_; }
  bool websocket() const { return websocket_; }
 private:
  Server& server_;
  int fd_;
  bool websocket_;
};

Server::Server(Options opts) : opts_(std::move(opts)) {
  id_ = util::new_server_id();
  name_ = opts_.server_name.empty() ? id_ : opts_.server_name;
  start_time_ = std::chrono::system_clock::now();
  JwtAccounts jwt_accounts;
  if (opts_.operator_mode()) {
    // Operator mode refuses config accounts, so the JWT accounts are the only ones.
    resolver_ = std::make_unique<AccountResolverStore>(opts_);
    // The URL resolver's system account is fetched now, as the reference's SetSystemAccount.
    if (resolver_->is_url() && !opts_.system_account.empty()) url_fetch_account_now(opts_.system_account, *resolver_);
    std::map<std::string, std::string> tokens;
    for (const auto& key : resolver_->keys()) tokens[key] = *resolver_->fetch(key);
    jwt_accounts = load_jwt_accounts(opts_, tokens);
    opts_.accounts = jwt_accounts.configs;
  }
  setup_accounts();
  for (const auto& [key, claims] : jwt_accounts.claims)
    if (auto a = lookup_account(key)) a->set_claims(claims);
  auth_ = std::make_shared<const Authenticator>(opts_, [this](const std::string& key) { return jwt_account_claims(key); });
  make_ws_authenticator(opts_);
  loaded_ = opts_;
  live_.set(opts_);
  set_live_settings(opts_);
  config_load_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(start_time_.time_since_epoch()).count();
}

Server::~Server() {
  shutdown();
  for (auto& l : loops_) l->join();
  if (ldm_thread_.joinable()) {
    if (ldm_thread_.get_id() == std::this_thread::get_id()) ldm_thread_.detach();
    else ldm_thread_.join();
  }
  shadow_interest_forget(*this);
}


void Server::setup_accounts() {
  global_account_ = std::make_shared<Account>(kGlobalAccount);
  accounts_[kGlobalAccount] = global_account_;
  for (const auto& ac : opts_.accounts) {
    auto a = ac.name == kGlobalAccount ? global_account_ : std::make_shared<Account>(ac.name);
    a->max_connections = ac.max_connections;
    a->max_leafnodes = ac.max_leafnodes;
    a->max_subscriptions = ac.max_subscriptions;
    a->max_payload = ac.max_payload;
    a->jetstream_enabled.store(ac.jetstream);
    a->set_js_limits(ac.js_limits);
    a->default_permissions = ac.default_permissions;
    install_account_mappings(*a, ac.mappings);
    accounts_[ac.name] = a;
  }
  install_account_mappings(*global_account_, opts_.mappings);
  std::string sys = opts_.system_account.empty() ? kSystemAccount : opts_.system_account;
  if (!opts_.no_system_account) {
    auto it = accounts_.find(sys);
    if (it == accounts_.end()) it = accounts_.emplace(sys, std::make_shared<Account>(sys)).first;
    system_account_ = it->second;
  }
  install_imports(*this, accounts_, opts_.accounts);
  if (system_account_) install_system_imports(*this, accounts_, *system_account_);
}

AccountPtr Server::lookup_account(const std::string& name) const {
  std::lock_guard lk(accounts_mu_);
  auto it = accounts_.find(name);
  return it == accounts_.end() ? nullptr : it->second;
}

std::vector<AccountPtr> Server::accounts() const {
  std::lock_guard lk(accounts_mu_);
  std::vector<AccountPtr> out;
  for (auto& [_, a] : accounts_) out.push_back(a);
  return out;
}

MatchCache* Server::match_cache_for_current_thread() {
  auto* loop = net::EventLoop::current();
  // The monitor's loop (index -1) is not a client loop: it has no cache.
  if (!loop || loop->index() < 0) return nullptr;
  return caches_[loop->index()].get();
}

void LiveLimits::set(const Options& o) {
  max_connections = o.max_connections;
  max_payload = o.max_payload;
  max_control_line = o.max_control_line;
  ping_interval_ns = o.ping_interval.count();
  ping_max = o.ping_max;
  write_deadline_ns = o.write_deadline.count();
  tls_timeout_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(o.tls.timeout).count();
  auth_timeout_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(o.auth_timeout).count();
}

void Server::install_tls(std::unique_ptr<net::TlsContext> ctx, bool verify) {
  tls_verify_.store(ctx && verify);
  if (!ctx) {
    tls_current_.store(nullptr, std::memory_order_release);
    return;
  }
  // Idle client connections give their TLS record buffers back (many-clients memory).
  ctx->release_idle_buffers();
  std::lock_guard lk(tls_mu_);
  tls_contexts_.push_back(std::move(ctx));
  tls_current_.store(tls_contexts_.back().get(), std::memory_order_release);
}

void Server::install_ws_tls(std::unique_ptr<net::TlsContext> ctx) {
  std::lock_guard lk(tls_mu_);
  ws_tls_cur_.store(ctx.get(), std::memory_order_release);
  if (ctx) ws_tls_all_.push_back(std::move(ctx));
}

bool Server::jetstream_enabled() const {
  auto* js = jetstream();
  return js && js->enabled();
}

void Server::install_jetstream(std::unique_ptr<jetstream::JetStream> js) {
  js_cur_.store(js.get(), std::memory_order_release);
  js_all_.push_back(std::move(js));
}

void Server::on_jetstream_disabled() { build_info_prefix(); }

// INFO fields in the reference's order (server.go `type Info`). auth_required and
// max_payload follow a reload; the rest is fixed at start.
void Server::build_info_prefix() {
  nlohmann::ordered_json info;
  info["server_id"] = id_;
  info["server_name"] = name_;
  info["version"] = kServerVersion;
  info["proto"] = kProtoVersion;
  info["go"] = "go1.19.8";
  auto [info_host, info_port] = info_host_port();  // client_advertise, as the reference
  info["host"] = info_host;
  info["port"] = info_port;
  info["headers"] = !opts_.no_header_support;
  if (authenticator()->advertise_auth_required()) info["auth_required"] = true;
  // The TLS in effect (a reload may turn it on or off).
  if (tls_context()) {
    info["tls_required"] = true;
    if (tls_verify_.load()) info["tls_verify"] = true;
  }
  info["max_payload"] = live_.max_payload.load();
  if (jetstream_enabled()) info["jetstream"] = true;
  std::string dumped = info.dump();
  std::lock_guard lk(info_mu_);
  info_prefix_ = "INFO " + dumped.substr(0, dumped.size() - 1);  // without the closing brace
}

std::string Server::client_info_line(uint64_t cid, const std::string& client_ip, bool include_nonce,
                                     const std::string& nonce, bool websocket) const {
  std::string s;
  {
    std::lock_guard lk(info_mu_);
    s = info_prefix_;
  }
  if (websocket) {
    for (std::string_view f : {",\"tls_required\":true", ",\"tls_verify\":true"})
      if (auto p = s.find(f); p != std::string::npos) s.erase(p, f.size());
    // The websocket block's authorization override asks these clients for credentials
    // even when the client port does not.
    if (std::atomic_load(&ws_auth_) && s.find(",\"auth_required\":true") == std::string::npos) {
      size_t p = s.find(",\"max_payload\":");
      s.insert(p == std::string::npos ? s.size() : p, ",\"auth_required\":true");
    }
  }
  s += ",\"client_id\":" + std::to_string(cid);
  s += ",\"client_ip\":\"" + client_ip + "\"";
  if (include_nonce) s += ",\"nonce\":\"" + nonce + "\"";
  if (routes_ || gateways_) s += cluster_info_fields(websocket);
  else s += domain_info_field();
  if (ldm_) s += ",\"ldm\":true";
  s += "} \r\n";
  return s;
}

// INFO "domain" (after "cluster", before "connect_urls"): the JetStream domain, if any.
std::string Server::domain_info_field() const {
  if (!jetstream_enabled() || opts_.jetstream.domain.empty()) return {};
  return ",\"domain\":" + nlohmann::json(opts_.jetstream.domain).dump();
}

void Server::start() {
  check_monitor_options();
  // JetStream first: INFO advertises it, and restored streams subscribe before clients come.
  if (opts_.jetstream.enabled) {
    // A clustered JetStream server needs peers to form the meta group with.
    if (opts_.cluster.configured && opts_.cluster.routes.empty())
      throw StartupError(
          "Can't start JetStream: JetStream cluster requires configured routes or solicited leafnode for the "
          "system account");
    auto js = std::make_unique<jetstream::JetStream>(*this);
    js->start();
    install_jetstream(std::move(js));
  }
  if (opts_.tls.enabled) {
    auto ctx = std::make_unique<net::TlsContext>(opts_.tls.cert_file, opts_.tls.key_file, opts_.tls.ca_file,
                                                 opts_.tls.verify);
    ctx->set_pinned_certs(opts_.tls.pinned_certs);
    install_tls(std::move(ctx), opts_.tls.verify);
  }

  int nloops = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < nloops; ++i) {
    loops_.push_back(std::make_unique<net::EventLoop>(i));
    // Posted tasks and timers may queue output (touch) without flushing it themselves; a
    // connection left touched-but-unflushed would ignore every other thread's touch.
    loops_.back()->add_after_batch_hook([] { Connection::flush_touched(); });
    caches_.push_back(std::make_unique<MatchCache>());
    counters_.push_back(std::make_unique<LoopCounters>());
  }
  counters_.push_back(std::make_unique<LoopCounters>());
  counters_.back()->shared = true;
  can_publish_.store(true);

  // The client port is bound now (its number goes into the INFOs) but listens last, as
  // 2.9.10 accepts clients only after its gateway, websocket and leafnode listeners are up:
  // whoever sees the client port answer finds the others open. The route port opens before
  // it too (2.9.10 opens it a moment after, in a goroutine: never refused here).
  int fd = net::bind_tcp(opts_.host, opts_.port < 0 ? 0 : opts_.port);  // -1: RANDOM_PORT
  client_port_ = net::bound_port(fd);
  build_info_prefix();
  listener_ = std::make_unique<Listener>(*this, fd);
  if (opts_.websocket.port != 0) {
    // -1 (RANDOM_PORT) lets the system pick, as for the other listeners. Listens between
    // the gateway and leafnode listeners (start_cluster below).
    int wfd = net::bind_tcp(opts_.websocket.host, opts_.websocket.port < 0 ? 0 : opts_.websocket.port);
    websocket_port_ = net::bound_port(wfd);
    ws_listener_ = std::make_unique<Listener>(*this, wfd, true);
    // wss: the TLS handshake comes first, then the HTTP upgrade inside it.
    const auto& wt = opts_.websocket.tls;
    if (wt.enabled) {
      auto ws_tls = std::make_unique<net::TlsContext>(wt.cert_file, wt.key_file, wt.ca_file, wt.verify);
      ws_tls->set_pinned_certs(wt.pinned_certs);
      ws_tls->release_idle_buffers();
      install_ws_tls(std::move(ws_tls));
    }
    ws_policy_.same_origin = opts_.websocket.same_origin;
    ws_policy_.compression = opts_.websocket.compression;
    ws_policy_.jwt_cookie = opts_.websocket.jwt_cookie;
    for (const auto& o : opts_.websocket.allowed_origins) {
      net::ws::AllowedOrigin parsed;
      if (net::ws::parse_origin(o, parsed)) ws_policy_.allowed.push_back(parsed);
    }
  }

  // Every object the loop and monitor threads reach through a member pointer exists
  // before they start (they read the pointers without a lock).
  create_cluster();
  // Clustered JetStream (a cluster block, as the reference requires): the meta group.
  if (jetstream_enabled() && opts_.cluster.configured) meta_group_ = std::make_unique<jetstream::MetaGroup>(*this);
  start_monitor();
  if (system_account_) {
    sys_services_ = std::make_unique<SystemServices>(*this);
    sys_services_->start(*loops_[0]);
    subscribe_remote_latency(*this);  // measurements of answers given on other servers
  }
  // 2.9.10's order (Start()): gateways, websocket, leafnodes, clients; routes last (their
  // log lines after "Server is ready"), but listening before the client port here.
  start_cluster([this] {
    if (!ws_listener_) return;
    net::listen_bound(ws_listener_->fd(), opts_.websocket.host);
    log::notice("Listening for websocket clients on {}://{}:{}", ws_tls_context() ? "wss" : "ws", opts_.websocket.host,
                websocket_port_);
    if (!ws_tls_context()) log::warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!");
  });
  net::listen_bound(listener_->fd(), opts_.host);
  log::notice("Listening for client connections on {}:{}", opts_.host, client_port_);
  if (tls_context()) log::notice("TLS required for client connections");
  if (meta_group_) {
    if (auto* js = jetstream()) js->attach_meta(*meta_group_);
    meta_group_->start();
  }
  // The loops run last: the starts above set fields that loop tasks (STATSZ) read, and
  // call EventLoop::add_timer, which only the loop's own thread may call once it runs.
  for (auto& l : loops_) l->start_thread();
  // Operator mode: the expiries of the accounts loaded at start (jwt_account_timers.cpp).
  for (auto& a : accounts())
    if (a->claims()) arm_jwt_account_timer(a);
  loops_[0]->post([this] {
    loops_[0]->add_fd(listener_->fd(), EPOLLIN, listener_.get());
    if (ws_listener_) loops_[0]->add_fd(ws_listener_->fd(), EPOLLIN, ws_listener_.get());
  });
  if (monitor_) monitor_->open();
  write_pid_file();
  write_ports_file();
  log::notice("Server is ready");
  log_route_listener();
}

void Server::stop_accepting() {
  // On the listener's own loop, so that no accept is in flight when it closes.
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  loops_[0]->post([this, closed] {
    {
      std::lock_guard lk(ldm_mu_);
      if (listener_) {
        loops_[0]->del_fd(listener_->fd());
        listener_.reset();
      }
      if (ws_listener_) {
        loops_[0]->del_fd(ws_listener_->fd());
        ws_listener_.reset();
      }
    }
    closed->set_value();
  });
  done.wait_for(std::chrono::seconds(5));
}

void Server::check_monitor_options() const {
  // The reference's StartMonitoring checks, made before any port is bound: a server that
  // will refuse to start must never accept a connection first.
  if (opts_.http_port != 0 && opts_.https_port != 0)
    throw StartupError(fmt::format("Can't start monitoring: can't specify both HTTP ({}) and HTTPs ({}) ports",
                                   opts_.http_port, opts_.https_port));
  if (opts_.https_port != 0 && !opts_.tls.enabled)
    throw StartupError("Can't start monitoring: TLS cert and key required for HTTPS");
}

void Server::start_monitor() {
  if (opts_.http_port == 0 && opts_.https_port == 0) return;
  const bool secure = opts_.https_port != 0;
  monitor_ = std::make_unique<MonitorServer>(*this);
  std::string host = opts_.http_host.empty() ? opts_.host : opts_.http_host;
  http_port_ = monitor_->start(host, secure ? opts_.https_port : opts_.http_port, secure);
  log::notice("Starting {} monitor on {}:{}", secure ? "https" : "http", host, http_port_);
}

void Server::accept_ready(const Listener& listener) {
  // At most kAcceptBatch connections per wake-up (the listener is level-triggered, so the
  // rest wait for the next one): a connect storm takes turns with the loop's other
  // connections instead of stalling their traffic until the backlog is empty.
  constexpr int kAcceptBatch = 32;
  for (int accepted = 0; accepted < kAcceptBatch; ++accepted) {
    std::string ip;
    int port = 0;
    int fd = net::accept_tcp(listener.fd(), &ip, &port);
    if (fd < 0) return;
    if (shutting_down_) {
      ::close(fd);
      continue;
    }
    uint64_t cid = ++next_cid_;
    auto& loop = *loops_[next_loop_++ % loops_.size()];
    auto client = std::make_shared<ClientConnection>(*this, loop, fd, cid);
    client->set_peer(ip, port);
    if (listener.websocket()) {
      // Counted (max_connections, total_connections) once upgraded: admit_websocket_client.
      client->begin_websocket(ws_policy_, opts_.websocket.handshake_timeout);
      loop.post([client] { client->start(); });
      continue;
    }
    stats_.total_connections++;
    size_t count;
    {
      std::lock_guard lk(conns_mu_);
      count = clients_.size();
      if (static_cast<int>(count) < live_.max_connections.load()) clients_[cid] = client;
    }
    if (static_cast<int>(count) >= live_.max_connections.load()) {
      // The reference sends INFO then this error, and closes.
      std::string msg = client_info_line(cid, ip, false, "") + "-ERR 'maximum connections exceeded'\r\n";
      [[maybe_unused]] auto w = ::write(fd, msg.data(), msg.size());
      log::error("{}:{} - cid:{} - Maximum connections exceeded", ip, port, cid);
      ::close(fd);
      continue;
    }
    loop.post([client] { client->start(); });
  }
}

void Server::on_connection_closed(const ConnectionPtr& c) {
  if (c->kind() != ConnKind::Client) return;
  std::lock_guard lk(conns_mu_);
  auto it = clients_.find(c->cid());
  if (it != clients_.end()) {
    closed_clients_.push_back(it->second);
    if (closed_clients_.size() > 10000) closed_clients_.erase(closed_clients_.begin());
    clients_.erase(it);
  }
}

void Server::count_slow_consumer(ConnKind kind) {
  stats_.slow_consumers++;
  switch (kind) {
    case ConnKind::Client: stats_.slow_consumers_clients++; break;
    case ConnKind::Router: stats_.slow_consumers_routes++; break;
    case ConnKind::Gateway: stats_.slow_consumers_gateways++; break;
    case ConnKind::Leaf: stats_.slow_consumers_leafs++; break;
    default: break;
  }
}

std::vector<std::shared_ptr<ClientConnection>> Server::clients_snapshot() const {
  std::lock_guard lk(conns_mu_);
  std::vector<std::shared_ptr<ClientConnection>> out;
  out.reserve(clients_.size());
  for (auto& [_, c] : clients_) out.push_back(c);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a->cid() < b->cid(); });
  return out;
}

void Server::for_each_client(const Account& acc, const std::function<void(const ClientConnection&)>& fn) const {
  std::lock_guard lk(conns_mu_);
  for (auto& [_, c] : clients_)
    if (c->bound_to(acc)) fn(*c);
}

std::vector<std::shared_ptr<ClientConnection>> Server::closed_clients_snapshot() const {
  std::lock_guard lk(conns_mu_);
  return closed_clients_;
}

void Server::save_closed_leaf(LeafConnInfo info) {
  auto p = std::make_shared<const LeafConnInfo>(std::move(info));
  std::lock_guard lk(conns_mu_);
  closed_leafs_.push_back(std::move(p));
  if (closed_leafs_.size() > 10000) closed_leafs_.erase(closed_leafs_.begin());
}

std::vector<std::shared_ptr<const LeafConnInfo>> Server::closed_leafs_snapshot() const {
  std::lock_guard lk(conns_mu_);
  return closed_leafs_;
}

size_t Server::num_clients() const {
  std::lock_guard lk(conns_mu_);
  return clients_.size();
}

LoopCounters& Server::counters_for_current_thread() {
  auto* loop = net::EventLoop::current();
  return loop && loop->index() >= 0 ? *counters_[loop->index()] : *counters_.back();
}

MessageTotals Server::message_totals() const {
  MessageTotals t;
  for (auto& c : counters_) {
    t.in_msgs += c->in_msgs.load(std::memory_order_relaxed);
    t.in_bytes += c->in_bytes.load(std::memory_order_relaxed);
    t.out_msgs += c->out_msgs.load(std::memory_order_relaxed);
    t.out_bytes += c->out_bytes.load(std::memory_order_relaxed);
  }
  return t;
}

nlohmann::ordered_json Server::cluster_varz() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!opts_.cluster.configured) return j;
  if (routes_) return cluster_varz_live();
  if (!opts_.cluster.name.empty()) j["name"] = opts_.cluster.name;
  j["addr"] = opts_.cluster.host;
  j["cluster_port"] = opts_.cluster.port;
  j["auth_timeout"] = 2;
  j["urls"] = opts_.cluster.routes;
  j["tls_timeout"] = 2;
  return j;
}

nlohmann::ordered_json Server::gateway_varz() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!opts_.gateway.configured) return j;
  if (gateways_) return gateway_varz_live();
  j["name"] = opts_.gateway.name;
  j["host"] = opts_.gateway.host;
  j["port"] = opts_.gateway.port;
  j["auth_timeout"] = 2;
  j["tls_timeout"] = 2;
  j["advertise"] = opts_.gateway.advertise;
  j["connect_retries"] = opts_.gateway.connect_retries;
  j["gateways"] = nlohmann::ordered_json::array();
  j["reject_unknown"] = opts_.gateway.reject_unknown;
  return j;
}

SubscriptionPtr Server::subscribe_internal(Account& acc, const std::string& subject, InternalHandler handler,
                                           const std::string& queue) {
  auto sub = std::make_shared<Subscription>();
  sub->subject = subject;
  sub->queue = queue;
  sub->handler = std::move(handler);
  static std::atomic<uint64_t> next_sid{0};
  sub->sid = "i" + std::to_string(++next_sid);
  acc.sublist().insert(sub);
  on_local_interest_change(acc, *sub, true);
  // The RS+/RS- just queued on routes and gateways must go out now: a touched connection
  // is flushed only by the thread that touched it, and until then no other thread's output
  // schedules a flush for it either. Callers may be the main thread (the meta group starts
  // there) or a loop task that publishes nothing afterwards.
  Connection::flush_touched();
  return sub;
}

void Server::unsubscribe_internal(Account& acc, const SubscriptionPtr& sub) {
  sub->closed.store(true, std::memory_order_release);
  if (acc.sublist().remove(sub) == SubListStatus::ok) on_local_interest_change(acc, *sub, false);
  Connection::flush_touched();
}

void Server::publish_internal(Account& acc, std::string_view subject, std::string_view reply, std::string_view headers,
                              std::string_view payload) {
  process_message(acc, nullptr, subject, reply, headers, payload, true);
  // Inside a client's input batch (a PubAck or API reply answering what it just sent) the
  // batch's own flush writes it together with the rest: one write per batch, not per reply.
  if (!Connection::in_input_batch()) Connection::flush_touched();
}

size_t Server::num_subscriptions() const {
  size_t n = 0;
  for (auto& a : accounts()) n += a->sublist().count();
  return n;
}

void Server::shutdown() {
  if (shutting_down_.exchange(true)) return;
  {
    std::lock_guard lk(ldm_mu_);
    ldm_cv_.notify_all();
  }
  log::notice("Initiating Shutdown...");
  if (monitor_) monitor_->stop();
  if (meta_group_) meta_group_->shutdown();
  if (sys_services_) sys_services_->stop();
  // No URL resolver answer is handed to a connection after this (waits out a fetch under way).
  if (resolver_) resolver_->stop_fetchers();
  stop_cluster();
  std::vector<std::shared_ptr<ClientConnection>> clients;
  {
    std::lock_guard lk(conns_mu_);
    for (auto& [_, c] : clients_) clients.push_back(c);
  }
  for (auto& c : clients) c->close(CloseReason::ServerShutdown);
  // Let the loops run the posted teardowns, then stop them.
  for (auto& l : loops_) {
    auto* lp = l.get();
    lp->post([lp] { lp->stop(); });
  }
  for (auto& l : loops_) l->join();
  // After the loops: no publisher can be inside a stream while its store closes.
  if (auto* js = jetstream()) js->shutdown();
  {
    std::lock_guard lk(ldm_mu_);
    listener_.reset();
    ws_listener_.reset();
  }
  std::string ports_dir;
  {
    std::lock_guard lk(live_mu_);
    if (!live_pid_file_.empty()) ::unlink(live_pid_file_.c_str());
    ports_dir = live_ports_dir_;
  }
  remove_ports_file(ports_dir);
  log::notice("Server Exiting..");
  {
    std::lock_guard lk(shutdown_mu_);
    shutdown_done_ = true;
  }
  shutdown_cv_.notify_all();
}

void Server::wait_for_shutdown() {
  std::unique_lock lk(shutdown_mu_);
  shutdown_cv_.wait(lk, [this] { return shutdown_done_; });
}

// Settings a config reload changes that are read outside reload, besides the limits
// (LiveLimits): tags, client_advertise (the INFO's host and port), pid_file and
// ports_file_dir. options() keeps what the server started with; these follow the config as
// last (re)loaded, as the reference's getOpts().

void Server::set_live_settings(const Options& o) {
  std::lock_guard lk(live_mu_);
  live_tags_ = o.tags;
  live_advertise_ = o.client_advertise;
  live_pid_file_ = o.pid_file;
  live_ports_dir_ = o.ports_file_dir;
}

std::vector<std::string> Server::tags() const {
  std::lock_guard lk(live_mu_);
  return live_tags_;
}

std::pair<std::string, int> Server::info_host_port() const {
  std::string adv;
  {
    std::lock_guard lk(live_mu_);
    adv = live_advertise_;
  }
  std::string host;
  int port = 0;
  // As the reference's setInfoHostPort: client_advertise ("host", "host:port"), else the
  // listen address. A bad value was refused when the config was loaded.
  if (!adv.empty() && parse_host_port(adv, client_port_, host, port).empty()) return {host, port};
  return {opts_.host, client_port_};
}

bool Server::write_pid_file() {
  std::string path;
  {
    std::lock_guard lk(live_mu_);
    path = live_pid_file_;
  }
  if (path.empty()) return true;
  std::ofstream out(path);
  out << getpid();
  return static_cast<bool>(out);
}

// The reference's parseHostPort (net.SplitHostPort, the default port appended when missing,
// port 0 or -1 meaning the default): "" on success, else Go's error text.
std::string parse_host_port(const std::string& s, int default_port, std::string& host, int& port) {
  auto trim = [](std::string v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(v.begin());
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
    return v;
  };
  if (s.empty()) return "no hostport specified";
  auto split = [&](const std::string& hp, std::string& h, std::string& p) -> std::string {
    if (!hp.empty() && hp.front() == '[') {
      auto close = hp.find(']');
      if (close == std::string::npos) return "address " + hp + ": missing ']' in address";
      if (close + 1 == hp.size()) return "address " + hp + ": missing port in address";
      if (hp[close + 1] != ':') return "address " + hp + ": missing port in address";
      h = hp.substr(1, close - 1);
      p = hp.substr(close + 2);
      if (p.find(':') != std::string::npos) return "address " + hp + ": too many colons in address";
      return "";
    }
    auto colon = hp.rfind(':');
    if (colon == std::string::npos) return "address " + hp + ": missing port in address";
    h = hp.substr(0, colon);
    p = hp.substr(colon + 1);
    if (h.find(':') != std::string::npos) return "address " + hp + ": too many colons in address";
    return "";
  };
  std::string h, p;
  std::string err = split(s, h, p);
  if (err.find("missing port") != std::string::npos) err = split(s + ":" + std::to_string(default_port), h, p);
  if (!err.empty()) return err;
  p = trim(p);
  bool neg = !p.empty() && p.front() == '-';
  std::string digits = neg ? p.substr(1) : p;
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
    return "strconv.Atoi: parsing \"" + p + "\": invalid syntax";
  int v = std::stoi(digits) * (neg ? -1 : 1);
  if (v == 0 || v == -1) v = default_port;
  host = trim(h);
  port = v;
  return "";
}

}  // namespace nats
