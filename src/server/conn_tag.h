// The reference's log prefix of a connection ("<ip>:<port> - cid:<n>"): its letters name
// the kind, a websocket client is "wid" and a leaf over websocket "lid_ws" (2.9.10 client.go
// initClient). Only the public face of Connection is used.
#pragma once

#include <string>

#include <fmt/format.h>

#include "server/connection.h"

namespace nats {

inline const char* conn_tag_kind(const Connection& c) {
  switch (c.kind()) {
    case ConnKind::Client: return c.websocket() ? "wid" : "cid";
    case ConnKind::Router: return "rid";
    case ConnKind::Gateway: return "gid";
    case ConnKind::Leaf: return c.websocket() ? "lid_ws" : "lid";
    case ConnKind::System: break;
  }
  return "cid";
}

// "<ip>:<port> - <kind>:<cid>"; the X-Forwarded-For address of a websocket's upgrade goes in
// front as "<ip>/", as the reference shows it on every line of that connection.
inline std::string conn_tag(const Connection& c) {
  const std::string& forwarded = c.ws_forwarded_ip();
  std::string fwd;
  if (!forwarded.empty()) fwd = (forwarded.find(':') == std::string::npos ? forwarded : "[" + forwarded + "]") + "/";
  return fmt::format("{}{}:{} - {}:{}", fwd, c.peer_ip(), c.peer_port(), conn_tag_kind(c), c.cid());
}

}  // namespace nats
