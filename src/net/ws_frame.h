// RFC 6455 framing for the WebSocket listener: an incremental decoder for the frames a
// client sends (masked, possibly fragmented, split anywhere across reads) and the encoder
// for what the server sends (unmasked), and for what a soliciting leaf node sends (masked). Pure: no sockets, fuzzed (tests/fuzz/fuzz_ws_frame).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/ws_deflate.h"

namespace nats::net::ws {

enum class Opcode : uint8_t { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

constexpr size_t kMaxControlPayload = 125;
constexpr size_t kMaxFrameHeader = 14;

// Close status codes (RFC 6455 section 7.4.1) the server sends.
enum CloseStatus : uint16_t {
  kNormalClosure = 1000,
  kGoingAway = 1001,
  kProtocolError = 1002,
  kNoStatusReceived = 1005,
  kAbnormalClosure = 1006,
  kInvalidPayloadData = 1007,
  kPolicyViolation = 1008,
  kMessageTooBig = 1009,
  kInternalServerError = 1011,
  kTlsHandshake = 1015,
};

// Receives what the decoder finds. Data payloads are handed over as they arrive (a frame
// may come in several pieces); control frames whole.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Message bytes (text or binary, any fragment); false stops decoding.
  virtual bool on_payload(std::string_view data) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong(std::string_view payload) = 0;
  virtual void on_close(uint16_t status, std::string_view reason) = 0;
};

class FrameDecoder {
 public:
  enum class Result { Ok, Stopped, Closed, Error };

  explicit FrameDecoder(bool require_mask = true) : require_mask_(require_mask) {}
  // The client asked for Nats-No-Masking: unmasked frames are accepted.
  void set_require_mask(bool m) { require_mask_ = m; }

  // permessage-deflate was agreed: a message whose first frame has RSV1 set is inflated
  // before it reaches the sink (without it, every reserved bit is a protocol error).
  void enable_inflate() { inflater_ = std::make_unique<Inflater>(); }

  // Decodes `len` bytes (unmasked in place). After Error, error() says why (for the close
  // frame's reason) and the decoder must not be fed again; after Closed, a close frame was
  // received and nothing more is decoded.
  Result feed(char* data, size_t len, FrameSink& sink);
  const std::string& error() const { return error_; }

 private:
  Result fail(std::string why);
  bool reject(std::string why);  // fail(), for the header checks
  // Parses the buffered header once complete; false on a protocol error.
  bool header_complete(size_t& need);
  bool control_complete(FrameSink& sink);
  void unmask(char* p, size_t n);
  // A data piece to the sink, through the inflater for a compressed message.
  Result deliver(std::string_view piece, bool message_end, FrameSink& sink);

  bool require_mask_;
  bool in_header_ = true;
  bool in_message_ = false;  // a fragmented message awaits its final frame
  bool final_ = false;       // the current frame ends its message
  bool compressed_ = false;  // the current message is deflated (RSV1 on its first frame)
  std::unique_ptr<Inflater> inflater_;
  bool closed_ = false;
  unsigned char hdr_[kMaxFrameHeader];
  size_t hdr_len_ = 0;
  Opcode op_ = Opcode::Binary;
  bool masked_ = false;
  unsigned char mask_[4] = {0, 0, 0, 0};
  size_t mask_pos_ = 0;
  uint64_t remaining_ = 0;
  std::string control_;  // a control frame's payload, gathered whole
  std::string error_;
};

// A server frame header (FIN set, no mask) for a payload of `len` bytes; RSV1 set for a
// compressed (permessage-deflate) message.
std::string frame_header(Opcode op, uint64_t len, bool compressed = false);
// One fragment's header of a message cut into frames: the first carries the opcode (and
// RSV1 when compressed), the others are continuations; FIN on the last.
std::string fragment_header(Opcode op, uint64_t len, bool first, bool final, bool compressed);
// A whole control frame; the payload is cut to the 125 bytes allowed. masked: as a client
// sends it (a leaf node soliciting over WebSocket).
std::string control_frame(Opcode op, std::string_view payload, bool masked = false);
// A client's frame (RFC 6455 section 5.3) appended to out: the header with the mask bit and
// a fresh random key, then the payload masked with it. One whole message (FIN set).
void append_masked_frame(std::string& out, Opcode op, std::string_view payload, bool compressed);
// A close frame's payload: the status, then the reason (cut with "..." to fit 125 bytes).
std::string close_payload(uint16_t status, std::string_view reason);
bool valid_utf8(std::string_view s);

}  // namespace nats::net::ws
