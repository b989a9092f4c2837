// /jsz, /healthz and the JetStream blocks of /varz and STATSZ, in the reference 2.9.10's
// shapes (monitor.go Jsz/healthz, events.go JetStreamVarz, jetstream.go JetStreamConfig and
// JetStreamStats). The numbers come from JetStream::usage()/limits(); the meta_cluster part
// from the meta group.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "config/options.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/consumer_api.h"
#include "jetstream/json_util.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "jetstream/stream_api.h"
#include "server/account.h"
#include "monitor/endpoints.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/time_format.h"

namespace nats {

namespace {
Json js_config(Server& s, bool with_store_dir) {
  auto* js = s.jetstream();
  const auto& o = s.options().jetstream;
  Json c;
  c["max_memory"] = js->limits().max_memory;
  c["max_storage"] = js->limits().max_store;
  // The reference reports the directory it actually uses: <store_dir>/jetstream.
  if (with_store_dir) c["store_dir"] = js->store_dir() + "/jetstream";
  if (!o.domain.empty()) c["domain"] = o.domain;
  if (!o.unique_tag.empty()) c["unique_tag"] = o.unique_tag;
  return c;
}

// JetStreamStats. ha_assets counts Raft groups as the reference's numRaftNodes() does; the
// meta group is ours to count (JetStream::usage() counts stream/consumer groups, if any).
void js_stats(Server& s, Json& j) {
  auto u = s.jetstream()->usage();
  j["memory"] = u.memory;
  j["storage"] = u.store;
  j["reserved_memory"] = u.reserved_memory;
  j["reserved_storage"] = u.reserved_store;
  j["accounts"] = u.accounts;
  j["ha_assets"] = u.ha_assets + (s.meta_group() ? 1 : 0);
  Json api{{"total", u.api_total}, {"errors", u.api_errors}};
  if (u.api_inflight) api["inflight"] = u.api_inflight;
  j["api"] = api;
}

// MetaClusterInfo: on every clustered server; replicas only on the leader, without itself.
// `peer` is getHash(leader name) even while there is no leader (as the reference).
Json meta_cluster(Server& s) {
  auto* mg = s.meta_group();
  if (!mg) return nullptr;
  auto snap = mg->snapshot();
  Json m;
  if (!snap.cluster_name.empty()) m["name"] = snap.cluster_name;
  if (!snap.leader.empty()) m["leader"] = snap.leader;
  m["peer"] = util::hash_name(snap.leader);
  if (!snap.replicas.empty()) {
    Json reps = Json::array();
    for (const auto& r : snap.replicas) {
      Json p;
      p["name"] = r.name;
      p["current"] = r.current;
      if (r.offline) p["offline"] = true;
      p["active"] = r.active_ns;
      if (r.lag) p["lag"] = r.lag;
      p["peer"] = r.peer;
      reps.push_back(p);
    }
    m["replicas"] = reps;
  }
  m["cluster_size"] = snap.cluster_size;
  return m;
}
// AccountDetail (monitor.go accountDetail): usage and API counters of one account, with its
// streams (and their consumers) when asked. Replicated and R1 streams carry `cluster`.
Json account_detail(Server& s, jetstream::JsAccount& jsa, bool streams, bool consumers, bool config) {
  auto* js = s.jetstream();
  std::vector<jetstream::StreamPtr> list;
  {
    std::lock_guard lk(jsa.mu);
    for (auto& [_, st] : jsa.streams) list.push_back(st);
  }
  uint64_t mem = 0, store = 0;
  for (auto& st : list) {
    uint64_t b = st->store().state().bytes;
    (st->config().storage == jetstream::StorageType::memory ? mem : store) += b;
  }
  Json d;
  d["name"] = jsa.account.name();
  d["id"] = jsa.account.name();
  d["memory"] = mem;
  d["storage"] = store;
  // No account limits: the reference reports its -1 limits as unsigned.
  d["reserved_memory"] = UINT64_MAX;
  d["reserved_storage"] = UINT64_MAX;
  d["accounts"] = 0;
  d["ha_assets"] = 0;
  d["api"] = Json{{"total", jsa.api_total.load()}, {"errors", jsa.api_errors.load()}};
  if (!streams || list.empty()) return d;
  Json details = Json::array();
  for (auto& st : list) {
    Json sd;
    sd["name"] = st->name();
    sd["created"] = jetstream::format_time(st->created_ns());
    if (auto c = jetstream::stream_cluster_json(*js, *st); !c.is_null()) sd["cluster"] = std::move(c);
    if (config) sd["config"] = st->config().to_json();
    sd["state"] = st->state_json(false, {});
    if (consumers) {
      Json cs = Json::array();
      for (auto& sc : st->consumers())
        if (auto c = std::dynamic_pointer_cast<jetstream::Consumer>(sc)) {
          Json ci = jetstream::consumer_info_json(*js, c);
          if (!config) ci.erase("config");
          cs.push_back(std::move(ci));
        }
      if (!cs.empty()) sd["consumer_detail"] = std::move(cs);
    }
    details.push_back(std::move(sd));
  }
  d["stream_detail"] = std::move(details);
  return d;
}

// The account_details list of /jsz: one account (acc=), or all with accounts/streams/consumers.
Json account_details(Server& s, const JszOptions& o) {
  bool streams = o.streams || o.consumer, accounts = o.accounts || streams;
  auto all = s.jetstream()->accounts_snapshot();
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->account.name() < b->account.name(); });
  std::vector<jetstream::JsAccount*> picked;
  for (auto* a : all)
    if (!o.account.empty() && a->account.name() == o.account) picked = {a};
  if (picked.empty() && accounts) {
    for (size_t i = static_cast<size_t>(std::max(o.offset, 0)); i < all.size(); ++i) picked.push_back(all[i]);
    if (o.limit > 0 && picked.size() > static_cast<size_t>(o.limit)) picked.resize(static_cast<size_t>(o.limit));
  }
  if (picked.empty()) return nullptr;
  Json out = Json::array();
  for (auto* a : picked) out.push_back(account_detail(s, *a, streams, o.consumer, o.config));
  return out;
}
}  // namespace

Json jsz(Server& s, const JszOptions& o) {
  Json j;
  j["server_id"] = s.id();
  j["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
  if (!s.jetstream() || !s.jetstream()->enabled()) {  // not configured, or disabled since
    if (o.leader_only) throw MonitorError{400, "not leader"};
    j["disabled"] = true;
    j["config"] = Json{{"max_memory", 0}, {"max_storage", 0}};
    j["memory"] = 0;
    j["storage"] = 0;
    j["reserved_memory"] = 0;
    j["reserved_storage"] = 0;
    j["accounts"] = 0;
    j["ha_assets"] = 0;
    j["api"] = Json{{"total", 0}, {"errors", 0}};
    j["streams"] = 0;
    j["consumers"] = 0;
    j["messages"] = 0;
    j["bytes"] = 0;
    return j;
  }
  if (o.leader_only && s.meta_group() && !s.meta_group()->is_leader()) throw MonitorError{400, "not leader"};
  j["config"] = js_config(s, true);
  js_stats(s, j);
  auto u = s.jetstream()->usage();
  j["streams"] = u.streams;
  j["consumers"] = u.consumers;
  j["messages"] = u.messages;
  j["bytes"] = u.bytes;
  if (auto m = meta_cluster(s); !m.is_null()) j["meta_cluster"] = m;
  if (auto d = account_details(s, o); !d.is_null()) j["account_details"] = std::move(d);
  return j;
}

Json varz_jetstream(Server& s) {
  if (!s.jetstream()) return Json::object();
  Json j;
  j["config"] = js_config(s, true);
  Json stats;
  js_stats(s, stats);
  j["stats"] = stats;
  if (auto m = meta_cluster(s); !m.is_null()) j["meta"] = m;
  return j;
}

Json statsz_jetstream(Server& s) {
  if (!s.jetstream()) return nullptr;
  Json j;
  j["config"] = js_config(s, false);
  Json stats;
  js_stats(s, stats);
  j["stats"] = stats;
  if (auto m = meta_cluster(s); !m.is_null()) j["meta"] = m;
  return j;
}

Json healthz(Server& s, int* http_status, bool js_enabled_only) {
  auto fail = [&](const char* status, const std::string& error) {
    if (http_status) *http_status = 503;
    return Json{{"status", status}, {"error", error}};
  };
  if (http_status) *http_status = 200;
  if (!s.options().jetstream.enabled) return Json{{"status", "ok"}};
  if (!s.jetstream() || !s.jetstream()->enabled()) return fail("unavailable", "JetStream not enabled");
  if (js_enabled_only) return Json{{"status", "ok"}};
  if (auto* mg = s.meta_group()) {
    if (!mg->leader_known()) return fail("unavailable", "JetStream has not established contact with a meta leader");
    if (!mg->current()) return fail("unavailable", "JetStream is not current with the meta leader");
  }
  if (auto* c = s.jetstream()->cluster())
    if (auto e = c->health_error(); !e.empty()) return fail("unavailable", e);
  return Json{{"status", "ok"}};
}

}  // namespace nats
