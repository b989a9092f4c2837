// A route: one connection to another server of the same cluster, speaking the route
// protocol as nats-server 2.9 does (INFO/CONNECT handshake, RS+/RS- interest with account
// and queue weight, RMSG/HMSG messages, PING/PONG). Remote interest lives in the account
// SubLists as Subscriptions owned by this connection, so the normal match finds it.
#pragma once

#include <atomic>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/link_connection.h"
#include "proto/parser.h"
#include "server/account.h"
#include "server/connection.h"

namespace nats::cluster {

class RouteManager;

// What a peer told us in its INFO.
struct RouteInfo {
  std::string id, name, cluster, ip, host, version;
  int port = 0;
  bool dynamic = false;
  std::vector<std::string> connect_urls;
  std::vector<std::string> ws_connect_urls;  // its websocket URLs (websocket { advertise } or listen)
  std::string gateway_url;
  std::vector<std::string> leafnode_urls;  // where that server accepts leaf connections
  // Gateway gossip relayed by a cluster peer (server_id "GW<id>", gateway_cmd 1).
  std::string gateway;
  std::vector<std::string> gateway_urls;
  int gateway_cmd = 0;
};
bool parse_route_info(std::string_view json, RouteInfo& out);

class RouteConnection final : public LinkConnection {
 public:
  // url: the URL we dialled (solicited) or empty (accepted).
  RouteConnection(Server& server, RouteManager& mgr, net::EventLoop& loop, int fd, uint64_t rid,
                  std::string url, bool solicited, bool implicit);
  ~RouteConnection() override;

  void start() override;

  // A psub owned by this route matched: handled in bulk by deliver.cpp, never per sub.
  bool deliver(const Subscription& sub, std::string_view subject, std::string_view reply,
               std::string_view headers, std::string_view payload) override;
  // Sends RMSG/HMSG (any thread). queues: space-separated queue names, or empty.
  bool send_msg(std::string_view account, std::string_view subject, std::string_view reply,
                std::string_view queues, std::string_view headers, std::string_view payload);

  bool solicited() const { return solicited_; }
  bool implicit() const { return implicit_; }
  const std::string& url() const { return url_; }
  // Valid once registered.
  std::string remote_id() const;
  RouteInfo remote_info() const;
  std::string server_hash() const;  // 6-char hash of the remote ID (gateway replies)
  bool registered() const { return registered_.load(); }
  size_t num_remote_subs() const { return num_subs_.load(std::memory_order_relaxed); }
  // The user and password of an accepted route's CONNECT (empty before it, and for routes we
  // dialled): a reload of the cluster authorization checks them again.
  std::pair<std::string, std::string> connect_credentials() const;
  // Any thread: "-ERR 'Authorization Violation'" and the route closed, on its loop.
  void cut_unauthorized();
  // An operator mode account was registered (any thread): the interest in it kept aside
  // meanwhile is applied now, on this route's loop (route_lookup.cpp).
  void account_registered(const std::string& account);
  // A config account removed by a reload (any thread): the remote interest held in its old
  // sublist is kept aside as for an account not here yet, and applied again if an account of
  // that name comes back (the peers do not send it again).
  void account_removed(const std::string& account);

  // Parser callbacks.
  bool on_connect(std::string_view json);
  bool on_info(std::string_view json);
  bool on_err(std::string_view text);
  bool on_rsub(std::string_view account, std::string_view subject, std::string_view queue, int32_t weight);
  bool on_runsub(std::string_view account, std::string_view subject, std::string_view queue);
  bool on_rmsg(std::string_view account, std::string_view subject, std::string_view reply, proto::QueueNames queues,
               std::string_view payload);
  bool on_hrmsg(std::string_view account, std::string_view subject, std::string_view reply, proto::QueueNames queues,
                std::string_view headers, std::string_view payload);
  bool on_lmsg(std::string_view origin, std::string_view account, std::string_view subject, std::string_view reply,
               proto::QueueNames queues, std::string_view headers, std::string_view payload);

 protected:
  bool on_data(const char* data, size_t len) override;
  void on_closed() override;
  void on_tls_established() override;

 private:
  // An accepted route of a cluster that asks for a user must send its CONNECT in time.
  void arm_accepted_auth_timer();
  bool inbound_message(std::string_view account, std::string_view subject, std::string_view reply,
                       proto::QueueNames queues, std::string_view headers, std::string_view payload);
  // Interest in an account this server lacks (route_lookup.cpp): kept aside until the account
  // is registered (true: kept); RS- drops what is kept.
  bool defer_rsub(std::string_view account, std::string_view subject, std::string_view queue, int32_t weight);
  void drop_deferred_rsub(std::string_view account, std::string_view subject, std::string_view queue);
  void resume_deferred_rsubs(const std::string& account);

  RouteManager& mgr_;
  proto::Parser<RouteConnection> parser_;
  std::string url_;
  bool solicited_;
  bool implicit_;
  bool got_connect_ = false;
  bool got_info_ = false;
  std::atomic<bool> registered_{false};
  bool self_route_ = false;

  mutable std::mutex info_mu_;
  std::string connect_user_, connect_pass_;  // guarded by info_mu_
  RouteInfo info_;
  std::string hash_;

  // Remote interest, loop thread only: key "acc subject queue".
  std::map<std::string, SubscriptionPtr, std::less<>> subs_;
  std::atomic<size_t> num_subs_{0};
  // Deferred interest by account, "subject queue" -> (subject, queue, weight); loop thread.
  struct DeferredRsub {
    std::string subject, queue;
    int32_t weight = 0;
  };
  std::map<std::string, std::map<std::string, DeferredRsub>, std::less<>> deferred_subs_;
  // Accounts a config reload removed (loop thread): their interest is deferred, not dropped.
  std::set<std::string, std::less<>> removed_accounts_;
};

}  // namespace nats::cluster
