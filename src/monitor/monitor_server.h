// The HTTP monitoring listener (net/http_server.h, its own thread): routes paths to the
// documents in endpoints.h the way the reference's Go ServeMux does, and counts requests
// per path for /varz "http_req_stats".
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "net/http_server.h"

namespace nats {

namespace net {
class TlsContext;
}

class Server;

class MonitorServer {
 public:
  explicit MonitorServer(Server& server);
  ~MonitorServer();
  // Binds and starts serving (secure: over TLS with the server's `tls` certificate, never
  // asking for a client certificate, as the reference's https_port); returns the bound port.
  // Throws on bind failure or a certificate that does not load.
  int start(const std::string& host, int port, bool secure = false);
  void stop();
  // The server calls this once start-up has built everything the documents read (meta group,
  // system services, links): the listener binds early, where the reference logs it, but a
  // request that arrives before this waits here instead of reading half-built state.
  void open();
  std::map<std::string, uint64_t> request_stats() const;

  // Go's normalizeBasePath: "" -> "/", a leading slash added, then path.Clean.
  static std::string normalize_base_path(const std::string& p);

 private:
  net::http::Response handle(const net::http::Request& req);
  void count(const std::string& path);
  Server& server_;
  std::string base_;  // normalized http_base_path
  std::unique_ptr<net::TlsContext> tls_;
  std::unique_ptr<net::http::Server> http_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> stats_;
  std::atomic<int> state_{0};  // 0 starting, 1 open, 2 stopped before it opened
};

}  // namespace nats
