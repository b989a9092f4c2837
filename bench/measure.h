// One measured run (a fresh deployment, one workload) and the figures derived from it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "deployment.h"
#include "scenarios.h"

namespace nats::bench {

// Figure names, in display order, with whether lower is better.
struct FigureDef {
  const char* key;
  const char* label;
  bool lower_is_better;
};
const std::vector<FigureDef>& figure_defs(Kind kind);

struct RunSample {
  std::map<std::string, double> figures;  // key -> value
  bool ok = false;
  std::string failure;  // integrity or run failure, for the FAIL line
};

// Starts a fresh deployment of `flavor` in the scenario's layout (so peak memory is this
// scenario's), runs the scenario's workload against it, and stops the servers. Server CPU is
// summed over all servers of the layout; peak memory is the largest server's.
RunSample measure_once(const Scenario& sc, const ServerFlavor& flavor, std::chrono::milliseconds timeout);

double median(std::vector<double> v);
double percentile(std::vector<double> v, double p);

}  // namespace nats::bench
