// nats-server's command-line flags, parsed with the rules of Go's `flag` package (the
// reference is a Go program): `-p 4222`, `--port=4222`, `-D`, `-D=false`; parsing stops
// at the first non-flag argument or `--`.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/options.h"
#include "config/options_loader.h"

namespace nats::config {

struct CommandLine {
  Options flags;                     // defaults, overwritten by the flags that were given
  std::set<std::string> set_fields;  // which Options fields the flags set (see .cpp: "port", "debug", ...)
  std::string config_file;           // -c / --config
  bool show_version = false;         // -v / --version / `version` argument
  bool show_help = false;            // -h / --help / `help` argument
  bool show_tls_help = false;        // --help_tls
  bool check_config = false;         // -t
  std::string signal;                // -sl / --signal: main sends it to a running server
  // Flags the decision table (key_decisions.h) marks ignored (profile, remote_syslog,
  // syslog, ...): name -> value. build_options reports them for the start-up warnings.
  std::map<std::string, std::string> ignored;
  std::string cluster_listen_url;  // --cluster, resolved in build_options
};

// What the reference does after a flag error: Go's flag package prints the error to
// stderr, then nats-server's usage() prints usage_text() to stdout and exits with
// status 0 (checked with nats-server 2.9.10; not Go's usual 2).
inline constexpr int kFlagErrorExitCode = 0;

// Parses argv[1..]. Returns false and sets `error` to Go's wording, e.g.
// "flag provided but not defined: -x", "flag needs an argument: -p",
// "invalid value \"abc\" for flag -p: parse error", or for a stray argument
// "unrecognized command: \"foo\"". Never exits or prints.
bool parse_command_line(const std::vector<std::string>& args, CommandLine& out, std::string& error);
bool parse_command_line(int argc, const char* const* argv, CommandLine& out, std::string& error);

// Final options: defaults, then the config file (if -c), then every flag that was
// given. Throws ConfigError for config problems and for a bad --cluster/--routes URL.
// `report` receives the loader's warnings.
Options build_options(const CommandLine& cl, LoadReport* report = nullptr);

// The text `nats-server -h` prints (to stdout), including the leading and trailing
// blank lines.
const std::string& usage_text();

}  // namespace nats::config
