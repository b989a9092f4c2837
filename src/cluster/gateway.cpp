#include "proto/msg_line.h"
#include "util/json_fields.h"
#include "cluster/gateway.h"

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cluster/gateway_manager.h"
#include "cluster/leaf_manager.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::cluster {

GatewayConnection::GatewayConnection(Server& server, GatewayManager& mgr, net::EventLoop& loop, int fd, uint64_t gid,
                                     bool outbound, std::string remote, std::string url)
    : LinkConnection(server, loop, fd, gid, ConnKind::Gateway, "gid", "Gateway"),
      mgr_(mgr),
      parser_(proto::Kind::Gateway, parser_limits(server.options())),
      outbound_(outbound),
      url_(std::move(url)),
      remote_name_(std::move(remote)) {
  if (outbound_) remote_hash_ = util::hash_name(remote_name_, 6);
}

GatewayConnection::~GatewayConnection() = default;

std::string GatewayConnection::remote_name() const {
  std::lock_guard lk(mu_);
  return remote_name_;
}

std::string GatewayConnection::remote_id() const {
  std::lock_guard lk(mu_);
  return remote_id_;
}

size_t GatewayConnection::num_interest() const {
  std::lock_guard lk(mu_);
  return num_interest_;
}

void GatewayConnection::start() {
  // With TLS the handshake comes first (outbound: TLS client); the protocol follows it.
  // Inbound links follow the gateway block as last reloaded (TLS turned on or off); outbound
  // ones the TLS of their remote (GatewayManager::Remote), as 2.9.10.
  if (const net::TlsContext* tls = outbound_ ? dial_tls_ : mgr_.tls_context()) {
    auto timeout = server_.options().gateway.tls.timeout;
    if (outbound_) {
      std::string host = parse_peer_url(url_).host;
      begin_tls(*tls, timeout, &host);
    } else {
      begin_tls(*tls, timeout);
    }
  }
  if (outbound_) {
    log::notice("{}:{} - gid:{} - Creating outbound gateway connection to \"{}\"", peer_ip_, peer_port_, cid_,
                remote_name());
  } else {
    log::notice("{}:{} - gid:{} - Processing inbound gateway connection", peer_ip_, peer_port_, cid_);
    parser_.set_require_connect(true);
    // Every accepted gateway must send its CONNECT in time; 2.9.10 arms the timer before
    // its TLS handshake, so the handshake counts against it too.
    arm_auth_timer(mgr_.accepted_auth_timeout());
    enqueue(mgr_.info_line());
    touch();
  }
  Connection::start();
  Connection::flush_touched();
}

bool GatewayConnection::on_data(const char* data, size_t len) {
  if (hold_input_for_lookup(data, len)) return !closing();
  auto r = parser_.parse(data, len, *this);
  if (r.error()) return parsed(r);
  // A message for an account being looked up stopped the parse: the rest waits for it.
  if (hold_input_for_lookup(data + r.consumed, len - r.consumed)) return !closing();
  return parsed(r);
}

bool GatewayConnection::on_connect(std::string_view json) {
  if (outbound_) return true;
  cancel_auth_timer();  // whatever the CONNECT holds, as 2.9.10's processConnect
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    close(CloseReason::ProtocolViolation);
    return false;
  }
  std::string gw = util::string_field(j, "gateway");
  if (gw.empty()) {
    log::error("{}:{} - gid:{} - Gateway connect protocol missing gateway name", peer_ip_, peer_port_, cid_);
    close(CloseReason::ProtocolViolation);
    return false;
  }
  if (!mgr_.authorized(util::string_field(j, "user"), util::string_field(j, "pass"), peer_cert_names())) {
    log::error("{}:{} - gid:{} - authentication error", peer_ip_, peer_port_, cid_);
    send_err_and_close("Authorization Violation", CloseReason::AuthenticationViolation);
    return false;
  }
  if (gw == mgr_.name()) {
    // A server of our own cluster dialled our gateway port (a misconfiguration).
    log::error("{}:{} - gid:{} - Gateway connection from our own gateway \"{}\"", peer_ip_, peer_port_, cid_, gw);
    close(CloseReason::WrongGateway);
    return false;
  }
  if (server_.options().gateway.reject_unknown && !mgr_.known_gateway(gw)) {
    log::error("{}:{} - gid:{} - Rejecting connection from unknown gateway \"{}\"", peer_ip_, peer_port_, cid_, gw);
    close(CloseReason::WrongGateway);
    return false;
  }
  {
    std::lock_guard lk(mu_);
    remote_name_ = gw;
    remote_id_ = util::string_field(j, "name");
  }
  parser_.set_require_connect(false);
  auto self = std::static_pointer_cast<GatewayConnection>(shared_from_this());
  if (!mgr_.register_inbound(self)) {
    close(CloseReason::WrongGateway);
    return false;
  }
  registered_ = true;
  log::notice("{}:{} - gid:{} - Inbound gateway connection from \"{}\" ({}) registered", peer_ip_, peer_port_, cid_,
              gw, remote_id());
  mgr_.send_all_interest(*this);
  start_pings();
  return true;
}

bool GatewayConnection::on_info(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    close(CloseReason::ProtocolViolation);
    return false;
  }
  std::string gw = util::string_field(j, "gateway");
  if (!outbound_) {
    // The INFO an outbound side sends after its CONNECT: learn its gateway URLs.
    if (!got_info_ && registered_) {
      got_info_ = true;
      auto urls = util::string_array(j, "gateway_urls");
      std::string u = util::string_field(j, "gateway_url");
      if (!u.empty() && std::find(urls.begin(), urls.end(), u) == urls.end()) urls.push_back(u);
      if (!gw.empty() && !urls.empty()) mgr_.on_discovered(gw, urls);
    }
    return true;
  }
  if (!got_info_) {
    got_info_ = true;
    std::string expected = remote_name();
    if (gw != expected) {
      log::error("{}:{} - gid:{} - Failing connection to gateway \"{}\", remote gateway name is \"{}\"", peer_ip_,
                 peer_port_, cid_, expected, gw);
      close(CloseReason::WrongGateway);
      return false;
    }
    {
      std::lock_guard lk(mu_);
      remote_id_ = util::string_field(j, "server_id");
    }
    nlohmann::ordered_json c;
    link_connect_head(c, server_, false, url_, dial_tls_ != nullptr);
    c["cluster"] = "";
    c["gateway"] = mgr_.name();
    enqueue("CONNECT " + c.dump() + "\r\n");
    enqueue(mgr_.info_line());
    touch();
    log::debug("{}:{} - gid:{} - Gateway connect protocol sent to \"{}\"", peer_ip_, peer_port_, cid_, gw);
    auto urls = util::string_array(j, "gateway_urls");
    auto self = std::static_pointer_cast<GatewayConnection>(shared_from_this());
    if (!mgr_.register_outbound(self, urls)) {
      close(CloseReason::DuplicateRoute);
      return false;
    }
    registered_ = true;
    log::notice("{}:{} - gid:{} - Outbound gateway connection to \"{}\" ({}) registered", peer_ip_, peer_port_, cid_,
                gw, remote_id());
    start_pings();
    return true;
  }
  int cmd = j.value("gateway_cmd", 0);
  if (cmd == 1) {
    // Gossip: another gateway the remote cluster knows.
    auto urls = util::string_array(j, "gateway_urls");
    if (!gw.empty() && gw != mgr_.name() && !urls.empty()) mgr_.on_discovered(gw, urls);
  } else if (cmd == 2 || cmd == 3) {
    log::debug("{}:{} - gid:{} - Gateway \"{}\": switching account to Interest-Only mode{}", peer_ip_, peer_port_,
               cid_, remote_name(), cmd == 3 ? " complete" : "");
  }
  return true;
}

bool GatewayConnection::on_err(std::string_view text) {
  log::error("{}:{} - gid:{} - Gateway Error {}", peer_ip_, peer_port_, cid_, text);
  close(CloseReason::ProtocolViolation);
  return false;
}

bool GatewayConnection::on_rsub(std::string_view account, std::string_view subject, std::string_view queue,
                                int32_t) {
  if (!outbound_ || !registered_) return true;
  std::string key;
  key.append(subject).append(" ").append(queue);
  std::unique_lock lk(mu_);
  auto ait = interest_.find(account);
  if (ait == interest_.end()) ait = interest_.emplace(std::string(account), AccInterest{}).first;
  auto& ai = ait->second;
  if (ai.subs.count(key)) return true;
  auto sub = std::make_shared<Subscription>();
  sub->subject = subject;
  sub->queue = queue;
  sub->account = account;
  if (ai.list->insert(sub) != SubListStatus::ok) return true;
  ai.subs.emplace(std::move(key), sub);
  ++num_interest_;
  lk.unlock();
  // Leafs bound to the account learn of it: their clients reach the other cluster's.
  if (auto* leafs = server_.leafs()) leafs->on_interest(std::string(account), *sub, true);
  return true;
}

void GatewayConnection::interest_subscriptions(std::string_view account, std::vector<SubscriptionPtr>& out) const {
  std::lock_guard lk(mu_);
  auto ait = interest_.find(account);
  if (ait == interest_.end()) return;
  for (auto& [_, sub] : ait->second.subs) out.push_back(sub);
}

bool GatewayConnection::on_runsub(std::string_view account, std::string_view subject, std::string_view queue) {
  if (!outbound_) return true;
  std::string key;
  key.append(subject).append(" ").append(queue);
  std::unique_lock lk(mu_);
  auto ait = interest_.find(account);
  if (ait == interest_.end()) return true;
  auto it = ait->second.subs.find(key);
  if (it == ait->second.subs.end()) return true;
  SubscriptionPtr sub = it->second;
  ait->second.list->remove(sub);
  ait->second.subs.erase(it);
  --num_interest_;
  lk.unlock();
  if (auto* leafs = server_.leafs()) leafs->on_interest(std::string(account), *sub, false);
  return true;
}

bool GatewayConnection::interest(std::string_view account, std::string_view subject, GatewayInterest& out) const {
  const SubList* list = nullptr;
  {
    std::lock_guard lk(mu_);
    auto ait = interest_.find(account);
    if (ait == interest_.end()) return false;
    list = ait->second.list.get();  // lives as long as this connection (never erased)
  }
  // One cache per thread for all gateway interest lists: the hot path takes no lock.
  thread_local MatchCache cache;
  const MatchResult& r = list->match(subject, cache);
  out.plain = !r.psubs.empty();
  out.queues.clear();
  for (auto& g : r.qsubs)
    if (!g.empty()) out.queues.push_back(g.front()->queue);
  return out.plain || !out.queues.empty();
}

bool GatewayConnection::on_rmsg(std::string_view account, std::string_view subject, std::string_view reply,
                                proto::QueueNames queues, std::string_view payload) {
  return inbound_message(account, subject, reply, queues, {}, payload);
}

bool GatewayConnection::on_hrmsg(std::string_view account, std::string_view subject, std::string_view reply,
                                 proto::QueueNames queues, std::string_view headers, std::string_view payload) {
  return inbound_message(account, subject, reply, queues, headers, payload);
}

bool GatewayConnection::inbound_message(std::string_view account, std::string_view subject, std::string_view reply,
                                        proto::QueueNames queues, std::string_view headers,
                                        std::string_view payload) {
  in_msgs.fetch_add(1, std::memory_order_relaxed);
  in_bytes.fetch_add(headers.size() + payload.size(), std::memory_order_relaxed);
  if (outbound_ || !registered_) return true;
  auto acc = account_for_message(account);
  if (!acc) return unknown_account_message(account, subject, reply, queues, headers, payload);
  if (GatewayManager::is_gateway_reply(subject)) {
    std::string_view local;
    if (mgr_.local_reply_target(subject, local)) {
      server_.process_message(*acc, this, local, reply, headers, payload, false, &queues);
    } else {
      mgr_.route_reply(*acc, subject, reply, headers, payload);
    }
    return true;
  }
  server_.process_message(*acc, this, subject, reply, headers, payload, false, &queues);
  return true;
}

bool GatewayConnection::send_msg(std::string_view account, std::string_view subject, std::string_view reply,
                         std::string_view queues, std::string_view headers, std::string_view payload) {
  return send_routed(account, subject, reply, queues, headers, payload);
}

void GatewayConnection::on_closed() {
  cancel_auth_timer();
  log::notice("{}:{} - gid:{} - Gateway connection closed: {}", peer_ip_, peer_port_, cid_,
              close_reason_text(close_reason()));
  mgr_.on_closed(this);
  // The remote cluster's interest is gone: leafs that were told of it hear so.
  if (!outbound_) return;
  std::vector<std::pair<std::string, SubscriptionPtr>> gone;
  {
    std::lock_guard lk(mu_);
    for (auto& [acc, ai] : interest_)
      for (auto& [_, sub] : ai.subs) gone.emplace_back(acc, sub);
  }
  if (auto* leafs = server_.leafs())
    for (auto& [acc, sub] : gone) leafs->on_interest(acc, *sub, false);
}

}  // namespace nats::cluster
