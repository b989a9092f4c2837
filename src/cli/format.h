// Human-readable number, size and duration formatting with the same output natscli gets from
// go-humanize and Go's time.Duration, so tables and logs read the same as the reference tool.
#pragma once

#include <cstdint>
#include <string>

namespace nats::cli {

// 1234567 -> "1,234,567" (humanize.Comma).
std::string comma(int64_t v);
// 1536 -> "1.5 KiB", 0 -> "0 B" (humanize.IBytes).
std::string ibytes(uint64_t v);
// Go's time.Duration.String(): "1.5s", "412ms", "509.833µs", "1h2m3s".
std::string go_duration(int64_t ns);
// natscli's humanizeDuration: "0s", "412ms", "3.10s", "2m5s", "1d2h3m4s".
std::string human_duration(int64_t ns);
// "HH:MM:SS " local time prefix, as Go's log with Ltime.
std::string log_prefix();
// Parses "5s", "300ms", "1m30s", "2h", "1d", or a bare number of seconds. Returns false on junk.
bool parse_duration(const std::string& s, int64_t& ns);
// Parses "1024", "1K", "10MB", "1GiB"; empty or negative -> -1 (parseStringAsBytes).
bool parse_bytes(const std::string& s, int64_t& out);
// RFC3339 timestamp (as in server JSON) to unix nanoseconds; 0 if unparsable.
int64_t parse_rfc3339(const std::string& s);

}  // namespace nats::cli
