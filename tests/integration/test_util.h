// Helpers for the core-protocol integration tests (core_*.cpp, diff_*.cpp): a raw protocol
// socket for cases libnats cannot express, RAII wrappers for libnats handles, and small waits.
#pragma once

#include <nats/nats.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace itest {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A TCP connection to 127.0.0.1:port, or -1; with read and write timeouts of `timeout_s`
// seconds unless 0.
inline int dial_loopback(int port, int timeout_s = 3) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (timeout_s > 0) {
    timeval tv{timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The bytes of `fd` up to and including the next CRLF (byte by byte, so that nothing after it,
// such as a TLS record, is consumed).
inline std::string read_clear_line(int fd) {
  std::string line;
  char ch;
  while (line.size() < 65536 && ::recv(fd, &ch, 1, 0) == 1) {
    line += ch;
    if (line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0) break;
  }
  return line;
}

// A plain TCP client speaking the text protocol by hand. Reads are buffered so that lines and
// payloads can be taken out independently; every read has a deadline so a hung server fails
// the test instead of blocking it.
class RawClient {
 public:
  RawClient() = default;
  explicit RawClient(int port, bool read_info = true) { connect(port, read_info); }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Connects to 127.0.0.1:port; with read_info, waits for the INFO line and keeps it in info()
  // (5 s, as connect_url: an ASan server on a loaded 2-core CI machine can take over 2 s).
  bool connect(int port, bool read_info = true, milliseconds timeout = milliseconds(5000)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf_ > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf_, sizeof rcvbuf_);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) { close(); return false; }
    if (read_info) {
      auto l = read_line(timeout);
      if (!l) return false;
      info_ = *l;
    }
    return true;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Takes over a socket the test accepted (a server dialled the test), to speak over it.
  void adopt(int fd) {
    close();
    fd_ = fd;
  }

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& info() const { return info_; }
  // The JSON part of the INFO line.
  std::string info_json() const { return info_.size() > 5 ? info_.substr(5) : std::string(); }

  // Sends all bytes; false if the peer has gone (EPIPE/ECONNRESET).
  bool send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) { std::this_thread::sleep_for(milliseconds(1)); continue; }
        return false;
      }
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // One line without its CRLF, or nullopt on timeout/EOF.
  std::optional<std::string> read_line(milliseconds timeout = milliseconds(2000)) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      auto pos = buf_.find("\r\n");
      if (pos != std::string::npos) {
        std::string line = buf_.substr(0, pos);
        buf_.erase(0, pos + 2);
        return line;
      }
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // The next line that is not a server PING (each PING is answered with PONG), or nullopt.
  // 2.9.10 pings a new client about two seconds after it connects, which races with anything
  // else a test waits that long for.
  std::optional<std::string> read_line_answering_pings(milliseconds timeout = milliseconds(2000)) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      auto l = read_line(left.count() > 0 ? left : milliseconds(1));
      if (!l || *l != "PING") return l;
      send("PONG\r\n");
    }
  }

  // Exactly n bytes (e.g. a payload plus its CRLF), or nullopt.
  std::optional<std::string> read_exact(size_t n, milliseconds timeout = milliseconds(2000)) {
    auto deadline = Clock::now() + timeout;
    while (buf_.size() < n)
      if (!fill(deadline)) return std::nullopt;
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }

  // Reads lines until one equals `want` (returned true) or timeout/EOF; skipped lines go to *seen.
  bool expect_line(const std::string& want, milliseconds timeout = milliseconds(2000),
                   std::string* seen = nullptr) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      auto l = read_line(left);
      if (!l) return false;
      if (*l == want) return true;
      if (seen) *seen += *l + "\n";
    }
  }

  // Everything the server sends until it closes the connection or the timeout passes. Sets
  // closed() when EOF/reset was seen. Used by the differential test to take whole transcripts.
  std::string read_until_close(milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (fill(deadline)) {}
    std::string out = std::move(buf_);
    buf_.clear();
    return out;
  }

  // Reads until the buffered data ends with `suffix`, EOF, or timeout; returns all read bytes.
  std::string read_until_suffix(const std::string& suffix, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!(buf_.size() >= suffix.size() &&
             buf_.compare(buf_.size() - suffix.size(), suffix.size(), suffix) == 0)) {
      if (!fill(deadline)) break;
    }
    std::string out = std::move(buf_);
    buf_.clear();
    return out;
  }

  // True once the server has closed (EOF or reset) within the timeout; data read meanwhile is
  // kept in the buffer, so a final -ERR can still be read with read_line afterwards.
  bool wait_closed(milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!closed_)
      if (!fill(deadline)) break;
    return closed_;
  }

  bool closed() const { return closed_; }
  const std::string& buffered() const { return buf_; }

  // Shrinks the kernel receive buffer so an unread socket backs the server up quickly. Call it
  // before connect(): the TCP window is negotiated at connect time.
  void set_rcvbuf(int bytes) {
    rcvbuf_ = bytes;
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }

 private:
  // Appends whatever arrives before the deadline; false on timeout, EOF or error.
  bool fill(Clock::time_point deadline) {
    if (fd_ < 0 || closed_) return false;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) return true;
      closed_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
  std::string info_;
  bool closed_ = false;
  int rcvbuf_ = 0;
};

// Polls cond every few milliseconds until it holds or the timeout passes. The default is for a
// wait that is expected to end (every call without a timeout is asserted true): 10 s, so a
// loaded CI machine's sanitized server is not failed for being slow; a passing run returns as
// soon as cond holds. A wait that is expected to run out passes its own, short, timeout.
inline bool wait_for(const std::function<bool()>& cond, milliseconds timeout = milliseconds(10000)) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return cond();
}

// RAII owners for libnats handles, so a failing ASSERT never leaks a connection thread.
struct OptsPtr {
  natsOptions* p = nullptr;
  OptsPtr() { natsOptions_Create(&p); }
  ~OptsPtr() { if (p) natsOptions_Destroy(p); }
  OptsPtr(const OptsPtr&) = delete;
  OptsPtr& operator=(const OptsPtr&) = delete;
};

struct ConnPtr {
  natsConnection* p = nullptr;
  ConnPtr() = default;
  ~ConnPtr() { reset(); }
  ConnPtr(const ConnPtr&) = delete;
  ConnPtr& operator=(const ConnPtr&) = delete;
  void reset() {
    if (p) { natsConnection_Close(p); natsConnection_Destroy(p); }
    p = nullptr;
  }
};

struct SubPtr {
  natsSubscription* p = nullptr;
  SubPtr() = default;
  ~SubPtr() { if (p) natsSubscription_Destroy(p); }
  SubPtr(const SubPtr&) = delete;
  SubPtr& operator=(const SubPtr&) = delete;
};

struct MsgPtr {
  natsMsg* p = nullptr;
  MsgPtr() = default;
  ~MsgPtr() { reset(); }
  MsgPtr(const MsgPtr&) = delete;
  MsgPtr& operator=(const MsgPtr&) = delete;
  void reset() { if (p) natsMsg_Destroy(p); p = nullptr; }
  std::string data() const { return std::string(natsMsg_GetData(p), natsMsg_GetDataLength(p)); }
  std::string subject() const { return natsMsg_GetSubject(p); }
};

// A request's answer as text ("<no answer>" after 5 s: an answer is expected, and a sanitized
// server on a loaded CI machine can be slow to give it; a passing run does not wait longer).
inline std::string request_text(natsConnection* nc, const std::string& subject, const std::string& body) {
  MsgPtr m;
  if (natsConnection_Request(&m.p, nc, subject.c_str(), body.data(), static_cast<int>(body.size()), 5000) != NATS_OK)
    return "<no answer>";
  return m.data();
}

// Connects a libnats client with a short connect timeout and no reconnects (tests that need
// reconnects set their own options).
inline natsStatus connect_url(ConnPtr& c, const std::string& url, natsOptions* extra = nullptr) {
  if (extra) {
    natsOptions_SetURL(extra, url.c_str());
    return natsConnection_Connect(&c.p, extra);
  }
  OptsPtr o;
  natsOptions_SetURL(o.p, url.c_str());
  natsOptions_SetTimeout(o.p, 5000);  // an ASan server on a loaded 2-core CI machine can take over 2 s to send INFO
  natsOptions_SetAllowReconnect(o.p, false);
  return natsConnection_Connect(&c.p, o.p);
}

// Connects with a signing option set in `o` (creds or NKey seed). libnats 3.4.1 leaves "sig"
// out of CONNECT when the nonce's Ed25519 signature begins with a zero byte (1 connection in
// 256), and every server, the reference too, then refuses it. A new connection signs a new
// nonce, so an authorization failure is retried a few times before it counts.
inline natsStatus connect_signed(ConnPtr& c, const std::string& url, natsOptions* o) {
  natsStatus st = NATS_CONNECTION_AUTH_FAILED;
  for (int attempt = 0; attempt < 3 && st == NATS_CONNECTION_AUTH_FAILED; ++attempt) {
    c.reset();
    st = connect_url(c, url, o);
  }
  return st;
}

// Starts a server with a config file written into its temp dir; extra flags follow -c.
inline std::unique_ptr<testing_harness::ServerProcess> start_with_config(
    const std::string& conf, std::vector<std::string> extra = {},
    std::string binary = testing_harness::server_binary()) {
  // The config path is only known once the process object (and its temp dir) exists, so the
  // config is written into a separate temp dir that lives as long as the test binary.
  static testing_harness::TempDir conf_dir;
  static int seq = 0;
  std::string path = conf_dir.write("server" + std::to_string(++seq) + ".conf", conf);
  std::vector<std::string> args{"-c", path};
  for (auto& e : extra) args.push_back(e);
  auto s = std::make_unique<testing_harness::ServerProcess>(args, binary);
  s->start();
  return s;
}

// Counts messages delivered to an async libnats subscription, with a waitable total.
struct MsgCounter {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;
  std::vector<std::string> payloads;
  bool keep_payloads = false;

  static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
    auto* self = static_cast<MsgCounter*>(closure);
    {
      std::lock_guard<std::mutex> g(self->mu);
      ++self->count;
      if (self->keep_payloads) self->payloads.emplace_back(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    }
    self->cv.notify_all();
    natsMsg_Destroy(m);
  }
  // Whether n messages arrived within the timeout (the default, 10 s, as wait_for's: for a count
  // that is expected; returns as soon as it is reached).
  bool wait_count(int n, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, timeout, [&] { return count >= n; });
  }
  int get() {
    std::lock_guard<std::mutex> g(mu);
    return count;
  }
};

}  // namespace itest
