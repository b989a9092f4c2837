#pragma once
// Where a new stream or consumer goes (the reference's selectPeerGroup / createGroupForStream,
// jetstream_cluster.go): `replicas` distinct servers of one cluster — the placement's cluster,
// else the cluster the request came in on — that are online, run JetStream, carry every
// requested tag and are not tagged "!jetstream"; the least loaded first. Pure: the caller
// gathers the servers from the meta group and the $SYS directory.
#include <map>
#include <string>
#include <vector>

#include "jetstream/api/errors.h"

namespace nats::jetstream {

struct PlacementCandidate {
  std::string name;     // server name
  std::string node_id;  // util::hash_name(name)
  std::string cluster;
  std::vector<std::string> tags;  // server_tags
  bool jetstream = true;
  bool offline = false;
  int assets = 0;  // streams and consumers already placed on it
};

struct PlacementRequest {
  int replicas = 1;
  std::string cluster;            // placement.cluster; empty: default_cluster
  std::vector<std::string> tags;  // placement.tags
  std::string default_cluster;    // the cluster of the server the request came in on
  std::vector<std::string> exclude;  // node ids that must not be chosen
};

struct PlacementResult {
  std::vector<std::string> peers;  // node ids; empty on error
  std::string cluster;
  ApiError error;  // 10005 "no suitable peers for placement[, reasons]"
  bool ok() const { return error.empty(); }
};

PlacementResult place(const PlacementRequest& req, const std::vector<PlacementCandidate>& servers);

// Placement's fields from a stream config's `placement` JSON ({cluster, tags}).
void placement_from_json(const nlohmann::ordered_json& placement, std::string& cluster, std::vector<std::string>& tags);

}  // namespace nats::jetstream
