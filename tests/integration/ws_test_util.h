// Raw WebSocket client pieces for the websocket tests: the upgrade request, masked client
// frames, reading the server's frames.
#pragma once

#include <optional>
#include <string>
#include <utility>

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

// Reads one unmasked server frame: opcode (with 0x40 added when RSV1, "compressed", is set)
// and payload.
inline std::optional<std::pair<int, std::string>> read_frame(RawClient& c) {
  auto h = c.read_exact(2);
  if (!h) return std::nullopt;
  int op = (*h)[0] & 0x4F;
  uint64_t len = static_cast<unsigned char>((*h)[1]) & 0x7F;
  if (len >= 126) {
    auto ext = c.read_exact(len == 126 ? 2 : 8);
    if (!ext) return std::nullopt;
    len = 0;
    for (char b : *ext) len = (len << 8) | static_cast<unsigned char>(b);
  }
  auto p = len ? c.read_exact(len) : std::optional<std::string>("");
  if (!p) return std::nullopt;
  return std::make_pair(op, *p);
}

// A raw client past the handshake, its INFO frame read.
inline bool ws_open(RawClient& c, int port) {
  return c.send(upgrade_request(port)) && read_head(c).find(" 101 ") != std::string::npos && read_frame(c).has_value();
}

}  // namespace itest
