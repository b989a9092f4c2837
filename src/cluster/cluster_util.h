// Small helpers shared by routes, gateways and leaf nodes: peer URLs, the client URLs a
// server advertises, a blocking connect with a deadline (used by the solicitor threads), a
// listener that hands accepted sockets to a callback, and the common fields of a link INFO.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "net/event_loop.h"

namespace nats {
class Server;
}

namespace nats::cluster {

// nats-route://user:pass@host:port (or nats://, or host:port).
struct PeerUrl {
  std::string scheme;
  std::string user, pass;
  std::string host;
  int port = 0;
  bool ok = false;
  // host:port, what the solicitor dials and what logs show.
  std::string host_port() const;
};
PeerUrl parse_peer_url(const std::string& url);

// "ip:port" strings for clients: the host itself, or every non-loopback interface address
// when the server listens on all interfaces (as the reference advertises).
std::vector<std::string> advertised_urls(const std::string& host, int port);

// An `advertise` value (host, host:port, [v6]:port) as the reference's parseHostPort then
// net.JoinHostPort read it: a missing, 0 or -1 port is default_port. Empty if malformed.
std::string advertise_host_port(std::string_view adv, int default_port);

// Connects with a deadline; returns a non-blocking fd or -1.
int connect_with_timeout(const std::string& host, int port, std::chrono::milliseconds timeout);

// How long routes, gateways and leaf nodes wait for a TCP connect before trying the next URL
// (DEFAULT_ROUTE_DIAL, which 2.9.10 uses for all three).
inline constexpr std::chrono::milliseconds kLinkDialTimeout{1000};

// A listening socket registered on one loop; accept_cb gets each accepted fd.
class TcpListener : public net::IoHandler {
 public:
  using AcceptFn = std::function<void(int fd, const std::string& ip, int port)>;
  TcpListener(int fd, AcceptFn fn) : fd_(fd), fn_(std::move(fn)) {}
  ~TcpListener() override;
  void on_io(uint32_t) override;
  int fd() const { return fd_; }

 private:
  int fd_;
  AcceptFn fn_;
};

// The listener of a server-to-server link (routes, gateways, leaf nodes): a TcpListener
// registered on one loop, which also unregisters it on stop() (the socket closes once that
// loop has run the removal).
class LinkListener {
 public:
  void start(net::EventLoop& loop, int fd, TcpListener::AcceptFn fn);
  void stop();

 private:
  std::unique_ptr<TcpListener> listener_;
  net::EventLoop* loop_ = nullptr;
};

// The fields every link's INFO starts with, in the reference's order (server.go `type
// Info`): server_id, server_name, version, proto, go, host, port.
void link_info_head(nlohmann::ordered_json& j, const Server& s, int proto, const std::string& host, int port);
// The fields that follow (a route puts its "ip" in between): headers, auth_required,
// tls_required and tls_verify (each only when true; verify only with TLS), max_payload.
void link_info_limits(nlohmann::ordered_json& j, bool headers, bool auth_required, bool tls, bool tls_verify,
                      int64_t max_payload);

// The CONNECT fields a soliciting route or gateway starts with: echo, verbose, pedantic,
// the user and password of the dialled URL, tls_required, headers, name (our server ID).
void link_connect_head(nlohmann::ordered_json& c, const Server& s, bool echo, const std::string& url, bool tls);

// Seconds as Go's JSON writes a float64 in /varz: "2" for a whole number, "0.5" otherwise.
void set_go_seconds(nlohmann::ordered_json& j, const char* key, std::chrono::nanoseconds d);

// A JSON string literal (quotes included) for hand-built protocol lines.
std::string json_quote(const std::string& s);

}  // namespace nats::cluster
