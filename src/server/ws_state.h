// A WebSocket connection's state (Connection::ws_): the handshake, the frame decoder and
// the framed output. Internal to connection.cpp and ws_connection.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "net/out_buffer.h"
#include "net/ws_deflate.h"
#include "net/ws_frame.h"
#include "net/ws_handshake.h"
#include "server/connection.h"

namespace nats {

struct Connection::WsState {
  net::ws::OriginPolicy policy;
  std::chrono::nanoseconds handshake_timeout{0};
  std::string request;                // the HTTP request read so far (loop thread)
  std::string cookie_jwt;             // from the upgrade request (loop thread)
  // Keeps the connection alive until it is upgraded (the server's clients hold it from
  // then on) or closed: the server counts it as a client only once upgraded.
  std::shared_ptr<Connection> hold;
  std::atomic<bool> upgraded{false};  // the 101 answer was written
  net::ws::FrameDecoder decoder;      // loop thread
  net::OutBuffer framed;              // frames ready to write; guarded by out_mu_
  std::unique_ptr<net::ws::Deflater> deflater;  // permessage-deflate agreed; guarded by out_mu_
  bool close_sent = false;            // guarded by out_mu_
  // A browser (User-Agent "Mozilla/..."): frames of at most kBrowserFrameSize bytes, and a
  // compressed message fragmented too unless Safari (no_compressed_fragments). Set at upgrade.
  bool browser = false;
  bool no_compressed_fragments = false;
  std::string forwarded_ip;  // X-Forwarded-For, when a single IP (for the log prefix)
  // The dialing side (begin_websocket_client): the upgrade request and how much of it was
  // written (write_mu_), what was asked, and whether our frames are masked (out_mu_).
  bool client = false;
  std::string upgrade_request;
  size_t request_sent = 0;
  std::string key;
  bool asked_compress = false, asked_no_masking = false;
  bool mask_writes = false;
  bool compressed = false;  // permessage-deflate agreed (set once at the upgrade)
};

}  // namespace nats
