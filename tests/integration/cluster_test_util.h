// Helpers for the cluster/supercluster tests (cluster_*.cpp): a server node described by
// its cluster and gateway settings and started from a generated config, monitoring reads
// over plain HTTP, and reachability/interest waits.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace ctest {

using itest::milliseconds;

struct HttpResponse {
  int status = 0;    // from the status line; 0 when there was no answer
  std::string body;  // de-chunked
};

// GET http://127.0.0.1:port/path: the status code and the body ({0, ""} on failure).
inline HttpResponse http_response(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  // Reads end with the server's close (Connection: close); the timeout is only for a server
  // that does not answer, and is generous: a sanitized server on a loaded CI machine can take
  // over 2 s to build a large /jsz or /connz.
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  [[maybe_unused]] auto w = ::write(fd, req.data(), req.size());
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, n);
  ::close(fd);
  HttpResponse out;
  if (resp.size() > 12 && resp.compare(0, 5, "HTTP/") == 0) out.status = std::atoi(resp.c_str() + resp.find(' ') + 1);
  auto p = resp.find("\r\n\r\n");
  if (p == std::string::npos) return out;
  std::string body = resp.substr(p + 4);
  if (resp.find("Transfer-Encoding: chunked") != std::string::npos ||
      resp.find("transfer-encoding: chunked") != std::string::npos) {
    size_t i = 0;
    while (i < body.size()) {
      size_t e = body.find("\r\n", i);
      if (e == std::string::npos) break;
      size_t len = std::stoul(body.substr(i, e - i), nullptr, 16);
      if (len == 0) break;
      out.body += body.substr(e + 2, len);
      i = e + 2 + len + 2;
    }
    return out;
  }
  out.body = std::move(body);
  return out;
}

// GET http://127.0.0.1:port/path; the body, or "" on failure.
inline std::string http_get(int port, const std::string& path) { return http_response(port, path).body; }

inline nlohmann::json http_json(int port, const std::string& path) {
  auto j = nlohmann::json::parse(http_get(port, path), nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

// One server: cluster/gateway settings in, config out. Restartable with the same ports
// (but a fresh client port).
struct Node {
  std::string name;
  std::string binary = testing_harness::server_binary();
  std::string cluster;  // empty: no cluster block
  int cluster_port = 0;
  std::vector<std::string> routes;
  std::string cluster_extra;
  std::string gateway;  // empty: no gateway block
  int gateway_port = 0;
  std::vector<std::pair<std::string, std::string>> gateways;  // name, url
  std::string gateway_extra;
  std::string extra;  // top-level config lines (accounts, ...)
  int http_port = testing_harness::free_port();
  std::unique_ptr<testing_harness::ServerProcess> proc;

  std::string config() const {
    std::string c;
    if (!name.empty()) c += "server_name: " + name + "\n";
    c += "http_port: " + std::to_string(http_port) + "\n";
    c += extra + "\n";
    if (!cluster.empty()) {
      c += "cluster {\n  name: " + cluster + "\n  listen: 127.0.0.1:" + std::to_string(cluster_port) + "\n";
      if (!routes.empty()) {
        c += "  routes: [\n";
        for (auto& r : routes) c += "    \"" + r + "\"\n";
        c += "  ]\n";
      }
      c += "  " + cluster_extra + "\n}\n";
    }
    if (!gateway.empty()) {
      c += "gateway {\n  name: \"" + gateway + "\"\n  listen: 127.0.0.1:" + std::to_string(gateway_port) + "\n";
      c += "  gateways: [\n";
      for (auto& [n, u] : gateways) c += "    {name: \"" + n + "\", urls: [\"" + u + "\"]}\n";
      c += "  ]\n  " + gateway_extra + "\n}\n";
    }
    return c;
  }
  // Starts the server and waits (up to 5 s, not failing: a test may expect a port to stay
  // closed) until its cluster, gateway and monitoring ports listen too: the harness waits only
  // for the client port, and 2.9.10 opens the cluster port after it (later still on a loaded
  // machine), so a test dialling the cluster port straight away could find it closed.
  void start() {
    proc.reset();
    proc = itest::start_with_config(config(), {}, binary);
    testing_harness::wait_listening({cluster.empty() ? 0 : cluster_port, gateway.empty() ? 0 : gateway_port, http_port},
                                    milliseconds(5000));
  }
  std::string url() const { return proc->url(); }
  int num_routes() const {
    auto j = http_json(http_port, "/routez");
    return j.contains("num_routes") ? j["num_routes"].get<int>() : -1;
  }
  int num_outbound_gateways() const {
    auto j = http_json(http_port, "/gatewayz");
    return j.contains("outbound_gateways") ? static_cast<int>(j["outbound_gateways"].size()) : -1;
  }
  int num_inbound_gateways() const {
    auto j = http_json(http_port, "/gatewayz");
    return j.contains("inbound_gateways") ? static_cast<int>(j["inbound_gateways"].size()) : -1;
  }
  // Subscriptions (local and remote) whose subject matches `subject`.
  int interest(const std::string& subject) const {
    auto j = http_json(http_port, "/subsz?subs=1&test=" + subject);
    return j.contains("total") ? j["total"].get<int>() : -1;
  }
};

// Waits until `n` has at least `count` matching subscriptions (exactly 0 when count is 0).
// The reference's /subsz lists neither route interest nor (mostly) honours `test`; against
// it this only gives interest time to settle.
// Configures (does not start) servers A and B of `binary` as cluster "C", B routing to A.
inline void configure_route_pair(Node& a, Node& b, const std::string& binary) {
  a.binary = b.binary = binary;
  a.name = "A";
  b.name = "B";
  a.cluster = b.cluster = "C";
  a.cluster_port = testing_harness::free_port();
  b.cluster_port = testing_harness::free_port();
  b.routes = {"nats-route://127.0.0.1:" + std::to_string(a.cluster_port)};
}

inline bool wait_interest(const Node& n, const std::string& subject, int count,
                          milliseconds t = milliseconds(5000)) {
  if (n.binary == testing_harness::reference_binary()) {
    std::this_thread::sleep_for(milliseconds(300));
    return true;
  }
  return itest::wait_for([&] {
    int k = n.interest(subject);
    return count == 0 ? k == 0 : k >= count;
  }, t);
}

// Publishes from `from` until a subscriber on `to` receives it.
inline bool can_reach(const Node& from, const Node& to, milliseconds t = milliseconds(5000)) {
  static std::atomic<int> seq{0};
  std::string subj = "reach." + std::to_string(::getpid()) + "." + std::to_string(++seq);
  itest::ConnPtr a, b;
  if (itest::connect_url(a, from.url()) != NATS_OK || itest::connect_url(b, to.url()) != NATS_OK) return false;
  itest::SubPtr sub;
  if (natsConnection_SubscribeSync(&sub.p, b.p, subj.c_str()) != NATS_OK) return false;
  natsConnection_Flush(b.p);
  auto deadline = itest::Clock::now() + t;
  while (itest::Clock::now() < deadline) {
    natsConnection_PublishString(a.p, subj.c_str(), "x");
    natsConnection_Flush(a.p);
    itest::MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 100) == NATS_OK) return true;
  }
  return false;
}

// Answers "echo:<data>" to every request.
inline void echo_handler(natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
  if (const char* r = natsMsg_GetReply(m)) {
    std::string out = "echo:" + std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    natsConnection_Publish(nc, r, out.data(), static_cast<int>(out.size()));
  }
  natsMsg_Destroy(m);
}

// The CONNECT and INFO a route peer sends, with a made-up server ID.
inline std::string fake_route_handshake(const std::string& cluster) {
  return "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"headers\":true,"
         "\"name\":\"NFAKEPEER\",\"cluster\":\"" + cluster + "\",\"lnoc\":true}\r\n"
         "INFO {\"server_id\":\"NFAKEPEER\",\"server_name\":\"fake\",\"version\":\"2.9.10\",\"host\":\"127.0.0.1\","
         "\"port\":1,\"headers\":true,\"cluster\":\"" + cluster + "\",\"lnoc\":true}\r\n";
}

}  // namespace ctest
