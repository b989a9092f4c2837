#include "raw_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace nats::bench {

namespace {
constexpr size_t kInitialBuffer = 4 << 20;
}

Endpoint parse_url(const std::string& url) {
  std::string s = url;
  if (auto p = s.find("://"); p != std::string::npos) s = s.substr(p + 3);
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return {s, 4222};
  return {s.substr(0, colon), std::stoi(s.substr(colon + 1))};
}

RawConn::RawConn(const std::string& url, Deadline dl) : buf_(kInitialBuffer) {
  Endpoint ep = parse_url(url);
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw BenchError("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(ep.port);
  if (::inet_pton(AF_INET, ep.host.c_str(), &a.sin_addr) != 1) throw BenchError("bad host " + ep.host);
  // Short socket timeouts turn every blocking call into a deadline check.
  timeval tv{0, 100000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw BenchError("connect to " + url + " failed: " + std::strerror(errno));
  }
  std::string info;
  read_line_blocking(info, dl);
  if (info.rfind("INFO ", 0) != 0) throw BenchError("expected INFO from " + url + ", got: " + info);
  write_all(
      "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"bench\",\"version\":\"1\","
      "\"protocol\":1,\"echo\":true}\r\n",
      dl);
  round_trip(dl);
}

RawConn::~RawConn() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConn::read_line_blocking(std::string& line, Deadline dl) {
  for (;;) {
    const char* b = buf_.data() + start_;
    const void* nl = std::memchr(b, '\n', end_ - start_);
    if (nl) {
      size_t len = static_cast<const char*>(nl) - b + 1;
      line.assign(b, len);
      start_ += len;
      return;
    }
    if (dl.expired()) throw BenchError("timed out reading from server");
    fill(dl);
  }
}

void RawConn::write_all(const char* p, size_t n, Deadline dl) {
  while (n > 0) {
    ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (dl.expired()) throw BenchError("timed out writing to server");
      continue;
    }
    throw BenchError(std::string("write failed: ") + std::strerror(errno));
  }
}

bool RawConn::fill(Deadline dl) {
  // Keep the unread tail at the front so a large frame always has room to complete.
  if (start_ > 0 && (start_ == end_ || buf_.size() - end_ < buf_.size() / 4)) {
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  ssize_t r = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
  if (r > 0) {
    end_ += static_cast<size_t>(r);
    return true;
  }
  if (r == 0) throw BenchError("server closed the connection");
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    if (dl.expired()) throw BenchError("timed out reading from server");
    return false;
  }
  throw BenchError(std::string("read failed: ") + std::strerror(errno));
}

RawConn::Frame RawConn::next_frame(MsgView& m) {
  const char* b = buf_.data() + start_;
  size_t avail = end_ - start_;
  if (avail < 4) return Frame::kNeedMore;
  const char* cr = static_cast<const char*>(std::memchr(b, '\r', avail));
  if (!cr || cr + 1 >= b + avail) return Frame::kNeedMore;
  size_t line_len = static_cast<size_t>(cr - b);  // without CRLF
  if (b[0] == 'M') {
    // MSG <subject> <sid> [reply] <#bytes>
    std::string_view toks[5];
    int nt = 0;
    size_t i = 4;
    while (i < line_len && nt < 5) {
      while (i < line_len && b[i] == ' ') ++i;
      size_t s = i;
      while (i < line_len && b[i] != ' ') ++i;
      if (i > s) toks[nt++] = std::string_view(b + s, i - s);
    }
    if (nt < 3) throw BenchError("malformed MSG line");
    size_t size = 0;
    for (char c : toks[nt - 1]) size = size * 10 + static_cast<size_t>(c - '0');
    size_t total = line_len + 2 + size + 2;
    if (avail < total) {
      if (total > buf_.size()) buf_.resize(total * 2);
      return Frame::kNeedMore;
    }
    m.subject = toks[0];
    m.reply = nt == 4 ? toks[2] : std::string_view();
    m.payload = std::string_view(b + line_len + 2, size);
    start_ += total;
    return Frame::kMsg;
  }
  std::string_view line(b, line_len);
  start_ += line_len + 2;
  if (line == "PING") {
    // The server checks we are alive; answer at once (small write, never blocks long).
    write_all("PONG\r\n", Deadline::in(std::chrono::seconds(5)));
  } else if (line == "PONG") {
    ++pongs_;
  } else if (line.rfind("-ERR", 0) == 0) {
    throw BenchError("server error: " + std::string(line));
  }
  // INFO and +OK need nothing.
  return Frame::kOther;
}

}  // namespace nats::bench
