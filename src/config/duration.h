// Go-style duration strings ("2s", "1m30s", "500ms", "1.5h"), as the reference
// server's config and flags accept them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/options.h"

namespace nats::config {

// Returns the duration, or nullopt and sets `error` to Go's message, e.g.
// `time: invalid duration "abc"`.
std::optional<Duration> parse_go_duration(std::string_view s, std::string* error = nullptr);

// Go's Duration.String(): "1m30s", "500ms", "0s".
std::string format_go_duration(Duration d);

}  // namespace nats::config
