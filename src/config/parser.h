// Parser for the NATS configuration language (the format of nats-server.conf).
//
// Written by hand: no Debian-packaged library reads this format. It is close to, but
// not, HOCON/UCL/TOML (bare `key value` pairs, `include`, `$VAR` lookups through
// enclosing maps and then the environment, size suffixes such as 1MB, `( ... )` block
// strings), so the grammar below follows the reference server's lexer behaviour.
#pragma once

#include <string>
#include <string_view>

#include "config/value.h"

namespace nats::config {

struct ParseOptions {
  // When false, any `include` is an error: used by the fuzzer so arbitrary input can
  // never make the parser read files.
  bool allow_include = true;
  int max_include_depth = 10;
  // When false, `$NAME` never falls back to the process environment.
  bool use_environment = true;
};

// Parses `text` as a config file named `file_name` (used in positions and as the base
// directory for includes). Returns the top-level map. Throws ConfigError.
Value parse_config_string(std::string_view text, const std::string& file_name = "<string>",
                          const ParseOptions& options = {});

// Reads and parses a config file. Throws ConfigError (also when it cannot be read).
Value parse_config_file(const std::string& path, const ParseOptions& options = {});

}  // namespace nats::config
