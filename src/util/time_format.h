// Time rendering as the reference's JSON does it (Go's time.Time); Go durations are in
// config/duration.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nats::util {

// RFC 3339 with nanoseconds, UTC, trailing zeros of the fraction trimmed ("...05.5549Z").
std::string rfc3339_nano(std::chrono::system_clock::time_point t);
// The monitor's uptime form: "1d2h3m4s", "5m6s", "0s".
std::string uptime_string(std::chrono::nanoseconds d);

}  // namespace nats::util
