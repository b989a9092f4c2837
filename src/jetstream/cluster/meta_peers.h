// Who belongs in a fresh meta group, and how many members to wait for before starting it.
// Pure functions over Options and the $SYS server directory, so tests can drive them.
#pragma once

#include <string>
#include <vector>

#include "sys/server_directory.h"

namespace nats {
struct Options;
}

namespace nats::jetstream {

// The reference's expected size for bootstrapping a Raft group (raft.go bootstrapRaftNode,
// server.go configuredRoutes): max(2, known peers, configured routes + URLs of the *other*
// configured gateways). A route to ourselves counts, as it does there (the seed's
// single-node clusters list themselves: 1 route + 2 gateway URLs = 3). Each URL counts once
// (the reference counts a hostname once per resolved address).
int expected_cluster_size(const Options& opts, size_t known_peers);

// The node ids (getHash(server name), 8 chars) of this server and of every online,
// JetStream-enabled server in the directory of the same JetStream domain (or where either
// has none), sorted and unique.
std::vector<std::string> known_js_peers(const std::string& self_name, const std::vector<KnownServer>& servers,
                                        const std::string& domain = {});

}  // namespace nats::jetstream

namespace nats::jetstream {

// Whether a meta group already runs without this server: a known server's STATSZ says it is
// the meta leader and neither it nor its followers is `self_id`. Such a server was not in
// the group's bootstrap membership and must join it (wait for the leader to add it) rather
// than bootstrap a group of its own.
bool meta_group_runs_without(const std::string& self_id, const std::vector<KnownServer>& servers);

}  // namespace nats::jetstream
