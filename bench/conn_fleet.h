// A fleet of raw NATS client connections driven by one epoll loop in the calling thread (not
// thread-safe: a multi-threaded runner drives one fleet per thread): how
// the many-clients scenarios put thousands of clients on a server from one process without a
// thread or a client library object per connection. Connections bind their source address
// to one of several 127.0.0.x addresses, so a fleet can be larger than the ephemeral port
// range of a single source address allows. Optional TLS (the server's INFO first, then the
// handshake, as NATS clients do).
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common.h"

namespace nats::bench {

struct FleetOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  bool tls = false;  // the server requires TLS (its INFO says so; we do not check)
  // Subscriptions per connection: subs-1 subjects of its own (fleet.<i>.<k>) plus the shared
  // fan_subject that every connection receives.
  size_t subs_per_conn = 10;
  std::string fan_subject = "fleet.all";
  size_t max_inflight = 256;  // connections between connect() and their PONG at once
  int source_addrs = 16;      // 127.0.0.1 .. 127.0.0.<source_addrs>
  // Number of this fleet's first connection: several fleets (one per runner thread) use
  // distinct subjects and spread over the source addresses alike.
  size_t first_index = 0;
};

class ConnFleet {
 public:
  explicit ConnFleet(FleetOptions opts);
  ~ConnFleet();
  ConnFleet(const ConnFleet&) = delete;
  ConnFleet& operator=(const ConnFleet&) = delete;

  // Opens `n` more connections and returns once every one has had its PONG, that is once
  // the server has processed its CONNECT and SUBs. Throws BenchError on a refused or closed
  // connection, an -ERR, or the deadline.
  void connect(size_t n, Deadline dl);
  // Services the sockets (answers PINGs, counts deliveries) for `d`.
  void poll_for(std::chrono::milliseconds d, Deadline dl);
  // Services the sockets until `fan_delivered()` reaches `target`.
  void await_delivered(uint64_t target, Deadline dl);

  // Publishes on the fleet's first connection (so TLS fleets need no other client); that
  // connection receives it too, as one of the fleet.
  void publish(const std::string& subject, std::string_view payload);

  size_t size() const { return ready_; }
  uint64_t fan_delivered() const { return delivered_; }

 private:
  struct Conn;
  void open_one();
  void on_event(Conn& c, uint32_t events);
  void on_readable(Conn& c);
  bool parse(Conn& c);  // false: the connection failed (reason in failure_)
  void send(Conn& c, std::string_view data);
  void flush(Conn& c);
  bool handshake(Conn& c);
  void poll_once(int timeout_ms);
  void check();

  FleetOptions opts_;
  int epfd_ = -1;
  SSL_CTX* ssl_ctx_ = nullptr;
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t ready_ = 0;     // connections that had their PONG
  size_t inflight_ = 0;  // opened, PONG not yet seen
  uint64_t delivered_ = 0;
  std::string failure_;
};

}  // namespace nats::bench
