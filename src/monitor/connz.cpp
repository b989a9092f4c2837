// /connz: client connections, open or closed, sorted and paged.
#include <algorithm>
#include <chrono>
#include <functional>

#include "config/duration.h"
#include "monitor/endpoints.h"
#include "server/client.h"
#include "server/server.h"
#include "util/time_format.h"

namespace nats {

namespace {
bool truthy(const std::string& v) { return v == "1" || v == "true" || v == "t" || v == "TRUE" || v == "True"; }

int to_int(const std::string& v, const char* name) {
  try {
    size_t pos = 0;
    int n = std::stoi(v, &pos);
    if (pos != v.size()) throw 1;
    return n;
  } catch (...) {
    throw MonitorError{400, std::string("invalid value for ") + name};
  }
}

Json sub_detail(const Subscription& sub, uint64_t cid, const std::string& account) {
  Json d;
  if (!account.empty()) d["account"] = account;
  d["subject"] = sub.subject;
  if (!sub.queue.empty()) d["qgroup"] = sub.queue;
  d["sid"] = sub.sid;
  if (sub.max_msgs.load() > 0) d["max"] = sub.max_msgs.load();
  d["msgs"] = sub.delivered.load();
  d["cid"] = cid;
  return d;
}
}  // namespace

ConnzOptions connz_options_from_query(const std::multimap<std::string, std::string>& q) {
  ConnzOptions o;
  for (auto& [k, v] : q) {
    if (k == "sort") o.sort = v;
    else if (k == "subs") {
      if (v == "detail") o.subs_detail = true;
      else o.subs = truthy(v);
    } else if (k == "auth") o.auth = truthy(v);
    else if (k == "offset") o.offset = to_int(v, "offset");
    else if (k == "limit") o.limit = to_int(v, "limit");
    else if (k == "cid") o.cid = static_cast<uint64_t>(to_int(v, "cid"));
    else if (k == "state") o.state = v;
    else if (k == "user") o.user = v;
    else if (k == "acc") o.account = v;
  }
  static const char* kSorts[] = {"cid", "start", "subs", "pending", "msgs_to", "msgs_from", "bytes_to",
                                 "bytes_from", "last", "idle", "uptime", "stop", "reason", "rtt"};
  if (std::find_if(std::begin(kSorts), std::end(kSorts), [&](const char* s) { return o.sort == s; }) == std::end(kSorts))
    throw MonitorError{400, "invalid sorting option: " + o.sort};
  if (o.state != "open" && o.state != "closed" && o.state != "any" && o.state != "all")
    throw MonitorError{400, "invalid state option: " + o.state};
  if ((o.sort == "stop" || o.sort == "reason") && o.state == "open")
    throw MonitorError{400, "sort by stop or reason only valid on closed connections"};
  if (o.limit <= 0) o.limit = 1024;
  if (o.offset < 0) o.offset = 0;
  return o;
}

Json connz(Server& s, const ConnzOptions& o) {
  auto now = std::chrono::system_clock::now();
  std::vector<std::shared_ptr<ClientConnection>> conns;
  if (o.state == "open" || o.state == "any" || o.state == "all") {
    auto open = s.clients_snapshot();
    conns.insert(conns.end(), open.begin(), open.end());
  }
  if (o.state == "closed" || o.state == "any" || o.state == "all") {
    auto closed = s.closed_clients_snapshot();
    conns.insert(conns.end(), closed.begin(), closed.end());
  }
  conns.erase(std::remove_if(conns.begin(), conns.end(),
                             [&](const auto& c) {
                               if (o.cid && c->cid() != o.cid) return true;
                               if (!o.account.empty() && c->account_name() != o.account) return true;
                               if (!o.user.empty() && c->connect_options().user != o.user) return true;
                               return false;
                             }),
              conns.end());

  using C = std::shared_ptr<ClientConnection>;
  std::function<bool(const C&, const C&)> less;
  const auto& k = o.sort;
  if (k == "cid") less = [](const C& a, const C& b) { return a->cid() < b->cid(); };
  else if (k == "start") less = [](const C& a, const C& b) { return a->start_time() < b->start_time(); };
  else if (k == "subs") less = [](const C& a, const C& b) { return a->num_subscriptions() > b->num_subscriptions(); };
  else if (k == "pending") less = [](const C& a, const C& b) { return a->pending_bytes() > b->pending_bytes(); };
  else if (k == "msgs_to") less = [](const C& a, const C& b) { return a->out_msgs.load() > b->out_msgs.load(); };
  else if (k == "msgs_from") less = [](const C& a, const C& b) { return a->in_msgs.load() > b->in_msgs.load(); };
  else if (k == "bytes_to") less = [](const C& a, const C& b) { return a->out_bytes.load() > b->out_bytes.load(); };
  else if (k == "bytes_from") less = [](const C& a, const C& b) { return a->in_bytes.load() > b->in_bytes.load(); };
  else if (k == "last") less = [](const C& a, const C& b) { return a->last_activity() > b->last_activity(); };
  else if (k == "idle") less = [](const C& a, const C& b) { return a->last_activity() < b->last_activity(); };
  else if (k == "uptime") less = [](const C& a, const C& b) { return a->start_time() < b->start_time(); };
  else if (k == "stop") less = [](const C& a, const C& b) { return a->stop_time() > b->stop_time(); };
  else if (k == "reason") less = [](const C& a, const C& b) {
    return std::string(close_reason_text(a->close_reason())) < close_reason_text(b->close_reason());
  };
  else if (k == "rtt") less = [](const C& a, const C& b) { return a->rtt() > b->rtt(); };
  std::stable_sort(conns.begin(), conns.end(), less);

  Json j;
  j["server_id"] = s.id();
  j["now"] = util::rfc3339_nano(now);
  size_t total = conns.size();
  size_t first = std::min<size_t>(o.offset, total);
  size_t last = std::min<size_t>(first + o.limit, total);
  j["num_connections"] = last - first;
  j["total"] = total;
  j["offset"] = o.offset;
  j["limit"] = o.limit;
  Json list = Json::array();
  for (size_t i = first; i < last; ++i) {
    auto& c = conns[i];
    auto co = c->connect_options();
    bool closed = c->closing();
    Json e;
    e["cid"] = c->cid();
    e["kind"] = "Client";
    e["type"] = "nats";
    e["ip"] = c->peer_ip();
    e["port"] = c->peer_port();
    e["start"] = util::rfc3339_nano(c->start_time());
    e["last_activity"] = util::rfc3339_nano(c->last_activity());
    if (closed && c->stop_time().time_since_epoch().count()) {
      e["stop"] = util::rfc3339_nano(c->stop_time());
      e["reason"] = close_reason_text(c->close_reason());
    }
    e["rtt"] = config::format_go_duration(c->rtt());
    auto end = closed && c->stop_time().time_since_epoch().count() ? c->stop_time() : now;
    e["uptime"] = util::uptime_string(end - c->start_time());
    e["idle"] = util::uptime_string(end - c->last_activity());
    e["pending_bytes"] = c->pending_bytes();
    e["in_msgs"] = c->in_msgs.load();
    e["out_msgs"] = c->out_msgs.load();
    e["in_bytes"] = c->in_bytes.load();
    e["out_bytes"] = c->out_bytes.load();
    e["subscriptions"] = c->num_subscriptions();
    if (!co.name.empty()) e["name"] = co.name;
    if (!co.lang.empty()) e["lang"] = co.lang;
    if (!co.version.empty()) e["version"] = co.version;
    if (auto v = c->tls_version(); !v.empty()) {
      e["tls_version"] = v;
      e["tls_cipher_suite"] = c->tls_cipher_suite();
    }
    if (o.auth) {
      // The reference's TLSPeerCerts, shown with auth only.
      if (auto certs = c->tls_peer_certs(); !certs.empty()) {
        Json arr = Json::array();
        for (const auto& pc : certs) {
          Json one = Json::object();
          if (!pc.subject.empty()) one["subject"] = pc.subject;
          one["spki_sha256"] = pc.subject_pk_sha256;
          one["cert_sha256"] = pc.cert_sha256;
          arr.push_back(std::move(one));
        }
        e["tls_peer_certs"] = arr;
      }
      if (!co.user.empty()) e["authorized_user"] = co.user;
      // The reference names the account only when it is not the global one ($G).
      if (auto acc = c->account_name(); !acc.empty() && acc != kGlobalAccount) e["account"] = acc;
    }
    if (o.subs || o.subs_detail) {
      auto subs = c->subscriptions();
      if (!subs.empty()) {
        Json arr = Json::array();
        for (auto& sub : subs) {
          // The reference saves a closed connection's subscriptions with their account (also
          // $G) and lists an open one's without it.
          if (o.subs_detail) arr.push_back(sub_detail(*sub, c->cid(), closed ? c->account_name() : ""));
          else arr.push_back(sub->subject);
        }
        e[o.subs_detail ? "subscriptions_list_detail" : "subscriptions_list"] = arr;
      }
    }
    list.push_back(std::move(e));
  }
  j["connections"] = list;
  return j;
}

}  // namespace nats
