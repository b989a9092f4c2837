// A socket owned by one event loop: reads feed a protocol handler (client, route, gateway),
// output from any thread is coalesced into an outbound buffer and written by the owning
// loop. Invariants:
//  - only the owning loop reads the socket and writes it;
//  - any thread may enqueue output (under out_mu_), then calls touch() so that the output
//    is flushed at the end of the current batch (once per batch, not once per message);
//  - close() may be called from any thread; teardown runs on the owning loop.
#pragma once
#include <functional>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "net/event_loop.h"
#include "net/out_buffer.h"
#include "net/tls.h"
#include "net/ws_handshake.h"
#include "subject/subscription.h"

namespace nats {

class Server;

enum class ConnKind { Client, Router, Gateway, Leaf, System };

// Why a connection closed; names as in /connz "reason".
enum class CloseReason {
  ClientClosed,
  AuthenticationTimeout,
  AuthenticationViolation,
  TLSHandshakeError,
  SlowConsumerPendingBytes,
  SlowConsumerWriteDeadline,
  WriteError,
  ReadError,
  ParseError,
  StaleConnection,
  ProtocolViolation,
  BadClientProtocolVersion,
  WrongPort,
  MaxAccountConnectionsExceeded,
  MaxConnectionsExceeded,
  MaxPayloadExceeded,
  MaxControlLineExceeded,
  MaxSubscriptionsExceeded,
  DuplicateRoute,
  RouteRemoved,
  ServerShutdown,
  AuthenticationExpired,
  WrongGateway,
  MissingAccount,
  Kicked,
  Revocation,
  ClusterNamesIdentical,
  DuplicateRemoteLeafnodeConnection,
  MinimumVersionRequired,
  ClusterNameConflict,  // a reload renamed the cluster: the leafs this server dialled are cut
};
const char* close_reason_text(CloseReason r);

class Connection : public net::IoHandler, public net::Flushable, public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, net::EventLoop& loop, int fd, uint64_t cid, ConnKind kind);
  ~Connection() override;

  uint64_t cid() const { return cid_; }
  ConnKind kind() const { return kind_; }
  net::EventLoop& loop() const { return loop_; }
  Server& server() const { return server_; }

  // Registers the socket with the loop; called on the loop thread.
  virtual void start();

  // Delivers a message that matched `sub` (owned by this connection), from any thread:
  // MSG/HMSG to a client, RMSG to a route or gateway. Returns false if not delivered.
  virtual bool deliver(const Subscription& sub, std::string_view subject, std::string_view reply,
                       std::string_view headers, std::string_view payload) = 0;

  // Makes this a WebSocket connection (before start()): the HTTP Upgrade handshake comes
  // first, then reads are unframed and the coalesced output goes out as binary frames.
  // Output enqueued before the handshake completes is held until it does. See
  // ws_connection.cpp.
  void begin_websocket(const net::ws::OriginPolicy& policy, std::chrono::nanoseconds handshake_timeout);
  bool websocket() const { return ws_ != nullptr; }
  // The dialing side of a WebSocket (a leaf node soliciting a hub's websocket port), before
  // start(): the GET Upgrade request for host/path goes out first (after the TLS handshake,
  // if any), the 101 answer is checked, then output goes out as masked binary frames
  // (unmasked if the server agreed to Nats-No-Masking), compressed if agreed.
  void begin_websocket_client(const std::string& host, const std::string& path, bool compress, bool no_masking);
  // Hands the socket, with its TLS session and its upgraded WebSocket state, over to `to`: a
  // connection of another kind made on the same loop with fd -1 and not started yet. This
  // one is dead afterwards, without closing anything (the websocket listener's upgrade to
  // /leafnode makes a leaf of what was accepted as a client). Loop thread.
  void hand_over(Connection& to);
  // The WebSocket upgrade's X-Forwarded-For address (empty: none, or not a websocket).
  const std::string& ws_forwarded_ip() const;
  // permessage-deflate was agreed (loop thread, once upgraded).
  bool ws_compressed() const;
  // The JWT the upgrade request's jwt_cookie carried (empty: none); loop thread.
  const std::string& ws_cookie_jwt() const;

  // Thread-safe output. Returns false if the connection is closing or just became a slow
  // consumer (pending output over max_pending).
  bool enqueue(std::string_view a);
  bool enqueue(std::string_view a, std::string_view b, std::string_view c);
  bool enqueue_iov(const struct iovec* parts, int n);
  // Enqueues one delivered message (control line, optional headers, payload, CRLF), counts
  // it and touches the connection. Any thread.
  bool enqueue_message(std::string_view line, std::string_view headers, std::string_view payload);
  // Schedules a flush at the end of the caller's batch (see flush_touched()).
  void touch();
  // Enqueue + touch + (if on the loop thread) flush right away. For protocol replies.
  void send_now(std::string_view s);

  // Thread-safe close. Pending output is written (best effort) before the socket closes.
  void close(CloseReason reason);
  bool closing() const { return closing_.load(std::memory_order_acquire); }
  CloseReason close_reason() const { return close_reason_; }

  // Flushes every connection the calling thread touched in this batch: those owned by the
  // calling loop are written now, the others are handed to their loop (one wake-up each).
  static void flush_touched();
  // True while the calling thread is inside a connection's input batch, which ends with
  // flush_touched(): output produced now (e.g. a PubAck) leaves with the batch's flush.
  static bool in_input_batch();
  // Runs fn at the start of the calling thread's next flush_touched(), before anything is
  // written (group commit: one fsync, then the PubAcks it covers). fn may enqueue output;
  // it leaves with that flush.
  static void before_flush(std::function<void()> fn);

  // net::IoHandler / net::Flushable
  void on_io(uint32_t events) override;
  void flush_from_loop() override;

  // Round-trip time measured by the last PING/PONG.
  std::chrono::nanoseconds rtt() const { return std::chrono::nanoseconds(rtt_ns_.load(std::memory_order_relaxed)); }
  int64_t rtt_ns() const { return rtt_ns_.load(std::memory_order_relaxed); }
  // Until a PONG measures it, the reference estimates the RTT as the time from accept to
  // CONNECT (most clients send CONNECT right after reading INFO).
  void estimate_rtt_from_start() {
    auto d = std::chrono::system_clock::now() - start_time_;
    rtt_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), std::memory_order_relaxed);
  }

  // Stats, readable from any thread (monitoring).
  std::atomic<uint64_t> in_msgs{0}, in_bytes{0}, out_msgs{0}, out_bytes{0};
  size_t pending_bytes() const { return pending_size_.load(std::memory_order_relaxed); }
  std::chrono::system_clock::time_point start_time() const { return start_time_; }
  std::chrono::system_clock::time_point last_activity() const;
  const std::string& peer_ip() const { return peer_ip_; }
  int peer_port() const { return peer_port_; }
  void set_peer(std::string ip, int port) { peer_ip_ = std::move(ip); peer_port_ = port; }
  // TLS: version and cipher once the handshake is done (empty for plain connections).
  // Loop thread, or after the handshake (the values no longer change then).
  bool tls_established() const { return tls_established_.load(std::memory_order_acquire); }
  std::string tls_version() const;
  std::string tls_cipher_suite() const;
  // The certificates the peer sent (for /connz's tls_peer_certs); empty before the handshake.
  std::vector<net::PeerCertInfo> tls_peer_certs() const {
    return tls_established() ? tls_peer_certs_ : std::vector<net::PeerCertInfo>();
  }
  // The names in the peer's TLS certificate (loop thread): nullopt without TLS or a certificate.
  std::optional<net::PeerCertNames> peer_cert_names() const {
    return tls_ && tls_established() ? tls_->peer_cert_names() : std::nullopt;
  }

 protected:
  // Handles bytes read from the socket; returns false to stop reading (closing).
  virtual bool on_data(const char* data, size_t len) = 0;
  // Runs on the loop thread once the socket is closed; remove subscriptions etc.
  virtual void on_closed() {}
  void mark_activity();
  void check_write_deadline();
  std::chrono::nanoseconds write_deadline() const;

  // Keep-alive (loop thread): a PING every ping_interval; when ping_max go unanswered,
  // on_stale(). With skip_when_active, no PING is sent while the peer has sent something
  // within the interval (the reference does this for clients).
  // With first_cap, the first PING comes after min(ping_interval, first_cap) plus up to a
  // fifth of that (the reference's setFirstPingTimer), the next ones every ping_interval.
  void start_pings(std::chrono::nanoseconds first_cap = std::chrono::nanoseconds(0));
  void set_ping_skip_when_active(bool v) { ping_skip_when_active_ = v; }
  void ping_now();       // an immediate PING, e.g. to measure the RTT right after a handshake
  void pong_received();  // clears the outstanding count and records the RTT
  void stop_pings();
  virtual void on_stale() { close(CloseReason::StaleConnection); }

  // From now on the socket speaks TLS; everything already written went out in clear.
  // Loop thread, before start() registers the socket. Output enqueued before the handshake
  // completes is held until it does; a handshake not done within `timeout` closes the
  // connection. With dial_name this side is the TLS client (routes and gateways we dial)
  // and checks that the peer's certificate names it.
  void begin_tls(const net::TlsContext& ctx, std::chrono::nanoseconds timeout,
                 const std::string* dial_name = nullptr);
  // begin_tls as the dialing side on a connection already started (a leaf learns from the
  // hub's INFO, read in clear, that TLS follows): the first handshake flight goes out now.
  // False when the connection was closed.
  bool begin_tls_started(const net::TlsContext& ctx, std::chrono::nanoseconds timeout, const std::string& dial_name);
  // Writes a short message in clear right away (the INFO before a TLS handshake); false if
  // the socket did not take all of it.
  bool write_plain_now(std::string_view s);
  // Called on the loop thread when the TLS handshake completes.
  virtual void on_tls_established() {}
  // Called on the loop thread once the WebSocket upgrade is answered; false when the
  // connection was closed instead.
  virtual bool on_ws_upgraded() { return true; }
  // Stops reading the socket until release_reading() (a CONNECT waiting for its account JWT:
  // nothing after it is read before the account is bound, as the reference's blocked read
  // loop). Backpressure releases do not resume a held connection. Loop thread.
  void hold_reading();
  void release_reading();

  Server& server_;
  net::EventLoop& loop_;
  int fd_;
  uint64_t cid_;
  ConnKind kind_;
  int64_t max_pending_;
  std::string peer_ip_;
  int peer_port_ = 0;

 private:
  enum class WriteResult { Done, Blocked, Error };
  void teardown();
  // Owner loop: writes what is pending; on EAGAIN registers for EPOLLOUT.
  void write_out();
  // Writes pending output until done or EAGAIN; write_mu_ held. Any thread.
  WriteResult write_some_locked();
  // From another loop's thread: writes now if nobody else is writing; false if it could not.
  bool try_flush_inline();
  // Backpressure: a reader whose messages pile up in another connection's output stops
  // reading its socket until that output drains (the reference stalls such a producer).
  void register_stalled_producer(const std::shared_ptr<Connection>& producer);
  void release_stalled_producers();
  void pause_reading();
  void resume_reading();
  // Socket I/O through TLS when it is on: errno semantics of read(2)/writev(2), with
  // EAGAIN also for "TLS needs the other direction first".
  ssize_t read_some(char* buf, size_t len);
  ssize_t write_iov(const struct iovec* iov, int n);
  // TLS handshake step on readiness; false when the connection was closed.
  bool continue_tls_handshake();

  std::mutex out_mu_;
  net::OutBuffer pending_;   // guarded by out_mu_
  std::mutex write_mu_;      // serialises socket writes (owner loop or inline writers)
  net::OutBuffer writing_;   // guarded by write_mu_
  std::atomic<size_t> pending_size_{0};
  std::atomic<bool> flush_scheduled_{false};
  std::atomic<bool> closing_{false};
  std::atomic<bool> closed_{false};      // set by teardown on the loop thread
  std::atomic<bool> want_write_{false};  // EPOLLOUT registered (owner loop changes it)
  std::chrono::steady_clock::time_point stall_since_{};
  CloseReason close_reason_ = CloseReason::ClientClosed;
  std::chrono::system_clock::time_point start_time_;
  std::atomic<int64_t> last_activity_ns_{0};
  void ping_tick();
  int pings_out_ = 0;
  bool ping_skip_when_active_ = false;
  net::TimerId ping_timer_ = 0;
  std::chrono::steady_clock::time_point ping_sent_{};
  std::atomic<int64_t> rtt_ns_{0};
  size_t stall_threshold_;                                // pending bytes at which producers pause
  size_t read_size_;                                      // bytes per read (see constructor)
  std::vector<std::weak_ptr<Connection>> stalled_;        // guarded by out_mu_
  bool pause_requested_ = false;                          // loop thread only
  bool read_paused_ = false;                              // loop thread only
  bool read_held_ = false;                                // hold_reading(); loop thread only
  std::unique_ptr<net::TlsSession> tls_;                  // loop thread only (never inline writes)
  std::atomic<bool> tls_established_{false};
  bool tls_handshake_wants_write_ = false;
  bool tls_dialing_ = false;
  bool fd_handed_over_ = false;  // hand_over(): the socket is already in the loop's epoll set
  std::string tls_version_, tls_cipher_;  // written once before tls_established_ is set
  std::vector<net::PeerCertInfo> tls_peer_certs_;  // likewise

  // WebSocket (ws_connection.cpp).
  struct WsState;
  std::unique_ptr<WsState> ws_;  // set before start(), never reset
  void start_websocket();
  bool ws_upgraded() const;
  // Unframes what was read: the handshake, then frames; false to stop reading.
  bool ws_input(char* data, size_t len);
  bool ws_write_answer(std::string_view s);
  // out_mu_ held: wraps what is pending into one binary frame in the framed output.
  void ws_frame_pending_locked();
  // out_mu_ held: moves the framed output to `out` (what the writer sends).
  void ws_take_framed_locked(net::OutBuffer& out);
  void ws_enqueue_control(uint8_t opcode, std::string_view payload);
  // The dialing side: writes what is left of the upgrade request (write_mu_ held).
  WriteResult ws_write_request_locked();
  // The dialing side: the server's answer to the upgrade request; false to stop reading.
  bool ws_client_input(char* data, size_t len);
  // Applies an agreed upgrade (either side): masking, compression, the state flag.
  void ws_set_upgraded(bool compress, bool peer_masks, bool mask_writes);
  // out_mu_ held, at teardown: a close frame whose status says why, unless one was sent.
  void ws_close_locked();
};

using ConnectionPtr = std::shared_ptr<Connection>;

}  // namespace nats
