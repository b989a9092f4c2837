// The WebSocket side of Connection: the opening handshake on the first reads, RFC 6455
// frames in and out around the NATS protocol (which the protocol handler sees unchanged).
// Everything the connection enqueues between two writes goes out as one binary frame.
#include <sys/socket.h>

#include "net/ws_frame.h"
#include "server/connection.h"
#include "server/ws_state.h"
#include "util/log.h"

namespace nats {

namespace ws = net::ws;

namespace {
// The close status the reference sends for each reason (wsEnqueueCloseMessage).
uint16_t close_status(CloseReason r) {
  switch (r) {
    case CloseReason::ClientClosed: return ws::kNormalClosure;
    case CloseReason::AuthenticationTimeout:
    case CloseReason::AuthenticationViolation:
    case CloseReason::SlowConsumerPendingBytes:
    case CloseReason::SlowConsumerWriteDeadline:
    case CloseReason::MaxAccountConnectionsExceeded:
    case CloseReason::MaxConnectionsExceeded:
    case CloseReason::MaxControlLineExceeded:
    case CloseReason::MaxSubscriptionsExceeded:
    case CloseReason::MissingAccount:
    case CloseReason::AuthenticationExpired: return ws::kPolicyViolation;
    case CloseReason::TLSHandshakeError: return ws::kTlsHandshake;
    case CloseReason::ParseError:
    case CloseReason::ProtocolViolation:
    case CloseReason::BadClientProtocolVersion: return ws::kProtocolError;
    case CloseReason::MaxPayloadExceeded: return ws::kMessageTooBig;
    case CloseReason::ServerShutdown: return ws::kGoingAway;
    case CloseReason::WriteError:
    case CloseReason::ReadError:
    case CloseReason::StaleConnection: return ws::kAbnormalClosure;
    default: return ws::kInternalServerError;
  }
}
}  // namespace

void Connection::begin_websocket(const ws::OriginPolicy& policy, std::chrono::nanoseconds handshake_timeout) {
  ws_ = std::make_unique<WsState>();
  ws_->policy = policy;
  ws_->handshake_timeout = handshake_timeout;
}

void Connection::start_websocket() {
  if (ws_->handshake_timeout.count() <= 0) return;
  std::weak_ptr<Connection> weak = shared_from_this();
  loop_.add_timer(ws_->handshake_timeout, [weak] {
    auto c = weak.lock();
    if (!c || c->closing() || c->ws_upgraded()) return;
    log::error("{}:{} - cid:{} - websocket handshake error: timeout", c->peer_ip_, c->peer_port_, c->cid_);
    c->close(CloseReason::ReadError);
  });
}

bool Connection::ws_upgraded() const { return ws_->upgraded.load(std::memory_order_acquire); }

bool Connection::ws_input(char* data, size_t len) {
  if (!ws_upgraded()) {
    ws_->request.append(data, len);
    auto r = ws::process_handshake(ws_->request, ws_->policy);
    if (r.status == ws::HandshakeResult::Incomplete) return true;
    bool written = write_plain_now(r.response);
    ws_->request = std::string();
    if (r.status == ws::HandshakeResult::Rejected || !written) {
      if (!r.error.empty()) log::error("{}:{} - cid:{} - {}", peer_ip_, peer_port_, cid_, r.error);
      close(written ? CloseReason::ProtocolViolation : CloseReason::WriteError);
      return false;
    }
    ws_->upgraded.store(true, std::memory_order_release);
    flush_scheduled_.store(true, std::memory_order_relaxed);
    flush_from_loop();  // the INFO held back until now
    return !closing();
  }

  struct Sink : ws::FrameSink {
    Connection& c;
    explicit Sink(Connection& conn) : c(conn) {}
    bool on_payload(std::string_view d) override { return c.on_data(d.data(), d.size()); }
    void on_ping(std::string_view p) override { c.ws_enqueue_control(static_cast<uint8_t>(ws::Opcode::Pong), p); }
    void on_pong(std::string_view) override {}
    void on_close(uint16_t status, std::string_view reason) override {
      // Echo the client's status, as the reference does, then close.
      std::string body = status == ws::kNoStatusReceived ? std::string() : ws::close_payload(status, reason);
      c.ws_enqueue_control(static_cast<uint8_t>(ws::Opcode::Close), body);
    }
  } sink(*this);
  switch (ws_->decoder.feed(data, len, sink)) {
    case ws::FrameDecoder::Result::Ok: return !closing();
    case ws::FrameDecoder::Result::Stopped: return false;
    case ws::FrameDecoder::Result::Closed:
      close(CloseReason::ClientClosed);
      return false;
    case ws::FrameDecoder::Result::Error:
      log::debug("{}:{} - cid:{} - websocket protocol error: {}", peer_ip_, peer_port_, cid_, ws_->decoder.error());
      ws_enqueue_control(static_cast<uint8_t>(ws::Opcode::Close),
                         ws::close_payload(ws::kProtocolError, ws_->decoder.error()));
      close(CloseReason::ReadError);
      return false;
  }
  return false;
}

void Connection::ws_frame_pending_locked() {
  if (pending_.empty()) return;
  std::string header = ws::frame_header(ws::Opcode::Binary, pending_.size());
  ws_->framed.append(header);
  pending_size_.fetch_add(header.size(), std::memory_order_relaxed);
  pending_.move_to(ws_->framed);
}

void Connection::ws_take_framed_locked(net::OutBuffer& out) {
  ws_frame_pending_locked();
  ws_->framed.move_to(out);
}

void Connection::ws_enqueue_control(uint8_t opcode, std::string_view payload) {
  if (closing()) return;
  std::string frame = ws::control_frame(static_cast<ws::Opcode>(opcode), payload);
  {
    std::lock_guard lk(out_mu_);
    if (ws_->close_sent) return;
    ws_frame_pending_locked();
    ws_->framed.append(frame);
    pending_size_.fetch_add(frame.size(), std::memory_order_relaxed);
    if (static_cast<ws::Opcode>(opcode) == ws::Opcode::Close) ws_->close_sent = true;
  }
  touch();
}

void Connection::ws_close_locked() {
  if (ws_->close_sent) return;
  ws_->close_sent = true;
  ws_frame_pending_locked();
  std::string frame = ws::control_frame(ws::Opcode::Close,
                                        ws::close_payload(close_status(close_reason_), close_reason_text(close_reason_)));
  ws_->framed.append(frame);
}

}  // namespace nats
