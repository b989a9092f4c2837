// What this server does with every config key and command-line flag it accepts, block by
// block. The options loader consults this table before it looks at a key, so a key can
// only reach a handler once a decision has been written down here:
//   Honoured - acted on as the reference does;
//   Refused  - start-up and -t fail with "<file>:<line>:<col>: <key> is not supported by
//              this server": the setting changes who may connect, what they may do or
//              where messages go, and running without it would be worse than not running;
//   Ignored  - accepted with one warning line at start-up; only for settings that cannot
//              change behaviour a user relies on (profiling, log rotation, ...).
// A key absent from its block is an unknown field, as in the reference.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace nats::config {

enum class KeyDecision { Honoured, Refused, Ignored };

struct KeyRule {
  std::string_view block;  // "top", "authorization", "user", ..., or "flag" for command-line flags
  std::string_view key;    // lowercase, as matched
  KeyDecision decision;
};

const std::vector<KeyRule>& key_rules();

// nullopt: the key is not known in that block.
std::optional<KeyDecision> decide_key(std::string_view block, std::string_view key);

}  // namespace nats::config
