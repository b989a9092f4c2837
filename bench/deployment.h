// A set of running servers plus the Topology clients use to reach them. Today: one server.
// Routes and gateways add builders that start several servers (e.g. publisher on one,
// subscribers on another) and return them through the same interface.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server_process.h"
#include "workload.h"

namespace nats::bench {

class Deployment {
 public:
  virtual ~Deployment() = default;
  virtual Topology topology() const = 0;
  virtual std::vector<ServerProcess*> servers() = 0;

  // Sums over the servers: CPU seconds; peak memory is the largest single server's VmHWM.
  ProcStats stats();
  // Empty if all servers still run; else which died and the tail of its log.
  std::string dead_servers();
};

struct ServerFlavor {
  std::string label;   // "ours" / "reference"
  std::string binary;
  std::vector<std::string> args;  // extra flags, identical for both flavors
  int cpu = -1;                   // >= 0: pin servers to this CPU
};

std::unique_ptr<Deployment> start_single_server(const ServerFlavor& f);

}  // namespace nats::bench
