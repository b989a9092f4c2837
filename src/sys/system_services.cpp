#include "sys/system_services.h"

#include <algorithm>

#include "monitor/endpoints.h"
#include "server/server.h"
#include "util/process_stats.h"
#include "util/time_format.h"

namespace nats {

namespace {
constexpr std::chrono::milliseconds kMaxStatszInterval{10000};

// The z-requests and the monitor document each answers.
const char* const kZKinds[] = {"IDZ", "VARZ", "CONNZ", "SUBSZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "ACCOUNTZ", "HEALTHZ", "JSZ"};

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

ConnzOptions connz_options_from_json(const nlohmann::json& j) {
  ConnzOptions o;
  if (!j.is_object()) return o;
  if (auto it = j.find("sort"); it != j.end() && it->is_string()) o.sort = *it;
  if (auto it = j.find("auth"); it != j.end() && it->is_boolean()) o.auth = *it;
  if (auto it = j.find("subscriptions"); it != j.end() && it->is_boolean()) o.subs = *it;
  if (auto it = j.find("subscriptions_detail"); it != j.end() && it->is_boolean()) o.subs_detail = *it;
  if (auto it = j.find("offset"); it != j.end() && it->is_number_integer()) o.offset = *it;
  if (auto it = j.find("limit"); it != j.end() && it->is_number_integer()) o.limit = *it;
  if (auto it = j.find("cid"); it != j.end() && it->is_number_unsigned()) o.cid = *it;
  if (auto it = j.find("state"); it != j.end() && it->is_number_integer()) {
    int st = *it;  // Go's ConnState: 0 open, 1 closed, 2 all
    o.state = st == 1 ? "closed" : st == 2 ? "any" : "open";
  }
  if (auto it = j.find("user"); it != j.end() && it->is_string()) o.user = *it;
  if (auto it = j.find("acc"); it != j.end() && it->is_string()) o.account = *it;
  if (o.limit <= 0) o.limit = 1024;
  return o;
}

SubszOptions subsz_options_from_json(const nlohmann::json& j) {
  SubszOptions o;
  if (!j.is_object()) return o;
  if (auto it = j.find("subscriptions"); it != j.end() && it->is_boolean()) o.subs = *it;
  if (auto it = j.find("offset"); it != j.end() && it->is_number_integer()) o.offset = *it;
  if (auto it = j.find("limit"); it != j.end() && it->is_number_integer()) o.limit = *it;
  if (auto it = j.find("test"); it != j.end() && it->is_string()) o.test = *it;
  if (auto it = j.find("account"); it != j.end() && it->is_string()) o.account = *it;
  if (o.limit <= 0) o.limit = 1024;
  return o;
}

JszOptions jsz_options_from_json(const nlohmann::json& j) {
  JszOptions o;
  if (!j.is_object()) return o;
  auto b = [&](const char* k, bool& out) {
    if (auto it = j.find(k); it != j.end() && it->is_boolean()) out = *it;
  };
  if (auto it = j.find("account"); it != j.end() && it->is_string()) o.account = *it;
  b("accounts", o.accounts);
  b("streams", o.streams);
  b("consumer", o.consumer);
  b("config", o.config);
  b("leader_only", o.leader_only);
  b("raft", o.raft);
  if (auto it = j.find("offset"); it != j.end() && it->is_number_integer()) o.offset = *it;
  if (auto it = j.find("limit"); it != j.end() && it->is_number_integer()) o.limit = *it;
  return o;
}
}  // namespace

SystemServices::SystemServices(Server& server)
    : server_(server), sys_(server.system_account()), directory_(server.id()) {}

SystemServices::~SystemServices() { stop(); }

void SystemServices::subscribe(const std::string& subject, InternalHandler handler, const std::string& queue) {
  subs_.push_back(server_.subscribe_internal(*sys_, subject, std::move(handler), queue));
}

void SystemServices::start(net::EventLoop& loop) {
  if (!sys_) return;
  loop_ = &loop;
  const std::string id = server_.id();
  auto statsz_handler = [this](const Subscription&, std::string_view, std::string_view reply, std::string_view,
                               std::string_view payload) { handle_statsz_request(reply, payload); };
  subscribe("$SYS.REQ.SERVER.PING", statsz_handler);
  subscribe("$SYS.REQ.SERVER.PING.STATSZ", statsz_handler);
  subscribe("$SYS.REQ.SERVER." + id + ".STATSZ", [this](const Subscription&, std::string_view, std::string_view reply,
                                                        std::string_view, std::string_view) {
    if (!reply.empty()) send_statsz(reply);
  });
  for (const char* kind : kZKinds) {
    std::string k = kind;
    subscribe("$SYS.REQ.SERVER.PING." + k, [this, k](const Subscription&, std::string_view, std::string_view reply,
                                                     std::string_view, std::string_view payload) {
      handle_z_request(k, reply, payload, true);
    });
    subscribe("$SYS.REQ.SERVER." + id + "." + k, [this, k](const Subscription&, std::string_view, std::string_view reply,
                                                           std::string_view, std::string_view payload) {
      handle_z_request(k, reply, payload, false);
    });
  }
  subscribe_remote_servers();
  subscribe_account_requests();
  subscribe_claims_requests();
  loop.post([this] { heartbeat(); });
  conns_timer_ = loop.add_timer(kAccountConnsInterval, [this] { account_conns_heartbeat(); });
}

void SystemServices::stop() {
  if (stopped_.exchange(true)) return;
  if (loop_) send_shutdown();
  for (auto& s : subs_) server_.unsubscribe_internal(*sys_, s);
  subs_.clear();
  for (auto& [acc, s] : local_subs_) {
    s->closed.store(true, std::memory_order_release);
    acc->sublist().remove(s);
  }
  local_subs_.clear();
}

void SystemServices::heartbeat() {
  if (stopped_) return;
  directory_.sweep();
  send_statsz("$SYS.SERVER." + server_.id() + ".STATSZ");
  // Fast at first so peers learn about us quickly, then backing off to 10s (as the reference).
  interval_ = std::min(interval_ * 2, kMaxStatszInterval);
  timer_ = loop_->add_timer(interval_, [this] { heartbeat(); });
}

nlohmann::ordered_json SystemServices::server_info() {
  const Options& o = server_.options();
  nlohmann::ordered_json j;
  j["name"] = server_.name();
  j["host"] = o.host;
  j["id"] = server_.id();
  if (o.cluster.configured && !o.cluster.name.empty()) j["cluster"] = o.cluster.name;
  if (!o.jetstream.domain.empty()) j["domain"] = o.jetstream.domain;
  j["ver"] = kServerVersion;
  if (auto tags = server_.tags(); !tags.empty()) j["tags"] = tags;  // reloadable
  j["seq"] = ++seq_;
  j["jetstream"] = server_.jetstream_enabled();
  j["time"] = util::rfc3339_nano(std::chrono::system_clock::now());
  return j;
}

nlohmann::ordered_json SystemServices::statsz() {
  nlohmann::ordered_json s;
  auto totals = server_.message_totals();
  s["start"] = util::rfc3339_nano(server_.start_time());
  s["mem"] = util::resident_memory_bytes();
  s["cores"] = util::num_cores();
  s["cpu"] = util::cpu_percent();
  s["connections"] = server_.num_clients();
  s["total_connections"] = server_.stats().total_connections.load();
  size_t active = 0;
  for (auto& a : server_.accounts())
    if (a->num_local_connections.load() > 0) ++active;
  s["active_accounts"] = active;
  s["subscriptions"] = server_.num_subscriptions();
  s["sent"] = {{"msgs", totals.out_msgs}, {"bytes", totals.out_bytes}};
  s["received"] = {{"msgs", totals.in_msgs}, {"bytes", totals.in_bytes}};
  s["slow_consumers"] = server_.stats().slow_consumers.load();
  auto routes = server_.route_stats();
  if (!routes.empty()) s["routes"] = routes;
  auto gateways = server_.gateway_stats();
  if (!gateways.empty()) s["gateways"] = gateways;
  s["active_servers"] = server_.active_servers();
  if (auto js = statsz_jetstream(server_); !js.is_null()) s["jetstream"] = js;
  return s;
}

void SystemServices::send_statsz_update() {
  if (!loop_ || stopped_) return;
  loop_->post([this] {
    if (!stopped_) send_statsz("$SYS.SERVER." + server_.id() + ".STATSZ");
  });
}

void SystemServices::send_statsz(std::string_view subject) {
  nlohmann::ordered_json m;
  m["server"] = server_info();
  m["statsz"] = statsz();
  reply(subject, m.dump());
}

void SystemServices::reply(std::string_view subject, const std::string& body) {
  if (subject.empty() || !sys_) return;
  // A request that crossed a gateway has a `_GR_.<cluster>.<server>.<inbox>` reply; the
  // gateway layer sends a publish to it back to that cluster.
  server_.publish_internal(*sys_, subject, {}, {}, body);
}

bool SystemServices::filter_matches(const nlohmann::json& body) const {
  if (!body.is_object()) return true;
  const Options& o = server_.options();
  auto str = [&](const char* k) {
    auto it = body.find(k);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  // Substring matches, as the reference 2.9 does (exact_match arrived in 2.10).
  bool exact = body.contains("exact_match") && body["exact_match"].is_boolean() && body["exact_match"].get<bool>();
  auto match = [&](const std::string& have, const std::string& want) {
    return want.empty() || (exact ? have == want : contains(have, want));
  };
  if (!match(server_.name(), str("server_name"))) return false;
  if (!match(o.cluster.name, str("cluster"))) return false;
  if (!match(o.host, str("host"))) return false;
  if (!match(o.jetstream.domain, str("domain"))) return false;
  if (auto it = body.find("tags"); it != body.end() && it->is_array()) {
    auto tags = server_.tags();
    for (auto& t : *it) {
      if (!t.is_string()) continue;
      if (std::find(tags.begin(), tags.end(), t.get<std::string>()) == tags.end()) return false;
    }
  }
  return true;
}

void SystemServices::handle_statsz_request(std::string_view reply_subject, std::string_view payload) {
  if (reply_subject.empty()) return;
  if (!payload.empty()) {
    auto body = nlohmann::json::parse(payload, nullptr, false);
    if (!body.is_discarded() && !filter_matches(body)) return;
  }
  send_statsz(reply_subject);
}

void SystemServices::handle_z_request(const std::string& kind, std::string_view reply_subject, std::string_view payload,
                                      bool filtered) {
  if (reply_subject.empty()) return;
  nlohmann::json body = nlohmann::json::object();
  if (!payload.empty()) {
    body = nlohmann::json::parse(payload, nullptr, false);
    if (body.is_discarded()) {
      nlohmann::ordered_json m;
      m["server"] = server_info();
      m["error"] = {{"code", 400}, {"description", "invalid request: unable to parse options"}};
      reply(reply_subject, m.dump());
      return;
    }
  }
  if (filtered && !filter_matches(body)) return;
  nlohmann::ordered_json m;
  m["server"] = server_info();
  try {
    if (kind == "IDZ") {
      m["data"] = {{"name", server_.name()}, {"id", server_.id()}};
    } else if (kind == "VARZ") {
      m["data"] = varz(server_);
    } else if (kind == "CONNZ") {
      m["data"] = connz(server_, connz_options_from_json(body));
    } else if (kind == "SUBSZ") {
      m["data"] = subsz(server_, subsz_options_from_json(body));
    } else if (kind == "ROUTEZ") {
      m["data"] = routez(server_);
    } else if (kind == "GATEWAYZ") {
      m["data"] = gatewayz(server_);
    } else if (kind == "LEAFZ") {
      m["data"] = leafz(server_);
    } else if (kind == "ACCOUNTZ") {
      std::string acc = body.is_object() && body.contains("account") && body["account"].is_string() ? body["account"].get<std::string>() : "";
      m["data"] = accountz(server_, acc);
    } else if (kind == "HEALTHZ") {
      int status = 200;
      auto on = [&](const char* k) {
        return body.is_object() && body.contains(k) && body[k].is_boolean() && body[k].get<bool>();
      };
      m["data"] = healthz(server_, &status, on("js-enabled-only") || on("js-enabled"));
    } else if (kind == "JSZ") {
      m["data"] = jsz(server_, jsz_options_from_json(body));
    }
  } catch (const MonitorError& e) {
    m.erase("data");
    m["error"] = {{"code", e.code}, {"description", e.description}};
  }
  reply(reply_subject, m.dump());
}

}  // namespace nats
