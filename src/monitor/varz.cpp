// /varz: the server's configuration and counters.
#include <chrono>

#include "config/duration.h"
#include "cluster/leaf_manager.h"
#include "cluster/route_manager.h"
#include "monitor/endpoints.h"
#include "monitor/monitor_server.h"
#include "net/tls.h"
#include "server/server.h"
#include "util/process_stats.h"
#include "util/time_format.h"

namespace nats {

namespace {
// The reference's WebsocketOptsVarz: every field omitted when empty.
Json websocket_varz(const Server& s) {
  Json w = Json::object();
  const auto& o = s.options().websocket;
  if (s.websocket_port() == 0) return w;
  w["host"] = o.host;
  w["port"] = s.websocket_port();
  if (!o.no_auth_user.empty()) w["no_auth_user"] = o.no_auth_user;
  if (!o.jwt_cookie.empty()) w["jwt_cookie"] = o.jwt_cookie;
  if (o.handshake_timeout.count() > 0) w["handshake_timeout"] = static_cast<int64_t>(o.handshake_timeout.count());
  if (o.auth_timeout.count() > 0) w["auth_timeout"] = std::chrono::duration<double>(o.auth_timeout).count();
  if (o.no_tls) w["no_tls"] = true;
  if (o.tls.map) w["tls_map"] = true;
  if (o.compression) w["compression"] = true;
  if (o.same_origin) w["same_origin"] = true;
  if (!o.allowed_origins.empty()) w["allowed_origins"] = o.allowed_origins;
  return w;
}
}  // namespace

// The limits come from Server::live(): /varz shows what a reload applied, as the reference.
Json varz(Server& s) {
  const Options& o = s.options();
  auto now = std::chrono::system_clock::now();
  // Go prints a whole float64 without a fraction ("2", not "2.0").
  auto secs = [](Duration d) -> Json {
    double v = std::chrono::duration<double>(d).count();
    if (v == static_cast<double>(static_cast<int64_t>(v))) return static_cast<int64_t>(v);
    return v;
  };
  Json j;
  j["server_id"] = s.id();
  j["server_name"] = s.name();
  j["version"] = kServerVersion;
  j["proto"] = kProtoVersion;
  j["go"] = "go1.19.8";
  // The INFO's host and port (client_advertise when set), as the reference.
  auto [info_host, info_port] = s.info_host_port();
  j["host"] = info_host;
  j["port"] = info_port;
  if (s.auth_required()) j["auth_required"] = true;
  // The client TLS in effect (a reload may have turned it on or off).
  if (const auto* t = s.tls_context()) {
    j["tls_required"] = true;
    if (t->verify()) j["tls_verify"] = true;
  }
  // The URLs the server's INFO gives clients, as the reference: only once a route brought
  // some (route_manager.h).
  if (const auto* r = s.routes(); r && !r->no_advertise()) {
    if (auto urls = r->client_connect_urls(); !urls.empty()) j["connect_urls"] = urls;
    if (auto urls = r->ws_connect_urls(); !urls.empty()) j["ws_connect_urls"] = urls;
  }
  j["max_connections"] = s.live().max_connections.load();
  j["ping_interval"] = static_cast<int64_t>(s.live().ping_interval_ns.load());
  j["ping_max"] = s.live().ping_max.load();
  j["http_host"] = o.http_host.empty() ? o.host : o.http_host;
  j["http_port"] = s.http_port();
  j["http_base_path"] = o.http_base_path;
  j["https_port"] = o.https_port;
  j["auth_timeout"] = secs(s.live().auth_timeout());
  j["max_control_line"] = s.live().max_control_line.load();
  j["max_payload"] = s.live().max_payload.load();
  j["max_pending"] = o.max_pending;
  j["cluster"] = s.cluster_varz();
  j["gateway"] = s.gateway_varz();
  j["leaf"] = s.leafs() ? s.leafs()->varz() : Json::object();
  j["mqtt"] = Json::object();
  j["websocket"] = websocket_varz(s);
  j["jetstream"] = varz_jetstream(s);
  j["tls_timeout"] = secs(s.live().tls_timeout());
  j["write_deadline"] = static_cast<int64_t>(s.live().write_deadline_ns.load());
  j["start"] = util::rfc3339_nano(s.start_time());
  j["now"] = util::rfc3339_nano(now);
  j["uptime"] = util::uptime_string(now - s.start_time());
  j["mem"] = util::resident_memory_bytes();
  j["cores"] = util::num_cores();
  j["gomaxprocs"] = util::num_cores();
  j["cpu"] = util::cpu_percent();
  j["connections"] = s.num_clients();
  j["total_connections"] = s.stats().total_connections.load();
  j["routes"] = s.num_routes();
  j["remotes"] = s.num_remotes();
  j["leafnodes"] = s.num_leafs();
  auto t = s.message_totals();
  j["in_msgs"] = t.in_msgs;
  j["out_msgs"] = t.out_msgs;
  j["in_bytes"] = t.in_bytes;
  j["out_bytes"] = t.out_bytes;
  j["slow_consumers"] = s.stats().slow_consumers.load();
  j["subscriptions"] = s.num_subscriptions();
  Json req = Json::object();
  if (auto* m = s.monitor()) for (auto& [path, n] : m->request_stats()) req[path] = n;
  j["http_req_stats"] = req;
  j["config_load_time"] = util::rfc3339_nano(s.config_load_time());
  // The tags as last (re)loaded (2.9.10 shows those of its first /varz, a cached object).
  if (auto tags = s.tags(); !tags.empty()) j["tags"] = tags;
  if (s.system_account()) j["system_account"] = s.system_account()->name();
  return j;
}

}  // namespace nats
