#include "proto/msg_line.h"
#include "util/json_fields.h"
#include "cluster/route.h"

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cluster/gateway_manager.h"
#include "cluster/leaf_manager.h"
#include "cluster/route_manager.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::cluster {

bool parse_route_info(std::string_view json, RouteInfo& out) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  out.id = util::string_field(j, "server_id");
  out.name = util::string_field(j, "server_name");
  out.cluster = util::string_field(j, "cluster");
  out.ip = util::string_field(j, "ip");
  out.host = util::string_field(j, "host");
  out.version = util::string_field(j, "version");
  out.gateway_url = util::string_field(j, "gateway_url");
  if (auto it = j.find("port"); it != j.end() && it->is_number_integer()) out.port = it->get<int>();
  if (auto it = j.find("dynamic"); it != j.end() && it->is_boolean()) out.dynamic = it->get<bool>();
  out.gateway = util::string_field(j, "gateway");
  out.gateway_urls = util::string_array(j, "gateway_urls");
  if (auto it = j.find("gateway_cmd"); it != j.end() && it->is_number_integer()) out.gateway_cmd = it->get<int>();
  out.leafnode_urls = util::string_array(j, "leafnode_urls");
  out.connect_urls = util::string_array(j, "connect_urls");
  out.ws_connect_urls = util::string_array(j, "ws_connect_urls");
  return !out.id.empty();
}

RouteConnection::RouteConnection(Server& server, RouteManager& mgr, net::EventLoop& loop, int fd, uint64_t rid,
                                 std::string url, bool solicited, bool implicit)
    : LinkConnection(server, loop, fd, rid, ConnKind::Router, "rid", "Route"),
      mgr_(mgr),
      parser_(proto::Kind::Route, parser_limits(server.options())),
      url_(std::move(url)),
      solicited_(solicited),
      implicit_(implicit) {}

RouteConnection::~RouteConnection() = default;

void RouteConnection::start() {
  // With TLS the handshake comes first (we dial: TLS client); CONNECT and INFO follow it.
  const net::TlsContext* tls = mgr_.tls_context();
  if (tls) {
    auto timeout = mgr_.tls_timeout();
    if (solicited_) {
      std::string host = parse_peer_url(url_).host;
      begin_tls(*tls, timeout, &host);
    } else {
      begin_tls(*tls, timeout);
    }
  }
  if (solicited_) {
    nlohmann::ordered_json c;
    link_connect_head(c, server_, true, url_, tls != nullptr);
    c["cluster"] = mgr_.cluster_name();
    if (mgr_.cluster_dynamic()) c["dynamic"] = true;
    c["lnoc"] = true;
    enqueue("CONNECT " + c.dump() + "\r\n");
    log::debug("{}:{} - rid:{} - Route connect msg sent", peer_ip_, peer_port_, cid_);
  } else {
    parser_.set_require_connect(true);
    // 2.9.10 arms the auth timer once its (blocking) TLS handshake is done, which has a
    // timeout of its own: here when the handshake completes, or now without TLS.
    if (!tls) arm_accepted_auth_timer();
  }
  enqueue(mgr_.info_line());
  touch();
  Connection::start();
  log::notice("{}:{} - rid:{} - Route connection created", peer_ip_, peer_port_, cid_);
  Connection::flush_touched();
}

void RouteConnection::on_tls_established() {
  if (!solicited_) arm_accepted_auth_timer();
}

void RouteConnection::arm_accepted_auth_timer() {
  if (auto after = mgr_.accepted_auth_timeout()) arm_auth_timer(*after);
}

std::string RouteConnection::remote_id() const {
  std::lock_guard lk(info_mu_);
  return info_.id;
}

RouteInfo RouteConnection::remote_info() const {
  std::lock_guard lk(info_mu_);
  return info_;
}

std::string RouteConnection::server_hash() const {
  std::lock_guard lk(info_mu_);
  return hash_;
}

bool RouteConnection::on_data(const char* data, size_t len) { return parsed(parser_.parse(data, len, *this)); }

bool RouteConnection::on_connect(std::string_view json) {
  cancel_auth_timer();  // whatever the CONNECT holds, as 2.9.10's processConnect
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    close(CloseReason::ProtocolViolation);
    return false;
  }
  if (!mgr_.authorized(util::string_field(j, "user"), util::string_field(j, "pass"), peer_cert_names())) {
    log::error("{}:{} - rid:{} - authentication error", peer_ip_, peer_port_, cid_);
    send_err_and_close("Authorization Violation", CloseReason::AuthenticationViolation);
    return false;
  }
  std::string cluster = util::string_field(j, "cluster");
  bool dynamic = j.value("dynamic", false);
  if (!cluster.empty() && !mgr_.agree_cluster_name(cluster, dynamic)) {
    log::error("{}:{} - rid:{} - cluster name from remote server conflicts", peer_ip_, peer_port_, cid_);
    send_err_and_close("Rejecting connection, cluster name \"" + cluster + "\" does not match \"" +
                           mgr_.cluster_name() + "\"",
                       CloseReason::ProtocolViolation);
    return false;
  }
  got_connect_ = true;
  {
    std::lock_guard lk(info_mu_);
    connect_user_ = util::string_field(j, "user");
    connect_pass_ = util::string_field(j, "pass");
  }
  parser_.set_require_connect(false);
  return true;
}

std::pair<std::string, std::string> RouteConnection::connect_credentials() const {
  std::lock_guard lk(info_mu_);
  return {connect_user_, connect_pass_};
}

bool RouteConnection::on_info(std::string_view json) {
  RouteInfo ri;
  if (!parse_route_info(json, ri)) {
    log::error("{}:{} - rid:{} - bad route INFO", peer_ip_, peer_port_, cid_);
    close(CloseReason::ProtocolViolation);
    return false;
  }
  if (got_info_) {
    if (!ri.gateway.empty() && ri.gateway_cmd == 1) {
      // A peer learnt of a gateway: make sure we have an outbound connection to it too.
      if (auto* gw = server_.gateways()) gw->on_discovered(ri.gateway, ri.gateway_urls, false);
      return true;
    }
    std::string rid = remote_id();
    if (ri.id != rid) {
      mgr_.on_gossip(ri);
    } else {
      {
        std::lock_guard lk(info_mu_);
        info_.connect_urls = ri.connect_urls;
        info_.ws_connect_urls = ri.ws_connect_urls;
      }
      mgr_.on_route_updated();
    }
    return true;
  }
  got_info_ = true;
  if (ri.id == server_.id()) {
    log::debug("Detected route to self, ignoring \"{}\"", url_);
    self_route_ = true;
    close(CloseReason::DuplicateRoute);
    return false;
  }
  if (!ri.cluster.empty() && !mgr_.agree_cluster_name(ri.cluster, ri.dynamic)) {
    log::error("{}:{} - rid:{} - cluster name from remote server conflicts", peer_ip_, peer_port_, cid_);
    send_err_and_close("Rejecting connection, cluster name \"" + ri.cluster + "\" does not match \"" +
                           mgr_.cluster_name() + "\"",
                       CloseReason::ProtocolViolation);
    return false;
  }
  if (ri.ip.empty()) {
    if (solicited_) {
      ri.ip = url_;
    } else {
      std::string h = peer_ip_.find(':') != std::string::npos ? "[" + peer_ip_ + "]" : peer_ip_;
      ri.ip = "nats-route://" + h + ":" + std::to_string(ri.port) + "/";
    }
  }
  {
    std::lock_guard lk(info_mu_);
    info_ = ri;
    hash_ = util::hash_name(ri.id, 6);
  }
  auto self = std::static_pointer_cast<RouteConnection>(shared_from_this());
  if (!mgr_.register_route(self)) {
    log::debug("{}:{} - rid:{} - Detected duplicate remote route \"{}\"", peer_ip_, peer_port_, cid_, ri.id);
    close(CloseReason::DuplicateRoute);
    return false;
  }
  registered_ = true;
  log::debug("{}:{} - rid:{} - Registering remote route \"{}\"", peer_ip_, peer_port_, cid_, ri.id);
  mgr_.send_all_subs(*this);
  log::debug("{}:{} - rid:{} - Sent local subscriptions to route", peer_ip_, peer_port_, cid_);
  // The first PING about 1 s after the handshake (1 to 1.2 s), for the RTT, as 2.9.10's
  // firstPingInterval; not at once.
  start_pings(std::chrono::seconds(1));
  return true;
}

bool RouteConnection::on_err(std::string_view text) {
  log::error("{}:{} - rid:{} - Router Error {}", peer_ip_, peer_port_, cid_, text);
  close(CloseReason::ProtocolViolation);
  return false;
}

bool RouteConnection::on_rsub(std::string_view account, std::string_view subject, std::string_view queue,
                              int32_t weight) {
  if (!registered_) return true;
  auto acc = server_.lookup_account(std::string(account));
  // Interest in an operator mode account this server has the JWT of but does not use yet:
  // registered now (as the reference's LookupAccount on a remote sub), so that its imports
  // run here for messages published here.
  if (!acc && server_.account_resolver() && server_.jwt_account_claims(std::string(account)))
    acc = server_.lookup_account(std::string(account));
  if (!acc) {
    defer_rsub(account, subject, queue, weight);
    return true;
  }
  std::string key;
  key.reserve(account.size() + subject.size() + queue.size() + 2);
  key.append(account).append(" ").append(subject).append(" ").append(queue);
  auto it = subs_.find(key);
  if (it != subs_.end()) {
    if (!queue.empty() && weight > 0 && it->second->qweight != weight) acc->sublist().update_queue_weight(it->second, weight);
    return true;
  }
  auto sub = remote_subscription(account, subject, queue, key, weight);
  if (acc->sublist().insert(sub) != SubListStatus::ok) return true;
  subs_.emplace(std::move(key), sub);
  num_subs_.fetch_add(1, std::memory_order_relaxed);
  if (auto* gw = server_.gateways()) gw->on_cluster_interest(*acc, sub->subject, sub->queue, true);
  if (auto* lf = server_.leafs()) lf->on_interest(acc->name(), *sub, true);
  return true;
}

bool RouteConnection::on_runsub(std::string_view account, std::string_view subject, std::string_view queue) {
  std::string key;
  key.append(account).append(" ").append(subject).append(" ").append(queue);
  auto it = subs_.find(key);
  if (it == subs_.end()) {
    drop_deferred_rsub(account, subject, queue);
    return true;
  }
  auto sub = it->second;
  subs_.erase(it);
  num_subs_.fetch_sub(1, std::memory_order_relaxed);
  sub->closed.store(true, std::memory_order_release);
  if (auto acc = server_.lookup_account(std::string(account))) {
    acc->sublist().remove(sub);
    if (auto* gw = server_.gateways()) gw->on_cluster_interest(*acc, sub->subject, sub->queue, false);
    if (auto* lf = server_.leafs()) lf->on_interest(acc->name(), *sub, false);
  }
  return true;
}

bool RouteConnection::on_rmsg(std::string_view account, std::string_view subject, std::string_view reply,
                              proto::QueueNames queues, std::string_view payload) {
  return inbound_message(account, subject, reply, queues, {}, payload);
}

bool RouteConnection::on_hrmsg(std::string_view account, std::string_view subject, std::string_view reply,
                               proto::QueueNames queues, std::string_view headers, std::string_view payload) {
  return inbound_message(account, subject, reply, queues, headers, payload);
}

bool RouteConnection::on_lmsg(std::string_view, std::string_view account, std::string_view subject,
                              std::string_view reply, proto::QueueNames queues, std::string_view headers,
                              std::string_view payload) {
  return inbound_message(account, subject, reply, queues, headers, payload);
}

bool RouteConnection::inbound_message(std::string_view account, std::string_view subject, std::string_view reply,
                                      proto::QueueNames queues, std::string_view headers,
                                      std::string_view payload) {
  in_msgs.fetch_add(1, std::memory_order_relaxed);
  in_bytes.fetch_add(headers.size() + payload.size(), std::memory_order_relaxed);
  if (!registered_) return true;
  auto acc = server_.lookup_account(std::string(account));
  if (!acc) return true;
  if (auto* gw = server_.gateways(); gw && GatewayManager::is_gateway_reply(subject)) {
    // A reply routed to us by the server that received it over a gateway.
    std::string_view local;
    if (gw->local_reply_target(subject, local)) {
      server_.process_message(*acc, this, local, reply, headers, payload, false, &queues);
    }
    return true;
  }
  server_.process_message(*acc, this, subject, reply, headers, payload, false, &queues);
  return true;
}

bool RouteConnection::send_msg(std::string_view account, std::string_view subject, std::string_view reply,
                         std::string_view queues, std::string_view headers, std::string_view payload) {
  return send_routed(account, subject, reply, queues, headers, payload);
}

bool RouteConnection::deliver(const Subscription& sub, std::string_view subject, std::string_view reply,
                              std::string_view headers, std::string_view payload) {
  return send_msg(sub.account, subject, reply, sub.queue, headers, payload);
}

void RouteConnection::on_closed() {
  cancel_auth_timer();
  log::notice("{}:{} - rid:{} - Router connection closed: {}", peer_ip_, peer_port_, cid_,
              close_reason_text(close_reason()));
  std::map<std::string, std::vector<SubscriptionPtr>> by_acc;
  for (auto& [_, s] : subs_) {
    s->closed.store(true, std::memory_order_release);
    by_acc[s->account].push_back(s);
  }
  subs_.clear();
  num_subs_ = 0;
  for (auto& [name, list] : by_acc) {
    auto acc = server_.lookup_account(name);
    if (!acc) continue;
    acc->sublist().remove_batch(list);
    if (auto* gw = server_.gateways())
      for (auto& s : list) gw->on_cluster_interest(*acc, s->subject, s->queue, false);
    if (auto* lf = server_.leafs())
      for (auto& s : list) lf->on_interest(name, *s, false);
  }
  mgr_.on_route_closed(this, self_route_);
}

}  // namespace nats::cluster
