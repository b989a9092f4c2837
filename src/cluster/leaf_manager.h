// Leaf nodes: the leafnodes listener and the INFO a leaf receives, the authorization that
// binds each accepted leaf to an account, the remotes we solicit (one connection each,
// redialled through their URLs and those the hub advertises), the registry of leaf
// connections, and propagation of an account's interest changes to the leafs bound to it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_util.h"
#include "cluster/leaf.h"
#include "cluster/link_manager.h"
#include "net/tls.h"

namespace nats {
class Server;
}

namespace nats::cluster {

// Dials are keyed by the index of the remote in leafnodes { remotes }.
class LeafManager : public LinkManagerBase<LeafConnection, int> {
 public:
  // Whether this kind's TLS always requires and verifies the peer's certificate (make_tls):
  // leaf nodes only with `verify`, as 2.9.10.
  static constexpr bool kMutualTls = false;
  explicit LeafManager(Server& s);
  ~LeafManager();

  // Opens the leafnodes listener (if a port is set) and starts soliciting the remotes;
  // throws on listen failure.
  void start();
  void shutdown();

  Server& server() { return server_; }
  int port() const { return port_; }
  // host:port leafs are told to connect to (ours); with the cluster's, all of them.
  const std::string& own_url() const { return host_; }
  std::vector<std::string> leafnode_urls() const;
  // The cluster's leafnode URLs changed: an INFO to every accepted leaf.
  void send_async_info();

  // leafnodes { tls } (tls_context()): accepted leafs get the INFO in clear, then a TLS handshake.
  // The TLS client context of a remote: its tls block, or (when only the hub's INFO asks
  // for TLS) no certificate and the system's roots. wants_tls: the remote has a tls block.
  const net::TlsContext* remote_tls_context(int remote) const;
  bool remote_wants_tls(int remote) const;
  // The TLS client context of a remote made from its tls block (throws when a file does not
  // load); config reload installs it for the remote's next dials (links up keep theirs).
  // pinned: leafnodes { tls { pinned_certs } }, which the hub's certificate must match.
  static std::unique_ptr<net::TlsContext> make_remote_tls(const TlsOptions& remote_tls,
                                                          const std::vector<std::string>& pinned);
  void install_remote_tls(int remote, std::unique_ptr<net::TlsContext> ctx);
  // A remote with ws:// or wss:// URLs: dialled to the hub's websocket port. The path of the
  // upgrade request for the dialled `url` ("/leafnode" plus that URL's own path), and whether TLS comes first (wss
  // or a tls block; then before the upgrade, not after the hub's INFO).
  bool remote_is_websocket(int remote) const;
  std::string remote_ws_path(int remote, const std::string& url) const;
  bool remote_ws_tls(int remote) const;
  // A websocket upgrade to /leafnode on the websocket listener: a leaf connection takes the
  // socket over (Connection::hand_over) and starts as an accepted leaf. Loop thread of `c`.
  void accept_websocket(Connection& c);

  // The INFO for a new connection (with its nonce and CID), CRLF included.
  std::string info_line(uint64_t cid, const std::string& nonce) const;
  // The INFO answering an accepted CONNECT: the bound account and connect_info.
  std::string connect_info_line(uint64_t cid, const std::string& account) const;
  // The account a leaf with these credentials binds to; nullopt: Authorization Violation.
  // cert: the names of the leaf's TLS certificate, for `verify_and_map` (null without).
  std::optional<std::string> authorize(const std::string& user, const std::string& pass, const std::string& nkey,
                                       const std::string& nonce,
                                       const std::string& jwt, const std::string& sig, const std::string& ip,
                                       const net::PeerCertNames* cert) const;
  std::chrono::nanoseconds auth_timeout() const;
  // Loop detection. Each registered leaf connection announces a subject of its own
  // ("$LDS.<id>"); one of them coming back over any leaf connection of the same account
  // means a loop. The subject lives as long as its connection: the stale echo of a closed
  // one (a hub cluster that has not yet dropped the route that carried it when the leaf
  // fails over to another of its servers) is ordinary interest, not a loop.
  std::string new_loop_subject(const std::string& account);
  void drop_loop_subject(const std::string& account, const std::string& subject);
  bool is_loop_subject(const std::string& account, std::string_view subject) const;

  // A hub told a solicited connection of `remote` where else it (its cluster) listens.
  void learn_urls(int remote, const std::vector<std::string>& host_ports);
  // The wait before redialling a remote after a failed dial or a disconnect: leafnodes
  // { reconnect }, 1 s by default.
  std::chrono::nanoseconds reconnect_interval() const;
  // Loop detected on `remote`: its next attempt waits 30 s, as the reference's (plus the
  // reconnect interval once the link has closed).
  void delay_reconnect(int remote);

  // A remote's deny_imports / deny_exports (Remote.deny_*): as configured, then as a config
  // reload last set them (any thread).
  struct RemoteDenies {
    std::vector<std::string> imports, exports;
    bool operator==(const RemoteDenies&) const = default;
  };
  RemoteDenies remote_denies(int remote) const;
  // A reload changed a remote's denies. 2.9.10 accepts that and keeps using the ones it
  // started with; here they apply: the remote's link up now (if any) is closed and redialled,
  // so that both sides take them (our CONNECT carries deny_imports as deny_pub).
  void reload_remote_denies(int remote, RemoteDenies d);

  // An accepted leaf from the same server, cluster and account as an earlier one replaces
  // it (a reconnect the old connection has not noticed yet), as the reference does.
  void replace_duplicate(const LeafConnection& fresh);
  void register_leaf(const std::shared_ptr<LeafConnection>& l);
  void on_leaf_closed(LeafConnection* l);

  // An account's interest changed (a client, an internal sub, a route or another leaf):
  // every leaf bound to it but the subscription's own hears of it.
  void on_interest(const std::string& account, const Subscription& sub, bool added);

  std::vector<std::shared_ptr<LeafConnection>> leafs() const;
  size_t num_leafs() const;
  size_t num_leafs(const std::string& account) const;
  nlohmann::ordered_json leafz(bool subs) const;
  nlohmann::ordered_json varz() const;

 private:
  void accept(int fd, const std::string& ip, int port);
  // ws_connect_urls of the leaf INFOs: the websocket URLs of the cluster's other servers.
  void add_ws_urls(nlohmann::ordered_json& j) const;
  // Dialling (LinkManagerBase).
  RedialPolicy policy() const;
  size_t dial_url_count_locked(const int& remote) const override;
  std::string dial_url_locked(const int& remote, size_t i) const override;
  void dialled_locked(const int& remote, const std::string& url, int fd) override;
  void log_dial(const Dial& d, const PeerUrl& u, bool failed) const override;
  void dial_failed(const int& remote) override;
  // jetstream_cluster_migrate (the reference's checkJetStreamMigrate): while the remote's hub
  // cannot be reached, this server steps down from leading the replicated (R>1) consumers,
  // then streams, of the remote's local account, so that a server that still reaches the hub
  // takes them over.
  void migrate_jetstream(int remote);

  struct Remote {
    std::vector<std::string> urls;  // configured, then learned
    std::string userinfo;           // "user:pass@" of the configured URL, for learned ones
    bool ws = false;                // ws:// or wss:// URLs (set in start(), then read-only)
    bool ws_tls = false;            // TLS before the upgrade
    std::vector<std::string> ws_paths;  // upgrade path of each configured URL (urls' order)
    RemoteDenies denies;            // guarded by mu_ (a reload replaces them)
  };

  // One per remote, set in start(); a reload swaps them (install_remote_tls). Every context
  // made is kept (remote_tls_all_) while the manager lives: a link may still use an old one.
  std::unique_ptr<std::atomic<const net::TlsContext*>[]> remote_tls_;
  size_t num_remote_tls_ = 0;
  std::mutex remote_tls_mu_;
  std::vector<std::unique_ptr<net::TlsContext>> remote_tls_all_;  // guarded by remote_tls_mu_
  int port_ = 0;
  std::string host_;  // advertised host

  // mu_ (LinkManagerBase) also guards these.
  std::vector<std::shared_ptr<LeafConnection>> leafs_;      // registered
  std::set<std::pair<std::string, std::string>, std::less<>> loop_subjects_;  // (account, subject) of live links
  std::vector<Remote> remotes_;
};

}  // namespace nats::cluster
