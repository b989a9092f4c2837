#include "cluster/cluster_util.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "net/socket.h"
#include "server/server.h"

namespace nats::cluster {

std::string PeerUrl::host_port() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

PeerUrl parse_peer_url(const std::string& url) {
  PeerUrl u;
  std::string rest = url;
  auto p = rest.find("://");
  if (p != std::string::npos) {
    u.scheme = rest.substr(0, p);
    rest = rest.substr(p + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto c = cred.find(':');
    u.user = cred.substr(0, c);
    if (c != std::string::npos) u.pass = cred.substr(c + 1);
  }
  std::string port_s;
  if (!rest.empty() && rest[0] == '[') {
    auto e = rest.find(']');
    if (e == std::string::npos) return u;
    u.host = rest.substr(1, e - 1);
    if (e + 1 < rest.size() && rest[e + 1] == ':') port_s = rest.substr(e + 2);
  } else {
    auto c = rest.rfind(':');
    if (c == std::string::npos) return u;
    u.host = rest.substr(0, c);
    port_s = rest.substr(c + 1);
  }
  if (port_s.empty() || port_s.size() > 5) return u;
  for (char ch : port_s)
    if (ch < '0' || ch > '9') return u;
  u.port = std::stoi(port_s);
  if (u.host.empty() || u.port <= 0 || u.port > 65535) return u;
  u.ok = true;
  return u;
}

namespace {
std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::string advertise_host_port(std::string_view adv, int default_port) {
  if (adv.empty()) return "";
  std::string_view host, port;
  bool has_port = false;
  if (adv.front() == '[') {  // net.SplitHostPort's bracketed form
    size_t close = adv.find(']');
    if (close == std::string_view::npos) return "";
    host = adv.substr(1, close - 1);
    std::string_view rest = adv.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "";
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = adv.find(':');
    if (colon == std::string_view::npos) {
      host = adv;
    } else {
      if (adv.find(':', colon + 1) != std::string_view::npos) return "";  // too many colons
      host = adv.substr(0, colon);
      port = adv.substr(colon + 1);
      has_port = true;
    }
  }
  int p = default_port;
  if (has_port) {
    port = trim_spaces(port);
    bool neg = !port.empty() && port.front() == '-';
    if (neg) port.remove_prefix(1);
    if (port.empty() || port.size() > 9) return "";
    long v = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return "";
      v = v * 10 + (c - '0');
    }
    if (neg) v = -v;
    p = (v == 0 || v == -1) ? default_port : static_cast<int>(v);
  }
  std::string h(trim_spaces(host));
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(p);
}

std::vector<std::string> advertised_urls(const std::string& host, int port) {
  std::vector<std::string> out;
  auto fmt = [&](const std::string& h) {
    return h.find(':') != std::string::npos ? "[" + h + "]:" + std::to_string(port) : h + ":" + std::to_string(port);
  };
  if (host != "0.0.0.0" && host != "::" && !host.empty()) {
    out.push_back(fmt(host));
    return out;
  }
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return {fmt("127.0.0.1")};
  for (ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK)) continue;
    char buf[INET6_ADDRSTRLEN] = {0};
    if (i->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) continue;
      inet_ntop(AF_INET6, &a6->sin6_addr, buf, sizeof buf);
    } else {
      continue;
    }
    std::string s = fmt(buf);
    bool dup = false;
    for (auto& o : out) dup |= o == s;
    if (!dup) out.push_back(s);
  }
  freeifaddrs(ifs);
  if (out.empty()) out.push_back(fmt("127.0.0.1"));
  return out;
}

int connect_with_timeout(const std::string& host, int port, std::chrono::milliseconds timeout) {
  int fd = net::connect_tcp(host, port);
  if (fd < 0) return -1;
  pollfd p{fd, POLLOUT, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) {
    ::close(fd);
    return -1;
  }
  int err = 0;
  socklen_t l = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TcpListener::~TcpListener() { ::close(fd_); }

void TcpListener::on_io(uint32_t) {
  for (;;) {
    std::string ip;
    int port = 0;
    int fd = net::accept_tcp(fd_, &ip, &port);
    if (fd < 0) return;
    fn_(fd, ip, port);
  }
}

void link_info_head(nlohmann::ordered_json& j, const Server& s, int proto, const std::string& host, int port) {
  j["server_id"] = s.id();
  j["server_name"] = s.name();
  j["version"] = kServerVersion;
  j["proto"] = proto;
  j["go"] = "go1.19.8";
  j["host"] = host;
  j["port"] = port;
}

void link_info_limits(nlohmann::ordered_json& j, bool headers, bool auth_required, bool tls, bool tls_verify,
                      int64_t max_payload) {
  j["headers"] = headers;
  if (auth_required) j["auth_required"] = true;
  if (tls) j["tls_required"] = true;
  if (tls && tls_verify) j["tls_verify"] = true;
  j["max_payload"] = max_payload;
}

void set_go_seconds(nlohmann::ordered_json& j, const char* key, std::chrono::nanoseconds d) {
  double v = std::chrono::duration<double>(d).count();
  if (v == static_cast<double>(static_cast<int64_t>(v))) j[key] = static_cast<int64_t>(v);
  else j[key] = v;
}

void link_connect_head(nlohmann::ordered_json& c, const Server& s, bool echo, const std::string& url, bool tls) {
  PeerUrl u = parse_peer_url(url);
  c["echo"] = echo;
  c["verbose"] = false;
  c["pedantic"] = false;
  if (!u.user.empty()) {
    c["user"] = u.user;
    c["pass"] = u.pass;
  }
  c["tls_required"] = tls;
  c["headers"] = true;
  c["name"] = s.id();
}

std::string json_quote(const std::string& s) { return nlohmann::json(s).dump(); }

void LinkListener::start(net::EventLoop& loop, int fd, TcpListener::AcceptFn fn) {
  listener_ = std::make_unique<TcpListener>(fd, std::move(fn));
  auto* l = listener_.get();
  loop.post([&loop, l] { loop.add_fd(l->fd(), EPOLLIN, l); });
  loop_ = &loop;
}

void LinkListener::stop() {
  if (!listener_ || !loop_) return;
  std::shared_ptr<TcpListener> l(listener_.release());
  loop_->post([l, lp = loop_] { lp->del_fd(l->fd()); });
}

}  // namespace nats::cluster
