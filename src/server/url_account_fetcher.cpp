#include "server/url_account_fetcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/options.h"
#include "net/tls.h"
#include "util/strings.h"

namespace nats {

namespace {

using UrlFetchClock = std::chrono::steady_clock;

int urlfetch_ms_left(UrlFetchClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - UrlFetchClock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits until fd is ready for `events`; false on timeout or error.
bool urlfetch_wait(int fd, short events, UrlFetchClock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, urlfetch_ms_left(deadline));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

// Connects a non-blocking socket to host:port before the deadline; -1 with `err` set.
int urlfetch_connect(const HttpUrl& u, UrlFetchClock::time_point deadline, std::string& err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(u.port);
  if (int rc = ::getaddrinfo(u.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    err = "dial tcp: lookup " + u.host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  err = "dial tcp " + u.host + ":" + port + ": connect: ";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (!urlfetch_wait(fd, POLLOUT, deadline)) {
        err += "i/o timeout";
        ::close(fd);
        fd = -1;
        break;
      }
      int soerr = 0;
      socklen_t len = sizeof(soerr);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
      rc = soerr == 0 ? 0 : -1;
      errno = soerr;
    }
    if (rc == 0) break;
    std::string why = std::strerror(errno);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    err += why;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd >= 0) err.clear();
  return fd;
}

std::string_view urlfetch_header(std::string_view headers, std::string_view name) {
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t eol = headers.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon != name.size()) continue;
    if (util::ascii_lower(std::string(line.substr(0, colon))) != util::ascii_lower(std::string(name))) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }
  return {};
}

// The request and answer bytes over the plain socket or its TLS session, within the deadline.
struct UrlIo {
  enum Result { kOk, kTimeout, kFailed, kTlsError };
  int fd;
  net::TlsSession* tls;
  UrlFetchClock::time_point deadline;
  std::string error;

  // Waits for what TLS asked for; false on timeout.
  bool wait_for(net::TlsStatus st) { return urlfetch_wait(fd, st == net::TlsStatus::kWantWrite ? POLLOUT : POLLIN, deadline); }

  Result handshake() {
    if (!tls) return kOk;
    for (;;) {
      auto st = tls->handshake();
      if (st == net::TlsStatus::kDone) return kOk;
      if (st == net::TlsStatus::kWantRead || st == net::TlsStatus::kWantWrite) {
        if (!wait_for(st)) return kTimeout;
        continue;
      }
      error = tls->last_error();
      return kTlsError;
    }
  }

  Result send_all(std::string_view out) {
    while (!out.empty()) {
      if (tls) {
        iovec v{const_cast<char*>(out.data()), out.size()};
        net::TlsStatus st;
        size_t n = tls->writev(&v, 1, st);
        if (n > 0) {
          out.remove_prefix(n);
        } else if (st == net::TlsStatus::kWantRead || st == net::TlsStatus::kWantWrite) {
          if (!wait_for(st)) return kTimeout;
        } else {
          return kFailed;
        }
        continue;
      }
      ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) out.remove_prefix(static_cast<size_t>(n));
      else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!urlfetch_wait(fd, POLLOUT, deadline)) return kTimeout;
      } else {
        return kFailed;
      }
    }
    return kOk;
  }

  // Until the peer closes. JWTs are small: anything past 1 MiB is not one.
  Result read_all(std::string& raw) {
    constexpr size_t kMaxAnswer = 1u << 20;
    char buf[8192];
    for (;;) {
      if (raw.size() > kMaxAnswer) return kFailed;
      if (tls) {
        net::TlsStatus st;
        size_t n = tls->read(buf, sizeof(buf), st);
        if (n > 0) {
          raw.append(buf, n);
        } else if (st == net::TlsStatus::kWantRead || st == net::TlsStatus::kWantWrite) {
          if (!wait_for(st)) return kTimeout;
        } else {
          // Closed, with or without close_notify: the answer is judged by its framing.
          return kOk;
        }
        continue;
      }
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) raw.append(buf, static_cast<size_t>(n));
      else if (n == 0) return kOk;
      else if (errno == EAGAIN || errno == EINTR) {
        if (!urlfetch_wait(fd, POLLIN, deadline)) return kTimeout;
      } else {
        return kFailed;
      }
    }
  }
};

}  // namespace

bool parse_http_url(std::string_view url, HttpUrl& out) {
  auto has_scheme = [&](std::string_view scheme) {
    return url.size() >= scheme.size() && util::ascii_lower(std::string(url.substr(0, scheme.size()))) == scheme;
  };
  out.tls = has_scheme("https://");
  if (!out.tls && !has_scheme("http://")) return false;
  url.remove_prefix(out.tls ? 8 : 7);
  size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (hostport.find('@') != std::string_view::npos) return false;  // no credentials in the URL
  out.port = out.tls ? 443 : 80;
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    if (!hostport.empty() && hostport.front() != ':') return false;
  } else {
    auto colon = hostport.rfind(':');
    out.host = std::string(hostport.substr(0, colon));
    hostport = colon == std::string_view::npos ? std::string_view() : hostport.substr(colon);
  }
  if (!hostport.empty()) {
    hostport.remove_prefix(1);  // ':'
    if (hostport.empty() || hostport.size() > 5) return false;
    int p = 0;
    for (char c : hostport) {
      if (c < '0' || c > '9') return false;
      p = p * 10 + (c - '0');
    }
    if (p == 0 || p > 65535) return false;
    out.port = p;
  }
  return !out.host.empty();
}

bool parse_http_response(std::string_view raw, int& status, std::string& status_text, std::string& body) {
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return false;
  std::string_view head = raw.substr(0, head_end), rest = raw.substr(head_end + 4);
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::string_view headers = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  // "HTTP/1.1 200 OK"
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/") return false;
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || sp + 4 > line.size()) return false;
  std::string_view code = line.substr(sp + 1, 3);
  status = 0;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
    status = status * 10 + (c - '0');
  }
  status_text = sp + 5 <= line.size() ? std::string(line.substr(sp + 5)) : std::string();
  body.clear();
  if (util::ascii_lower(std::string(urlfetch_header(headers, "Transfer-Encoding"))).find("chunked") !=
      std::string::npos) {
    for (;;) {
      auto le = rest.find("\r\n");
      if (le == std::string_view::npos) return false;
      size_t n = 0;
      std::string_view hex = rest.substr(0, le);
      if (auto semi = hex.find(';'); semi != std::string_view::npos) hex = hex.substr(0, semi);
      if (hex.empty() || hex.size() > 8) return false;
      for (char c : hex) {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return false;
        n = n * 16 + static_cast<size_t>(d);
      }
      rest.remove_prefix(le + 2);
      if (n == 0) return true;
      if (rest.size() < n + 2) return false;
      body.append(rest.substr(0, n));
      rest.remove_prefix(n + 2);
    }
  }
  std::string_view cl = urlfetch_header(headers, "Content-Length");
  if (!cl.empty()) {
    size_t n = 0;
    for (char c : cl) {
      if (c < '0' || c > '9' || n > (size_t{1} << 32)) return false;
      n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (rest.size() < n) return false;
    body.assign(rest.substr(0, n));
    return true;
  }
  body.assign(rest);
  return true;
}

std::shared_ptr<const net::TlsContext> url_resolver_tls(const Options& opts) {
  HttpUrl u;
  if (!parse_http_url(opts.resolver.url, u) || !u.tls) return nullptr;
  const TlsOptions& t = opts.resolver_tls;
  bool insecure = t.enabled && opts.resolver_tls_insecure;
  std::string ca = t.enabled && !insecure ? t.ca_file : "";
  if (t.enabled && insecure && !t.ca_file.empty()) net::TlsContext check("", "", t.ca_file, false);  // must load
  auto ctx = std::make_shared<net::TlsContext>(t.enabled ? t.cert_file : "", t.enabled ? t.key_file : "", ca, false);
  if (!insecure) ctx->verify_with_system_roots();  // no ca_file: the system's roots
  return ctx;
}

UrlAccountFetcher::UrlAccountFetcher(std::string base_url, std::chrono::milliseconds timeout,
                                     std::shared_ptr<const net::TlsContext> tls)
    : base_(std::move(base_url)), timeout_(timeout), tls_(std::move(tls)) {
  if (base_.empty() || base_.back() != '/') base_ += '/';
}

UrlAccountFetcher::~UrlAccountFetcher() { stop(); }

void UrlAccountFetcher::set_tls(std::shared_ptr<const net::TlsContext> tls) {
  std::lock_guard lk(tls_mu_);
  tls_ = std::move(tls);
}

void UrlAccountFetcher::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    workers.swap(workers_);
  }
  cv_.notify_all();
  for (auto& t : workers) t.join();
}

UrlFetchResult UrlAccountFetcher::get(const std::string& key) const {
  std::string url = base_ + key;
  std::string prefix = "could not fetch <\"" + url + "\">: ";
  HttpUrl u;
  if (!parse_http_url(url, u)) return {"", prefix + "unsupported URL"};
  auto deadline = UrlFetchClock::now() + timeout_;
  std::string err;
  int fd = urlfetch_connect(u, deadline, err);
  if (fd < 0) return {"", prefix + err};
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (u.port != (u.tls ? 443 : 80)) host += ":" + std::to_string(u.port);
  std::string req = "GET " + u.path + " HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: nats-server\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n";
  std::shared_ptr<const net::TlsContext> ctx;  // outlives the session
  {
    std::lock_guard lk(tls_mu_);
    ctx = tls_;
  }
  std::unique_ptr<net::TlsSession> tls;
  if (u.tls) {
    if (!ctx) {
      ::close(fd);
      return {"", prefix + "no TLS configuration"};
    }
    tls = std::make_unique<net::TlsSession>(*ctx, fd, u.host);
  }
  UrlIo io{fd, tls.get(), deadline, {}};
  std::string raw;
  UrlIo::Result r = io.handshake();
  if (r == UrlIo::kOk) r = io.send_all(req);
  if (r == UrlIo::kOk) r = io.read_all(raw);
  tls.reset();
  ::close(fd);
  if (r == UrlIo::kTimeout) return {"", prefix + "Client.Timeout exceeded while awaiting headers"};
  if (r == UrlIo::kTlsError) return {"", prefix + "tls: " + io.error};
  int status = 0;
  std::string text, body;
  if (r != UrlIo::kOk || !parse_http_response(raw, status, text, body)) return {"", prefix + "malformed HTTP response"};
  if (status != 200) return {"", prefix + std::to_string(status) + (text.empty() ? "" : " " + text)};
  return {body, ""};
}

void UrlAccountFetcher::get_async(const std::string& key, std::function<void(const UrlFetchResult&)> done) {
  std::lock_guard lk(mu_);
  if (stopping_) return;
  auto& w = waiters_[key];
  w.push_back(std::move(done));
  if (w.size() > 1) return;  // one fetch of it is already under way
  queue_.push_back(key);
  // A few workers at most: a slow URL delays the fetches queued behind it by its timeout.
  constexpr size_t kMaxWorkers = 4;
  if (idle_ == 0 && workers_.size() < kMaxWorkers) workers_.emplace_back([this] { worker(); });
  else cv_.notify_one();
}

void UrlAccountFetcher::worker() {
  std::unique_lock lk(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (stopping_) return;
    std::string key = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    UrlFetchResult r = get(key);
    lk.lock();
    auto waiters = std::move(waiters_[key]);
    waiters_.erase(key);
    if (stopping_) return;
    lk.unlock();
    for (auto& w : waiters) w(r);
    lk.lock();
  }
}

}  // namespace nats
