// The WebSocket opening handshake (RFC 6455 section 4.2): reads the client's HTTP Upgrade
// request and answers it as the reference server does (101, or 400/403/405 with its reasons).
// Pure: no sockets.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nats::net::ws {

// An origin allowed by `allowed_origins`: scheme, host (lower case) and port.
struct AllowedOrigin {
  std::string scheme, host, port;
};
// Parses "scheme://host[:port]"; false if it is not such a URL.
bool parse_origin(std::string_view url, AllowedOrigin& out);

// The listener's settings the upgrade applies: Origin checks, and also compression and
// the JWT cookie.
struct OriginPolicy {
  bool same_origin = false;
  std::vector<AllowedOrigin> allowed;
  bool compression = false;  // agree to permessage-deflate when the client offers it
  std::string jwt_cookie;    // the cookie whose value is the user JWT (empty: none)
};

struct HandshakeResult {
  enum Status { Incomplete, Accepted, Rejected } status = Incomplete;
  size_t consumed = 0;      // bytes of the request (Accepted)
  std::string response;     // what to write back (Accepted or Rejected)
  std::string error;        // why it was rejected, for the log
  bool compress = false;    // permessage-deflate agreed (Accepted)
  std::string cookie_jwt;   // the JWT cookie's value, if asked for and sent (Accepted)
  // Nats-No-Masking: true was asked (and granted in the answer): the client's frames come
  // unmasked (Accepted).
  bool no_masking = false;
  // The first X-Forwarded-For header, when it is one valid IP address (the reference shows
  // it in the connection's log prefix); empty otherwise.
  std::string forwarded_ip;
  // A User-Agent starting with "Mozilla/": a browser, whose frames the server keeps to
  // kBrowserFrameSize bytes; Safari (also "Version/" and "Safari/") gets compressed messages
  // unfragmented, as the reference.
  bool browser = false;
  bool no_compressed_fragments = false;
  // The request's path starts with "/leafnode": a leaf node solicits over WebSocket (the
  // reference's leafNodeWSPath), not a client (Accepted).
  bool leaf = false;
};

// The path a soliciting leaf node asks for, so that the listener makes it a leaf connection.
constexpr std::string_view kLeafNodePath = "/leafnode";

// The largest payload of a frame sent to a browser (the reference's wsFrameSizeForBrowsers).
constexpr size_t kBrowserFrameSize = 4096;

// Examines what the client sent so far. Incomplete until the blank line ending the headers
// arrives (or the request exceeds max_request bytes: rejected).
HandshakeResult process_handshake(std::string_view request, const OriginPolicy& policy,
                                  size_t max_request = 64 * 1024);

// Base64 of SHA-1 of key + the RFC's GUID.
std::string accept_key(std::string_view key);

// The dialing side (a leaf node soliciting a hub's websocket port, as the reference's
// leafNodeSolicitWSConnection).
// A fresh Sec-WebSocket-Key: base64 of 16 random bytes.
std::string new_client_key();
// The GET Upgrade request for host (host:port) and path; compress offers permessage-deflate
// with both no_context_takeover parameters, no_masking asks for Nats-No-Masking.
std::string client_request(std::string_view host, std::string_view path, std::string_view key, bool compress,
                           bool no_masking);
struct UpgradeAnswer {
  enum Status { Incomplete, Accepted, Rejected } status = Incomplete;
  size_t consumed = 0;      // bytes of the answer (Accepted): frames may follow in the same read
  bool compress = false;    // the server agreed to permessage-deflate (as asked)
  bool no_masking = false;  // the server agreed to unmasked frames from us
  std::string error;        // Rejected: why
};
// Examines the server's answer so far: a 101 with Upgrade, Connection and the key's accept
// value; compression that comes back without both no_context_takeover parameters is an error,
// compression not agreed is simply off, as the reference.
UpgradeAnswer check_upgrade_answer(std::string_view data, std::string_view key, bool asked_compress,
                                   bool asked_no_masking, size_t max_answer = 64 * 1024);

}  // namespace nats::net::ws
