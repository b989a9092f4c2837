#pragma once
// STREAM.LIST / CONSUMER.LIST entries for assets whose every peer is offline, as the meta
// leader places them by hand instead of asking (the reference's allPeersOffline and
// offlineClusterInfo): the assignment's config and creation time, a zero state, and a
// `cluster` of the leader's cluster name with each known peer as {name, current: false,
// offline: true, active: 0, peer}. The asset is also named under "missing". 2.9.10's offline
// consumer info carries empty `stream_name` and `name` (it fills only config, created and
// cluster), so it sorts first; so does ours.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "jetstream/cluster/assignment.h"

namespace nats::jetstream {

// Node id -> server name of the meta peers the leader considers offline.
using OfflinePeers = std::map<std::string, std::string>;

// True when the group has peers and the leader knows each of them to be offline.
bool all_peers_offline(const RaftGroupSpec& g, const OfflinePeers& offline);
nlohmann::ordered_json offline_stream_info(const StreamAssignment& sa, const std::string& cluster,
                                           const OfflinePeers& offline);
nlohmann::ordered_json offline_consumer_info(const ConsumerAssignment& ca, const std::string& cluster,
                                             const OfflinePeers& offline);

}  // namespace nats::jetstream
