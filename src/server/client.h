// A client connection: the client protocol (CONNECT, PUB/HPUB, SUB/UNSUB, PING/PONG) on
// top of Connection, with authentication, ping/stale handling and subscription ownership.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "proto/parser.h"
#include "server/account.h"
#include "server/account_lookup.h"
#include "server/auth.h"
#include "server/connection.h"
#include "server/permissions.h"

namespace nats {

// What the client said in CONNECT.
// Defaults as the reference's (verbose and pedantic are on until CONNECT turns them off).
struct ConnectOptions {
  bool verbose = true;
  bool pedantic = true;
  bool tls_required = false;
  bool echo = true;
  bool headers = false;
  bool no_responders = false;
  int protocol = 0;
  std::string name, lang, version;
  std::string user;  // the authenticated user, for /connz
};

class ClientConnection final : public Connection, public proto::ParserHandlerBase {
 public:
  ClientConnection(Server& server, net::EventLoop& loop, int fd, uint64_t cid);
  ~ClientConnection() override;

  void start() override;

  // Delivers a message matched by `sub` (any thread). Returns false if not delivered.
  bool deliver(const Subscription& sub, std::string_view subject, std::string_view reply,
               std::string_view headers, std::string_view payload) override;

  // Operator mode: who the client is by its user JWT (empty user: not a JWT user).
  struct JwtIdentity {
    std::string user;  // the user's public key
    int64_t issued_at = 0;
    bool bearer = false;
    std::string signing_key;  // the account signing key that issued it, if one did
  };
  JwtIdentity jwt_identity() const;
  // The user JWT the client connected with ("" if none). Set at CONNECT, before the client
  // can publish or be delivered anything; read on its own loop (service latency reports).
  const std::string& user_jwt() const { return credentials_.jwt; }
  // Any thread: after a config reload, on the connection's loop: applies the server's live
  // limits (max_payload, max_control_line); with `auth` (the users changed), checks the
  // client's CONNECT credentials against it, cuts the client if they no longer pass or lead
  // to another account, else applies the new permissions and removes the subscriptions
  // they deny (with the reference's -ERR). `done` runs on the loop once all that is done,
  // or at once if the task cannot run (so a reload can wait for every connection).
  void on_reload(std::shared_ptr<const Authenticator> auth, std::function<void()> done);
  // Any thread: sends -ERR '<text>' and closes, on the connection's loop.
  void kick(std::string text, CloseReason reason);
  // Any thread: the account's JWT limits changed (a live update); on the loop, as the
  // reference's applyAccountLimits: the new payload limit applies, and a client with as
  // many subscriptions as its new limit, or more, is cut ("maximum subscriptions exceeded").
  void on_account_limits_changed();

  // Monitoring snapshots (any thread).
  ConnectOptions connect_options() const;
  std::string account_name() const;
  // Whether this client's account is `acc` (no account yet counts as the global one); no copy.
  bool bound_to(const Account& acc) const;
  size_t num_subscriptions() const;
  std::vector<SubscriptionPtr> subscriptions() const;
  std::chrono::system_clock::time_point stop_time() const { return stop_time_; }

  // Parser callbacks.
  bool on_connect(std::string_view json);
  bool on_pub(std::string_view subject, std::string_view reply, std::string_view payload);
  bool on_hpub(std::string_view subject, std::string_view reply, std::string_view headers, std::string_view payload);
  bool on_sub(std::string_view subject, std::string_view queue, std::string_view sid);
  bool on_unsub(std::string_view sid, int64_t max);
  bool on_ping();
  bool on_pong();
  bool on_err(std::string_view text);
  using ParserHandlerBase::on_account_sub;
  using ParserHandlerBase::on_account_unsub;
  using ParserHandlerBase::on_hrmsg;
  using ParserHandlerBase::on_info;
  using ParserHandlerBase::on_ok;
  using ParserHandlerBase::on_rmsg;
  using ParserHandlerBase::on_rsub;
  using ParserHandlerBase::on_runsub;

 protected:
  bool on_data(const char* data, size_t len) override;
  void on_closed() override;

 private:
  bool publish(std::string_view subject, std::string_view reply, std::string_view headers, std::string_view payload);
  void send_err(std::string_view text);
  void send_ok();
  void close_with_err(std::string_view text, CloseReason reason);
  bool on_ws_upgraded() override;
  void auth_timeout();
  void on_stale() override;
  void unsubscribe_locked(std::unordered_map<std::string, SubscriptionPtr>::iterator it);
  void send_no_responders(std::string_view reply);
  bool can_publish(std::string_view subject);
  bool can_subscribe(std::string_view subject, std::string_view queue);

  proto::Parser<ClientConnection> parser_;
  ConnectOptions copts_;
  std::string nonce_;  // sent in INFO when NKey users exist; the client signs it
  bool connected_ = false;  // CONNECT accepted
  bool pre_connect_ops_ = false;  // PING/PUB/SUB seen before CONNECT (no no-auth user then)
  // A CONNECT whose account JWT is being looked up from the other servers (operator mode,
  // FULL/CACHE resolver): the CONNECT and the input after it wait, reading paused, until the
  // answer or the timeout (src/server/client_lookup.cpp). Loop thread only.
  AccountLookupHold lookup_;
  bool start_account_lookup(std::string_view connect_json, const std::string& user_jwt);
  void resume_after_lookup();
  AccountPtr account_;
  // Null: no permissions. Replaced by a config reload on the connection's loop; deliveries on
  // other loops may still read the previous object, so every one is kept until the end.
  std::atomic<ClientPermissions*> perms_{nullptr};
  std::vector<std::unique_ptr<ClientPermissions>> perms_owned_;
  ClientCredentials credentials_;  // as CONNECT gave them, for re-checks after a reload
  void set_permissions(const std::optional<Permissions>& p);

  mutable std::mutex subs_mu_;  // delivery on other loops may auto-unsubscribe
  std::unordered_map<std::string, SubscriptionPtr> subs_;
  // Once closed: copies of the subscriptions it had (no owner, so the closed list does not
  // keep the connection alive through them), listed by /connz?state=closed as the reference's
  // saved ones.
  std::vector<SubscriptionPtr> closed_subs_;

  net::TimerId auth_timer_ = 0;
  // Operator mode: closes the connection when the user's JWT expires.
  net::TimerId expire_timer_ = 0;
  int64_t jwt_max_subs_ = -1;
  // The lowest of the account's, the user JWT's and the server's subscription limits; -1: none.
  int64_t effective_max_subs() const;
  JwtIdentity jwt_identity_;  // guarded by info_mu_
  int64_t max_payload_ = 0;        // in effect after CONNECT (account and user limits applied)
  int64_t user_max_payload_ = -1;  // the user JWT's payload limit (-1: none), for reloads
  void apply_live_limits();
  void remove_denied_subs();
  bool first_pong_sent_ = false;  // the user JWT's subscription limit (-1: none)
  void arm_jwt_expiry(const AuthResult& res);
  std::chrono::system_clock::time_point stop_time_{};
  mutable std::mutex info_mu_;  // guards copts_ and account_ for monitoring reads
};

}  // namespace nats
