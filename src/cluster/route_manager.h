// The cluster: the route listener, solicited routes (explicit from config, implicit from
// INFO gossip) with retry, the registry of routes by remote server ID (duplicates and
// routes to self are refused), propagation of local interest as RS+/RS-, and the
// connect_urls clients learn.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_util.h"
#include "cluster/interest_counts.h"
#include "cluster/link_manager.h"
#include "cluster/route.h"
#include "server/account.h"

namespace nats {
class Server;
}

namespace nats::cluster {

// Dials are keyed by route URL.
class RouteManager : public LinkManagerBase<RouteConnection, std::string> {
 public:
  // Whether this kind's TLS always requires and verifies the peer's certificate (make_tls):
  // routes always, as 2.9.10.
  static constexpr bool kMutualTls = true;
  explicit RouteManager(Server& s);
  ~RouteManager();

  // Opens the cluster listener and starts soliciting routes; throws on listen failure.
  void start();
  // Its start-up log lines (Server::start logs them after "Server is ready", as 2.9.10).
  void log_listening() const;
  void shutdown();

  Server& server() { return server_; }
  std::string cluster_name() const;
  bool cluster_dynamic() const { return dynamic_; }
  int cluster_port() const { return port_; }
  // The INFO line we send on routes (with the trailing CRLF).
  std::string info_line() const;
  const std::string& self_hash() const { return self_hash_; }
  // The cluster settings a reload changes (authorization, TLS, advertise, no_advertise,
  // connect_retries) are read from cluster_, not from the options the server started with.
  bool auth_required() const;
  // The CONNECT's credentials, or with tls { verify_and_map } the peer's certificate (`cert`,
  // nullopt without one), which must name the authorization user (isRouterAuthorized,
  // isGatewayAuthorized: no user configured, no peer gets in).
  bool authorized(const std::string& user, const std::string& pass,
                  const std::optional<net::PeerCertNames>& cert) const;
  bool no_advertise() const { return no_advertise_.load(std::memory_order_relaxed); }
  Duration tls_timeout() const;
  // How long an accepted route has to send its CONNECT, or nullopt when the cluster asks for
  // no user: 2.9.10 arms its auth timer on accepted routes only then (createRoute).
  std::optional<Duration> accepted_auth_timeout() const;
  // Config reload of the cluster block (route_reload.cpp): with tls_changed, `tls` is the
  // context made for next.tls (null when off). New routes follow the new settings; accepted routes whose
  // CONNECT no longer passes the new authorization are cut ("Authorization Violation"), the
  // ones we dialled stay (as the reference's reloadAuthorization). True when the cluster
  // was renamed.
  bool reload_cluster(const ClusterOptions& next, bool tls_changed, std::unique_ptr<net::TlsContext> tls);
  // Adopts a remote's cluster name when ours was not configured; false on a conflict.
  bool agree_cluster_name(const std::string& remote, bool remote_dynamic);

  // A route finished its handshake. False: duplicate (already connected to that server).
  bool register_route(const std::shared_ptr<RouteConnection>& r);
  void on_route_closed(RouteConnection* r, bool self_route);
  // Gossip from a registered route: another server of the cluster.
  void on_gossip(const RouteInfo& info);
  // A registered route's INFO changed (connect_urls).
  void on_route_updated();

  // Local interest changed (a client or internal subscription): RS+/RS- to every route.
  void on_local_interest(Account& acc, const Subscription& sub, bool added);
  // Sends RS+ for every local subscription to a new route.
  void send_all_subs(RouteConnection& r);

  // Tells every route about a gateway (so the whole cluster connects to it).
  void forward_gateway(const std::string& name, const std::vector<std::string>& urls);
  std::vector<std::shared_ptr<RouteConnection>> routes() const;
  std::shared_ptr<RouteConnection> route_by_hash(std::string_view hash) const;
  size_t num_routes() const;
  // Client URLs: ours, then every route's; none until a route brought some, and ours alone
  // once the routes that did are gone (as the reference, which fills its INFO's and /varz's
  // connect_urls only from the routes' INFO, its own URLs first).
  std::vector<std::string> client_connect_urls() const;
  // Websocket client URLs (ws_connect_urls), the same way.
  std::vector<std::string> ws_connect_urls() const;
  // The websocket URLs the registered routes brought, without ours (none with no_advertise):
  // what the reference's leaf INFO carries as ws_connect_urls (websocket.connectURLsMap), so
  // that a websocket leaf can fail over to the other servers of this cluster.
  std::vector<std::string> peer_ws_urls() const;

  // Config reload: solicits the `add` URLs, closes the routes solicited to `remove` ("Route
  // Removed") and never retries those (as the reference's routesOption). Other routes stay.
  void reload_routes(const std::vector<std::string>& add, const std::vector<std::string>& remove);

  nlohmann::ordered_json routez() const;
  nlohmann::ordered_json varz() const;

 private:
  // Dialling (LinkManagerBase): a route's one URL is its key.
  RedialPolicy policy(bool implicit) const;
  void solicit_locked(const std::string& url, bool implicit, std::chrono::nanoseconds delay, bool first_connect);
  size_t dial_url_count_locked(const std::string&) const override { return 1; }
  std::string dial_url_locked(const std::string& url, size_t) const override { return url; }
  bool dial_wanted_locked(const std::string& url) const override;
  void dialled_locked(const std::string& url, const std::string&, int fd) override;
  void log_dial(const Dial& d, const PeerUrl& u, bool failed) const override;
  void accept_route(int fd, const std::string& ip, int port);
  void notify_clients();
  void build_info();
  void set_own_urls_locked();  // own_client_urls_ / own_ws_urls_ (none with no_advertise)
  bool authorized_locked(const std::string& user, const std::string& pass,
                         const std::optional<net::PeerCertNames>& cert) const;
  // Ours, then every route's (websocket or client URLs), once a route brought some.
  std::vector<std::string> merged_urls(bool ws) const;

  ClusterOptions cluster_;  // as last (re)loaded; guarded by mu_
  std::atomic<bool> no_advertise_{false};
  std::string name_;
  bool dynamic_ = false;
  int port_ = 0;
  std::string self_hash_;
  std::vector<std::string> own_client_urls_;
  std::vector<std::string> own_ws_urls_;  // websocket { advertise }, or the listen addresses
  // A registered route brought client / websocket URLs (unless cluster no_advertise): from
  // then on the URL lists are given, ours first (guarded by mu_).
  bool peer_client_urls_seen_ = false;
  bool peer_ws_urls_seen_ = false;
  void note_peer_urls_locked(const RouteInfo& ri);

  // mu_ (LinkManagerBase) also guards the registry, the solicited URLs and info.
  std::string info_line_;
  std::map<std::string, std::shared_ptr<RouteConnection>> routes_;  // by remote ID
  std::set<std::string> implicit_urls_;  // solicited URLs learnt by gossip
  std::set<std::string> self_urls_;
  std::set<std::string> removed_urls_;  // routes a reload removed: not retried
  // A registered route that won over a duplicate we dialled: it is redialled with that URL
  // when it drops (as the reference's route.retry). Both ends may keep the opposite
  // connection of a crossed pair and each close the other's; without this neither end
  // redials and the two servers stay apart for good. Keyed by the kept route.
  struct AdoptedDial {
    std::string url;
    bool implicit = false;
  };
  std::map<const RouteConnection*, AdoptedDial> adopted_dials_;
  std::vector<std::string> configured_;  // the configured routes as last (re)loaded

  std::mutex interest_mu_;  // serialises RS+/RS- and counts queue weights
  InterestCounts interest_;  // "acc subject [queue]" -> local count
};

}  // namespace nats::cluster
