#include "conn_fleet.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace nats::bench {

struct ConnFleet::Conn {
  enum class State { kAwaitInfo, kHandshake, kAwaitPong, kReady };
  int fd = -1;
  size_t index = 0;
  SSL* ssl = nullptr;
  State state = State::kAwaitInfo;
  std::string in;   // unparsed input
  std::string out;  // output the socket did not take yet
  bool want_out = false;
  ~Conn() {
    if (ssl) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
  }
};

ConnFleet::ConnFleet(FleetOptions opts) : opts_(std::move(opts)) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw BenchError("epoll_create1 failed");
  if (opts_.tls) {
    ssl_ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ssl_ctx_) throw BenchError("SSL_CTX_new failed");
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_NONE, nullptr);  // a throwaway self-signed certificate
    // VERIFY_NONE still builds and checks a chain (X509_verify_cert) per handshake, only to
    // ignore the result: skip it, so the runner's share of the 2 cores, the same for either
    // server, is smaller and the servers' own cost shows more in the connect rate. (The
    // server's CertificateVerify signature is still checked: that is the handshake itself.)
    SSL_CTX_set_cert_verify_callback(ssl_ctx_, [](X509_STORE_CTX*, void*) { return 1; }, nullptr);
    // One read() per socket wake-up rather than a header read and a body read per record.
    SSL_CTX_set_read_ahead(ssl_ctx_, 1);
    // Thousands of idle client sessions in this process: no buffers kept while idle.
    SSL_CTX_set_mode(ssl_ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
}

ConnFleet::~ConnFleet() {
  conns_.clear();
  if (ssl_ctx_) SSL_CTX_free(ssl_ctx_);
  if (epfd_ >= 0) ::close(epfd_);
}

void ConnFleet::open_one() {
  auto c = std::make_unique<Conn>();
  c->index = opts_.first_index + conns_.size();
  c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) throw BenchError(std::string("socket: ") + std::strerror(errno) + " (open-file limit?)");
  int one = 1;
  // The port is chosen at connect() time for the whole 4-tuple, not at bind() time per address.
  ::setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000001u + static_cast<uint32_t>(c->index % std::max(1, opts_.source_addrs)));
  if (::bind(c->fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
    throw BenchError(std::string("bind source address: ") + std::strerror(errno));
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(opts_.port));
  ::inet_pton(AF_INET, opts_.host.c_str(), &dst.sin_addr);
  if (::connect(c->fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)
    throw BenchError(std::string("connect: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = c.get();
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, c->fd, &ev) != 0) throw BenchError("epoll_ctl add failed");
  conns_.push_back(std::move(c));
  ++inflight_;
}

void ConnFleet::send(Conn& c, std::string_view data) {
  c.out.append(data);
  flush(c);
}

void ConnFleet::flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t n;
    if (c.ssl) {
      int r = SSL_write(c.ssl, c.out.data(), static_cast<int>(c.out.size()));
      if (r <= 0) {
        int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) break;
        failure_ = "TLS write failed on connection " + std::to_string(c.index);
        return;
      }
      n = r;
    } else {
      n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        failure_ = "write failed on connection " + std::to_string(c.index) + ": " + std::strerror(errno);
        return;
      }
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
  bool want = !c.out.empty();
  if (want != c.want_out) {
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? uint32_t{EPOLLOUT} : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

// Returns true once the handshake is done; failure_ is set if it failed.
bool ConnFleet::handshake(Conn& c) {
  int r = SSL_do_handshake(c.ssl);
  if (r == 1) return true;
  int e = SSL_get_error(c.ssl, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    failure_ = "TLS handshake failed on connection " + std::to_string(c.index) + ": " + buf;
  }
  return false;
}

void ConnFleet::on_event(Conn& c, uint32_t events) {
  if (c.state == Conn::State::kHandshake) {
    if (!handshake(c)) return;
    c.state = Conn::State::kAwaitPong;
    std::string s = "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":true}\r\n";
    for (size_t k = 0; k + 1 < opts_.subs_per_conn; ++k)
      s += "SUB fleet." + std::to_string(c.index) + "." + std::to_string(k) + " " + std::to_string(k + 1) + "\r\n";
    if (opts_.subs_per_conn > 0) s += "SUB " + opts_.fan_subject + " 0\r\n";
    s += "PING\r\n";
    send(c, s);
  }
  if (events & EPOLLOUT) flush(c);
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
}

void ConnFleet::on_readable(Conn& c) {
  char buf[16384];
  for (;;) {
    ssize_t n;
    if (c.ssl && c.state != Conn::State::kAwaitInfo) {
      int r = SSL_read(c.ssl, buf, sizeof buf);
      if (r <= 0) {
        int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        failure_ = "TLS connection " + std::to_string(c.index) + " closed by the server";
        return;
      }
      n = r;
    } else {
      n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n == 0) {
        failure_ = "connection " + std::to_string(c.index) + " closed by the server" +
                   (c.in.empty() ? "" : ": " + c.in.substr(0, 200));
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        failure_ = "connection " + std::to_string(c.index) + ": " + std::strerror(errno);
        return;
      }
    }
    c.in.append(buf, static_cast<size_t>(n));
    if (!parse(c) || !failure_.empty()) return;
    // The INFO line came in plain text; the TLS handshake now owns the socket.
    if (c.state == Conn::State::kHandshake) return on_event(c, 0);
  }
}

bool ConnFleet::parse(Conn& c) {
  size_t pos = 0;
  for (;;) {
    size_t eol = c.in.find("\r\n", pos);
    if (eol == std::string::npos) break;
    std::string_view line(c.in.data() + pos, eol - pos);
    if (line.rfind("MSG ", 0) == 0) {
      // MSG <subject> <sid> [reply] <size>: the payload follows the line.
      size_t sp = line.rfind(' ');
      size_t size = std::strtoull(std::string(line.substr(sp + 1)).c_str(), nullptr, 10);
      if (c.in.size() < eol + 2 + size + 2) break;
      std::string_view subject = line.substr(4, line.find(' ', 4) - 4);
      if (subject == opts_.fan_subject) ++delivered_;
      pos = eol + 2 + size + 2;
      continue;
    }
    pos = eol + 2;
    if (line == "PING") {
      send(c, "PONG\r\n");
    } else if (line == "PONG") {
      if (c.state == Conn::State::kAwaitPong) {
        c.state = Conn::State::kReady;
        --inflight_;
        ++ready_;
      }
    } else if (line.rfind("INFO ", 0) == 0) {
      if (c.state != Conn::State::kAwaitInfo) continue;
      if (opts_.tls) {
        c.state = Conn::State::kHandshake;
        c.ssl = SSL_new(ssl_ctx_);
        SSL_set_fd(c.ssl, c.fd);
        SSL_set_connect_state(c.ssl);
        c.in.erase(0, pos);
        return true;
      }
      c.state = Conn::State::kAwaitPong;
      std::string s = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
      for (size_t k = 0; k + 1 < opts_.subs_per_conn; ++k)
        s += "SUB fleet." + std::to_string(c.index) + "." + std::to_string(k) + " " + std::to_string(k + 1) + "\r\n";
      if (opts_.subs_per_conn > 0) s += "SUB " + opts_.fan_subject + " 0\r\n";
      s += "PING\r\n";
      send(c, s);
    } else if (line.rfind("-ERR", 0) == 0) {
      failure_ = "connection " + std::to_string(c.index) + ": " + std::string(line);
      return false;
    }
  }
  c.in.erase(0, pos);
  return true;
}

void ConnFleet::publish(const std::string& subject, std::string_view payload) {
  if (conns_.empty()) throw BenchError("publish on an empty fleet");
  std::string f = "PUB " + subject + " " + std::to_string(payload.size()) + "\r\n";
  f.append(payload);
  f += "\r\n";
  send(*conns_.front(), f);
  check();
}

void ConnFleet::poll_once(int timeout_ms) {
  epoll_event evs[512];
  int n = ::epoll_wait(epfd_, evs, 512, timeout_ms);
  for (int i = 0; i < n && failure_.empty(); ++i) on_event(*static_cast<Conn*>(evs[i].data.ptr), evs[i].events);
  check();
}

void ConnFleet::check() {
  if (!failure_.empty()) throw BenchError(failure_);
}

void ConnFleet::connect(size_t n, Deadline dl) {
  size_t target = conns_.size() + n;
  while (ready_ < target) {
    while (conns_.size() < target && inflight_ < opts_.max_inflight) open_one();
    if (dl.expired())
      throw BenchError("deadline: " + std::to_string(ready_) + " of " + std::to_string(target) + " connections ready");
    poll_once(50);
  }
}

void ConnFleet::poll_for(std::chrono::milliseconds d, Deadline dl) {
  auto end = Clock::now() + d;
  while (Clock::now() < end) {
    if (dl.expired()) throw BenchError("deadline while idle");
    poll_once(50);
  }
}

void ConnFleet::await_delivered(uint64_t target, Deadline dl) {
  while (delivered_ < target) {
    if (dl.expired())
      throw BenchError("deadline: " + std::to_string(delivered_) + " of " + std::to_string(target) + " delivered");
    poll_once(50);
  }
}

}  // namespace nats::bench
