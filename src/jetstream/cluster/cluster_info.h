#pragma once
// The `cluster` block of stream and consumer info (the reference's ClusterInfo / PeerInfo):
// {name, leader?, replicas?[{name, current, offline?, active, lag?, peer}]}. The replicas are
// the followers only; the leader is `leader`. An R1 asset reports its host as leader and no
// replicas. Replicated groups (R>1) fill GroupStatus from their Raft group.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nats::jetstream {

struct ReplicaStatus {
  std::string name;  // server name
  std::string peer;  // node id (8 chars)
  bool current = false;
  bool offline = false;
  int64_t active_ns = 0;  // since last heard
  uint64_t lag = 0;
};

struct GroupStatus {
  std::string leader;                   // server name; empty while no leader is elected
  std::vector<ReplicaStatus> replicas;  // every peer except the leader
};

nlohmann::ordered_json cluster_info_json(const std::string& cluster_name, const GroupStatus& st);

}  // namespace nats::jetstream
