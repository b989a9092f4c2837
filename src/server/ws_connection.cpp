// The WebSocket side of Connection: the opening handshake on the first reads, RFC 6455
// frames in and out around the NATS protocol (which the protocol handler sees unchanged).
// Everything the connection enqueues between two writes goes out as one binary frame.
#include <poll.h>
#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>

#include "net/ws_frame.h"
#include "server/conn_tag.h"
#include "server/connection.h"
#include "server/server.h"
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

// The HTTP answer, written before any frame; through TLS on a wss port. It is small, so a
// socket that is not writable right away is waited for briefly rather than queued.
bool Connection::ws_write_answer(std::string_view s) {
  if (!tls_) return write_plain_now(s);
  for (int tries = 0; !s.empty() && tries < 100;) {
    struct iovec iov{const_cast<char*>(s.data()), s.size()};
    ssize_t w = write_iov(&iov, 1);
    if (w > 0) {
      s.remove_prefix(static_cast<size_t>(w));
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p{fd_, static_cast<short>(POLLOUT | POLLIN), 0};
      ::poll(&p, 1, 20);
      ++tries;
      continue;
    }
    return false;
  }
  return s.empty();
}

void Connection::begin_websocket(const ws::OriginPolicy& policy, std::chrono::nanoseconds handshake_timeout) {
  ws_ = std::make_unique<WsState>();
  ws_->hold = shared_from_this();
  ws_->policy = policy;
  ws_->handshake_timeout = handshake_timeout;
}

void Connection::start_websocket() {
  if (ws_->handshake_timeout.count() <= 0) return;
  std::weak_ptr<Connection> weak = shared_from_this();
  loop_.add_timer(ws_->handshake_timeout, [weak] {
    auto c = weak.lock();
    if (!c || c->closing() || c->ws_upgraded()) return;
    log::error("{}:{} - websocket handshake error: timeout", c->peer_ip_, c->peer_port_);
    c->close(CloseReason::ReadError);
  });
}

const std::string& Connection::ws_cookie_jwt() const { return ws_->cookie_jwt; }

const std::string& Connection::ws_forwarded_ip() const {
  // Written once on the loop thread before the upgraded flag is released: safe to read from
  // any thread once that flag is seen.
  static const std::string none;
  return ws_ && ws_upgraded() ? ws_->forwarded_ip : none;
}

void Connection::begin_websocket_client(const std::string& host, const std::string& path, bool compress,
                                        bool no_masking) {
  ws_ = std::make_unique<WsState>();
  ws_->client = true;
  ws_->key = ws::new_client_key();
  ws_->asked_compress = compress;
  ws_->asked_no_masking = no_masking;
  ws_->upgrade_request = ws::client_request(host, path, ws_->key, compress, no_masking);
}

Connection::WriteResult Connection::ws_write_request_locked() {
  while (ws_->request_sent < ws_->upgrade_request.size()) {
    struct iovec iov{ws_->upgrade_request.data() + ws_->request_sent, ws_->upgrade_request.size() - ws_->request_sent};
    ssize_t w = write_iov(&iov, 1);
    if (w > 0) {
      ws_->request_sent += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return WriteResult::Blocked;
    return WriteResult::Error;
  }
  return WriteResult::Done;  // the frames wait for the answer
}

bool Connection::ws_compressed() const { return ws_ && ws_->compressed; }

void Connection::ws_set_upgraded(bool compress, bool peer_masks, bool mask_writes) {
  ws_->compressed = compress;
  if (compress) ws_->decoder.enable_inflate();
  ws_->decoder.set_require_mask(peer_masks);
  {
    std::lock_guard lk(out_mu_);
    if (compress) ws_->deflater = std::make_unique<ws::Deflater>();
    ws_->mask_writes = mask_writes;
  }
  ws_->upgraded.store(true, std::memory_order_release);
}

bool Connection::ws_client_input(char* data, size_t len) {
  ws_->request.append(data, len);
  auto a = ws::check_upgrade_answer(ws_->request, ws_->key, ws_->asked_compress, ws_->asked_no_masking);
  if (a.status == ws::UpgradeAnswer::Incomplete) return true;
  if (a.status == ws::UpgradeAnswer::Rejected) {
    log::error("{} - Error soliciting websocket connection: {}", conn_tag(*this), a.error);
    close(CloseReason::ReadError);
    return false;
  }
  // Frames from the server are not masked; ours are unless it agreed to Nats-No-Masking.
  ws_set_upgraded(a.compress, false, !a.no_masking);
  log::debug("{} - Leafnode compression={} masking={}", conn_tag(*this), a.compress, !a.no_masking);
  std::string rest = ws_->request.substr(a.consumed);
  ws_->request = std::string();
  if (!on_ws_upgraded()) return false;
  flush_scheduled_.store(true, std::memory_order_relaxed);
  flush_from_loop();  // what was enqueued while the answer was awaited
  // The server's first frames (its INFO) may have come with the answer.
  return rest.empty() ? !closing() : ws_input(rest.data(), rest.size());
}

void Connection::hand_over(Connection& to) {
  to.fd_ = fd_;
  to.fd_handed_over_ = true;
  fd_ = -1;
  to.peer_ip_ = peer_ip_;
  to.peer_port_ = peer_port_;
  to.tls_ = std::move(tls_);
  to.tls_version_ = tls_version_;
  to.tls_cipher_ = tls_cipher_;
  to.tls_established_.store(tls_established(), std::memory_order_release);
  to.ws_ = std::move(ws_);
  // The self-reference this one kept until its upgrade: released on the loop after `to`
  // has started (epoll may still hand this object an event until then; it ignores it).
  std::shared_ptr<Connection> hold = std::move(to.ws_->hold);
  closing_.store(true, std::memory_order_release);
  closed_ = true;
  loop_.post([hold] {});
}

bool Connection::ws_upgraded() const { return ws_->upgraded.load(std::memory_order_acquire); }

bool Connection::ws_input(char* data, size_t len) {
  if (!ws_upgraded() && ws_->client) return ws_client_input(data, len);
  if (!ws_upgraded()) {
    ws_->request.append(data, len);
    auto r = ws::process_handshake(ws_->request, ws_->policy);
    if (r.status == ws::HandshakeResult::Incomplete) return true;
    bool written = ws_write_answer(r.response);
    ws_->request = std::string();
    if (r.status == ws::HandshakeResult::Rejected || !written) {
      // Not a client yet: the reference names only the remote address ("<ip>:<port> - ").
      if (!r.error.empty()) log::error("{}:{} - {}", peer_ip_, peer_port_, r.error);
      close(written ? CloseReason::ProtocolViolation : CloseReason::WriteError);
      return false;
    }
    {
      std::lock_guard lk(out_mu_);
      ws_->browser = r.browser;
      ws_->no_compressed_fragments = r.no_compressed_fragments;
    }
    ws_->forwarded_ip = std::move(r.forwarded_ip);
    if (r.leaf) {
      // A leaf node soliciting over WebSocket: the leaf manager takes the socket over (or
      // closes it when this server accepts no leafs), as the reference's createLeafNode.
      ws_set_upgraded(r.compress, !r.no_masking, false);
      server_.accept_websocket_leaf(*this);
      return false;
    }
    {
      // The reference's debug line for a new websocket client; X-Forwarded-For shows only in
      // this prefix (the monitoring endpoints keep the socket's address).
      const std::string& f = ws_->forwarded_ip;
      std::string fwd = f.empty() ? "" : (f.find(':') == std::string::npos ? f : "[" + f + "]") + "/";
      log::debug("{}{}:{} - wid:{} - Client connection created", fwd, peer_ip_, peer_port_, cid_);
    }
    ws_->cookie_jwt = std::move(r.cookie_jwt);
    ws_set_upgraded(r.compress, !r.no_masking, false);
    bool admitted = on_ws_upgraded();
    if (admitted) ws_->hold.reset();  // now a registered client
    flush_scheduled_.store(true, std::memory_order_relaxed);
    flush_from_loop();  // the INFO held back until now
    return admitted && !closing();
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
      log::debug("{} - websocket protocol error: {}", conn_tag(*this), ws_->decoder.error());
      ws_enqueue_control(static_cast<uint8_t>(ws::Opcode::Close),
                         ws::close_payload(ws::kProtocolError, ws_->decoder.error()));
      close(CloseReason::ReadError);
      return false;
  }
  return false;
}

void Connection::ws_frame_pending_locked() {
  if (pending_.empty()) return;
  if (ws_->mask_writes) {
    // The dialing side masks every frame, so the payload is copied: one message for what
    // is pending, compressed when agreed and worth it.
    const size_t raw = pending_.size();
    std::string body;
    body.reserve(raw);
    while (!pending_.empty()) {
      struct iovec iov[64];
      int n = pending_.fill_iov(iov, 64);
      size_t taken = 0;
      for (int i = 0; i < n; ++i) {
        body.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
        taken += iov[i].iov_len;
      }
      pending_.consume(taken);
    }
    bool compressed = false;
    if (ws_->deflater && raw > ws::kCompressThreshold) {
      ws_->deflater->add(body);
      std::string z;
      if (ws_->deflater->finish(z)) {
        body.swap(z);
        compressed = true;
      }
    }
    std::string frame;
    ws::append_masked_frame(frame, ws::Opcode::Binary, body, compressed);
    ws_->framed.append(frame);
    if (frame.size() >= raw) pending_size_.fetch_add(frame.size() - raw, std::memory_order_relaxed);
    else pending_size_.fetch_sub(raw - frame.size(), std::memory_order_relaxed);
    return;
  }
  if (ws_->deflater && pending_.size() > ws::kCompressThreshold) {
    // One compressed message for everything pending, as the reference; the pending byte
    // count follows the compressed size.
    size_t raw = pending_.size();
    while (!pending_.empty()) {
      struct iovec iov[64];
      int n = pending_.fill_iov(iov, 64);
      size_t taken = 0;
      for (int i = 0; i < n; ++i) {
        ws_->deflater->add(std::string_view(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len));
        taken += iov[i].iov_len;
      }
      pending_.consume(taken);
    }
    std::string body;
    if (ws_->deflater->finish(body)) {
      // A browser gets the compressed message in fragments of kBrowserFrameSize (only the
      // first marked compressed), except Safari, which cannot take them.
      const size_t limit = ws_->browser && !ws_->no_compressed_fragments ? ws::kBrowserFrameSize : body.size();
      size_t now = 0;
      std::string_view rest = body;
      for (bool first = true; first || !rest.empty(); first = false) {
        std::string_view part = rest.substr(0, std::max<size_t>(limit, 1));
        rest.remove_prefix(part.size());
        std::string header = ws::fragment_header(ws::Opcode::Binary, part.size(), first, rest.empty(), true);
        ws_->framed.append(header);
        ws_->framed.append(part);
        now += header.size() + part.size();
      }
      if (now >= raw) pending_size_.fetch_add(now - raw, std::memory_order_relaxed);
      else pending_size_.fetch_sub(raw - now, std::memory_order_relaxed);
      return;
    }
    // zlib failed (out of memory): the data is gone, so is the connection.
    pending_size_.fetch_sub(raw, std::memory_order_relaxed);
    log::error("{} - Error during compression", conn_tag(*this));
    ws_->close_sent = true;  // nothing more can be framed sensibly
    loop_.post([self = shared_from_this()] { self->close(CloseReason::WriteError); });
    return;
  }
  if (ws_->browser && pending_.size() > ws::kBrowserFrameSize) {
    // Browsers cope better with small frames (the reference's wsFrameSizeForBrowsers):
    // whole binary frames of at most 4 KB each.
    size_t headers = 0;
    std::string chunk;
    while (!pending_.empty()) {
      chunk.clear();
      struct iovec iov[16];
      int n = pending_.fill_iov(iov, 16);
      for (int i = 0; i < n && chunk.size() < ws::kBrowserFrameSize; ++i) {
        size_t take = std::min(iov[i].iov_len, ws::kBrowserFrameSize - chunk.size());
        chunk.append(static_cast<const char*>(iov[i].iov_base), take);
      }
      pending_.consume(chunk.size());
      std::string header = ws::frame_header(ws::Opcode::Binary, chunk.size());
      headers += header.size();
      ws_->framed.append(header);
      ws_->framed.append(chunk);
    }
    pending_size_.fetch_add(headers, std::memory_order_relaxed);
    return;
  }
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
  {
    std::lock_guard lk(out_mu_);
    std::string frame = ws::control_frame(static_cast<ws::Opcode>(opcode), payload, ws_->mask_writes);
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
  std::string frame = ws::control_frame(
      ws::Opcode::Close, ws::close_payload(close_status(close_reason_), close_reason_text(close_reason_)),
      ws_->mask_writes);
  ws_->framed.append(frame);
}

}  // namespace nats
