#include "jetstream/cluster/offline_info.h"

#include "jetstream/consumer_config.h"
#include "jetstream/json_util.h"

namespace nats::jetstream {

using ojson = nlohmann::ordered_json;

namespace {

ojson offline_cluster(const std::string& cluster, const RaftGroupSpec& g, const OfflinePeers& offline) {
  ojson c;
  if (!cluster.empty()) c["name"] = cluster;
  ojson reps = ojson::array();
  for (const auto& p : g.peers) {
    auto it = offline.find(p);
    if (it == offline.end() || it->second.empty()) continue;
    reps.push_back({{"name", it->second}, {"current", false}, {"offline", true}, {"active", 0}, {"peer", p}});
  }
  if (!reps.empty()) c["replicas"] = std::move(reps);
  return c;
}

ojson seq_info() { return {{"consumer_seq", 0}, {"stream_seq", 0}}; }

}  // namespace

bool all_peers_offline(const RaftGroupSpec& g, const OfflinePeers& offline) {
  if (g.peers.empty()) return false;
  for (const auto& p : g.peers)
    if (!offline.count(p)) return false;
  return true;
}

ojson offline_stream_info(const StreamAssignment& sa, const std::string& cluster, const OfflinePeers& offline) {
  ojson j;
  j["config"] = sa.config.to_json();
  j["created"] = format_time(sa.created_ns);
  j["state"] = {{"messages", 0},   {"bytes", 0},    {"first_seq", 0},     {"first_ts", format_time(0)},
                {"last_seq", 0},   {"last_ts", format_time(0)}, {"consumer_count", 0}};
  j["cluster"] = offline_cluster(cluster, sa.group, offline);
  return j;
}

ojson offline_consumer_info(const ConsumerAssignment& ca, const std::string& cluster, const OfflinePeers& offline) {
  ConsumerConfig cfg = ca.config;
  apply_consumer_defaults(cfg);
  ojson j;
  j["stream_name"] = "";
  j["name"] = "";
  j["created"] = format_time(ca.created_ns);
  j["config"] = consumer_config_json(cfg);
  j["delivered"] = seq_info();
  j["ack_floor"] = seq_info();
  j["num_ack_pending"] = 0;
  j["num_redelivered"] = 0;
  j["num_waiting"] = 0;
  j["num_pending"] = 0;
  j["cluster"] = offline_cluster(cluster, ca.group, offline);
  return j;
}

}  // namespace nats::jetstream
