// /routez, /gatewayz, /leafz, /accountz and /accstatz (/jsz and /healthz: jetstream_endpoints.cpp).
#include "cluster/gateway_manager.h"
#include "cluster/route_manager.h"
#include "cluster/leaf_manager.h"
#include "monitor/endpoints.h"
#include "server/imports.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/time_format.h"

namespace nats {

namespace {
Json header(Server& s) {
  Json j;
  j["server_id"] = s.id();
  j["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
  return j;
}
bool jsz_flag_set(const std::string& v) { return v == "1" || v == "true"; }
}  // namespace

Json routez(Server& s) {
  Json j = header(s);
  if (auto* rm = s.routes()) {
    auto rz = rm->routez();
    for (auto& [k, v] : rz.items()) j[k] = v;
    return j;
  }
  j["num_routes"] = 0;
  j["routes"] = Json::array();
  return j;
}

Json gatewayz(Server& s) {
  Json j = header(s);
  if (auto* gm = s.gateways()) {
    auto gz = gm->gatewayz();
    for (auto& [k, v] : gz.items()) j[k] = v;
    return j;
  }
  if (s.options().gateway.configured) {
    j["name"] = s.options().gateway.name;
    j["host"] = s.options().gateway.host;
    j["port"] = s.options().gateway.port;
  }
  j["outbound_gateways"] = Json::object();
  j["inbound_gateways"] = Json::object();
  return j;
}

Json leafz(Server& s, bool subs) {
  if (auto* lm = s.leafs()) return lm->leafz(subs);
  Json j = header(s);
  j["leafnodes"] = 0;
  j["leafs"] = Json::array();
  return j;
}

JszOptions jsz_options_from_query(const std::multimap<std::string, std::string>& q) {
  JszOptions o;
  for (auto& [k, v] : q) {
    if (k == "acc") o.account = v;
    else if (k == "accounts") o.accounts = jsz_flag_set(v);
    else if (k == "streams") o.streams = jsz_flag_set(v);
    else if (k == "consumers") o.consumer = jsz_flag_set(v);
    else if (k == "config") o.config = jsz_flag_set(v);
    else if (k == "leader-only") o.leader_only = jsz_flag_set(v);
    else if (k == "offset") o.offset = std::atoi(v.c_str());
    else if (k == "limit") o.limit = std::atoi(v.c_str());
    else if (k == "raft") o.raft = jsz_flag_set(v);
  }
  return o;
}

Json accountz(Server& s, const std::string& account) {
  Json j = header(s);
  if (s.system_account()) j["system_account"] = s.system_account()->name();
  if (account.empty()) {
    Json list = Json::array();
    for (auto& a : s.accounts()) list.push_back(a->name());
    j["accounts"] = list;
    return j;
  }
  auto acc = s.lookup_account(account);
  if (!acc) throw MonitorError{400, "Account " + account + " does not exist"};
  Json d;
  d["account_name"] = acc->name();
  d["update_time"] = util::rfc3339_nano(s.start_time());
  if (s.system_account() == acc) d["is_system"] = true;
  d["expired"] = false;
  d["complete"] = true;
  d["jetstream_enabled"] = acc->jetstream_enabled.load();
  d["leafnode_connections"] = 0;
  d["client_connections"] = acc->num_local_connections.load();
  d["subscriptions"] = acc->sublist().count();
  Json exports = Json::array();
  auto wiring = lock_account_wiring();  // a reload may replace the lists
  for (const auto& e : acc->stream_exports) {
    Json x{{"subject", e.subject}, {"type", "stream"}};
    if (!e.accounts.empty()) x["account_ids"] = e.accounts;
    exports.push_back(x);
  }
  for (const auto& e : acc->service_exports) {
    Json x{{"subject", e.subject}, {"type", "service"}};
    if (!e.accounts.empty()) x["account_ids"] = e.accounts;
    x["response_type"] = e.response_type.empty() ? "Singleton" : e.response_type;
    exports.push_back(x);
  }
  if (!exports.empty()) d["exports"] = exports;
  Json imports = Json::array();
  for (const auto& i : acc->stream_imports) {
    std::string local = !i.prefix.empty() ? i.prefix + (i.prefix.back() == '.' ? "" : ".") + i.subject
                        : !i.to.empty()   ? i.to
                                          : i.subject;
    imports.push_back(Json{{"subject", i.subject}, {"account", i.account}, {"local_subject", local}, {"type", "stream"},
                           {"invalid", i.invalid}, {"share", false}, {"tracking", false}});
  }
  for (const auto& i : acc->service_imports) {
    // As the reference: "subject" is the importer's subject, "to" the exporter's.
    imports.push_back(Json{{"subject", i.to.empty() ? i.subject : i.to}, {"account", i.account}, {"to", i.subject},
                           {"type", "service"}, {"invalid", i.invalid}, {"share", false}, {"tracking", false}});
  }
  wiring.unlock();
  if (!imports.empty()) d["imports"] = imports;
  auto st = acc->sublist().stats();
  d["sublist_stats"] = Json{{"num_subscriptions", st.num_subscriptions}, {"num_cache", st.num_cache},
                            {"num_inserts", st.num_inserts},             {"num_removes", st.num_removes},
                            {"num_matches", st.num_matches},             {"cache_hit_rate", st.cache_hit_rate},
                            {"max_fanout", st.max_fanout},               {"avg_fanout", st.avg_fanout}};
  j["account_detail"] = d;
  return j;
}

Json accstatz(Server& s, bool include_unused) {
  if (auto* sys = s.system_services()) return sys->account_statz({}, include_unused);
  // Without system services there are no per-account event counters to report.
  Json d;
  d["server_id"] = s.id();
  d["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
  d["account_statz"] = Json::array();
  return d;
}

}  // namespace nats
