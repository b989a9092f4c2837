// A set of running servers plus the Topology clients use to reach them: one server, two
// servers joined by a route (one cluster), two single-server clusters joined by gateways, or a
// hub and a leaf server joined by a leaf connection.
// In the multi-server layouts the publisher (requester) is on the first server and the
// subscribers (replier) on the second, so every measured message crosses the link.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server_process.h"
#include "workload.h"

namespace nats::bench {

// How the servers of one run are laid out; both servers of a layout are the same binary.
// kJetStream: one server with JetStream on (`-js`) and a fresh store directory per run.
// kJetStreamR3: a 3-server cluster with JetStream (for R3 streams); the publisher is on the
// first server.
// kTls: one server that requires TLS of its clients (a throwaway self-signed certificate).
// kJetStreamSyncAlways: kJetStream with `jetstream { sync_interval: always }` for our server;
// 2.9.10 has no such option (it refuses the field) and runs with its default.
// kLeaf: a hub and a leaf server (the leaf solicits `leafnodes { remotes }`); the publisher is
// on the hub, the subscribers on the leaf.
enum class Layout { kSingle, kRoute, kGateway, kJetStream, kJetStreamR3, kTls, kJetStreamSyncAlways, kLeaf };
const char* layout_name(Layout l);

class Deployment {
 public:
  virtual ~Deployment() = default;
  virtual Topology topology() const = 0;
  virtual std::vector<ServerProcess*> servers() = 0;

  // Sums over the servers: CPU seconds and resident memory now; peak memory is the largest
  // single server's VmHWM.
  ProcStats stats();
  // Empty if all servers still run; else which died and the tail of its log.
  std::string dead_servers();
  // Stops the (single) server gracefully and starts it again on the same store; `spawned` is
  // set right before the new process starts. Returns the new client URL. Only the JetStream
  // layout supports it (js-restart).
  virtual std::string restart(Clock::time_point& spawned);
};

struct ServerFlavor {
  std::string label;   // "ours" / "reference"
  std::string binary;
  std::vector<std::string> args;  // extra flags, identical for both flavors
  int cpu = -1;                   // >= 0: pin servers to this CPU
  // Takes `jetstream { sync_interval: always }` (ours; 2.9.10 refuses the field). False for
  // "ours" too when the reference binary stands in for it (the bench smoke test).
  bool sync_always = false;
};

std::unique_ptr<Deployment> start_single_server(const ServerFlavor& f);
// Starts every server of the layout (each with a generated config file) and returns once
// their client ports accept connections. Whether the route/gateway link is up yet is not
// waited for here: the workloads wait for interest with probe messages, which also proves
// the link carries messages.
std::unique_ptr<Deployment> start_deployment(Layout layout, const ServerFlavor& f);

}  // namespace nats::bench
