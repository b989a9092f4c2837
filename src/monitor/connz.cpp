// /connz: client (and leaf, as 2.9.10) connections, open or closed, sorted and paged.
#include <algorithm>
#include <chrono>
#include <functional>
#include <string_view>

#include "config/duration.h"
#include "monitor/endpoints.h"
#include "cluster/leaf.h"
#include "cluster/leaf_manager.h"
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

namespace {
// One /connz entry: an open or closed client, or a leaf (2.9.10 lists closed leafs with the
// closed clients, open ones only under an account filter; else they are in /leafz). The
// sort keys are read once.
struct Row {
  std::shared_ptr<ClientConnection> client;
  std::shared_ptr<const LeafConnInfo> leaf;
  uint64_t cid = 0;
  std::chrono::system_clock::time_point start, last, stop;
  size_t subs = 0, pending = 0;
  uint64_t in_msgs = 0, out_msgs = 0, in_bytes = 0, out_bytes = 0;
  int64_t rtt = 0;
  bool closed = false;  // from the closed ring
  std::string_view reason;  // close_reason_text: static storage
};

Row client_row(std::shared_ptr<ClientConnection> c) {
  Row r;
  r.cid = c->cid();
  r.start = c->start_time();
  r.last = c->last_activity();
  r.stop = c->stop_time();
  r.subs = c->num_subscriptions();
  r.pending = c->pending_bytes();
  r.in_msgs = c->in_msgs.load();
  r.out_msgs = c->out_msgs.load();
  r.in_bytes = c->in_bytes.load();
  r.out_bytes = c->out_bytes.load();
  r.rtt = c->rtt_ns();
  r.reason = close_reason_text(c->close_reason());
  r.client = std::move(c);
  return r;
}

Row leaf_row(std::shared_ptr<const LeafConnInfo> l) {
  Row r;
  r.cid = l->cid;
  r.start = l->start;
  r.last = l->last_activity;
  r.stop = l->stop;
  r.subs = l->subs;
  r.pending = l->pending;
  r.in_msgs = l->in_msgs;
  r.out_msgs = l->out_msgs;
  r.in_bytes = l->in_bytes;
  r.out_bytes = l->out_bytes;
  r.rtt = l->rtt_ns;
  r.reason = close_reason_text(l->reason);
  r.leaf = std::move(l);
  return r;
}

// A leaf's entry: ConnInfo as 2.9.10 fills it for a LEAF (kind "Leafnode", no type,
// no lang; name and version from the CONNECT of a leaf we accepted).
Json leaf_entry(const LeafConnInfo& l, const ConnzOptions& o, std::chrono::system_clock::time_point now) {
  Json e;
  e["cid"] = l.cid;
  e["kind"] = "Leafnode";
  e["ip"] = l.ip;
  e["port"] = l.port;
  e["start"] = util::rfc3339_nano(l.start);
  e["last_activity"] = util::rfc3339_nano(l.last_activity);
  if (l.closed) {
    e["stop"] = util::rfc3339_nano(l.stop);
    e["reason"] = close_reason_text(l.reason);
  }
  e["rtt"] = config::format_go_duration(std::chrono::nanoseconds(l.rtt_ns));
  auto end = l.closed ? l.stop : now;
  e["uptime"] = util::uptime_string(end - l.start);
  e["idle"] = util::uptime_string(end - l.last_activity);
  e["pending_bytes"] = l.pending;
  e["in_msgs"] = l.in_msgs;
  e["out_msgs"] = l.out_msgs;
  e["in_bytes"] = l.in_bytes;
  e["out_bytes"] = l.out_bytes;
  e["subscriptions"] = l.subs;
  if (!l.name.empty()) e["name"] = l.name;
  if (!l.version.empty()) e["version"] = l.version;
  if (!l.tls_version.empty()) {
    e["tls_version"] = l.tls_version;
    e["tls_cipher_suite"] = l.tls_cipher_suite;
  }
  if (o.auth) {
    if (!l.user.empty()) e["authorized_user"] = l.user;
    // The reference names the account only when it is not the global one.
    if (!l.account.empty() && l.account != "$G") e["account"] = l.account;
  }
  return e;
}
}  // namespace

Json connz(Server& s, const ConnzOptions& o) {
  auto now = std::chrono::system_clock::now();
  std::vector<Row> conns;
  if (o.state == "open" || o.state == "any" || o.state == "all") {
    for (auto& c : s.clients_snapshot()) conns.push_back(client_row(std::move(c)));
    // Filtered by account, 2.9.10 walks the account's connections, its leafs included; by cid
    // it looks among the clients only.
    if (!o.account.empty() && !o.cid && s.leafs())
      for (auto& l : s.leafs()->leafs())
        if (l->account_name() == o.account) conns.push_back(leaf_row(std::make_shared<const LeafConnInfo>(l->conn_info())));
  }
  if (o.state == "closed" || o.state == "any" || o.state == "all") {
    for (auto& c : s.closed_clients_snapshot()) {
      conns.push_back(client_row(std::move(c)));
      conns.back().closed = true;
    }
    for (auto& l : s.closed_leafs_snapshot()) {
      conns.push_back(leaf_row(std::move(l)));
      conns.back().closed = true;
    }
  }
  conns.erase(std::remove_if(conns.begin(), conns.end(),
                             [&](const Row& r) {
                               if (o.cid && r.cid != o.cid) return true;
                               // 2.9.10 keeps no account name for a closed connection of the
                               // global account, so acc=$G does not match one.
                               if (r.closed && o.account == "$G") return true;
                               if (r.leaf) {
                                 if (!o.account.empty() && r.leaf->account != o.account) return true;
                                 if (!o.user.empty() && r.leaf->user != o.user) return true;
                                 return false;
                               }
                               const auto& c = r.client;
                               if (!o.account.empty() && c->account_name() != o.account) return true;
                               if (!o.user.empty() && c->connect_options().user != o.user) return true;
                               return false;
                             }),
              conns.end());

  using C = Row;
  std::function<bool(const C&, const C&)> less;
  const auto& k = o.sort;
  if (k == "cid") less = [](const C& a, const C& b) { return a.cid < b.cid; };
  else if (k == "start") less = [](const C& a, const C& b) { return a.start < b.start; };
  else if (k == "subs") less = [](const C& a, const C& b) { return a.subs > b.subs; };
  else if (k == "pending") less = [](const C& a, const C& b) { return a.pending > b.pending; };
  else if (k == "msgs_to") less = [](const C& a, const C& b) { return a.out_msgs > b.out_msgs; };
  else if (k == "msgs_from") less = [](const C& a, const C& b) { return a.in_msgs > b.in_msgs; };
  else if (k == "bytes_to") less = [](const C& a, const C& b) { return a.out_bytes > b.out_bytes; };
  else if (k == "bytes_from") less = [](const C& a, const C& b) { return a.in_bytes > b.in_bytes; };
  else if (k == "last") less = [](const C& a, const C& b) { return a.last > b.last; };
  else if (k == "idle") less = [](const C& a, const C& b) { return a.last < b.last; };
  else if (k == "uptime") less = [](const C& a, const C& b) { return a.start < b.start; };
  else if (k == "stop") less = [](const C& a, const C& b) { return a.stop > b.stop; };
  else if (k == "reason") less = [](const C& a, const C& b) { return a.reason < b.reason; };
  else if (k == "rtt") less = [](const C& a, const C& b) { return a.rtt > b.rtt; };
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
    if (conns[i].leaf) {
      list.push_back(leaf_entry(*conns[i].leaf, o, now));
      continue;
    }
    auto& c = conns[i].client;
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
