#include "server/conn_tag.h"
#include "server/connection.h"
#include "server/current_reader.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <random>
#include <vector>

#include "config/duration.h"
#include "net/timer_wheel.h"
#include "server/server.h"
#include "server/ws_state.h"
#include "util/log.h"

namespace nats {

namespace {
// Connections the current thread enqueued output for during this batch.
thread_local std::vector<ConnectionPtr> t_touched;
constexpr size_t kReadBufferSize = 256 * 1024;
thread_local std::unique_ptr<char[]> t_read_buffer;
// The connection whose input the current thread is processing (the producer of whatever
// gets enqueued now), for backpressure.
thread_local Connection* t_reader = nullptr;
// Work to run before this thread's next flush (see before_flush), and whether it runs now.
thread_local std::vector<std::function<void()>> t_before_flush;
thread_local bool t_in_before_flush = false;
// Pending output at which the producing client is paused (resumed below half). What a
// slower subscriber has pending is most of the server's memory in pub/sub traffic, and the
// loopback socket buffers (several MB) keep the subscriber busy through a pause, so a
// small threshold costs no throughput (was 8 MB: pub/sub peak RSS followed it).
constexpr size_t kMaxStallThreshold = 2 * 1024 * 1024;
// Whether output for connections of other loops may be written from this thread. After a
// small read (request/reply, interactive traffic) writing inline saves a cross-thread
// wake-up per message; after a large read (streaming) handing the write to the owning loop
// lets both cores work.
thread_local bool t_inline_writes = false;
constexpr size_t kInlineWriteMaxRead = 16 * 1024;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

const char* close_reason_text(CloseReason r) {
  switch (r) {
    case CloseReason::ClientClosed: return "Client Closed";
    case CloseReason::AuthenticationTimeout: return "Authentication Timeout";
    case CloseReason::AuthenticationViolation: return "Authentication Failure";  // 2.9.10 ClosedState
    case CloseReason::TLSHandshakeError: return "TLS Handshake Failure";
    case CloseReason::SlowConsumerPendingBytes: return "Slow Consumer (Pending Bytes)";
    case CloseReason::SlowConsumerWriteDeadline: return "Slow Consumer (Write Deadline)";
    case CloseReason::WriteError: return "Write Error";
    case CloseReason::ReadError: return "Read Error";
    case CloseReason::ParseError: return "Parse Error";
    case CloseReason::StaleConnection: return "Stale Connection";
    case CloseReason::ProtocolViolation: return "Protocol Violation";
    case CloseReason::BadClientProtocolVersion: return "Bad Client Protocol Version";
    case CloseReason::WrongPort: return "Incorrect Port";
    case CloseReason::MaxAccountConnectionsExceeded: return "Maximum Account Connections Exceeded";
    case CloseReason::MaxConnectionsExceeded: return "Maximum Connections Exceeded";
    case CloseReason::MaxPayloadExceeded: return "Maximum Message Payload Exceeded";
    case CloseReason::MaxControlLineExceeded: return "Maximum Control Line Exceeded";
    case CloseReason::MaxSubscriptionsExceeded: return "Maximum Subscriptions Exceeded";
    case CloseReason::DuplicateRoute: return "Duplicate Route";
    case CloseReason::RouteRemoved: return "Route Removed";
    case CloseReason::ServerShutdown: return "Server Shutdown";
    case CloseReason::AuthenticationExpired: return "Authentication Expired";
    case CloseReason::WrongGateway: return "Wrong Gateway";
    case CloseReason::MissingAccount: return "Missing Account";
    case CloseReason::Kicked: return "Kicked";
    case CloseReason::Revocation: return "Credentials Revoked";
    case CloseReason::ClusterNamesIdentical: return "Cluster Names Identical";
    case CloseReason::DuplicateRemoteLeafnodeConnection: return "Duplicate Remote LeafNode Connection";
    case CloseReason::MinimumVersionRequired: return "Minimum Version Required";
    case CloseReason::ClusterNameConflict: return "Cluster Name Conflict";
  }
  return "Unknown";
}

Connection::Connection(Server& server, net::EventLoop& loop, int fd, uint64_t cid, ConnKind kind)
    : server_(server), loop_(loop), fd_(fd), cid_(cid), kind_(kind),
      max_pending_(server.options().max_pending),
      start_time_(std::chrono::system_clock::now()) {
  last_activity_ns_ = now_ns();
  size_t mp = max_pending_ > 0 ? static_cast<size_t>(max_pending_) : kMaxStallThreshold * 2;
  stall_threshold_ = std::min(mp / 2, kMaxStallThreshold);
  // One read can add about its own size to every subscriber's output before the pause takes
  // effect, so reads stay well under the room left between the stall point and max_pending.
  read_size_ = std::clamp<size_t>(mp / 8, 16 * 1024, kReadBufferSize);
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::start() {
  if (fd_ >= 0 && fd_handed_over_) loop_.mod_fd(fd_, EPOLLIN | EPOLLRDHUP, this);
  else if (fd_ >= 0) loop_.add_fd(fd_, EPOLLIN | EPOLLRDHUP, this);
  if (ws_ && !ws_upgraded()) start_websocket();
  // The dialing side speaks first in a TLS handshake (a websocket's request follows it), or
  // with its websocket upgrade request.
  if (tls_ && tls_dialing_) continue_tls_handshake();
  else if (ws_ && ws_->client) write_out();
}

std::chrono::system_clock::time_point Connection::last_activity() const {
  return std::chrono::system_clock::time_point(std::chrono::nanoseconds(last_activity_ns_.load(std::memory_order_relaxed)));
}

void Connection::mark_activity() { last_activity_ns_.store(now_ns(), std::memory_order_relaxed); }

bool Connection::enqueue(std::string_view a) {
  struct iovec v{const_cast<char*>(a.data()), a.size()};
  return enqueue_iov(&v, 1);
}

bool Connection::enqueue(std::string_view a, std::string_view b, std::string_view c) {
  struct iovec v[3] = {{const_cast<char*>(a.data()), a.size()},
                       {const_cast<char*>(b.data()), b.size()},
                       {const_cast<char*>(c.data()), c.size()}};
  return enqueue_iov(v, 3);
}

bool Connection::enqueue_iov(const struct iovec* parts, int n) {
  if (closing_.load(std::memory_order_relaxed)) return false;
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += parts[i].iov_len;
  size_t now;
  {
    std::lock_guard lk(out_mu_);
    now = pending_size_.load(std::memory_order_relaxed) + total;
    if (max_pending_ > 0 && now > static_cast<size_t>(max_pending_)) {
      now = SIZE_MAX;
    } else {
      for (int i = 0; i < n; ++i) pending_.append(parts[i].iov_base, parts[i].iov_len);
      // fetch_add, not store: the writer decrements concurrently without out_mu_.
      now = pending_size_.fetch_add(total, std::memory_order_relaxed) + total;
      if (now > stall_threshold_ && t_reader && t_reader != this && !t_reader->pause_requested_) {
        t_reader->pause_requested_ = true;
        stalled_.push_back(t_reader->weak_from_this());
      }
    }
  }
  if (now == SIZE_MAX) {
    log::notice("{} - Slow Consumer Detected: MaxPending of {} Exceeded",
                conn_tag(*this), max_pending_);
    server_.count_slow_consumer(kind_);
    close(CloseReason::SlowConsumerPendingBytes);
    return false;
  }
  return true;
}

// The ping timer is on the loop's timer wheel; ping_timer_ holds its generation: stopping or
// re-arming bumps it, and a firing whose tag is not the current generation is dropped.
void Connection::start_pings(std::chrono::nanoseconds first_cap) {
  auto interval = server_.live().ping_interval();  // a reload applies from the next ping
  if (interval.count() <= 0 || closing()) return;
  if (!loop_.in_loop_thread()) {  // the wheel is the loop thread's
    loop_.post([self = shared_from_this(), first_cap] { self->start_pings(first_cap); });
    return;
  }
  if (first_cap.count() > 0) {
    // The reference's first ping: soon, for the RTT, spread by up to a fifth at random.
    interval = std::min(interval, first_cap);
    thread_local std::minstd_rand spread{std::random_device{}()};
    if (auto fifth = interval.count() / 5; fifth > 0)
      interval += std::chrono::nanoseconds(static_cast<int64_t>(spread() % static_cast<uint64_t>(fifth)));
  }
  const uint64_t gen = ++ping_timer_;
  // Captureless, so it converts to the wheel's function pointer; inside a member, so it may
  // call ping_tick.
  auto fire = +[](void* owner, uint64_t tag) {
    auto* c = static_cast<Connection*>(owner);
    if (tag == c->ping_timer_) c->ping_tick();
  };
  net::TimerWheel::current().schedule(std::weak_ptr<void>(shared_from_this()), interval, fire, gen);
}

void Connection::stop_pings() { ++ping_timer_; }

void Connection::ping_now() {
  ++pings_out_;
  ping_sent_ = std::chrono::steady_clock::now();
  send_now("PING\r\n");
}

void Connection::ping_tick() {
  ++ping_timer_;  // fired: not armed until start_pings()
  if (closing()) return;
  const auto& o = server_.live();
  if (ping_skip_when_active_ && pings_out_ == 0 && std::chrono::system_clock::now() - last_activity() < o.ping_interval()) {
    start_pings();
    return;
  }
  {
    // A ping interval is long: whatever burst made this connection's chunks large is over.
    std::lock_guard lk(out_mu_);
    if (pending_.empty()) pending_.release_spare();
  }
  if (pings_out_ + 1 > o.ping_max.load()) {
    log::debug("{} - Stale Connection - Closing", conn_tag(*this));
    on_stale();
    return;
  }
  ping_now();
  start_pings();
}

void Connection::pong_received() {
  if (pings_out_ > 0 && ping_sent_.time_since_epoch().count() != 0)
    rtt_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - ping_sent_).count(),
                  std::memory_order_relaxed);
  pings_out_ = 0;
}

bool Connection::enqueue_message(std::string_view line, std::string_view headers, std::string_view payload) {
  struct iovec v[4];
  int nv = 0;
  v[nv++] = {const_cast<char*>(line.data()), line.size()};
  if (!headers.empty()) v[nv++] = {const_cast<char*>(headers.data()), headers.size()};
  v[nv++] = {const_cast<char*>(payload.data()), payload.size()};
  v[nv++] = {const_cast<char*>("\r\n"), 2};
  if (!enqueue_iov(v, nv)) return false;
  out_msgs.fetch_add(1, std::memory_order_relaxed);
  out_bytes.fetch_add(headers.size() + payload.size(), std::memory_order_relaxed);
  touch();
  return true;
}

void Connection::touch() {
  if (!flush_scheduled_.exchange(true, std::memory_order_acq_rel)) t_touched.push_back(shared_from_this());
}

void Connection::send_now(std::string_view s) {
  if (!enqueue(s)) return;
  if (loop_.in_loop_thread()) {
    flush_scheduled_.store(true, std::memory_order_relaxed);
    flush_from_loop();
  } else {
    touch();
    flush_touched();
  }
}

void Connection::flush_touched() {
  if (!t_before_flush.empty() && !t_in_before_flush) {
    std::vector<std::function<void()>> fns;
    fns.swap(t_before_flush);
    t_in_before_flush = true;
    for (auto& fn : fns) fn();
    t_in_before_flush = false;
  }
  if (t_touched.empty()) return;
  auto* cur = net::EventLoop::current();
  // Swap out first: flushing may touch more connections (e.g. closing sends an -ERR).
  std::vector<ConnectionPtr> list;
  list.swap(t_touched);
  for (auto& c : list) {
    if (&c->loop_ == cur) c->flush_from_loop();
    else if (!(t_inline_writes && c->try_flush_inline())) c->loop_.schedule_flush(c);
  }
  list.clear();
  if (t_touched.empty()) t_touched.swap(list);  // keep the capacity
}

bool Connection::in_input_batch() { return t_reader != nullptr || t_in_before_flush; }
Connection* current_reader_connection() { return t_reader; }

void Connection::before_flush(std::function<void()> fn) { t_before_flush.push_back(std::move(fn)); }

void Connection::flush_from_loop() {
  // Clear the flag before taking the buffer: a producer that appends after we took it
  // sees the flag clear and schedules another flush.
  flush_scheduled_.store(false, std::memory_order_release);
  if (closed_) return;
  write_out();
}

Connection::WriteResult Connection::write_some_locked() {
  // Until the TLS handshake completes, output waits in the buffers (continue_tls_handshake
  // writes it out then).
  if (tls_ && !tls_established()) return WriteResult::Done;
  // Likewise until the WebSocket handshake is answered.
  if (ws_ && !ws_upgraded()) return ws_->client ? ws_write_request_locked() : WriteResult::Done;
  {
    std::lock_guard lk(out_mu_);
    if (ws_) ws_take_framed_locked(writing_);
    else pending_.move_to(writing_);
  }
  while (!writing_.empty()) {
    struct iovec iov[64];
    int n = writing_.fill_iov(iov, 64);
    ssize_t w = write_iov(iov, n);
    if (w > 0) {
      writing_.consume(static_cast<size_t>(w));
      pending_size_.fetch_sub(static_cast<size_t>(w), std::memory_order_relaxed);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return WriteResult::Blocked;
    writing_.clear();  // the peer is gone
    return WriteResult::Error;
  }
  return WriteResult::Done;
}

bool Connection::try_flush_inline() {
  if (tls_) return false;  // the TLS session belongs to the owner loop's thread
  std::unique_lock lk(write_mu_, std::try_to_lock);
  if (!lk.owns_lock() || closed_ || want_write_) return false;
  flush_scheduled_.store(false, std::memory_order_release);
  WriteResult r = write_some_locked();
  lk.unlock();
  if (r != WriteResult::Done) {
    // Blocked or failed: the owning loop registers for EPOLLOUT or closes.
    loop_.schedule_flush(shared_from_this());
  } else if (pending_size_.load(std::memory_order_relaxed) < stall_threshold_ / 2) {
    release_stalled_producers();
  }
  return true;
}

void Connection::write_out() {
  WriteResult r;
  {
    std::lock_guard lk(write_mu_);
    if (closed_) return;
    r = write_some_locked();
    if (r == WriteResult::Blocked) {
      if (!want_write_) {
        want_write_ = true;
        stall_since_ = std::chrono::steady_clock::now();
        loop_.mod_fd(fd_, read_paused_ ? (EPOLLOUT | EPOLLRDHUP) : (EPOLLIN | EPOLLOUT | EPOLLRDHUP), this);
        // Check the write deadline even if the peer never drains.
        std::weak_ptr<Connection> weak = shared_from_this();
        loop_.add_timer(write_deadline() + std::chrono::milliseconds(1), [weak] {
          if (auto c = weak.lock()) c->check_write_deadline();
        });
      }
      return;
    }
    if (r == WriteResult::Done && want_write_) {
      want_write_ = false;
      loop_.mod_fd(fd_, read_paused_ ? EPOLLRDHUP : (EPOLLIN | EPOLLRDHUP), this);
    }
  }
  if (r == WriteResult::Error) {
    if (!closing_.load()) close(CloseReason::WriteError);
    return;
  }
  if (pending_size_.load(std::memory_order_relaxed) < stall_threshold_ / 2) release_stalled_producers();
}

void Connection::release_stalled_producers() {
  std::vector<std::weak_ptr<Connection>> list;
  {
    std::lock_guard lk(out_mu_);
    if (stalled_.empty()) return;
    list.swap(stalled_);
  }
  for (auto& w : list) {
    if (auto p = w.lock()) p->loop_.post([p] { p->resume_reading(); });
  }
}

void Connection::pause_reading() {
  if (read_paused_ || closed_) return;
  read_paused_ = true;
  loop_.mod_fd(fd_, want_write_ ? (EPOLLOUT | EPOLLRDHUP) : EPOLLRDHUP, this);
}

void Connection::resume_reading() {
  pause_requested_ = false;
  if (!read_paused_ || closed_ || read_held_) return;
  read_paused_ = false;
  loop_.mod_fd(fd_, want_write_ ? (EPOLLIN | EPOLLOUT | EPOLLRDHUP) : (EPOLLIN | EPOLLRDHUP), this);
}

void Connection::hold_reading() {
  read_held_ = true;
  pause_reading();
}

void Connection::release_reading() {
  if (!read_held_) return;
  read_held_ = false;
  resume_reading();
  // Bytes already decrypted inside OpenSSL raise no epoll event: look for them now.
  if (tls_ && !closed_ && !read_paused_ && tls_->pending() > 0) {
    auto self = shared_from_this();
    loop_.post([self] { self->on_io(EPOLLIN); });
  }
}

// Read at each use: a config reload changes it for existing connections too (as the reference).
std::chrono::nanoseconds Connection::write_deadline() const { return server_.live().write_deadline(); }

void Connection::check_write_deadline() {
  if (closed_ || !want_write_) return;
  if (std::chrono::steady_clock::now() - stall_since_ >= write_deadline()) {
    log::notice("{} - Slow Consumer Detected: WriteDeadline of {} exceeded with {} chunks of {} total bytes.",
                conn_tag(*this),
                config::format_go_duration(write_deadline()), 1, pending_bytes());
    server_.count_slow_consumer(kind_);
    {
      std::lock_guard lk(write_mu_);
      writing_.clear();
    }
    close(CloseReason::SlowConsumerWriteDeadline);
  }
}

void Connection::on_io(uint32_t events) {
  if (closed_) return;
  if (tls_ && !tls_established()) {
    if (events & (EPOLLHUP | EPOLLERR)) {
      close(CloseReason::TLSHandshakeError);
      return;
    }
    if (!continue_tls_handshake() || !tls_established()) return;
    // The client's first bytes (CONNECT) may have come with the last handshake flight.
    events |= EPOLLIN;
  }
  if (events & EPOLLOUT) {
    write_out();
    if (want_write_ && std::chrono::steady_clock::now() - stall_since_ >= write_deadline()) check_write_deadline();
  }
  if (read_paused_ && !(events & (EPOLLHUP | EPOLLERR))) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    if (!t_read_buffer) t_read_buffer.reset(new char[kReadBufferSize]);
    char* buf = t_read_buffer.get();
    // Bounded reads per wake-up keep one busy publisher from starving the loop's others.
    for (int round = 0; round < 16 && !closed_; ++round) {
      ssize_t n = read_some(buf, read_size_);
      if (n > 0) {
        mark_activity();
        t_reader = this;
        bool keep = ws_ ? ws_input(buf, static_cast<size_t>(n)) : on_data(buf, static_cast<size_t>(n));
        t_reader = nullptr;
        t_inline_writes = static_cast<size_t>(n) <= kInlineWriteMaxRead;
        flush_touched();
        t_inline_writes = false;
        if (pause_requested_) {
          pause_reading();
          break;
        }
        if (!keep || read_paused_) break;  // read_paused_: held by the handler
        // TLS hands out one record per read; more may already be decrypted inside OpenSSL.
        if (static_cast<size_t>(n) < read_size_ && !(tls_ && tls_->pending() > 0)) break;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      // EOF or error.
      close(n == 0 ? CloseReason::ClientClosed : CloseReason::ReadError);
      break;
    }
    // Decrypted bytes left inside OpenSSL raise no epoll event: come back for them.
    if (tls_ && !closed_ && !read_paused_ && tls_->pending() > 0) {
      auto self = shared_from_this();
      loop_.post([self] { self->on_io(EPOLLIN); });
    }
  }
}

bool Connection::write_plain_now(std::string_view s) {
  while (!s.empty()) {
    ssize_t w = ::write(fd_, s.data(), s.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    s.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

void Connection::begin_tls(const net::TlsContext& ctx, std::chrono::nanoseconds timeout, const std::string* dial_name) {
  tls_ = dial_name ? std::make_unique<net::TlsSession>(ctx, fd_, *dial_name) : std::make_unique<net::TlsSession>(ctx, fd_);
  tls_dialing_ = dial_name != nullptr;
  std::weak_ptr<Connection> weak = shared_from_this();
  loop_.add_timer(timeout, [weak] {
    auto c = weak.lock();
    if (!c || c->tls_established() || c->closing()) return;
    log::error("{} - TLS handshake timeout", conn_tag(*c));
    c->close(CloseReason::TLSHandshakeError);
  });
}

bool Connection::begin_tls_started(const net::TlsContext& ctx, std::chrono::nanoseconds timeout,
                                   const std::string& dial_name) {
  begin_tls(ctx, timeout, &dial_name);
  return continue_tls_handshake();
}

bool Connection::continue_tls_handshake() {
  net::TlsStatus st = tls_->handshake();
  auto want = [this](bool write) {
    if (write == tls_handshake_wants_write_) return;
    tls_handshake_wants_write_ = write;
    loop_.mod_fd(fd_, write ? (EPOLLIN | EPOLLOUT | EPOLLRDHUP) : (EPOLLIN | EPOLLRDHUP), this);
  };
  switch (st) {
    case net::TlsStatus::kDone:
      want(false);
      tls_version_ = tls_->version();
      tls_cipher_ = tls_->cipher_suite();
      tls_peer_certs_ = tls_->peer_certs();
      tls_established_.store(true, std::memory_order_release);
      on_tls_established();
      write_out();  // what was held back during the handshake
      return !closed_;
    case net::TlsStatus::kWantRead:
      want(false);
      return true;
    case net::TlsStatus::kWantWrite:
      want(true);
      return true;
    default:
      log::error("{} - TLS handshake error: {}", conn_tag(*this), tls_->last_error());
      close(CloseReason::TLSHandshakeError);
      return false;
  }
}

ssize_t Connection::read_some(char* buf, size_t len) {
  if (!tls_) return ::read(fd_, buf, len);
  net::TlsStatus st;
  size_t n = tls_->read(buf, len, st);
  if (n > 0) {
    // OpenSSL hands out one record per read. Take the records already read ahead as well, so
    // a batch of small messages (one record each, as clients write them) is parsed and its
    // output flushed once, as from a plain socket: flushing after every record wrote one
    // record and one syscall per message to every subscriber (a TLS fan-out cost ~1 write
    // per delivery against ~0.5 over plain TCP). What stops this loop (no whole record
    // left, an error, close_notify) is met again by the next read.
    while (n < len && tls_->pending() > 0) {
      net::TlsStatus more;
      size_t m = tls_->read(buf + n, len - n, more);
      if (m == 0) break;
      n += m;
    }
    return static_cast<ssize_t>(n);
  }
  if (st == net::TlsStatus::kWantRead || st == net::TlsStatus::kWantWrite) {
    errno = EAGAIN;
    return -1;
  }
  if (st == net::TlsStatus::kClosed) return 0;
  errno = EIO;
  return -1;
}

ssize_t Connection::write_iov(const struct iovec* iov, int n) {
  if (!tls_) return ::writev(fd_, iov, n);
  net::TlsStatus st;
  size_t w = tls_->writev(iov, n, st);
  if (w > 0) return static_cast<ssize_t>(w);
  if (st == net::TlsStatus::kWantRead || st == net::TlsStatus::kWantWrite) {
    errno = EAGAIN;
    return -1;
  }
  errno = EPIPE;
  return -1;
}

std::string Connection::tls_version() const { return tls_established() ? tls_version_ : std::string(); }
std::string Connection::tls_cipher_suite() const { return tls_established() ? tls_cipher_ : std::string(); }

void Connection::close(CloseReason reason) {
  if (closing_.exchange(true, std::memory_order_acq_rel)) return;
  close_reason_ = reason;
  auto self = shared_from_this();
  if (loop_.in_loop_thread()) {
    teardown();
  } else {
    loop_.post([self] { self->teardown(); });
  }
}

void Connection::teardown() {
  if (closed_) return;
  // The reference's debug line for a closing client (the "created" lines: ClientConnection::start
  // for TCP, ws_connection.cpp once a websocket is upgraded; one never upgraded logs neither).
  if (kind_ == ConnKind::Client && (!ws_ || ws_upgraded()) && log::debug_enabled())
    log::debug("{} - Client connection closed: {}", conn_tag(*this),
               close_reason_text(close_reason_));
  // A WebSocket connection closed before its upgrade: its self-reference goes at the end
  // of this function (the caller holds another).
  std::shared_ptr<Connection> ws_hold = ws_ ? std::move(ws_->hold) : nullptr;
  {
    // Best effort: write what is pending (e.g. a final -ERR) without blocking.
    std::lock_guard wl(write_mu_);
    {
      std::lock_guard lk(out_mu_);
      if (!ws_) {
        pending_.move_to(writing_);
      } else if (ws_upgraded()) {
        ws_close_locked();
        ws_take_framed_locked(writing_);
      } else {
        pending_.clear();  // the INFO held for a handshake that never completed
      }
    }
    if (!writing_.empty() && close_reason_ != CloseReason::SlowConsumerPendingBytes &&
        close_reason_ != CloseReason::SlowConsumerWriteDeadline && close_reason_ != CloseReason::WriteError) {
      struct iovec iov[64];
      int n = writing_.fill_iov(iov, 64);
      if (!tls_ || tls_established()) (void)write_iov(iov, n);
    }
    writing_.clear();
    closed_ = true;
  }
  pending_size_.store(0, std::memory_order_relaxed);
  if (fd_ >= 0) {
    loop_.del_fd(fd_);
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
  auto self = shared_from_this();
  stop_pings();
  release_stalled_producers();
  on_closed();  // a client also moves itself to the server's closed list there (before its event)
  // Keep the object alive until the loop finishes the current batch of events.
  loop_.post([self] {});
}

}  // namespace nats
