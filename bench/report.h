// Turning the rounds of each scenario into medians, ratios (ours/reference), tables,
// the targets summary and JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "measure.h"

namespace nats::bench {

struct ScenarioOutcome {
  Scenario scenario;
  std::vector<RunSample> ours;  // one per round
  std::vector<RunSample> ref;

  double median_of(const std::vector<RunSample>& rs, const std::string& key) const;
  // (max-min)/median over the rounds, in percent: the run-to-run noise of one side.
  double spread_of(const std::vector<RunSample>& rs, const std::string& key) const;
  bool failed() const;
};

struct Target {
  std::string name;   // e.g. "server CPU/msg <= 0.7x"
  double worst = 0;   // worst ratio across the scenarios it covers
  bool met = false;
  bool measured = false;
};

std::vector<Target> evaluate_targets(const std::vector<ScenarioOutcome>& outcomes);
std::string render_tables(const std::vector<ScenarioOutcome>& outcomes, const std::vector<Target>& targets);
nlohmann::json render_json(const std::vector<ScenarioOutcome>& outcomes, const std::vector<Target>& targets,
                           const nlohmann::json& config);

}  // namespace nats::bench
