// The per-route and per-gateway entries of STATSZ and `active_servers`, built from the
// cluster layer's live connections (as the reference's sendStatsz does).
#include "cluster/gateway_manager.h"
#include "cluster/route_manager.h"
#include "server/server.h"
#include "sys/stats_json.h"
#include "sys/system_services.h"

namespace nats {

namespace {

uint64_t u64(const nlohmann::ordered_json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_number() ? it->get<uint64_t>() : 0;
}
}  // namespace

nlohmann::ordered_json Server::route_stats() const {
  auto out = nlohmann::ordered_json::array();
  if (!routes_) return out;
  for (auto& r : routes_->routes()) {
    if (!r->registered()) continue;
    nlohmann::ordered_json e;
    e["rid"] = r->cid();
    auto info = r->remote_info();
    if (!info.name.empty()) e["name"] = info.name;
    e["sent"] = msg_bytes(r->out_msgs.load(), r->out_bytes.load());
    e["received"] = msg_bytes(r->in_msgs.load(), r->in_bytes.load());
    e["pending"] = r->pending_bytes();
    out.push_back(std::move(e));
  }
  return out;
}

// One entry per outbound gateway: what we sent on it, and what arrived on the inbound
// connections from the same gateway (with their count). Read from gatewayz, which already
// holds both sides under the manager's lock.
nlohmann::ordered_json Server::gateway_stats() const {
  auto out = nlohmann::ordered_json::array();
  if (!gateways_) return out;
  auto gz = gateways_->gatewayz();
  auto ob = gz.find("outbound_gateways");
  if (ob == gz.end() || !ob->is_object()) return out;
  auto ib = gz.find("inbound_gateways");
  for (auto& [name, g] : ob->items()) {
    auto c = g.find("connection");
    if (c == g.end() || !c->is_object()) continue;
    nlohmann::ordered_json e;
    e["gwid"] = u64(*c, "cid");
    e["name"] = name;
    e["sent"] = msg_bytes(u64(*c, "out_msgs"), u64(*c, "out_bytes"));
    uint64_t in_msgs = 0, in_bytes = 0, n_in = 0;
    if (ib != gz.end() && ib->is_object()) {
      if (auto list = ib->find(name); list != ib->end() && list->is_array()) {
        for (auto& in : *list) {
          auto ic = in.find("connection");
          if (ic == in.end()) continue;
          in_msgs += u64(*ic, "in_msgs");
          in_bytes += u64(*ic, "in_bytes");
          ++n_in;
        }
      }
    }
    e["received"] = msg_bytes(in_msgs, in_bytes);
    e["inbound_connections"] = n_in;
    out.push_back(std::move(e));
  }
  return out;
}

size_t Server::active_servers() const {
  auto* sys = system_services();
  return 1 + (sys ? sys->directory().num_online() : 0);
}

}  // namespace nats
