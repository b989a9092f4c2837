// /jsz, /healthz and the JetStream blocks of /varz and STATSZ, in the reference 2.9.10's
// shapes (monitor.go Jsz/healthz, events.go JetStreamVarz, jetstream.go JetStreamConfig and
// JetStreamStats). The numbers come from JetStream::usage()/limits(); the meta_cluster part
// from the meta group.
#include <chrono>

#include "config/options.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/jetstream.h"
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
}  // namespace

Json jsz(Server& s, const JszOptions& o) {
  Json j;
  j["server_id"] = s.id();
  j["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
  if (!s.jetstream()) {
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
  if (!s.jetstream()) return fail("unavailable", "JetStream not enabled");
  if (js_enabled_only) return Json{{"status", "ok"}};
  if (auto* mg = s.meta_group()) {
    if (!mg->leader_known()) return fail("unavailable", "JetStream has not established contact with a meta leader");
    if (!mg->current()) return fail("unavailable", "JetStream is not current with the meta leader");
  }
  return Json{{"status", "ok"}};
}

}  // namespace nats
