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
// Now as Unix seconds (JWT times: iat, exp, nbf).
inline int64_t unix_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace nats::util
