// Fuzz target: the WebSocket frame decoder (with permessage-deflate's inflating, on one
// bit of the first byte) and opening handshake, which read whatever a browser-facing port
// receives. Neither may crash; the decoder must be split-invariant (fed whole or in pieces,
// it reports the same data, control frames and outcome).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/ws_frame.h"
#include "net/ws_handshake.h"

using namespace nats::net::ws;

namespace {
struct Trace : FrameSink {
  std::string log;
  bool on_payload(std::string_view d) override {
    log.append(d);
    return true;
  }
  void on_ping(std::string_view p) override { log.append("<ping:").append(p).append(">"); }
  void on_pong(std::string_view p) override { log.append("<pong:").append(p).append(">"); }
  void on_close(uint16_t s, std::string_view r) override {
    log.append("<close:").append(std::to_string(s)).append(":").append(r).append(">");
  }
};

FrameDecoder::Result decode(std::string bytes, size_t step, bool inflate, Trace& t) {
  FrameDecoder d;
  if (inflate) d.enable_inflate();
  FrameDecoder::Result r = FrameDecoder::Result::Ok;
  for (size_t i = 0; i < bytes.size() && r == FrameDecoder::Result::Ok; i += step)
    r = d.feed(bytes.data() + i, std::min(step, bytes.size() - i), t);
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 16;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  Trace whole, pieces;
  bool inflate = (data[0] & 0x20) != 0;
  auto a = decode(bytes, bytes.size() + 1, inflate, whole);
  auto b = decode(bytes, step, inflate, pieces);
  if (a != b || whole.log != pieces.log) std::abort();

  OriginPolicy policy;
  policy.same_origin = (data[0] & 0x40) != 0;
  policy.compression = inflate;
  policy.jwt_cookie = inflate ? "jwt" : "";
  AllowedOrigin o;
  if (data[0] & 0x80 && parse_origin("https://example.com", o)) policy.allowed.push_back(o);
  auto h = process_handshake(bytes, policy);
  if (h.status == HandshakeResult::Accepted && h.consumed != bytes.size()) std::abort();
  return 0;
}
