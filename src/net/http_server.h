// A small HTTP/1.1 server for the monitoring endpoints, on an event loop of its own (one
// thread, started only when monitoring is configured): keep-alive, pipelining answered in
// order, HEAD, request bodies skipped, malformed requests answered with Go's 4xx/5xx and
// closed, optionally over TLS (https_port). Handlers run on that thread, so a slow document
// (/connz of many connections) never holds up a client-serving loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "net/event_loop.h"
#include "net/http_request.h"

namespace nats::net {
class TlsContext;
}

namespace nats::net::http {

struct Response {
  int code = 200;
  std::string content_type;
  std::string body;
  std::string extra_headers;  // whole lines, each ending in CRLF
};

using Handler = std::function<Response(const Request&)>;

class Server {
 public:
  // tls: answer over TLS (may be null). The context must outlive the server.
  Server(Handler handler, const TlsContext* tls);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens on host:port (0: any free port), starts the loop thread; returns the bound port.
  // Throws std::runtime_error when it cannot listen.
  int start(const std::string& host, int port);
  // Closes the listener and every connection, and joins the thread.
  void stop();

 private:
  class Conn;
  class Acceptor;
  friend class Conn;
  friend class Acceptor;
  void accept_ready();
  void drop(Conn* c);  // loop thread: unregisters and frees c after this batch

  Handler handler_;
  const TlsContext* tls_;
  EventLoop loop_;
  int listen_fd_ = -1;
  std::unique_ptr<Acceptor> acceptor_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;  // loop thread only
  bool started_ = false;
};

}  // namespace nats::net::http
