#include "jetstream/cluster/consumer_follow.h"

#include <algorithm>

namespace nats::jetstream {

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> follow_peers(const RaftGroupSpec& group, int stream_replicas,
                                      const std::vector<std::string>& new_peers, bool replica_change) {
  if (replica_change || group.replicas() >= stream_replicas) return new_peers;
  // (R1 consumers reach here only on a replica change.)
  const size_t want = std::min(static_cast<size_t>(group.replicas()), new_peers.size());
  std::vector<std::string> out;
  for (const auto& p : group.peers)
    if (out.size() < want && contains(new_peers, p)) out.push_back(p);
  for (const auto& p : new_peers)
    if (out.size() < want && !contains(out, p)) out.push_back(p);
  return out;
}

}  // namespace

std::map<std::string, ConsumerAssignment> consumers_following(const StreamAssignment& cur,
                                                              const std::vector<std::string>& new_peers,
                                                              bool replica_change) {
  std::map<std::string, ConsumerAssignment> out;
  for (const auto& [name, ca] : cur.consumers) {
    if (ca.group.replicas() <= 1) {
      // An R1 ephemeral stays R1 where it is (as 2.9.10); it goes when its server leaves.
      if (ca.config.durable_name.empty()) continue;
      if (ca.group.peers.empty() || new_peers.empty()) continue;
      if (!contains(new_peers, ca.group.peers.front())) {
        // Its server leaves the stream: it moves, R1, to the first of the stream's new
        // peers that stays (it has the messages; a scale-down to R1 keeps one), else to the
        // first new one, its state handed over (r1_handoff.h).
        std::string to = new_peers.front();
        for (const auto& p : new_peers)
          if (cur.group.has_peer(p)) {
            to = p;
            break;
          }
        ConsumerAssignment next = ca;
        next.group.peers = {to};
        next.group.preferred.clear();
        out.emplace(name, std::move(next));
        continue;
      }
      // Otherwise it takes the new peers of a replica change (its server seeds the new
      // group) and stays where it is on other peer changes.
      if (!replica_change) continue;
    }
    auto peers = follow_peers(ca.group, cur.group.replicas(), new_peers, replica_change);
    if (peers == ca.group.peers) continue;
    ConsumerAssignment next = ca;
    next.group.peers = std::move(peers);
    next.group.preferred.clear();
    if (ca.group.replicas() <= 1 && next.group.replicas() > 1) {
      // A plain consumer becoming replicated starts a new Raft group (seeded from its
      // state): under a new name, so that no server opens the log a group of the old name
      // left behind (an R3 scaled down to R1 and back: that log's stale acks and
      // membership), and a replay of the older entries never touches the new group's files.
      const StorageType storage = ca.group.storage == "memory" ? StorageType::memory : StorageType::file;
      next.group.name = group_name('C', next.group.replicas(), storage, random_group_id());
    }
    out.emplace(name, std::move(next));
  }
  return out;
}

}  // namespace nats::jetstream
