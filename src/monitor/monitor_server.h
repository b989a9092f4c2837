// The HTTP monitoring listener (cpp-httplib, its own threads): routes paths to the
// documents in endpoints.h and counts requests per path for /varz "http_req_stats".
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib { class Server; }

namespace nats {

class Server;

class MonitorServer {
 public:
  explicit MonitorServer(Server& server);
  ~MonitorServer();
  // Binds and starts serving; returns the bound port. Throws on bind failure.
  int start(const std::string& host, int port);
  void stop();
  std::map<std::string, uint64_t> request_stats() const;

 private:
  void count(const std::string& path);
  Server& server_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> stats_;
};

}  // namespace nats
