#include "net/http_server.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <exception>

#include "net/socket.h"
#include "net/tls.h"

namespace nats::net::http {

namespace {
constexpr size_t kHttpReadChunk = 16 * 1024;
// Buffers that grew past this for one large request or answer are given back afterwards
// (an idle keep-alive connection should cost next to nothing).
constexpr size_t kHttpKeepCapacity = 64 * 1024;
}  // namespace

class Server::Acceptor : public IoHandler {
 public:
  explicit Acceptor(Server& s) : s_(s) {}
  void on_io(uint32_t) override { s_.accept_ready(); }

 private:
  Server& s_;
};

// One client connection, owned by the server's loop thread. Requests are answered one at a
// time: while an answer is still being written the connection is not read, so a client that
// pipelines many requests and reads slowly holds one answer in memory, not all of them.
class Server::Conn : public IoHandler {
 public:
  Conn(Server& s, int fd) : s_(s), fd_(fd) {
    if (s.tls_) tls_ = std::make_unique<TlsSession>(*s.tls_, fd);
  }
  ~Conn() override {
    tls_.reset();
    ::close(fd_);
  }
  int fd() const { return fd_; }

  void on_io(uint32_t events) override {
    if (dead_) return;
    if (tls_ && !tls_->established()) {
      TlsStatus st = tls_->handshake();
      if (st == TlsStatus::kWantRead) return want(EPOLLIN);
      if (st == TlsStatus::kWantWrite) return want(EPOLLOUT);
      if (st != TlsStatus::kDone) return close();
    }
    if ((events & EPOLLERR) != 0) return close();
    if (!flush()) return;
    // Answer what is buffered, then read more, until an answer cannot leave at once or
    // nothing more has arrived. Pipelined requests are answered even after the peer's EOF.
    for (;;) {
      if (!out_.empty() || close_after_write_) break;
      process();
      if (!out_.empty()) {
        if (!flush()) return;
        continue;
      }
      if (peer_closed_) break;
      size_t before = in_.size(), discard_before = discard_;
      if (!read_some()) return;
      if (in_.size() == before && discard_ == discard_before && !peer_closed_) break;
    }
    if (out_.empty() && (close_after_write_ || peer_closed_)) return close();
    want(out_.empty() ? EPOLLIN : EPOLLOUT);
  }

 private:
  void want(uint32_t events) {
    if (events == interest_) return;
    interest_ = events;
    s_.loop_.mod_fd(fd_, events, this);
  }

  void close() {
    if (dead_) return;
    dead_ = true;
    s_.drop(this);
  }

  // Appends what the socket has now (one chunk; TLS: until OpenSSL has nothing buffered).
  // False when the connection failed and was closed.
  bool read_some() {
    char buf[kHttpReadChunk];
    for (;;) {
      size_t got = 0;
      if (tls_) {
        TlsStatus st;
        got = tls_->read(buf, sizeof buf, st);
        if (got == 0) {
          if (st == TlsStatus::kWantRead || st == TlsStatus::kWantWrite) return true;
          if (st == TlsStatus::kClosed) {
            peer_closed_ = true;
            return true;
          }
          close();
          return false;
        }
      } else {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0) {
          peer_closed_ = true;
          return true;
        }
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
          close();
          return false;
        }
        got = static_cast<size_t>(n);
      }
      // The body of an answered request is dropped as it arrives, never buffered.
      size_t skip = std::min(discard_, got);
      discard_ -= skip;
      in_.append(buf + skip, got - skip);
      if (!tls_ || tls_->pending() == 0) return true;
    }
  }

  // Answers the next complete request in in_, if any (one: see the class comment).
  void process() {
    if (discard_ > 0) {
      size_t d = std::min(discard_, in_.size());
      in_.erase(0, d);
      discard_ -= d;
      if (discard_ > 0) return;
    }
    // Blank lines between requests are skipped (RFC 7230 3.5); dropping them here keeps the
    // head search below linear.
    size_t lead = 0;
    while (lead < in_.size() && (in_[lead] == '\r' || in_[lead] == '\n')) ++lead;
    if (lead > 0) {
      in_.erase(0, lead);
      scanned_ = 0;
    }
    if (in_.empty()) return release_input();
    size_t end = find_head_end(in_, scanned_);
    if (end == std::string::npos && in_.size() <= kMaxHeaderBytes) {
      scanned_ = in_.size();
      return;
    }
    Request req;
    ParseResult r = parse_request(in_, req);
    if (r.status == ParseResult::Incomplete) return;
    if (r.status == ParseResult::Error) {
      out_ = std::move(r.response);
      close_after_write_ = true;
      in_.clear();
      return;
    }
    in_.erase(0, r.head_size);
    scanned_ = 0;
    // A chunked body's end is not looked for: the connection closes after the answer.
    if (req.chunked) req.keep_alive = false;
    Response resp;
    try {
      resp = s_.handler_(req);
    } catch (const std::exception&) {
      resp = Response{500, "text/plain; charset=utf-8", "500 Internal Server Error", {}};
    }
    out_ = render_response(resp.code, resp.content_type, resp.body, req, resp.extra_headers);
    if (!req.keep_alive) close_after_write_ = true;
    discard_ = req.content_length;
    size_t d = std::min(discard_, in_.size());
    in_.erase(0, d);
    discard_ -= d;
    if (in_.empty()) release_input();
  }

  void release_input() {
    if (in_.capacity() > kHttpKeepCapacity) std::string().swap(in_);
    scanned_ = 0;
  }

  // Writes what it can of out_. False when the connection failed and was closed.
  bool flush() {
    while (out_off_ < out_.size()) {
      size_t n = 0;
      if (tls_) {
        iovec iov{out_.data() + out_off_, out_.size() - out_off_};
        TlsStatus st;
        n = tls_->writev(&iov, 1, st);
        if (n == 0) {
          if (st == TlsStatus::kWantWrite || st == TlsStatus::kWantRead) return true;
          close();
          return false;
        }
      } else {
        ssize_t w = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
        if (w < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
          close();
          return false;
        }
        n = static_cast<size_t>(w);
      }
      out_off_ += n;
    }
    out_off_ = 0;
    if (out_.capacity() > kHttpKeepCapacity) std::string().swap(out_);
    else out_.clear();
    return true;
  }

  Server& s_;
  int fd_;
  std::unique_ptr<TlsSession> tls_;
  std::string in_;
  size_t scanned_ = 0;   // in_ has no end of headers before this offset
  size_t discard_ = 0;   // body bytes of the answered request still to drop
  std::string out_;
  size_t out_off_ = 0;
  uint32_t interest_ = EPOLLIN;
  bool close_after_write_ = false;
  bool peer_closed_ = false;
  bool dead_ = false;
};

// The loop's index -1: not one of the server's client loops (whose per-loop caches and
// counters are indexed by it).
Server::Server(Handler handler, const TlsContext* tls) : handler_(std::move(handler)), tls_(tls), loop_(-1) {}

Server::~Server() { stop(); }

int Server::start(const std::string& host, int port) {
  listen_fd_ = listen_tcp(host, port, 128);
  int bound = bound_port(listen_fd_);
  acceptor_ = std::make_unique<Acceptor>(*this);
  loop_.start_thread();
  started_ = true;
  loop_.post([this] { loop_.add_fd(listen_fd_, EPOLLIN, acceptor_.get()); });
  return bound;
}

void Server::stop() {
  if (started_) {
    loop_.stop();
    loop_.join();
    started_ = false;
  }
  // The loop has stopped: nothing else touches these now.
  conns_.clear();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void Server::accept_ready() {
  for (int i = 0; i < 64; ++i) {
    int fd = accept_tcp(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    auto c = std::make_unique<Conn>(*this, fd);
    Conn* raw = c.get();
    conns_.emplace(raw, std::move(c));
    loop_.add_fd(fd, EPOLLIN, raw);
  }
}

void Server::drop(Conn* c) {
  loop_.del_fd(c->fd());
  // Freed after this batch of events: the caller is still inside c->on_io.
  loop_.post([this, c] { conns_.erase(c); });
}

}  // namespace nats::net::http
