// Message routing inside one server: match the subject in the publishing account's index,
// hand a copy to every plain subscriber and to one member of each queue group.
#include <cstdint>

#include "cluster/gateway_manager.h"
#include "cluster/leaf.h"
#include "cluster/route.h"
#include "proto/parser_args.h"
#include "server/client.h"
#include "server/imports.h"
#include "server/js_reply.h"
#include "server/request_info.h"
#include "server/server.h"

namespace nats {

namespace {
// A cheap per-thread PRNG for picking queue members; quality is not critical.
inline uint32_t fast_rand() {
  thread_local uint64_t s = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(&s);
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return static_cast<uint32_t>(s >> 32);
}

// Internal (server-owned) subscriptions are called after the match result is no longer
// needed, because their handlers may publish and so re-enter matching.
struct InternalCall {
  SubscriptionPtr sub;
};
}  // namespace

bool Server::process_message(Account& acc, Connection* origin, std::string_view subject, std::string_view reply,
                             std::string_view headers, std::string_view payload, bool origin_echo,
                             const proto::QueueNames* queues, bool local_only) {
  MatchCache* cache = match_cache_for_current_thread();
  std::shared_ptr<const MatchResult> holder;
  const MatchResult* r;
  if (cache) {
    r = &acc.sublist().match(subject, *cache);
  } else {
    holder = acc.sublist().match(subject);
    r = holder.get();
  }
  auto& counters = counters_for_current_thread();
  counters.add_in(headers.size() + payload.size());
  // Cluster rules: a message from a route goes to local subscribers only; one from a
  // gateway to this cluster (local and routes) only; queue groups of a routed message are
  // the ones its sender named. Local messages also go to gateways (see below).
  const ConnKind okind = origin ? origin->kind() : ConnKind::System;
  const bool from_route = okind == ConnKind::Router;
  const bool from_remote = from_route || okind == ConnKind::Gateway;
  // A leaf's message, like a route's, names the queue groups it still needs served here.
  const bool from_leaf = okind == ConnKind::Leaf;
  if (r->empty()) {
    if (!from_remote && !local_only && gateways_)
      return gateways_->forward(acc, subject, reply, headers, payload, nullptr);
    return false;
  }
  uint64_t out_count = 0;
  // A reply mapped for a gateway (`_GR_.<cluster>.<server>.<inbox>`) reaches clients as the
  // plain inbox; the mapping is remembered so their answer goes straight back.
  std::string_view client_reply = reply;
  bool gw_reply = from_remote && gateways_ && cluster::GatewayManager::is_gateway_reply(reply);
  if (gw_reply) client_reply = cluster::GatewayManager::strip_reply(reply);
  // A JetStream delivery from another server or an import shows the message's own subject
  // (js_reply.h); routes, gateways and leafs still get it as it came.
  std::string_view shown = subject;
  std::string_view local_reply = reply;
  if (okind != ConnKind::Client && split_js_reply(client_reply, client_reply, shown)) local_reply = client_reply;
  // Routes and leafs get one message each, naming every queue group it is for.
  struct RouteTarget {
    Connection* conn;
    std::string queues;
  };
  std::vector<RouteTarget> route_targets;
  const auto* origin_leaf = from_leaf ? static_cast<cluster::LeafConnection*>(origin) : nullptr;
  const std::string origin_cluster = origin_leaf ? origin_leaf->remote_cluster() : std::string();
  // What a hub sends us, its cluster already has: it does not go to our routes. What a
  // route sends us only goes on to the leafs we are the hub for.
  const bool from_spoke = origin_leaf && origin_leaf->spoke();
  auto add_route_target = [&](Connection* c, const std::string& queue) {
    if (c->kind() == ConnKind::Router && (from_route || from_spoke || local_only)) return false;
    if (c->kind() == ConnKind::Leaf && from_route && static_cast<cluster::LeafConnection*>(c)->spoke()) return false;
    // Leaf to leaf: never back into the cluster the message came from.
    if (c->kind() == ConnKind::Leaf && !origin_cluster.empty() &&
        static_cast<cluster::LeafConnection*>(c)->remote_cluster() == origin_cluster)
      return false;
    RouteTarget* t = nullptr;
    for (auto& x : route_targets)
      if (x.conn == c) t = &x;
    if (!t) t = &route_targets.emplace_back(RouteTarget{c, {}});
    if (!queue.empty()) {
      if (!t->queues.empty()) t->queues += ' ';
      t->queues += queue;
    }
    return true;
  };
  auto queue_allowed = [&](const std::string& q) {
    if (!queues) return false;
    for (auto n : *queues)
      if (n == q) return true;
    return false;
  };

  bool delivered = false;
  InternalCall internal_stack[4];
  std::vector<InternalCall> internal_more;
  size_t n_internal = 0;
  auto deliver_one = [&](const SubscriptionPtr& sub, bool in_queue) -> bool {
    if (sub->closed.load(std::memory_order_relaxed)) return false;
    Connection* c = sub->conn.get();
    if (!c) {
      if (!sub->handler) return false;
      if (n_internal < 4) internal_stack[n_internal++] = InternalCall{sub};
      else internal_more.push_back(InternalCall{sub});
      return true;
    }
    if (c == origin && !origin_echo) return false;
    if (c->kind() == ConnKind::Router || c->kind() == ConnKind::Leaf)
      return add_route_target(c, in_queue ? sub->queue : std::string());
    if (c->deliver(*sub, shown, client_reply, headers, payload)) {
      ++out_count;
      if (gw_reply && c->kind() == ConnKind::Client) {
        gateways_->record_reply(acc.name(), reply);
        gw_reply = false;
      }
      return true;
    }
    return false;
  };

  for (const auto& sub : r->psubs)
    if (deliver_one(sub, false)) delivered = true;

  for (const auto& group : r->qsubs) {
    if (group.empty()) continue;
    if ((from_remote || from_leaf || (local_only && queues)) && !queue_allowed(group.front()->queue)) continue;
    // Members behind a leaf connection are the last resort: local ones (and routes) first,
    // as the reference prefers.
    const SubscriptionPtr* leaf_member = nullptr;
    bool done = false;
    size_t start = fast_rand() % group.size();
    for (size_t i = 0; i < group.size() && !done; ++i) {
      const SubscriptionPtr& m = group[(start + i) % group.size()];
      Connection* mc = m->conn.get();
      if (mc && mc->kind() == ConnKind::Leaf) {
        if (!leaf_member && mc != origin) leaf_member = &m;
        continue;
      }
      done = deliver_one(m, true);
    }
    if (!done && leaf_member) done = deliver_one(*leaf_member, true);
    if (done) delivered = true;
  }

  // A client's JetStream API request goes to the other servers with the client's info
  // (request_info.h), so the server that answers can name the requester in its API audit.
  // Leafs get the request as it came (the reference's info travels in its system account).
  std::string info_headers;
  std::string_view server_headers = headers;
  if (okind == ConnKind::Client && subject.starts_with("$JS.API.") &&
      (!route_targets.empty() || (gateways_ && !from_remote))) {
    RequestInfo ri;
    ri.account = acc.name();
    ri.rtt_ns = origin->rtt_ns();
    ri.server = name_;
    if (opts_.cluster.configured && !opts_.cluster.name.empty()) ri.cluster = opts_.cluster.name;
    info_headers = with_request_info(headers, ri);
    server_headers = info_headers;
  }
  for (auto& t : route_targets) {
    const bool sent =
        t.conn->kind() == ConnKind::Leaf
            ? static_cast<cluster::LeafConnection*>(t.conn)->send_msg(subject, reply, t.queues, headers, payload)
            : static_cast<cluster::RouteConnection*>(t.conn)->send_msg(acc.name(), subject, reply, t.queues,
                                                                      server_headers, payload);
    if (sent) {
      ++out_count;
      delivered = true;
    }
  }
  if (!from_remote && !local_only && gateways_ && gateways_->forward(acc, subject, reply, server_headers, payload, r))
    delivered = true;

  if (out_count) {
    counters.add_out(out_count, out_count * (headers.size() + payload.size()));
  }
  if (n_internal) {
    // Service import handlers skip messages that came from another server: the origin
    // server already delivered them through its own imports. Stream imports run on every
    // server for its own subscribers (import_interest.h).
    ImportOriginScope origin_scope(from_remote);
    // subject/reply/payload stay valid for the duration of this call, and handlers run
    // before it returns.
    // A stream import forwards by the routing subject and keeps the shown one on the reply.
    auto call = [&](const SubscriptionPtr& s) {
      if (shown.data() != subject.data() && s->sid == "simport") s->handler(*s, subject, reply, headers, payload);
      else s->handler(*s, shown, local_reply, headers, payload);
    };
    for (size_t i = 0; i < n_internal; ++i) call(internal_stack[i].sub);
    for (auto& ic : internal_more) call(ic.sub);
  }
  return delivered;
}

}  // namespace nats
