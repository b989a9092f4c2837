// The supercluster side of a server: the gateway listener, one outbound connection per
// remote gateway (configured, or discovered through INFO gossip), the inbound connections
// remote servers opened, interest-only propagation of this cluster's interest, message
// forwarding, and the `_GR_.<cluster hash>.<server hash>.` reply mapping that lets a reply
// to a fresh inbox find its way back before the inbox's interest has propagated.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_util.h"
#include "cluster/gateway.h"
#include "cluster/link_manager.h"
#include "server/account.h"

namespace nats {
class Server;
struct MatchResult;
}

namespace nats::cluster {

// Dials are keyed by remote gateway name.
class GatewayManager : public LinkManagerBase<GatewayConnection, std::string> {
 public:
  // Whether this kind's TLS always requires and verifies the peer's certificate (make_tls):
  // gateways always, as 2.9.10.
  static constexpr bool kMutualTls = true;
  explicit GatewayManager(Server& s);
  ~GatewayManager();

  void start();
  void shutdown();

  Server& server() { return server_; }
  const std::string& name() const { return name_; }
  const std::string& cluster_hash() const { return cluster_hash_; }
  const std::string& server_hash() const { return server_hash_; }
  std::string own_url() const { return own_url_; }
  std::string info_line() const;
  bool auth_required() const;
  // How long an accepted gateway has to send its CONNECT (2.9.10 arms the timer on every
  // accepted gateway, with or without a user). The block as started: 2.9.10 refuses a
  // reload that changes it.
  Duration accepted_auth_timeout() const;
  // The CONNECT's credentials, or with tls { verify_and_map } the peer's certificate (`cert`,
  // nullopt without one), which must name the authorization user (isRouterAuthorized,
  // isGatewayAuthorized: no user configured, no peer gets in).
  bool authorized(const std::string& user, const std::string& pass,
                  const std::optional<net::PeerCertNames>& cert) const;
  bool known_gateway(const std::string& name) const;

  // Registration; false: refused (duplicate outbound, or unknown name when rejecting).
  bool register_outbound(const std::shared_ptr<GatewayConnection>& c, const std::vector<std::string>& urls);
  bool register_inbound(const std::shared_ptr<GatewayConnection>& c);
  void on_closed(GatewayConnection* c);
  // A remote told us of a gateway (its INFO on an inbound connection, or gossip).
  // forward: also tell our cluster peers (when we learnt it from a remote gateway).
  void on_discovered(const std::string& name, const std::vector<std::string>& urls, bool forward = true);

  // This cluster's interest changed (local or route subscription): RS+/RS- to inbound
  // connections, counted so each (account, subject, queue) is announced once.
  void on_cluster_interest(Account& acc, const std::string& subject, const std::string& queue, bool added);
  // Sends the interest-only switch and all current interest to a new inbound connection.
  void send_all_interest(GatewayConnection& c);
  // An account registered after the inbound gateways connected (operator mode: fetched,
  // or first used): switched to interest-only mode on each of them, as 2.9.10's
  // registerAccount (INFO gateway_cmd 2, its RS+, gateway_cmd 3); an A- sent for it lapses.
  void account_registered(const std::string& account);

  // Sends a message published by a local client to every remote cluster that wants it.
  // local: the local match (queue groups served in this cluster are not sent).
  bool forward(Account& acc, std::string_view subject, std::string_view reply, std::string_view headers,
               std::string_view payload, const MatchResult* local);

  // Reply mapping.
  static bool is_gateway_reply(std::string_view s) { return s.size() > 19 && s.substr(0, 5) == "_GR_."; }
  // For a `_GR_` subject addressed to this server: true, with the original subject.
  bool local_reply_target(std::string_view subject, std::string_view& local) const;
  // Sends a `_GR_` subject for another server of this cluster over the route to it.
  void route_reply(Account& acc, std::string_view subject, std::string_view reply, std::string_view headers,
                   std::string_view payload);
  // A message with a `_GR_` reply was delivered to a local client: remember the mapping.
  void record_reply(const std::string& account, std::string_view gw_reply);
  static std::string_view strip_reply(std::string_view gw_reply) { return gw_reply.substr(19); }
  // The `_GR_` subject an answer on `subject` in `account` goes back as (record_reply), or "".
  std::string recorded_reply(const std::string& account, std::string_view subject) const;

  size_t num_outbound() const;
  // The remote clusters this server has an outbound connection to, lowest RTT first: the
  // "alts" (cluster alternates) of a client info, as 2.9.10's addServerAndClusterInfo.
  std::vector<std::string> outbound_names_by_rtt() const;
  // The interest the remote clusters announced for `account` (outbound connections), for a
  // leaf's initial interest: a leaf reaches subscribers in other clusters through us.
  void remote_interest(const std::string& account, std::vector<SubscriptionPtr>& out) const;
  size_t num_inbound() const;
  nlohmann::ordered_json gatewayz() const;
  nlohmann::ordered_json varz() const;

 private:
  struct Remote {
    std::string name;
    std::vector<std::string> urls;
    bool configured = false;
    // Discovered ones: the block's TLS when discovered, which 2.9.10 never updates (its
    // reload updates the configured remotes only); configured ones dial with the last TLS.
    const net::TlsContext* tls = nullptr;
    std::shared_ptr<GatewayConnection> outbound;
  };
  // Dialling (LinkManagerBase): a remote's URLs while it has no outbound connection.
  RedialPolicy policy(bool configured) const;
  size_t dial_url_count_locked(const std::string& name) const override;
  std::string dial_url_locked(const std::string& name, size_t i) const override;
  void dialled_locked(const std::string& name, const std::string& url, int fd) override;
  void given_up_locked(const std::string& name) override;
  void log_dial(const Dial& d, const PeerUrl& u, bool failed) const override;
  void accept_gateway(int fd, const std::string& ip, int port);
  void gossip(const std::string& name, const std::vector<std::string>& urls);
  std::vector<std::shared_ptr<GatewayConnection>> inbound_snapshot() const;
  std::vector<std::shared_ptr<GatewayConnection>> outbound_snapshot() const;
  void rebuild_outbound_cache();  // mu_ held

  using OutList = std::vector<std::shared_ptr<GatewayConnection>>;
  // The outbound connections, republished on every change, read per message under a short
  // lock. Not std::atomic<shared_ptr>: libstdc++ 12's load() releases its internal lock with
  // relaxed order, so a load and the next store race (ThreadSanitizer reports it).
  std::shared_ptr<const OutList> outbound_cache() const {
    std::lock_guard lk(outbound_cache_mu_);
    return outbound_cache_;
  }
  mutable std::mutex outbound_cache_mu_;
  std::shared_ptr<const OutList> outbound_cache_ = std::make_shared<const OutList>();

  std::string name_;
  std::string cluster_hash_, server_hash_;
  std::string own_url_;
  int port_ = 0;

  // mu_ (LinkManagerBase) also guards the remotes and the inbound list.
  std::string info_line_;
  std::map<std::string, Remote> remotes_;
  std::vector<std::shared_ptr<GatewayConnection>> inbound_;

  std::mutex interest_mu_;
  std::map<std::string, int> interest_;

  mutable std::mutex reply_mu_;
  struct ReplyEntry {
    std::string full;
    std::chrono::steady_clock::time_point when;
  };
  std::map<std::string, ReplyEntry, std::less<>> replies_;  // "acc subject" -> _GR_ subject
  std::atomic<bool> have_replies_{false};
};

}  // namespace nats::cluster
