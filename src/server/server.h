// The Server wires everything: options, event loops, the client listener, accounts,
// connections, and (as they land) monitoring, routes, gateways, $SYS and JetStream.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/options.h"
#include "net/event_loop.h"
#include "server/account.h"
#include "server/account_resolver.h"
#include "server/auth.h"
#include "server/leaf_conn_info.h"
#include "server/connection.h"

namespace nats {

class ClientConnection;
class MonitorServer;
class SystemServices;
struct LinkTlsReload;  // server/reload_links.h
struct ShadowInterest;  // server/import_interest.h
namespace cluster {
class RouteManager;
class GatewayManager;
class LeafManager;
}  // namespace cluster
namespace proto {
class QueueNames;
}
namespace jetstream {
class JetStream;
class MetaGroup;
}  // namespace jetstream

inline constexpr const char* kServerVersion = "2.9.10";

// A reason the server cannot start that is not about listening (logged as fatal as is).
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
inline constexpr int kProtoVersion = 1;

struct ServerStats {
  std::atomic<uint64_t> in_msgs{0}, in_bytes{0}, out_msgs{0}, out_bytes{0};
  std::atomic<uint64_t> slow_consumers{0};
  std::atomic<uint64_t> slow_consumers_clients{0}, slow_consumers_routes{0}, slow_consumers_gateways{0},
      slow_consumers_leafs{0};
  std::atomic<uint64_t> total_connections{0};
};

struct MessageTotals {
  uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;
};

// Message counters written by one event loop each (no cache-line sharing on the hot path);
// readers sum them.
struct alignas(64) LoopCounters {
  std::atomic<uint64_t> in_msgs{0}, in_bytes{0}, out_msgs{0}, out_bytes{0};
  bool shared = false;  // the slot for non-loop threads has several writers

  void add_in(uint64_t bytes) {
    bump(in_msgs, 1);
    bump(in_bytes, bytes);
  }
  void add_out(uint64_t msgs, uint64_t bytes) {
    bump(out_msgs, msgs);
    bump(out_bytes, bytes);
  }

 private:
  // A loop's own slot has one writer: load+store avoids a locked read-modify-write.
  void bump(std::atomic<uint64_t>& c, uint64_t v) {
    if (shared) c.fetch_add(v, std::memory_order_relaxed);
    else c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
};

// The limits a config reload may change (the reference reloads max_connections,
// max_payload, max_control_line, ping_interval, ping_max and write_deadline). Read where they
// apply, so a reload reaches new and existing connections alike.
struct LiveLimits {
  std::atomic<int> max_connections{0};
  std::atomic<int64_t> max_payload{0};
  std::atomic<int32_t> max_control_line{0};
  std::atomic<int64_t> ping_interval_ns{0};
  std::atomic<int> ping_max{0};
  std::atomic<int64_t> write_deadline_ns{0};
  std::atomic<int64_t> tls_timeout_ns{0};  // client TLS handshakes (tls { timeout })
  std::atomic<int64_t> auth_timeout_ns{0};  // authorization { timeout }
  void set(const Options& o);
  std::chrono::nanoseconds ping_interval() const { return std::chrono::nanoseconds(ping_interval_ns.load()); }
  std::chrono::nanoseconds write_deadline() const { return std::chrono::nanoseconds(write_deadline_ns.load()); }
  std::chrono::nanoseconds tls_timeout() const { return std::chrono::nanoseconds(tls_timeout_ns.load()); }
  std::chrono::nanoseconds auth_timeout() const { return std::chrono::nanoseconds(auth_timeout_ns.load()); }
};

// The reference's parseHostPort: "" on success, else Go's error text.
std::string parse_host_port(const std::string& s, int default_port, std::string& host, int& port);

class Server {
 public:
  explicit Server(Options opts);
  ~Server();

  // Opens listeners and starts the loops; throws std::runtime_error on failure.
  void start();
  // Blocks until shutdown() has completed.
  void wait_for_shutdown();
  // Thread-safe, idempotent.
  void shutdown();
  // Lame duck mode (SIGUSR2): stop accepting clients, tell the connected ones (INFO "ldm"),
  // then after the grace period close them spread over lame_duck_duration, then shut down.
  // Returns at once; the drain runs on its own thread. Defined in src/server/lame_duck.cpp.
  void enter_lame_duck_mode();
  bool in_lame_duck_mode() const { return ldm_.load(); }
  bool shutting_down() const { return shutting_down_.load(); }

  const Options& options() const { return opts_; }
  // Limits as last (re)loaded; options() keeps the values the server started with.
  const LiveLimits& live() const { return live_; }
  // Other settings a reload changes (any thread): `tags` (/varz, STATSZ, JetStream placement)
  // and the client INFO's host and port (client_advertise, else the listen address).
  std::vector<std::string> tags() const;
  std::pair<std::string, int> info_host_port() const;
  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  std::chrono::system_clock::time_point start_time() const { return start_time_; }
  int client_port() const { return client_port_; }
  int websocket_port() const { return websocket_port_; }
  int http_port() const { return http_port_; }

  // Accounts.
  AccountPtr lookup_account(const std::string& name) const;
  AccountPtr global_account() const { return global_account_; }
  AccountPtr system_account() const { return system_account_; }
  std::vector<AccountPtr> accounts() const;
  // The authenticator in effect; a config reload replaces it (hence a shared snapshot).
  std::shared_ptr<const Authenticator> authenticator() const { return std::atomic_load(&auth_); }
  // A WebSocket client's: the websocket block's authorization override when it has one
  // (ws_auth.cpp), else the server's.
  std::shared_ptr<const Authenticator> authenticator_for(bool websocket) const;
  // A WebSocket client past its upgrade joins the clients here, as the reference counts it
  // against max_connections only then; false when that limit is reached.
  bool admit_websocket_client(const std::shared_ptr<ClientConnection>& c);
  // A websocket upgrade to /leafnode: the leaf manager takes the socket over when this
  // server accepts leafs (leafnodes { port }), else it is closed, as the reference
  // (src/cluster/server_hooks.cpp). Loop thread of `c`.
  void accept_websocket_leaf(Connection& c);

  // Config reload (SIGHUP, --signal reload; src/server/reload.cpp): applies `next` (the config
  // file and flags read again) if only reloadable settings changed: logging, the
  // authorization and account users and permissions (re-checked against every connected
  // client: who no longer authenticates is cut, denied subscriptions are removed), the limits
  // of LiveLimits, the client TLS certificate and the cluster's routes. Otherwise returns
  // the reference's "config reload not supported for <Field>: old=..., new=..." and keeps the
  // running config. Returns once every connection's loop has applied the change.
  std::string reload(Options next);
  std::chrono::system_clock::time_point config_load_time() const;

  // Operator mode (src/server/jwt_account_updates.cpp). The resolver (null outside operator
  // mode); the claims of account `key`, registering the account from the resolver's JWT on
  // first use (null if it has none or it does not check out); and, after the resolver
  // stored a new JWT for `key`, its application to a registered account and its clients
  // (limits, revocations, expiry). disable_jwt_account: the JWT was deleted.
  AccountResolverStore* account_resolver() const { return resolver_.get(); }
  AccountClaimsPtr jwt_account_claims(const std::string& key);
  // Returns why the stored JWT could not be applied (empty: applied, or not registered).
  std::string apply_account_jwt(const std::string& key);
  void disable_jwt_account(const std::string& key);

  // The per-loop match cache (one per event loop thread).
  MatchCache* match_cache_for_current_thread();

  // Builds the INFO line ("INFO {...} \r\n") for a new client.
  // For a WebSocket client (websocket): no TLS fields (the port has none), and the
  // cluster's websocket URLs as connect_urls.
  std::string client_info_line(uint64_t cid, const std::string& client_ip, bool include_nonce, const std::string& nonce,
                               bool websocket = false) const;
  bool auth_required() const { return authenticator()->required(); }

  // Connection bookkeeping.
  void on_connection_closed(const ConnectionPtr& c);
  void count_slow_consumer(ConnKind kind);
  std::vector<std::shared_ptr<ClientConnection>> clients_snapshot() const;
  std::vector<std::shared_ptr<ClientConnection>> closed_clients_snapshot() const;
  // Closed leaf connections, both accepted and dialled (as 2.9.10's /connz?state=closed).
  void save_closed_leaf(LeafConnInfo info);
  std::vector<std::shared_ptr<const LeafConnInfo>> closed_leafs_snapshot() const;
  // Visits the open clients bound to `acc` under the connection lock, without copying or
  // sorting them (clients_snapshot() is O(N log N) and allocates; this runs on connects).
  // `fn` must be short and must not call back into the Server's connection bookkeeping.
  void for_each_client(const Account& acc, const std::function<void(const ClientConnection&)>& fn) const;
  size_t num_clients() const;
  ServerStats& stats() { return stats_; }
  const ServerStats& stats() const { return stats_; }

  MessageTotals message_totals() const;
  LoopCounters& counters_for_current_thread();
  // False while start() is still setting up (JetStream restores streams before the event
  // loops and counters exist): background threads must not publish until it turns true.
  bool can_publish() const { return can_publish_.load(); }
  MonitorServer* monitor() const { return monitor_.get(); }
  // Filled in by the cluster layer as routes and gateways land.
  nlohmann::ordered_json cluster_varz() const;
  nlohmann::ordered_json gateway_varz() const;
  size_t num_routes() const;
  size_t num_remotes() const;
  // Routes and gateways (null when not configured); defined in src/cluster/.
  cluster::RouteManager* routes() const { return routes_.get(); }
  cluster::GatewayManager* gateways() const { return gateways_.get(); }
  cluster::LeafManager* leafs() const { return leafs_.get(); }
  size_t num_leafs() const;
  // A local client or internal subscription was added or removed: propagate interest.
  void on_local_interest_change(Account& acc, const Subscription& sub, bool added);
  // After `acc`'s stream imports changed: what its local subscribers make this server
  // announce in the exporters (import_interest.h) is brought up to date.
  void refresh_import_interest(Account& acc);
  // For connections created outside the client listener (routes, gateways).
  net::EventLoop& pick_loop() { return *loops_[next_loop_++ % loops_.size()]; }
  uint64_t next_connection_id() { return ++next_cid_; }

  // Internal (server-owned) subscriptions and publishing, for $SYS and JetStream.
  SubscriptionPtr subscribe_internal(Account& acc, const std::string& subject, InternalHandler handler,
                                     const std::string& queue = {});
  void unsubscribe_internal(Account& acc, const SubscriptionPtr& sub);
  void publish_internal(Account& acc, std::string_view subject, std::string_view reply, std::string_view headers,
                        std::string_view payload);
  SystemServices* system_services() const { return sys_services_.get(); }
  // JetStream (null when not enabled) and, on clustered JetStream servers, the meta group
  // that spans the supercluster (null otherwise). Created in start().
  // The JetStream in effect (a reload may turn it off, or on with a new one).
  jetstream::JetStream* jetstream() const { return js_cur_.load(std::memory_order_acquire); }
  // Client TLS (null when the `tls` block / --tls is not set). A reload may load a new
  // certificate: new handshakes use it; contexts are kept for the server's life, so a pointer
  // held by a handshake in progress stays valid.
  const net::TlsContext* tls_context() const { return tls_current_.load(std::memory_order_acquire); }
  const net::TlsContext* ws_tls_context() const { return ws_tls_cur_.load(std::memory_order_acquire); }  // wss
  jetstream::MetaGroup* meta_group() const { return meta_group_.get(); }
  // Configured and running: false again once `$JS.API.SERVER.REMOVE` disabled it here.
  bool jetstream_enabled() const;
  // JetStream::disable ran: INFO for new clients (and STATSZ) no longer say JetStream, as
  // 2.9.10's updateJetStreamInfoStatus(false).
  void on_jetstream_disabled();
  // For STATSZ: per-route and per-gateway stats, and the number of servers this one knows
  // of (itself included). Defined in src/sys/server_stats.cpp.
  nlohmann::ordered_json route_stats() const;
  nlohmann::ordered_json gateway_stats() const;
  size_t active_servers() const;

  // Current number of subscriptions across all accounts.
  size_t num_subscriptions() const;

  // Routing: deliver a message published in `acc` to local subscribers (and, later, routes
  // and gateways). `origin` is the publishing connection (nullptr for internal). Returns
  // whether anyone received it.
  bool process_message(Account& acc, Connection* origin, std::string_view subject, std::string_view reply,
                       std::string_view headers, std::string_view payload, bool origin_echo,
                       const proto::QueueNames* queues = nullptr, bool local_only = false);

 private:
  class Listener;
  void announce_shadows(const std::vector<ShadowInterest>& shadows, bool added);
  void accept_ready(const Listener& listener);
  void setup_accounts();
  void start_monitor();
  void check_monitor_options() const;
  bool write_pid_file();  // false: could not be written
  // ports_file_dir: <dir>/<program>_<pid>.ports, as the reference (server/ports_file.cpp).
  // The directory is the one last (re)loaded (live_paths_).
  void write_ports_file();
  void remove_ports_file(const std::string& dir);
  // Cluster hooks, defined in src/cluster/server_hooks.cpp.
  void create_cluster();  // the managers, before any thread can look at routes_/gateways_
  // Gateways, then `between` (the websocket listener), leafnodes, routes (2.9.10's order).
  void start_cluster(const std::function<void()>& between);
  void log_route_listener();  // the route port's lines, after "Server is ready" as 2.9.10
  void stop_cluster();
  // websocket: the connect_urls are the cluster's websocket URLs (the reference's
  // ws_connect_urls, given to websocket clients as their connect_urls).
  std::string cluster_info_fields(bool websocket = false) const;
  std::string domain_info_field() const;
  nlohmann::ordered_json cluster_varz_live() const;
  nlohmann::ordered_json gateway_varz_live() const;

  Options opts_;
  std::string id_;
  std::string name_;
  std::chrono::system_clock::time_point start_time_;
  std::vector<std::unique_ptr<net::EventLoop>> loops_;
  std::vector<std::unique_ptr<MatchCache>> caches_;
  std::vector<std::unique_ptr<LoopCounters>> counters_;  // one per loop, plus one for other threads
  std::atomic<bool> can_publish_{false};
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<Listener> ws_listener_;  // websocket { port }
  net::ws::OriginPolicy ws_policy_;
  int websocket_port_ = 0;
  int client_port_ = 0;
  int http_port_ = 0;
  std::atomic<uint64_t> next_cid_{0};
  std::atomic<size_t> next_loop_{0};

  mutable std::mutex accounts_mu_;
  std::map<std::string, AccountPtr> accounts_;
  AccountPtr global_account_;
  AccountPtr system_account_;
  std::shared_ptr<const Authenticator> auth_;
  std::shared_ptr<const Authenticator> ws_auth_;  // websocket { authorization } override, or null
  void make_ws_authenticator(const Options& o);   // ws_auth.cpp; at start and on reload
  std::mutex reload_mu_;
  Options loaded_;  // the config as last loaded (opts_ keeps what the server started with)
  std::atomic<int64_t> config_load_ns_{0};
  std::unique_ptr<AccountResolverStore> resolver_;
  std::recursive_mutex jwt_mu_;  // serializes registering and updating JWT accounts
  // Operator mode (src/server/jwt_account_timers.cpp): the account's timer for the next
  // expiry of its JWT or of one of its imports' activation tokens, set anew after each
  // registration or update; a timer whose generation is no longer the account's does nothing.
  void arm_jwt_account_timer(const AccountPtr& acc);
  void on_jwt_account_timer(const std::string& key, uint64_t gen);
  std::map<std::string, uint64_t> jwt_timer_gen_;  // jwt_mu_
  AccountPtr register_jwt_account(const std::string& key, int depth);
  void install_jwt_account(const AccountPtr& acc, const AccountClaimsPtr& claims, const AccountConfig& cfg);
  // Reload of the config accounts (reload_accounts.cpp): removed ones leave accounts_ (kept
  // alive in retired_accounts_: streams and clients may still refer to them), kept ones take
  // their new limits, mappings and JetStream settings; top-level mappings too.
  void reload_accounts(const Options& old, const Options& next, std::shared_ptr<const net::TlsContext> resolver_tls);
  // The account resolver's part (reload_accounts.cpp): `tls` for a URL resolver swapped in.
  void reload_resolver(const Options& old, const Options& next, std::shared_ptr<const net::TlsContext> tls);
  std::vector<AccountPtr> retired_accounts_;

  mutable std::mutex conns_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientConnection>> clients_;
  std::vector<std::shared_ptr<ClientConnection>> closed_clients_;  // ring for /connz?state=closed
  std::vector<std::shared_ptr<const LeafConnInfo>> closed_leafs_;  // same, for leafs

  mutable std::mutex info_mu_;
  std::string info_prefix_;  // INFO JSON up to the per-client fields; guarded by info_mu_
  // Builds info_prefix_ from opts_ and what a reload changes (auth_required, max_payload).
  void build_info_prefix();
  LiveLimits live_;
  // Reloadable settings read outside reload (guarded by live_mu_), from loaded_.
  mutable std::mutex live_mu_;
  std::vector<std::string> live_tags_;
  std::string live_advertise_, live_pid_file_, live_ports_dir_;
  void set_live_settings(const Options& o);

  std::unique_ptr<MonitorServer> monitor_;
  std::unique_ptr<SystemServices> sys_services_;
  std::unique_ptr<cluster::RouteManager> routes_;
  std::unique_ptr<cluster::GatewayManager> gateways_;
  std::unique_ptr<cluster::LeafManager> leafs_;
  // Every JetStream made (at start, and by reloads turning it on: reload_jetstream.cpp); the
  // earlier ones stay, shut down, for whoever still holds their pointer. Guarded by reload_mu_
  // (start-up and shutdown run alone).
  std::vector<std::unique_ptr<jetstream::JetStream>> js_all_;
  std::atomic<jetstream::JetStream*> js_cur_{nullptr};
  void install_jetstream(std::unique_ptr<jetstream::JetStream> js);
  // Config reload (reload_jetstream.cpp): JetStream turned off (streams stopped, files kept)
  // or on (a new JetStream over `next`'s store directory, its streams restored).
  void reload_jetstream(const Options& next);
  std::mutex tls_mu_;
  std::vector<std::unique_ptr<net::TlsContext>> tls_contexts_;  // every one loaded; guarded by tls_mu_
  std::atomic<const net::TlsContext*> tls_current_{nullptr};
  // The client TLS in effect: `ctx` (null: TLS off, as after a reload turning it off) and
  // whether it verifies client certificates (INFO's tls_required / tls_verify follow).
  void install_tls(std::unique_ptr<net::TlsContext> ctx, bool verify);
  std::atomic<bool> tls_verify_{false};
  // websocket { tls {} }: the one last (re)loaded; earlier ones kept for the connections made
  // with them (guarded by tls_mu_).
  std::vector<std::unique_ptr<net::TlsContext>> ws_tls_all_;
  std::atomic<const net::TlsContext*> ws_tls_cur_{nullptr};
  void install_ws_tls(std::unique_ptr<net::TlsContext> ctx);
  // Config reload of the cluster block and of the TLS of the gateway, leafnodes and
  // websocket blocks (reload_links.cpp); `prepared` holds the TLS contexts made beforehand.
  void reload_links(const Options& old, const Options& next, LinkTlsReload& prepared);
  std::unique_ptr<jetstream::MetaGroup> meta_group_;
  ServerStats stats_;

  std::mutex shutdown_mu_;
  std::condition_variable shutdown_cv_;
  bool shutdown_done_ = false;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> ldm_{false};
  std::thread ldm_thread_;
  std::mutex ldm_mu_;
  std::condition_variable ldm_cv_;  // woken by shutdown() to cut the drain short
  void lame_duck_drain();
  void stop_accepting();  // closes the client listener (lame duck mode)
};

}  // namespace nats
