// Nats-Request-Info: the requester's client info (the reference's ClientInfo JSON) that a
// JetStream API request carries to the other servers. 2.9.10 sets it as its `$JS.API.>`
// import forwards a client's request, so whichever server answers names the requester's
// account, rtt, server and cluster in its API audit advisory; here it is added to the copies
// of a client's `$JS.API.` request that go to routes and gateways (deliver.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nats {

inline constexpr std::string_view kRequestInfoHdr = "Nats-Request-Info";

struct RequestInfo {
  std::string account;
  int64_t rtt_ns = 0;
  std::string server;
  std::string cluster;  // empty: not clustered
};

// `headers` (a "NATS/1.0..." block, or empty) with Nats-Request-Info set to `info`; a
// Nats-Request-Info the client sent itself is dropped (the reference overwrites it).
std::string with_request_info(std::string_view headers, const RequestInfo& info);

// The Nats-Request-Info of `headers`, if there is one and it is a JSON object.
std::optional<RequestInfo> read_request_info(std::string_view headers);

// Headers of an API request a server sends for itself (e.g. the meta leader gathering
// stream infos from the hosts): answered, but no API audit (2.9.10 audits only requests
// that carry a requester). Honoured only when no client sent it (jetstream.cpp).
inline constexpr std::string_view kInternalRequestHeaders = "NATS/1.0\r\nNats-Internal-Request: 1\r\n\r\n";
inline bool is_internal_request(std::string_view headers) {
  return headers.find("\r\nNats-Internal-Request: 1\r\n") != std::string_view::npos;
}

}  // namespace nats
