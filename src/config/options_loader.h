// Turns a parsed config tree into nats::Options, with the reference server's key
// names (case-insensitive), aliases, checks and messages.
#pragma once

#include <string>
#include <vector>

#include "config/options.h"
#include "config/value.h"

namespace nats::config {

struct LoadReport {
  // Non-fatal notes, already formatted "<file>:<line>:<col>: <message>", e.g. an
  // integer ping_interval taken as seconds. The server should print them at startup.
  std::vector<std::string> warnings;
  // Keys the decision table marks ignored (prof_port, syslog, ...), as
  // "<file>:<line>:<col>: <key>"; the server logs one warning for each.
  std::vector<std::string> ignored;
};

// Applies every key of `root` (a top-level map) to `opts`. In `check_mode` (-t) some
// warnings are errors, as in the reference. Collects all problems and throws one
// ConfigError listing them (what() has one "file:line:col: message" per line).
LoadReport apply_config(const Value& root, Options& opts, bool check_mode = false);

// parse_config_file + apply_config; also sets opts.config_file.
LoadReport load_config_file(const std::string& path, Options& opts, bool check_mode = false);

}  // namespace nats::config
