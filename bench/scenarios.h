// The benchmark scenarios and how many messages each one sends.
#pragma once

#include <string>
#include <vector>

#include "deployment.h"
#include "workload.h"

namespace nats::bench {

struct Scenario {
  std::string name;   // unique, used by --scenario
  std::string group;  // one output table per group
  WorkloadSpec spec;
  Layout layout = Layout::kSingle;  // route/gateway: publisher and subscribers on different servers
};

struct Scale {
  uint64_t messages = 2'000'000;       // upper bound for small payloads
  uint64_t bytes_per_run = 1ull << 30;  // payload budget that bounds large-payload runs
  uint64_t requests = 20'000;
  uint64_t warmup = 500;
  size_t conns = 10'000;      // many-clients scenarios (--conns)
  double idle_seconds = 10;   // how long those connections sit idle (--idle-seconds)
  static Scale quick() { return {20'000, 16ull << 20, 300, 50, 200, 1}; }
};

std::vector<Scenario> default_scenarios(const Scale& scale);

// Substring match on name or group; empty filter keeps all.
std::vector<Scenario> filter_scenarios(const std::vector<Scenario>& all, const std::string& filter);

}  // namespace nats::bench
