// Raw WebSocket client pieces for the websocket tests: the upgrade request, masked client
// frames, reading the server's frames.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <zlib.h>

#include "test_util.h"

namespace itest {

inline std::string ws_config(int ws_port, const std::string& extra = "") {
  return "websocket {\n  listen: \"127.0.0.1:" + std::to_string(ws_port) + "\"\n  no_tls: true\n" + extra + "}\n";
}

// A masked client frame.
inline std::string client_frame(uint8_t first, const std::string& payload, bool mask = true) {
  std::string f(1, static_cast<char>(first));
  size_t n = payload.size();
  uint8_t m = mask ? 0x80 : 0;
  if (n <= 125) {
    f.push_back(static_cast<char>(m | n));
  } else {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  }
  const char key[4] = {0x0a, 0x0b, 0x0c, 0x0d};
  if (mask) f.append(key, 4);
  for (size_t i = 0; i < n; ++i) f.push_back(mask ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i]);
  return f;
}

inline std::string upgrade_request(int port, const std::string& extra = "") {
  return "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n" + extra + "\r\n";
}

// The HTTP answer's head (through its blank line), leaving what follows in the buffer.
inline std::string read_head(RawClient& c) {
  std::string head;
  while (auto l = c.read_line(milliseconds(3000))) {
    head += *l + "\r\n";
    if (l->empty()) break;
  }
  return head;
}

// One unmasked server frame, with its FIN and RSV1 ("compressed") bits.
struct WsFrame {
  bool fin = false;
  bool rsv1 = false;
  int opcode = 0;
  std::string payload;
};

inline std::optional<WsFrame> read_ws_frame(RawClient& c, milliseconds timeout = milliseconds(2000)) {
  auto h = c.read_exact(2, timeout);
  if (!h) return std::nullopt;
  WsFrame f;
  auto b0 = static_cast<unsigned char>((*h)[0]);
  f.fin = b0 & 0x80;
  f.rsv1 = b0 & 0x40;
  f.opcode = b0 & 0x0F;
  uint64_t len = static_cast<unsigned char>((*h)[1]) & 0x7F;
  if (len >= 126) {
    auto ext = c.read_exact(len == 126 ? 2 : 8);
    if (!ext) return std::nullopt;
    len = 0;
    for (char b : *ext) len = (len << 8) | static_cast<unsigned char>(b);
  }
  auto p = len ? c.read_exact(len, timeout) : std::optional<std::string>("");
  if (!p) return std::nullopt;
  f.payload = std::move(*p);
  return f;
}

// Reads one unmasked server frame: opcode (with 0x40 added when RSV1, "compressed", is set)
// and payload.
inline std::optional<std::pair<int, std::string>> read_frame(RawClient& c) {
  auto f = read_ws_frame(c);
  if (!f) return std::nullopt;
  return std::make_pair(f->opcode | (f->rsv1 ? 0x40 : 0), std::move(f->payload));
}

// A permessage-deflate message (no context takeover) inflated; at most `cap` bytes out.
inline std::string inflate_message(std::string in, size_t cap = 64 * 1024) {
  in.append("\x00\x00\xff\xff", 4);
  z_stream z{};
  inflateInit2(&z, -15);
  std::string out(cap, '\0');
  z.next_in = reinterpret_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return rc == Z_OK || rc == Z_STREAM_END ? out : "<inflate error>";
}

// A raw client past the handshake, its INFO frame read.
inline bool ws_open(RawClient& c, int port) {
  return c.send(upgrade_request(port)) && read_head(c).find(" 101 ") != std::string::npos && read_frame(c).has_value();
}

}  // namespace itest
