// A leaf-node connection, the leaf protocol of nats-server 2.9 (INFO with nonce, CONNECT
// with credentials, a second INFO carrying the bound account, LS+/LS- interest with queue
// weights, LMSG/HMSG messages, PING/PONG). Accepted on the leafnodes port we are the hub;
// solicited to a remote we are the spoke (unless the remote says `hub: true`): a spoke
// only announces interest of its own clients and never relays the hub's messages or
// interest into its own cluster's routes. The connection is bound to one account; its
// remote interest lives in that account's SubList as Subscriptions owned by it.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cluster/interest_counts.h"
#include "cluster/link_connection.h"
#include "proto/parser.h"
#include "server/account_lookup.h"
#include "server/account.h"
#include "server/connection.h"
#include "server/leaf_conn_info.h"

namespace nats::cluster {

class LeafManager;

class LeafConnection final : public LinkConnection {
 public:
  // remote: index of the leafnodes remote we dialled (url: the URL used), or -1 if accepted.
  LeafConnection(Server& server, LeafManager& mgr, net::EventLoop& loop, int fd, uint64_t cid, int remote = -1,
                 std::string url = {});
  ~LeafConnection() override;

  void start() override;

  // A psub owned by this leaf matched: deliver.cpp sends one LMSG per leaf, not per sub.
  bool deliver(const Subscription& sub, std::string_view subject, std::string_view reply,
               std::string_view headers, std::string_view payload) override;
  // Sends LMSG/HMSG (any thread). queues: space-separated queue names, or empty.
  bool send_msg(std::string_view subject, std::string_view reply, std::string_view queues,
                std::string_view headers, std::string_view payload);

  // Any thread: the bound account's JWT expired or was deleted (as 2.9.10, whose account
  // clients include its leafs, either side): `-ERR '<text>'` to the other side, then closed
  // with `reason`, on the connection's loop.
  void kick(std::string text, CloseReason reason);

  // Local interest of the bound account changed (any thread): LS+/LS- as the counts say.
  void update_interest(const Subscription& sub, bool added);

  bool registered() const { return registered_.load(); }
  bool solicited() const { return remote_ >= 0; }
  int remote_index() const { return remote_; }
  // We are the spoke: interest of routes and of other spokes is not ours to announce.
  bool spoke() const { return spoke_; }
  // Valid once registered.
  const std::string& account_name() const { return account_name_; }
  std::string remote_name() const;
  std::string remote_cluster() const;
  // Accepting side: the leaf's CONNECT user (or nkey) and version, for the client info of
  // service latency reports and Nats-Request-Info (empty when we solicited).
  std::string connect_user() const;
  std::string connect_version() const;
  // For /connz (any thread; account, name and the like once registered).
  LeafConnInfo conn_info() const;
  size_t num_remote_subs() const { return num_subs_.load(std::memory_order_relaxed); }
  // The subjects of the leaf's interest (for /leafz?subs=1), any thread.
  std::vector<std::string> remote_subjects() const;

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

 protected:
  bool on_data(const char* data, size_t len) override;
  void on_closed() override;

 private:
  // For /connz?state=closed (Server::save_closed_leaf), as the connection closes.
  void save_closed_entry();
  // Sends every subscription of the bound account (and the loop-detection subject).
  void send_all_subs(Account& acc);
  // Whether `sub`'s interest goes to the other side of this connection.
  bool announces(const Subscription& sub) const;
  // Solicited side: the CONNECT after the hub's first INFO; registration after its second.
  bool send_connect(const nlohmann::json& info);
  void finish_connect();
  // Counts this leaf in its account (max_leafnodes, as the reference's registerWithAccount);
  // false when the account has its limit already.
  bool take_account_slot();
  // The link binds the system account and both sides run JetStream in the same domain: the
  // reference would extend its JetStream over it, which this server does not (logs why).
  bool would_extend_jetstream(bool remote_jetstream);
  // Accepting side: a leaf older than leafnodes { min_version } gets the reference's error,
  // then is closed after a pause (so that it does not redial at once).
  bool reject_old_version(const std::string& version);
  // The JetStream API stays on its side of the link (the reference's denies on a leaf
  // connection); only domain-prefixed requests cross, through the accounts' mappings.
  void add_jetstream_denies();
  void loop_detected();
  // A remote subscription of this leaf appeared or went away: tell whoever should know.
  void propagate(const Subscription& sub, bool added);
  // The bound account is looked up first when this server lacks it (leaf_lookup.cpp).
  // Accepting: true when the CONNECT waits for its user's account (handled again later).
  bool start_account_lookup(std::string_view connect_json);
  void resume_after_lookup();
  // While a lookup is under way, what is read is kept for later (true: kept).
  bool hold_input_for_lookup(const char* data, size_t len);
  // Soliciting: true when the remote's account is bound, or is being looked up.
  bool bind_remote_account();
  void resume_remote_after_lookup();

  LeafManager& mgr_;
  proto::Parser<LeafConnection> parser_;
  const int remote_;
  const std::string url_;
  bool spoke_ = false;
  bool got_info_ = false;
  // Soliciting: the hub's INFO came in clear and the TLS handshake has begun.
  bool tls_started_ = false;
  // Subjects not to send over this connection (our deny_exports, or the leaf's deny_pub)
  // and, soliciting, not to take from it (our deny_imports). Set before registration.
  std::vector<std::string> deny_out_, deny_in_;
  // Whether the other side takes HMSG; without, messages go as LMSG without their headers.
  bool headers_ok_ = true;
  std::string nonce_;
  std::atomic<bool> registered_{false};
  bool counted_ = false;       // take_account_slot() succeeded; loop thread
  bool discard_input_ = false;  // rejected, waiting to close: what it sends is ignored
  // Account lookup (leaf_lookup.cpp), loop thread: under way, over, and what waits for it.
  AccountLookupHold lookup_;
  std::string account_name_;  // set once, before registered_
  std::string loop_subject_;  // our "$LDS." subject on this link (send_all_subs); loop thread
  AccountPtr account_;

  mutable std::mutex info_mu_;
  std::string remote_name_, remote_cluster_;
  std::string connect_user_, connect_version_;
  std::string remote_domain_;  // the other side's JetStream domain (INFO or CONNECT); loop thread

  // Remote interest, key "subject [queue]": changed on the loop thread only, under subs_mu_
  // so that monitoring can list it.
  mutable std::mutex subs_mu_;
  std::map<std::string, SubscriptionPtr, std::less<>> subs_;
  std::atomic<size_t> num_subs_{0};

  // What we told the leaf (the reference's smap), and the subscriptions the initial
  // snapshot already counted, so that their own add notification is not counted twice.
  std::mutex smap_mu_;
  InterestCounts smap_;
  std::set<const Subscription*> snapshot_;
};

}  // namespace nats::cluster
