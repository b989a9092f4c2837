#include "server/conn_tag.h"
#include "server/client.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cluster/route_manager.h"
#include "proto/msg_line.h"
#include "server/server.h"
#include "server/service_latency.h"
#include "subject/subject.h"
#include "sys/requester.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats {

namespace {
proto::ParserLimits limits_from(const LiveLimits& o) {
  proto::ParserLimits l;
  l.max_control_line = o.max_control_line.load();
  l.max_payload = o.max_payload.load();
  return l;
}


}  // namespace

ClientConnection::ClientConnection(Server& server, net::EventLoop& loop, int fd, uint64_t cid)
    : Connection(server, loop, fd, cid, ConnKind::Client),
      parser_(proto::Kind::Client, limits_from(server.live())) {}

ClientConnection::~ClientConnection() = default;

void ClientConnection::start() {
  // A websocket client logs its own once upgraded (ws_connection.cpp).
  if (!websocket() && log::debug_enabled()) log::debug("{} - Client connection created", conn_tag(*this));
  auto authenticator = server_.authenticator_for(websocket());
  bool auth = authenticator->required();
  if (authenticator->nonce_required()) nonce_ = util::new_nonce();
  std::string info = server_.client_info_line(cid_, peer_ip_, !nonce_.empty(), nonce_, websocket());
  const net::TlsContext* tls = websocket() ? nullptr : server_.tls_context();  // the client port's TLS only
  if (websocket() && server_.ws_tls_context()) {
    // wss: the TLS handshake first (nothing in clear); the INFO waits for the upgrade.
    begin_tls(*server_.ws_tls_context(), server_.options().websocket.tls.timeout);
    enqueue(info);
  } else if (tls) {
    // INFO goes out in clear; then the client starts the TLS handshake.
    if (!write_plain_now(info)) {
      close(CloseReason::WriteError);
      return;
    }
    begin_tls(*tls, server_.live().tls_timeout());
  } else {
    enqueue(info);
    touch();
  }
  Connection::start();
  parser_.set_require_connect(authenticator->connect_required());
  if (auth) {
    auto self = std::static_pointer_cast<ClientConnection>(shared_from_this());
    std::weak_ptr<ClientConnection> weak = self;
    // websocket { authorization { timeout } } has its clients' own.
    auto timeout = std::chrono::duration_cast<Duration>(server_.live().auth_timeout());  // reloadable
    if (websocket() && server_.options().websocket.auth_timeout.count() > 0)
      timeout = server_.options().websocket.auth_timeout;
    auth_timer_ = loop_.add_timer(timeout, [weak] {
      if (auto c = weak.lock()) c->auth_timeout();
    });
  }
  start_pings();
  Connection::flush_touched();
}

void ClientConnection::set_permissions(const std::optional<Permissions>& p) {
  if (!p) {
    perms_.store(nullptr, std::memory_order_release);
    return;
  }
  perms_owned_.push_back(std::make_unique<ClientPermissions>(*p));
  perms_.store(perms_owned_.back().get(), std::memory_order_release);
}

void ClientConnection::on_reload(std::shared_ptr<const Authenticator> auth, std::function<void()> done) {
  // Runs `done` when the task is over, whichever way it ends (or is dropped unrun).
  struct Done {
    std::function<void()> fn;
    ~Done() {
      if (fn) fn();
    }
  };
  auto guard = std::make_shared<Done>();
  guard->fn = std::move(done);
  auto self = std::static_pointer_cast<ClientConnection>(shared_from_this());
  loop_.post([self, auth = std::move(auth), guard] {
    if (self->closing()) return;
    self->apply_live_limits();
    if (!auth || !self->connected_) return;
    std::string account = self->account_name();
    if (auth->user_gone_or_moved(self->credentials_, account)) {
      self->close(CloseReason::ClientClosed);
      return;
    }
    auto res = auth->authenticate(self->credentials_, self->nonce_, self->peer_ip_);
    if (!res || res->account != account) {
      log::error("{} - authentication error after a config reload", conn_tag(*self));
      self->close_with_err("Authorization Violation", CloseReason::AuthenticationViolation);
      return;
    }
    self->set_permissions(res->permissions);
    self->remove_denied_subs();
  });
}

// Loop thread. As the reference's maxPayloadOption/maxControlLineOption: every client gets
// the new values (a lower account or user JWT limit still wins).
void ClientConnection::apply_live_limits() {
  const auto& l = server_.live();
  parser_.set_max_control_line(l.max_control_line.load());
  int64_t max_payload = l.max_payload.load();
  if (connected_) {
    if (account_)
      if (int64_t lim = account_->max_payload.load(); lim > 0 && lim < max_payload) max_payload = lim;
    if (user_max_payload_ > 0 && user_max_payload_ < max_payload) max_payload = user_max_payload_;
    max_payload_ = max_payload;
  }
  parser_.set_max_payload(max_payload);
}

// Loop thread, after new permissions: as the reference's processSubsOnConfigReload, each
// subscription they deny is removed and reported to the client and the log.
void ClientConnection::remove_denied_subs() {
  std::vector<std::pair<std::string, std::string>> removed;  // subject, sid
  {
    std::lock_guard lk(subs_mu_);
    for (auto it = subs_.begin(); it != subs_.end();) {
      const auto& sub = it->second;
      bool allowed = can_subscribe(sub->subject, "") || (!sub->queue.empty() && can_subscribe(sub->subject, sub->queue));
      if (allowed) {
        ++it;
        continue;
      }
      removed.emplace_back(sub->subject, sub->sid);
      auto next = std::next(it);
      unsubscribe_locked(it);
      it = next;
    }
  }
  for (const auto& [subject, sid] : removed) {
    send_err("Permissions Violation for Subscription to \"" + subject + "\" (sid \"" + sid + "\")");
    log::notice("Removed sub \"{}\" (sid \"{}\") for {} - not authorized", subject, sid, credentials_.user);
  }
}

ClientConnection::JwtIdentity ClientConnection::jwt_identity() const {
  std::lock_guard lk(info_mu_);
  return jwt_identity_;
}

void ClientConnection::kick(std::string text, CloseReason reason) {
  auto self = std::static_pointer_cast<ClientConnection>(shared_from_this());
  loop_.post([self, text = std::move(text), reason] {
    if (!self->closing()) self->close_with_err(text, reason);
  });
}

void ClientConnection::on_account_limits_changed() {
  auto self = std::static_pointer_cast<ClientConnection>(shared_from_this());
  loop_.post([self] {
    if (self->closing() || !self->connected_) return;
    self->apply_live_limits();
    // ">=" as the reference's subsAtLimit: one at the new limit is cut too.
    int64_t limit = self->effective_max_subs();
    if (limit >= 0 && static_cast<int64_t>(self->num_subscriptions()) >= limit) {
      log::error("{} - maximum subscriptions exceeded", conn_tag(*self));
      self->close_with_err("maximum subscriptions exceeded", CloseReason::MaxSubscriptionsExceeded);
    }
  });
}

void ClientConnection::arm_jwt_expiry(const AuthResult& res) {
  // The user's JWT only, as the reference's setExpiration: the account's expiry is a timer of
  // the account (jwt_account_timers.cpp), which an account update moves.
  int64_t at = res.user_expires;
  if (at <= 0) return;
  auto now = std::chrono::system_clock::now();
  auto when = std::chrono::system_clock::time_point(std::chrono::seconds(at));
  auto after = when > now ? when - now : std::chrono::system_clock::duration::zero();
  std::weak_ptr<ClientConnection> weak = std::static_pointer_cast<ClientConnection>(shared_from_this());
  expire_timer_ = loop_.add_timer(std::chrono::duration_cast<net::Clock::duration>(after), [weak] {
    auto c = weak.lock();
    if (!c || c->closing()) return;
    c->expire_timer_ = 0;
    c->close_with_err("User Authentication Expired", CloseReason::AuthenticationExpired);
  });
}

void ClientConnection::auth_timeout() {
  auth_timer_ = 0;
  if (connected_ || closing()) return;
  log::error("{} - Authentication Timeout", conn_tag(*this));
  close_with_err("Authentication Timeout", CloseReason::AuthenticationTimeout);
}

void ClientConnection::on_stale() {
  log::debug("{} - Stale Client Connection - Closing", conn_tag(*this));
  close_with_err("Stale Connection", CloseReason::StaleConnection);
}

void ClientConnection::send_err(std::string_view text) {
  std::string s = "-ERR '";
  s += text;
  s += "'\r\n";
  send_now(s);
}

void ClientConnection::send_ok() { send_now("+OK\r\n"); }

// An upgraded WebSocket client joins the server's clients now, as in the reference; over
// max_connections it gets its INFO, then the error and a close frame.
bool ClientConnection::on_ws_upgraded() {
  if (server_.admit_websocket_client(std::static_pointer_cast<ClientConnection>(shared_from_this()))) return true;
  log::error("{} - Maximum connections exceeded", conn_tag(*this));
  close_with_err("maximum connections exceeded", CloseReason::MaxConnectionsExceeded);
  return false;
}

void ClientConnection::close_with_err(std::string_view text, CloseReason reason) {
  send_err(text);
  close(reason);
}

bool ClientConnection::on_data(const char* data, size_t len) {
  if (lookup_.pending()) {
    // Read with a CONNECT that waits for its account (reading then stops: hold_reading):
    // kept for when it is decided. At most what one read brought (a WebSocket read may
    // unframe in parts): the limit is a guard only.
    if (!lookup_.keep(data, len)) {
      close(CloseReason::ProtocolViolation);
      return false;
    }
    return true;
  }
  auto r = parser_.parse(data, len, *this);
  if (r.error()) {
    if (!r.err_text.empty()) send_err(r.err_text);
    CloseReason reason = CloseReason::ProtocolViolation;
    switch (r.kind) {
      case proto::ParseErrorKind::MaxPayload: reason = CloseReason::MaxPayloadExceeded; break;
      case proto::ParseErrorKind::MaxControlLine: reason = CloseReason::MaxControlLineExceeded; break;
      case proto::ParseErrorKind::AuthViolation: reason = CloseReason::AuthenticationViolation; break;
      case proto::ParseErrorKind::UnknownOp: reason = CloseReason::ParseError; break;
      default: break;
    }
    if (r.kind == proto::ParseErrorKind::AuthViolation)
      log::error("{} - Authorization Violation", conn_tag(*this));
    if (r.kind == proto::ParseErrorKind::MaxPayload)  // the reference's maxPayloadViolation line
      log::error("{} - maximum payload exceeded: {} vs {}", conn_tag(*this), parser_.last_msg_size(),
                 parser_.limits().max_payload);
    close(reason);
    return false;
  }
  if (lookup_.pending()) {
    lookup_.keep(data + r.consumed, len - r.consumed);
    return true;
  }
  return !r.stopped() && !closing();
}

bool ClientConnection::on_connect(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    // The reference closes the connection on a CONNECT it cannot decode.
    log::error("{} - processConnect parse error", conn_tag(*this));
    close(CloseReason::ProtocolViolation);
    return false;
  }
  // Fields absent from CONNECT keep their current values; a field of the wrong type makes
  // the reference close the connection without an -ERR.
  ConnectOptions o;
  {
    std::lock_guard lk(info_mu_);
    o = copts_;
  }
  bool bad_type = false;
  auto get_bool = [&](const char* k, bool& out) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_boolean()) { bad_type = true; return; }
    out = it->get<bool>();
  };
  auto get_str = [&](const char* k) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) { bad_type = true; return std::string(); }
    return it->get<std::string>();
  };
  get_bool("verbose", o.verbose);
  get_bool("pedantic", o.pedantic);
  get_bool("tls_required", o.tls_required);
  get_bool("echo", o.echo);
  get_bool("headers", o.headers);
  // With no_header_support the client's wish for headers is overruled (HPUB is then an error).
  if (server_.options().no_header_support) o.headers = false;
  get_bool("no_responders", o.no_responders);
  if (j.contains("name")) o.name = get_str("name");
  if (j.contains("lang")) o.lang = get_str("lang");
  if (j.contains("version")) o.version = get_str("version");
  if (auto it = j.find("protocol"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) bad_type = true;
    else o.protocol = it->get<int>();
  }
  ClientCredentials cred;
  cred.user = get_str("user");
  cred.pass = get_str("pass");
  cred.auth_token = get_str("auth_token");
  cred.nkey = get_str("nkey");
  cred.sig = get_str("sig");
  cred.jwt = get_str("jwt");
  // The reference refuses the no-auth user to a client that sent commands before CONNECT.
  cred.allow_no_auth_user = !pre_connect_ops_;
  // verify_and_map of the listener the client came in by (a websocket's own tls block).
  // A reload cannot change either (refused, as 2.9.10), so the start-up options hold.
  cred.tls_map = websocket() ? server_.options().websocket.tls.map : server_.options().tls.map;
  if (cred.tls_map) cred.cert = peer_cert_names();
  if (websocket()) {
    cred.connection_type = "WEBSOCKET";
    // No JWT in CONNECT: the one from the jwt_cookie, if the upgrade request carried it.
    if (cred.jwt.empty()) cred.jwt = ws_cookie_jwt();
  }
  if (bad_type) {
    log::error("{} - processConnect: field of the wrong type", conn_tag(*this));
    close(CloseReason::ProtocolViolation);
    return false;
  }

  if (connected_) {
    // A second CONNECT only updates options, as in the reference.
    std::lock_guard lk(info_mu_);
    o.user = copts_.user;
    copts_ = o;
    parser_.set_headers(o.headers);
    if (o.verbose) send_ok();
    return true;
  }

  // An account JWT this server lacks is first asked of the others (as the reference's
  // fetch on a resolver miss); the CONNECT is handled again once that is over.
  if (!lookup_.done() && !cred.jwt.empty() && start_account_lookup(json, cred.jwt)) return false;
  auto res = server_.authenticator_for(websocket())->authenticate(cred, nonce_, peer_ip_);
  if (!res) {
    log::error("{} - authentication error", conn_tag(*this));
    close_with_err("Authorization Violation", CloseReason::AuthenticationViolation);
    return false;
  }
  if (o.protocol < 0 || o.protocol > 1) {
    close_with_err("invalid client protocol", CloseReason::BadClientProtocolVersion);
    return false;
  }
  if (o.no_responders && !o.headers) {
    close_with_err("no responders requires headers support", CloseReason::ProtocolViolation);
    return false;
  }
  auto acc = server_.lookup_account(res->account);
  if (!acc) {
    close_with_err("Authorization Violation", CloseReason::MissingAccount);
    return false;
  }
  // Reserve the slot first so that connections racing on other loops cannot both get in.
  // Leaf connections bound to the account take client slots too (the reference counts them
  // among the account's clients), though only max_leafnodes limits the leafs themselves.
  const int prior = acc->num_local_connections.fetch_add(1);
  const int max_conns = acc->max_connections.load();
  if (max_conns >= 0 && prior + acc->num_leafnodes.load() >= max_conns) {
    acc->num_local_connections--;
    log::error("{} - maximum account active connections exceeded", conn_tag(*this));
    close_with_err("maximum account active connections exceeded", CloseReason::MaxAccountConnectionsExceeded);
    return false;
  }
  o.user = res->user;
  AccountPtr before = account_;
  {
    std::lock_guard lk(info_mu_);
    copts_ = o;
    account_ = acc;
  }
  if (before && before != acc) {
    // Subscriptions made before CONNECT (allowed without auth) move to the account the
    // client authenticated into, so that they are found, and removed, there.
    std::lock_guard lk(subs_mu_);
    for (auto& [_, sub] : subs_) {
      before->sublist().remove(sub);
      server_.on_local_interest_change(*before, *sub, false);
      acc->sublist().insert(sub);
      server_.on_local_interest_change(*acc, *sub, true);
    }
  }
  set_permissions(res->permissions);
  credentials_ = cred;
  if (res->via_no_auth_user) credentials_.no_auth_user = res->user;
  connected_ = true;
  estimate_rtt_from_start();
  set_ping_skip_when_active(true);  // recent traffic proves a client alive, as the reference
  if (auth_timer_) {
    loop_.cancel_timer(auth_timer_);
    auth_timer_ = 0;
  }
  parser_.set_require_connect(false);
  parser_.set_headers(o.headers);
  const int64_t server_max = server_.live().max_payload.load();
  int64_t max_payload = server_max;
  for (int64_t lim : {acc->max_payload.load(), res->max_payload})
    if (lim > 0 && lim < max_payload) max_payload = lim;
  if (max_payload < server_max) parser_.set_max_payload(max_payload);
  max_payload_ = max_payload;
  user_max_payload_ = res->max_payload;
  jwt_max_subs_ = res->max_subs;
  // As the reference's applyAccountLimits: an account or user limit of 0 (the JWT's -1 is
  // unlimited) allows no subscription at all, and such a connection is cut at once.
  if (effective_max_subs() == 0) {
    log::error("{} - maximum subscriptions exceeded", conn_tag(*this));
    close_with_err("maximum subscriptions exceeded", CloseReason::MaxSubscriptionsExceeded);
    return false;
  }
  if (server_.options().operator_mode()) {
    std::lock_guard lk(info_mu_);
    jwt_identity_ = JwtIdentity{res->user, res->user_issued_at, res->bearer, res->signing_key};
  }
  arm_jwt_expiry(*res);
  if (o.verbose) send_ok();
  if (auto* sys = server_.system_services()) sys->on_client_connect(*this);
  return true;
}

int64_t ClientConnection::effective_max_subs() const {
  // Account and user limits: -1 unlimited, 0 none; the server's max_subscriptions: 0 unlimited.
  int64_t limit = -1;
  for (int64_t lim : {static_cast<int64_t>(account_->max_subscriptions.load()), jwt_max_subs_})
    if (lim >= 0 && (limit < 0 || lim < limit)) limit = lim;
  int64_t srv = server_.options().max_subscriptions;
  if (srv > 0 && (limit < 0 || srv < limit)) limit = srv;
  return limit;
}

bool ClientConnection::can_publish(std::string_view subject) {
  auto* p = perms_.load(std::memory_order_acquire);
  return !p || p->can_publish(subject);
}

bool ClientConnection::can_subscribe(std::string_view subject, std::string_view queue) {
  auto* p = perms_.load(std::memory_order_acquire);
  return !p || p->can_subscribe(subject, queue);
}

bool ClientConnection::on_pub(std::string_view subject, std::string_view reply, std::string_view payload) {
  return publish(subject, reply, {}, payload);
}

bool ClientConnection::on_hpub(std::string_view subject, std::string_view reply, std::string_view headers,
                               std::string_view payload) {
  return publish(subject, reply, headers, payload);
}

bool ClientConnection::publish(std::string_view subject, std::string_view reply, std::string_view headers,
                               std::string_view payload) {
  if (!connected_) pre_connect_ops_ = true;
  if (!account_) {
    // Without auth the reference accepts PUB before CONNECT, into the global account.
    account_ = server_.global_account();
  }
  // Only this connection's loop writes these: a plain store avoids a locked instruction.
  in_msgs.store(in_msgs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  in_bytes.store(in_bytes.load(std::memory_order_relaxed) + headers.size() + payload.size(), std::memory_order_relaxed);
  // The reference reports a wildcard publish subject in pedantic mode, yet still delivers.
  // Checked before mapping, on the subject the client sent.
  if (copts_.pedantic && !is_valid_literal_subject(subject)) send_err("Invalid Publish Subject");
  std::optional<std::string> mapped;
  if (account_->has_mappings()) {
    mapped = account_->map_subject(subject, [this] {
      auto* routes = server_.routes();
      return routes ? routes->cluster_name() : server_.options().cluster.name;
    });
    // Permissions apply to the mapped subject, as in the reference.
    if (mapped) subject = *mapped;
  }
  if (mapped && mapped->empty()) {  // the share of a weighted mapping that is dropped
    if (copts_.verbose) send_ok();
    return true;
  }
  sys::RequesterScope requester(this, subject);  // for $SYS.REQ.USER.INFO
  if (!can_publish(subject)) {
    log::error("{} - Publish Violation - User \"{}\", Subject \"{}\"", conn_tag(*this), copts_.user, subject);
    send_err(std::string("Permissions Violation for Publish to \"") + std::string(subject) + "\"");
    return true;
  }
  if (copts_.verbose) send_ok();
  if (maybe_tracked_reply(subject)) [[unlikely]]
    note_tracked_answer(server_, *this, subject);  // latency measured for another server
  bool delivered = server_.process_message(*account_, this, subject, reply, headers, payload, copts_.echo);
  if (!delivered && !reply.empty() && copts_.no_responders) send_no_responders(reply);
  return true;
}

void ClientConnection::send_no_responders(std::string_view reply) {
  // The 503 goes to this client's own subscription on the reply subject.
  auto res = account_->sublist().match(reply);
  for (const auto& sub : res->psubs) {
    if (sub->conn.get() != this) continue;
    static constexpr std::string_view kHdr = "NATS/1.0 503\r\n\r\n";
    deliver(*sub, reply, {}, kHdr, {});
    return;
  }
}

bool ClientConnection::on_sub(std::string_view subject, std::string_view queue, std::string_view sid) {
  if (!connected_) pre_connect_ops_ = true;
  if (!account_) account_ = server_.global_account();
  if (!is_valid_subject(subject)) {
    send_err("Invalid Subject");
    return true;
  }
  if (!queue.empty() && !is_valid_queue_name(queue)) {
    send_err("Invalid Queue Name");
    return true;
  }
  if (!can_subscribe(subject, queue)) {
    log::error("{} - Subscription Violation - User \"{}\", Subject \"{}\"{}, SID {}", conn_tag(*this),
               copts_.user, subject, queue.empty() ? std::string() : ", Queue: \"" + std::string(queue) + "\"", sid);
    std::string msg = "Permissions Violation for Subscription to \"" + std::string(subject) + "\"";
    if (!queue.empty()) msg = "Permissions Violation for Subscription to \"" + std::string(subject) + "\" using queue \"" + std::string(queue) + "\"";
    send_err(msg);
    return true;
  }
  if (int max_tokens = server_.options().max_sub_tokens; max_tokens > 0 && num_tokens(subject) > static_cast<size_t>(max_tokens)) {
    log::error("{} - Subscription Violation Too Many Tokens - User \"{}\", Subject \"{}\", SID {}", conn_tag(*this), copts_.user, subject, sid);
    send_err("Permissions Violation for Subscription to \"" + std::string(subject) + "\", too many tokens");
    return true;
  }
  {
    std::lock_guard lk(subs_mu_);
    if (subs_.count(std::string(sid))) {
      // The reference ignores a SUB that reuses a sid.
      if (copts_.verbose) send_ok();
      return true;
    }
    int64_t limit = effective_max_subs();
    if (limit >= 0 && static_cast<int64_t>(subs_.size()) >= limit) {
      log::error("{} - maximum subscriptions exceeded", conn_tag(*this));
      send_err("maximum subscriptions exceeded");
      return true;
    }
    auto sub = std::make_shared<Subscription>();
    sub->subject = subject;
    sub->queue = queue;
    sub->sid = sid;
    sub->conn = shared_from_this();
    if (account_->sublist().insert(sub) != SubListStatus::ok) {
      send_err("Invalid Subject");
      return true;
    }
    server_.on_local_interest_change(*account_, *sub, true);
    subs_.emplace(sub->sid, std::move(sub));
  }
  if (copts_.verbose) send_ok();
  return true;
}

void ClientConnection::unsubscribe_locked(std::unordered_map<std::string, SubscriptionPtr>::iterator it) {
  it->second->closed.store(true, std::memory_order_release);
  if (account_) {
    account_->sublist().remove(it->second);
    server_.on_local_interest_change(*account_, *it->second, false);
  }
  subs_.erase(it);
}

bool ClientConnection::on_unsub(std::string_view sid, int64_t max) {
  {
    std::lock_guard lk(subs_mu_);
    auto it = subs_.find(std::string(sid));
    if (it != subs_.end()) {
      auto& sub = it->second;
      if (max > 0 && sub->delivered.load() < max) {
        sub->max_msgs.store(max);
      } else {
        unsubscribe_locked(it);
      }
    }
  }
  if (copts_.verbose) send_ok();
  return true;
}

bool ClientConnection::on_err(std::string_view) {
  // A client has no business sending -ERR; the reference closes without a reply.
  close(CloseReason::ProtocolViolation);
  return false;
}

bool ClientConnection::on_ping() {
  if (!connected_) pre_connect_ops_ = true;
  send_now("PONG\r\n");
  // As the reference: after the first PONG, a client that takes async INFO learns the max
  // payload its account or user JWT lowered.
  if (connected_ && !first_pong_sent_) {
    first_pong_sent_ = true;
    int64_t server_max = server_.live().max_payload.load();
    if (copts_.protocol >= 1 && max_payload_ != server_max) {
      std::string info = server_.client_info_line(cid_, peer_ip_, false, {});
      std::string from = "\"max_payload\":" + std::to_string(server_max);
      if (auto at = info.find(from); at != std::string::npos)
        info.replace(at, from.size(), "\"max_payload\":" + std::to_string(max_payload_));
      send_now(info);
    }
  }
  return true;
}

bool ClientConnection::on_pong() {
  pong_received();
  return true;
}

bool ClientConnection::deliver(const Subscription& sub, std::string_view subject, std::string_view reply,
                               std::string_view headers, std::string_view payload) {
  // A wildcard subscription may overlap a subscribe deny entry: filter per message.
  auto* perms = perms_.load(std::memory_order_acquire);
  if (perms && !perms->can_deliver(subject)) return false;
  int64_t max = sub.max_msgs.load(std::memory_order_relaxed);
  int64_t n = sub.delivered.fetch_add(1, std::memory_order_relaxed) + 1;
  if (max > 0 && n > max) return false;
  if (perms && !reply.empty()) perms->record_reply(reply);

  // A client that did not ask for headers gets the payload alone, as the reference does.
  const bool hdr = !headers.empty() && copts_.headers;
  if (!hdr) headers = {};
  proto::MsgLine line;
  proto::MsgLine::client(line, subject, sub.sid, reply, hdr, headers.size(), headers.size() + payload.size());
  if (!enqueue_message(line.view(), headers, payload)) return false;
  if (maybe_tracked_reply(reply)) [[unlikely]]
    note_tracked_delivery(server_, *this, account_name(), subject, reply);  // service_latency.h

  if (max > 0 && n >= max) {
    // Reached its auto-unsubscribe limit: remove it (any thread may get here).
    std::lock_guard lk(subs_mu_);
    auto it = subs_.find(sub.sid);
    if (it != subs_.end() && it->second.get() == &sub) unsubscribe_locked(it);
  }
  return true;
}

ConnectOptions ClientConnection::connect_options() const {
  std::lock_guard lk(info_mu_);
  return copts_;
}

std::string ClientConnection::account_name() const {
  std::lock_guard lk(info_mu_);
  return account_ ? account_->name() : std::string(kGlobalAccount);
}

bool ClientConnection::bound_to(const Account& acc) const {
  std::lock_guard lk(info_mu_);
  if (account_.get() == &acc) return true;
  // By name as account_name() compares: a reload may have replaced the Account object.
  return account_ ? account_->name() == acc.name() : acc.name() == kGlobalAccount;
}

size_t ClientConnection::num_subscriptions() const {
  std::lock_guard lk(subs_mu_);
  return subs_.size() + closed_subs_.size();
}

std::vector<SubscriptionPtr> ClientConnection::subscriptions() const {
  std::lock_guard lk(subs_mu_);
  std::vector<SubscriptionPtr> out = closed_subs_;
  for (auto& [_, s] : subs_) out.push_back(s);
  std::sort(out.begin(), out.end(), [](const SubscriptionPtr& a, const SubscriptionPtr& b) {
    return a->sid.size() != b->sid.size() ? a->sid.size() < b->sid.size() : a->sid < b->sid;
  });
  return out;
}

void ClientConnection::on_closed() {
  stop_time_ = std::chrono::system_clock::now();
  if (auth_timer_) loop_.cancel_timer(auth_timer_);
  if (expire_timer_) loop_.cancel_timer(expire_timer_);
  std::vector<SubscriptionPtr> subs;
  {
    std::lock_guard lk(subs_mu_);
    closed_subs_.reserve(subs_.size());
    for (auto& [_, s] : subs_) {
      s->closed.store(true, std::memory_order_release);
      subs.push_back(s);
      auto copy = std::make_shared<Subscription>();
      copy->subject = s->subject;
      copy->queue = s->queue;
      copy->sid = s->sid;
      copy->max_msgs.store(s->max_msgs.load(std::memory_order_relaxed), std::memory_order_relaxed);
      copy->delivered.store(s->delivered.load(std::memory_order_relaxed), std::memory_order_relaxed);
      closed_subs_.push_back(std::move(copy));
    }
    subs_.clear();
  }
  if (account_) {
    account_->in_msgs.fetch_add(in_msgs.load(), std::memory_order_relaxed);
    account_->in_bytes.fetch_add(in_bytes.load(), std::memory_order_relaxed);
    account_->out_msgs.fetch_add(out_msgs.load(), std::memory_order_relaxed);
    account_->out_bytes.fetch_add(out_bytes.load(), std::memory_order_relaxed);
    account_->sublist().remove_batch(subs);
    for (auto& s : subs) server_.on_local_interest_change(*account_, *s, false);
    if (connected_) account_->num_local_connections--;
  }
  // Listed among the closed connections before the DISCONNECT event goes out, so whoever reacts to
  // the event finds it in /connz?state=closed (2.9.10 saves it when the connection is marked closed).
  server_.on_connection_closed(shared_from_this());
  if (auto* sys = server_.system_services(); sys && connected_) sys->on_client_disconnect(*this);
}

}  // namespace nats
