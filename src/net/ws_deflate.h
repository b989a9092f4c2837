// permessage-deflate (RFC 7692) for the WebSocket listener, as the reference negotiates it:
// always with server_no_context_takeover and client_no_context_takeover, so every message
// is inflated and deflated on its own (a reset between messages, no shared window).
// Pure: no sockets, fuzzed through tests/fuzz/fuzz_ws_frame.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace nats::net::ws {

// Inflates one compressed message at a time, streaming: the output goes to the sink in
// chunks as it is produced, so a message that inflates to a lot never sits in memory whole
// (the NATS parser behind the sink enforces the size limits).
class Inflater {
 public:
  // Receives inflated bytes; false stops inflating (the connection is going away).
  using Sink = bool (*)(void* ctx, std::string_view data);
  enum class Result { Ok, Stopped, Error };

  Inflater();
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Compressed bytes of the current message.
  Result feed(std::string_view in, Sink sink, void* ctx);
  // The message's last byte was fed: flushes what is left and resets for the next message.
  Result finish(Sink sink, void* ctx);
  const std::string& error() const { return error_; }

 private:
  Result run(std::string_view in, Sink sink, void* ctx);
  struct State;
  std::unique_ptr<State> st_;
  bool ended_ = false;  // the client ended the deflate stream (a final block) mid-message
  std::string error_;
};

// Deflates one outgoing message at a time (zlib's fastest level, as the reference's
// flate.BestSpeed), without the 4-byte sync-flush tail the RFC strips.
class Deflater {
 public:
  Deflater();
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  void add(std::string_view data);
  // The compressed message so far, appended to out; resets for the next message.
  // False if zlib failed (out is then unusable).
  bool finish(std::string& out);

 private:
  struct State;
  std::unique_ptr<State> st_;
  std::string buf_;
};

// The reference sends uncompressed frames for payloads this small.
constexpr size_t kCompressThreshold = 64;

// The Sec-WebSocket-Extensions answer when compression is agreed.
constexpr std::string_view kDeflateResponseHeader =
    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n";

}  // namespace nats::net::ws
