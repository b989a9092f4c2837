// The servers this one has heard of through `$SYS.SERVER.<id>.STATSZ` (from every cluster of
// the supercluster), as the JetStream meta group and `active_servers` need them. Entries are
// removed on `$SYS.SERVER.<id>.SHUTDOWN` and marked offline when silent for 5 x 30s (as the
// reference's orphan check). Thread-safe: updates arrive on any loop.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nats {

struct KnownServer {
  std::string name, id, cluster, domain, version, host;
  std::vector<std::string> tags;
  bool jetstream = false;
  bool offline = false;  // silent for longer than the orphan interval
  uint64_t seq = 0;      // the last ServerInfo.seq seen (older updates are ignored)
  std::chrono::steady_clock::time_point last_seen{};
  nlohmann::json statsz;  // the last statsz document it sent
};

class ServerDirectory {
 public:
  static constexpr std::chrono::seconds kOrphanAfter{5 * 30};

  explicit ServerDirectory(std::string self_id) : self_id_(std::move(self_id)) {}

  // A ServerStatsMsg ({"server":{...},"statsz":{...}}) from a peer. Our own heartbeat and
  // out-of-order (lower seq) updates are ignored. Returns true when the entry changed.
  bool update(const nlohmann::json& msg, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // `$SYS.SERVER.<id>.SHUTDOWN`: forget the server.
  void remove(const std::string& id);
  // Marks servers silent for kOrphanAfter as offline.
  void sweep(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // Every known remote server (offline ones included, flagged), ordered by name.
  std::vector<KnownServer> known_servers() const;
  // Remote servers currently considered online.
  size_t num_online() const;

 private:
  std::string self_id_;
  mutable std::mutex mu_;
  std::map<std::string, KnownServer> by_id_;
};

}  // namespace nats
