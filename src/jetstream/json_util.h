#pragma once
// Small JSON pieces the JetStream API shares: Go time.Time rendering of unix nanoseconds and
// base64 ([]byte fields such as "data" and "hdrs").
#include <cstdint>
#include <string>
#include <string_view>

namespace nats::jetstream {

// RFC 3339 with trimmed nanoseconds, UTC; 0 renders as Go's zero time "0001-01-01T00:00:00Z".
std::string format_time(int64_t unix_ns);
// Parses what format_time writes (and any RFC 3339 UTC/offset time); 0 on failure.
int64_t parse_time(std::string_view s);
std::string base64_encode(std::string_view in);
// Go's encoding/json output: '<', '>' and '&' escaped as \u003c, \u003e, \u0026 (they
// can only occur inside strings, so a plain replace is exact).
std::string go_json_escape(std::string dumped);

}  // namespace nats::jetstream
