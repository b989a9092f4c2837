// Fuzz target: arbitrary bytes as a config file, then applied to Options. Parsing may
// only ever fail with ConfigError (or runtime_error for the checks across keys); any other
// exception or a crash is a bug. Includes and environment lookups are off so inputs cannot
// make the parser read files or depend on the machine.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "config/options_loader.h"
#include "config/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nats::config::ParseOptions opts;
  opts.allow_include = false;
  opts.use_environment = false;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    nats::config::Value root = nats::config::parse_config_string(text, "fuzz.conf", opts);
    nats::Options o;
    nats::config::apply_config(root, o, size % 2 == 0);
  } catch (const nats::config::ConfigError&) {
  } catch (const std::runtime_error&) {
    // apply_config's last cross-key checks (no_auth_user, lame duck timings) throw a plain
    // runtime_error, as the reference prints them without a position; main() reports both.
  }
  return 0;
}
