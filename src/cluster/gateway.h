// A gateway connection to another cluster, as nats-server 2.9 speaks it. Gateways are
// one-way for messages: an outbound connection (we dialled) carries our RMSG/HMSG to the
// remote cluster and receives its interest (RS+/RS-, A+/A-, INFO gateway_cmd); an inbound
// connection (they dialled) receives their messages and carries our interest back. Every
// account is in interest-only mode ("gateway_iom"): only subjects the remote announced
// are sent.
#pragma once

#include <atomic>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/link_connection.h"
#include "proto/parser.h"
#include "server/account_lookup.h"
#include "server/connection.h"
#include "subject/sublist.h"

namespace nats {
class Account;
}

namespace nats::cluster {

class GatewayManager;

// The remote interest an outbound connection learnt, for one subject.
struct GatewayInterest {
  bool plain = false;
  std::vector<std::string> queues;
};

class GatewayConnection final : public LinkConnection {
 public:
  // remote: the gateway name we expect (outbound) or empty (inbound).
  GatewayConnection(Server& server, GatewayManager& mgr, net::EventLoop& loop, int fd, uint64_t gid,
                    bool outbound, std::string remote, std::string url);
  ~GatewayConnection() override;

  void start() override;
  bool deliver(const Subscription&, std::string_view, std::string_view, std::string_view,
               std::string_view) override {
    return false;  // gateway interest is not in the account SubLists
  }

  bool outbound() const { return outbound_; }
  // Outbound, before start(): the TLS it dials with (null: none; GatewayManager::Remote).
  void set_dial_tls(const net::TlsContext* tls) { dial_tls_ = tls; }
  std::string remote_name() const;
  std::string remote_id() const;
  const std::string& url() const { return url_; }
  // Outbound: the 6-character hash of the remote gateway name (reply mapping).
  const std::string& remote_hash() const { return remote_hash_; }
  bool registered() const { return registered_.load(); }
  size_t num_interest() const;

  // Outbound only, any thread: what the remote wants of (account, subject).
  bool interest(std::string_view account, std::string_view subject, GatewayInterest& out) const;
  // Outbound only, any thread: the remote's interest in `account`, appended to out.
  void interest_subscriptions(std::string_view account, std::vector<SubscriptionPtr>& out) const;
  // Outbound only, any thread.
  bool send_msg(std::string_view account, std::string_view subject, std::string_view reply,
                std::string_view queues, std::string_view headers, std::string_view payload);

  bool on_connect(std::string_view json);
  bool on_info(std::string_view json);
  bool on_err(std::string_view text);
  bool on_rsub(std::string_view account, std::string_view subject, std::string_view queue, int32_t weight);
  bool on_runsub(std::string_view account, std::string_view subject, std::string_view queue);
  bool on_rmsg(std::string_view account, std::string_view subject, std::string_view reply, proto::QueueNames queues,
               std::string_view payload);
  bool on_hrmsg(std::string_view account, std::string_view subject, std::string_view reply, proto::QueueNames queues,
                std::string_view headers, std::string_view payload);
  // Inbound, any thread: `account` is registered here now (gateway_lookup.cpp): an A- sent
  // for it no longer holds; the caller sends the account's interest-only switch.
  void clear_account_no_interest(const std::string& account);

 protected:
  bool on_data(const char* data, size_t len) override;
  void on_closed() override;

 private:
  bool inbound_message(std::string_view account, std::string_view subject, std::string_view reply,
                       proto::QueueNames queues, std::string_view headers, std::string_view payload);
  // gateway_lookup.cpp: a message for an account this server does not have.
  std::shared_ptr<Account> account_for_message(std::string_view account);
  bool unknown_account_message(std::string_view account, std::string_view subject, std::string_view reply,
                               proto::QueueNames queues, std::string_view headers, std::string_view payload);
  void resume_after_lookup();
  bool hold_input_for_lookup(const char* data, size_t len);
  void send_account_no_interest(const std::string& account);

  GatewayManager& mgr_;
  proto::Parser<GatewayConnection> parser_;
  bool outbound_;
  const net::TlsContext* dial_tls_ = nullptr;
  std::string url_;
  std::string remote_hash_;
  bool got_info_ = false;
  std::atomic<bool> registered_{false};

  mutable std::mutex mu_;
  std::string remote_name_;
  std::string remote_id_;
  // Outbound: remote interest per account.
  struct AccInterest {
    std::unique_ptr<SubList> list = std::make_unique<SubList>();
    std::map<std::string, SubscriptionPtr, std::less<>> subs;
  };
  std::map<std::string, AccInterest, std::less<>> interest_;
  size_t num_interest_ = 0;
  // Inbound: accounts we answered A- for (no such account here), until they are registered.
  std::set<std::string, std::less<>> no_interest_accounts_;

  // Inbound, loop thread: a message for an account being looked up, and what followed it.
  struct HeldMessage {
    std::string account, subject, reply, queues, headers, payload;
  };
  AccountLookupHold lookup_;
  HeldMessage held_msg_;
};

}  // namespace nats::cluster
