// The payloads a consumer reads from clients, parsed as 2.9.10 reads them: a pull request's
// body ($JS.API.CONSUMER.MSG.NEXT and +NXT) and the delay after -NAK.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nats::jetstream {

struct PullRequestBody {
  int64_t batch = 1;       // a JSON request without "batch" asks for 0, which still delivers one
  int64_t expires_ns = 0;  // 0: never
  int64_t max_bytes = 0;
  bool no_wait = false;
  int64_t hb_ns = 0;
};

// Empty, a number (the batch) or a JSON request. Returns the reason after "400 Bad Request - "
// when the reference refuses it (Go's json error texts, "heartbeat value too large").
std::optional<std::string> parse_pull_request(std::string_view body, PullRequestBody& out);

// The argument after "-NAK": a JSON {"delay": ns} or a Go duration. nullopt when there is none
// or it does not parse (a plain nak, as the reference treats it).
std::optional<int64_t> parse_nak_delay(std::string_view arg);

}  // namespace nats::jetstream
