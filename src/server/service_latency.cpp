#include "server/service_latency.h"

#include <map>
#include <mutex>
#include <unordered_map>
#include <random>
#include <vector>

#include "cluster/gateway_manager.h"
#include "cluster/leaf.h"
#include "cluster/route_manager.h"
#include "server/client.h"
#include "server/current_reader.h"
#include "server/imports.h"
#include "server/server.h"
#include "subject/subject.h"
#include "util/ids.h"
#include "util/jwt.h"
#include "util/time_format.h"

namespace nats {

namespace {

constexpr const char* kServiceLatencyType = "io.nats.server.metric.v1.service_latency";

using SysClock = std::chrono::system_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SysClock::now().time_since_epoch()).count();
}

std::string time_string(int64_t ns) {
  return util::rfc3339_nano(SysClock::time_point(std::chrono::duration_cast<SysClock::duration>(std::chrono::nanoseconds(ns))));
}

// The reference's cachedClusterName: a server with a gateway but no cluster name is in the
// cluster its gateway names.
std::string cluster_name(Server& srv) {
  auto* routes = srv.routes();
  std::string name = routes ? routes->cluster_name() : srv.options().cluster.name;
  if (name.empty())
    if (auto* gw = srv.gateways()) name = gw->name();
  return name;
}

}  // namespace

// The reference's getClientInfo: account and rtt always; with `detailed` the connection's
// identity, this server's name and cluster, and the clusters its gateways reach ("alts").
// A leaf connection is described by what its CONNECT said, its server being the remote one.
// Empty and zero values are left out (Go's omitempty). Null for what is neither.
nlohmann::ordered_json client_info(Server& srv, Connection* conn, bool detailed) {
  if (auto* leaf = dynamic_cast<cluster::LeafConnection*>(conn)) {
    nlohmann::ordered_json j;
    if (detailed) {
      j["start"] = util::rfc3339_nano(leaf->start_time());
      if (!leaf->peer_ip().empty()) j["host"] = leaf->peer_ip();
      j["id"] = leaf->cid();
    }
    j["acc"] = leaf->account_name();
    if (detailed) {
      if (auto u = leaf->connect_user(); !u.empty()) j["user"] = u;
      // A leaf we accepted named itself in its CONNECT; one we dialled sent no CONNECT.
      if (!leaf->solicited())
        if (auto n = leaf->remote_name(); !n.empty()) j["name"] = n;
      if (auto v = leaf->connect_version(); !v.empty()) j["ver"] = v;
    }
    if (int64_t rtt = leaf->rtt_ns(); rtt > 0) j["rtt"] = rtt;
    if (detailed) {
      add_server_info(srv, conn, j);
      j["kind"] = "Leafnode";
    }
    return ordered_client_info(j);
  }
  auto* c = dynamic_cast<ClientConnection*>(conn);
  if (!c) return nullptr;
  nlohmann::ordered_json j;
  ConnectOptions o;
  if (detailed) {
    o = c->connect_options();
    j["start"] = util::rfc3339_nano(c->start_time());
    if (!c->peer_ip().empty()) j["host"] = c->peer_ip();
    j["id"] = c->cid();
  }
  j["acc"] = c->account_name();
  if (detailed) {
    if (!o.user.empty()) j["user"] = o.user;
    if (!o.name.empty()) j["name"] = o.name;
    if (!o.lang.empty()) j["lang"] = o.lang;
    if (!o.version.empty()) j["ver"] = o.version;
  }
  if (int64_t rtt = c->rtt_ns(); rtt > 0) j["rtt"] = rtt;
  if (detailed) {
    add_server_info(srv, conn, j);
    auto id = c->jwt_identity();
    if (!id.user.empty()) {
      // A JWT user: the JWT itself, its issuer, and the user's name and tags from it.
      const std::string& token = c->user_jwt();
      std::string name_tag;
      nlohmann::json tags;
      auto d = jwt::decode(token);
      if (auto* dec = std::get_if<jwt::Decoded>(&d)) {
        name_tag = dec->name;
        if (auto n = dec->claims.find("nats"); n != dec->claims.end() && n->is_object())
          if (auto t = n->find("tags"); t != n->end() && t->is_array() && !t->empty()) tags = *t;
      }
      if (!token.empty()) j["jwt"] = token;
      j["issuer_key"] = id.signing_key.empty() ? c->account_name() : id.signing_key;
      if (!name_tag.empty()) j["name_tag"] = name_tag;
      if (!tags.is_null()) j["tags"] = tags;
    }
    j["kind"] = "Client";
    j["client_type"] = c->websocket() ? "websocket" : "nats";
  }
  return ordered_client_info(j);
}

void add_server_info(Server& srv, Connection* conn, nlohmann::ordered_json& j) {
  auto* leaf = dynamic_cast<cluster::LeafConnection*>(conn);
  std::string server = leaf ? leaf->remote_name() : srv.name();
  if (!server.empty()) j["server"] = server;
  else j.erase("server");
  if (std::string cl = cluster_name(srv); !cl.empty()) j["cluster"] = cl;
  if (auto* gw = srv.gateways()) {
    auto alts = gw->outbound_names_by_rtt();
    if (!alts.empty()) j["alts"] = alts;
  }
}

nlohmann::ordered_json ordered_client_info(const nlohmann::ordered_json& in) {
  static const char* const kOrder[] = {"start", "host",   "id",         "acc",      "svc",  "user",
                                       "name",  "lang",   "ver",        "rtt",      "server", "cluster",
                                       "alts",  "stop",   "jwt",        "issuer_key", "name_tag", "tags",
                                       "kind",  "client_type", "client_id"};
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const char* k : kOrder)
    if (auto it = in.find(k); it != in.end()) out[k] = *it;
  return out;
}

namespace {

int64_t rtt_of(const nlohmann::ordered_json& info) {
  if (!info.is_object()) return 0;
  auto it = info.find("rtt");
  return it != info.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// The requestor as it was when the request came in (read on its own loop then), with its
// rtt as it is now if it is still there (measured since, maybe).
nlohmann::ordered_json requestor_now(Server&, const TrackedRequest& req) {
  auto j = req.requestor_info;
  if (auto c = req.requestor.lock(); c && j.is_object()) {
    if (int64_t rtt = c->rtt_ns(); rtt > 0) {
      j["rtt"] = rtt;
      j = ordered_client_info(j);  // in its place: after ver, or after acc for the short form
    }
  }
  return j;
}

void publish(Server& srv, Account& exporter, const TrackedRequest& req, nlohmann::ordered_json body) {
  srv.publish_internal(exporter, req.tracking->cfg.subject, {}, {}, body.dump());
}

// The report's head, in the reference's field order (TypedEvent, then status...).
nlohmann::ordered_json report_head(int status, const char* description) {
  nlohmann::ordered_json j;
  j["type"] = kServiceLatencyType;
  j["id"] = util::next_nuid();
  j["timestamp"] = util::rfc3339_nano(SysClock::now());
  j["status"] = status;
  if (description) j["description"] = description;
  return j;
}

// Go's textproto.CanonicalMIMEHeaderKey for the usual header names: each dash-separated
// part starts upper case, the rest lower case.
std::string canonical_key(std::string_view k) {
  std::string out(k);
  bool upper = true;
  for (char& ch : out) {
    ch = upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch)))
               : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    upper = ch == '-';
  }
  return out;
}

// The headers of a "NATS/1.0" block by canonical key, values in order.
std::map<std::string, std::vector<std::string>> parse_headers(std::string_view headers) {
  std::map<std::string, std::vector<std::string>> out;
  size_t pos = headers.find("\r\n");
  if (pos == std::string_view::npos) return out;
  pos += 2;
  while (pos < headers.size()) {
    size_t end = headers.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    std::string_view line = headers.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    out[canonical_key(line.substr(0, colon))].emplace_back(v);
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

// Header-driven sampling (the reference's shouldSample past the percentage): whether the
// tracing headers ask for it, and the headers the report then carries.
std::optional<nlohmann::ordered_json> sampled_by_headers(std::string_view headers) {
  if (headers.empty()) return std::nullopt;
  auto h = parse_headers(headers);
  if (h.empty()) return std::nullopt;
  auto copy = [&](nlohmann::ordered_json& out, const char* key) {
    if (auto it = h.find(key); it != h.end()) out[key] = it->second;
  };
  auto b3 = [&] {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const char* k : {"X-B3-Sampled", "X-B3-Traceid", "X-B3-Parentspanid", "X-B3-Spanid"}) copy(out, k);
    return out;
  };
  if (auto it = h.find("Uber-Trace-Id"); it != h.end() && !it->second.empty()) {
    // "<trace>:<span>:<parent>:<flags>", sampled when the flags' low bit is set.
    auto tk = split(it->second[0], ':');
    if (tk.size() == 4 && !tk[3].empty() && tk[3].size() <= 2) {
      std::string two = tk[3].size() == 1 ? "0" + tk[3] : tk[3];
      char* end = nullptr;
      long flags = std::strtol(two.c_str(), &end, 16);
      if (end == two.c_str() + 2 && (flags & 1)) {
        nlohmann::ordered_json out;
        out["Uber-Trace-Id"] = it->second;
        for (const auto& [k, v] : h)
          if (k.rfind("Uberctx-", 0) == 0) out[k] = v;
        return out;
      }
    }
    return std::nullopt;
  }
  if (auto it = h.find("X-B3-Sampled"); it != h.end() && !it->second.empty()) {
    if (it->second[0] == "1") return b3();
    if (it->second[0] == "0") return std::nullopt;
  }
  if (h.count("X-B3-Traceid")) return b3();
  if (auto it = h.find("B3"); it != h.end() && !it->second.empty()) {
    auto tk = split(it->second[0], '-');
    if ((tk.size() > 2 && tk[2] == "0") || (tk.size() == 1 && tk[0] == "0")) return std::nullopt;
    nlohmann::ordered_json out;
    out["B3"] = it->second;
    return out;
  }
  if (auto it = h.find("Traceparent"); it != h.end() && !it->second.empty()) {
    auto tk = split(it->second[0], '-');
    if (tk.size() == 4 && tk[3] == "01") {
      nlohmann::ordered_json out;
      out["Traceparent"] = it->second;
      copy(out, "Tracestate");
      return out;
    }
  }
  return std::nullopt;
}

// Durations are never reported negative (the reference's sanitizeLatencyMetric: client
// RTTs are estimates).
int64_t non_negative(int64_t ns) { return ns < 0 ? 0 : ns; }

}  // namespace

std::shared_ptr<TrackedRequest> start_tracking(Server& srv, const std::shared_ptr<const LatencyTracking>& t,
                                               std::string_view headers) {
  int sampling = t->cfg.sampling;
  nlohmann::ordered_json header;
  bool sampled = sampling >= 100;
  if (!sampled && sampling > 0) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    // As the reference: rand.Int31n(100) <= sampling, so 50 samples 51 in 100.
    sampled = static_cast<int>(rng() % 100) <= sampling;
  }
  if (!sampled) {
    auto h = sampled_by_headers(headers);
    if (!h) return nullptr;
    header = std::move(*h);
  }
  Connection* conn = current_reader_connection();
  auto info = client_info(srv, conn, t->share);
  if (info.is_null()) return nullptr;  // no client asked: nothing to measure against
  auto req = std::make_shared<TrackedRequest>();
  req->tracking = t;
  req->requestor = conn->weak_from_this();
  req->requestor_info = std::move(info);
  req->start_ns = now_ns();
  req->header = std::move(header);
  return req;
}

std::string tracked_reply_suffix(Server& srv) { return "." + util::hash_name(srv.name()) + ".T"; }

namespace {

constexpr auto kRemoteKeep = std::chrono::minutes(2);  // the default response threshold

// Measurements waiting for their other half, by reply subject. On the responder's server:
// requests delivered (start time, exporting account). On the requestor's server: its own
// half (m1) or the remote one (m2), whichever came first.
struct RemoteTable {
  struct Delivered {
    std::string account;
    int64_t start_ns;
    SysClock::time_point at;
  };
  struct Half {
    nlohmann::ordered_json m1, m2;
    std::string exporter, results;
    SysClock::time_point at;
  };
  std::mutex mu;
  std::unordered_map<std::string, Delivered> delivered;
  std::unordered_map<std::string, Half> halves;
  size_t inserts = 0;

  // mu held: drops what waited longer than any answer is kept for.
  void sweep() {
    if (++inserts % 256) return;
    auto old = SysClock::now() - kRemoteKeep;
    std::erase_if(delivered, [&](const auto& e) { return e.second.at < old; });
    std::erase_if(halves, [&](const auto& e) { return e.second.at < old; });
  }
};

RemoteTable& remote_table() {
  static RemoteTable t;
  return t;
}

// The reference's merge: m2 (the responder's server) knows the service time and the
// responder; m1 (the requestor's) knows the total; the system latency is what remains.
void merge_and_publish(Server& srv, RemoteTable::Half h) {
  auto& m1 = h.m1;
  const auto& m2 = h.m2;
  int64_t m2_service = m2.value("service", int64_t{0});
  int64_t rtt = 0;
  if (auto r = m2.find("responder"); r != m2.end() && r->is_object()) {
    rtt = rtt_of(*r);
    // Placed where the reference's struct has it: after requestor, before start.
    nlohmann::ordered_json out;
    for (auto it = m1.begin(); it != m1.end(); ++it) {
      if ((it.key() == "start" || it.key() == "header") && !out.contains("responder")) out["responder"] = *r;
      out[it.key()] = *it;
    }
    m1 = std::move(out);
  }
  int64_t m1_service = m1.value("service", int64_t{0});
  m1["system"] = non_negative(m1_service - (m2_service + rtt));
  m1["service"] = non_negative(m2_service);
  if (auto acc = srv.lookup_account(h.exporter))
    srv.publish_internal(*acc, h.results, {}, {}, m1.dump());
}

// Stores one half; publishes the merged report if the other one is there.
void add_half(Server& srv, const std::string& reply, nlohmann::ordered_json m, bool is_m1, const std::string& exporter,
              const std::string& results) {
  auto& t = remote_table();
  std::optional<RemoteTable::Half> done;
  {
    std::lock_guard lk(t.mu);
    auto [it, fresh] = t.halves.try_emplace(reply);
    auto& h = it->second;
    if (fresh) {
      t.sweep();
      h.at = SysClock::now();
    }
    (is_m1 ? h.m1 : h.m2) = std::move(m);
    if (!exporter.empty()) h.exporter = exporter;
    if (!results.empty()) h.results = results;
    if (!h.m1.is_null() && !h.m2.is_null()) {
      done = std::move(h);
      t.halves.erase(it);
    }
  }
  if (done) merge_and_publish(srv, std::move(*done));
}

std::string remote_subject(std::string_view reply) {
  // "_R_.<pfx>.<token>.<hash>.T": the requestor server's hash is the next to last token.
  std::string_view rest = reply.substr(0, reply.size() - 2);
  return "$SYS.LATENCY.M2." + std::string(rest.substr(rest.rfind('.') + 1));
}

}  // namespace

void note_tracked_delivery(Server& srv, Connection& client, std::string_view account, std::string_view subject,
                           std::string_view reply) {
  // Only requests that came from another server: a local requester's server measures alone.
  Connection* from = current_reader_connection();
  if (!from || from->kind() == ConnKind::Client || from->kind() == ConnKind::System) return;
  if (reply.rfind("_R_.", 0) != 0) return;
  (void)client;
  auto acc = srv.lookup_account(std::string(account));
  if (!acc) return;
  bool exported = false;
  {
    auto lk = lock_account_wiring();
    for (const auto& e : acc->service_exports)
      if (subject_matches(e.subject, subject)) exported = true;
  }
  if (!exported) return;
  auto& t = remote_table();
  std::lock_guard lk(t.mu);
  t.sweep();
  t.delivered[std::string(reply)] = {std::string(account), now_ns(), SysClock::now()};
}

void note_tracked_answer(Server& srv, Connection& client, std::string_view subject) {
  if (subject.rfind("_R_.", 0) != 0) return;
  RemoteTable::Delivered d;
  {
    auto& t = remote_table();
    std::lock_guard lk(t.mu);
    auto it = t.delivered.find(std::string(subject));
    if (it == t.delivered.end()) return;
    d = std::move(it->second);
    t.delivered.erase(it);
  }
  auto sys = srv.system_account();
  if (!sys) return;
  auto responder = client_info(srv, &client, true);
  int64_t rtt = rtt_of(responder);
  int64_t service = non_negative(now_ns() - d.start_ns - rtt);
  // The remoteLatency message, its m2 a ServiceLatency as Go encodes one with its event
  // fields unset.
  nlohmann::ordered_json m2;
  m2["type"] = "";
  m2["id"] = "";
  m2["timestamp"] = "0001-01-01T00:00:00Z";
  m2["status"] = 200;
  if (!responder.is_null()) m2["responder"] = responder;
  m2["start"] = time_string(d.start_ns);
  m2["service"] = service;
  m2["system"] = 0;
  m2["total"] = service + rtt;
  nlohmann::ordered_json rl;
  rl["account"] = d.account;
  // The request came over a gateway: named by the reply it crossed with (`_GR_.` prefixed),
  // as the reference's; the requestor's server takes the prefix off.
  std::string req_id;
  if (auto* gw = srv.gateways()) req_id = gw->recorded_reply(d.account, subject);
  rl["req_id"] = req_id.empty() ? std::string(subject) : req_id;
  rl["m2"] = std::move(m2);
  srv.publish_internal(*sys, remote_subject(subject), {}, {}, rl.dump());
}

void subscribe_remote_latency(Server& srv) {
  auto sys = srv.system_account();
  if (!sys) return;
  Server* s = &srv;
  srv.subscribe_internal(*sys, "$SYS.LATENCY.M2." + util::hash_name(srv.name()),
                         [s](const Subscription&, std::string_view, std::string_view, std::string_view,
                             std::string_view payload) {
                           auto j = nlohmann::ordered_json::parse(payload, nullptr, false);
                           if (!j.is_object()) return;
                           auto reply = j.find("req_id");
                           auto m2 = j.find("m2");
                           if (reply == j.end() || !reply->is_string() || m2 == j.end() || !m2->is_object()) return;
                           std::string r = reply->get<std::string>();
                           if (cluster::GatewayManager::is_gateway_reply(r))
                             r = std::string(cluster::GatewayManager::strip_reply(r));
                           // Only for requests this server is measuring (its m1 is, or will be,
                           // stored by report_response); others expire unmatched.
                           add_half(*s, r, *m2, false, {}, {});
                         });
}

void report_response(Server& srv, Account& exporter, TrackedRequest& req, bool internal,
                     std::chrono::system_clock::time_point received, std::string_view reply) {
  int64_t ts = std::chrono::duration_cast<std::chrono::nanoseconds>(received.time_since_epoch()).count();
  Connection* conn = internal ? nullptr : current_reader_connection();
  // Answered on another server: its measurement completes ours (merge_and_publish).
  bool remote = conn && (conn->kind() == ConnKind::Router || conn->kind() == ConnKind::Gateway ||
                         conn->kind() == ConnKind::Leaf);
  auto requestor = requestor_now(srv, req);
  auto responder = client_info(srv, conn, true);
  int64_t req_rtt = rtt_of(requestor), resp_rtt = rtt_of(responder);
  int64_t service_rtt = ts - req.start_ns;
  int64_t system = 0, total = req_rtt + service_rtt;
  if (resp_rtt > 0) {
    system = now_ns() - ts;
    total += system;
  }
  auto j = report_head(200, nullptr);
  if (!requestor.is_null()) j["requestor"] = requestor;
  if (!responder.is_null()) j["responder"] = responder;
  if (!req.header.is_null()) j["header"] = req.header;
  j["start"] = time_string(req.start_ns - req_rtt);
  j["service"] = non_negative(service_rtt - resp_rtt);
  j["system"] = non_negative(system);
  j["total"] = total;
  if (remote) {
    add_half(srv, std::string(reply), std::move(j), true, exporter.name(), req.tracking->cfg.subject);
    return;
  }
  publish(srv, exporter, req, std::move(j));
}

void report_error(Server& srv, Account& exporter, TrackedRequest& req, int status) {
  const char* what = status == 400   ? "Bad Request"
                     : status == 408 ? "Request Timeout"
                     : status == 503 ? "Service Unavailable"
                                     : "Service Timeout";
  auto requestor = requestor_now(srv, req);
  auto j = report_head(status, what);
  if (!requestor.is_null()) j["requestor"] = requestor;
  if (!req.header.is_null()) j["header"] = req.header;
  // 400 is reported as the request arrives: its start is now, less the requestor's rtt.
  int64_t start = status == 400 ? now_ns() : req.start_ns;
  j["start"] = time_string(start - rtt_of(requestor));
  j["service"] = 0;
  j["system"] = 0;
  j["total"] = 0;
  publish(srv, exporter, req, std::move(j));
}

}  // namespace nats
