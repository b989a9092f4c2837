// The two-server set-ups of the tests of a route's or a gateway's TLS peer check
// (tls_known_urls_test, tls_verify_and_map_test): two routed servers, or two gateways of one
// server each, with the same TLS block, and the two outcomes those tests tell apart (the
// peers connected, or the peer's certificate refused).
#pragma once

#include <string>

#include "cluster_test_util.h"
#include "test_util.h"

namespace ctest {

// a and b of cluster `cluster` (servers "a" and "b" of binaries bin_a and bin_b), b routed to
// a at `host` (and a to b with both_ways), `cluster_extra` in both cluster blocks; started.
inline void start_route_pair(Node& a, Node& b, const std::string& bin_a, const std::string& bin_b,
                             const std::string& cluster, const std::string& host, const std::string& cluster_extra,
                             bool both_ways) {
  a.binary = bin_a;
  b.binary = bin_b;
  a.name = "a";
  b.name = "b";
  a.cluster = b.cluster = cluster;
  a.cluster_port = testing_harness::free_port();
  b.cluster_port = testing_harness::free_port();
  if (both_ways) a.routes = {"nats-route://" + host + ":" + std::to_string(b.cluster_port)};
  b.routes = {"nats-route://" + host + ":" + std::to_string(a.cluster_port)};
  a.cluster_extra = b.cluster_extra = cluster_extra;
  a.start();
  b.start();
}

// Servers "x" of `bin` and "y" of `bin_y` (`bin` when empty), gateways X and Y dialling each
// other at `host`, `gateway_extra` in both gateway blocks; started.
inline void start_gateway_pair(Node& x, Node& y, const std::string& bin, const std::string& host,
                               const std::string& gateway_extra, const std::string& bin_y = "") {
  x.binary = bin;
  y.binary = bin_y.empty() ? bin : bin_y;
  x.name = "x";
  y.name = "y";
  x.gateway = "X";
  y.gateway = "Y";
  x.gateway_port = testing_harness::free_port();
  y.gateway_port = testing_harness::free_port();
  x.gateways = {{"Y", "nats://" + host + ":" + std::to_string(y.gateway_port)}};
  y.gateways = {{"X", "nats://" + host + ":" + std::to_string(x.gateway_port)}};
  x.gateway_extra = y.gateway_extra = gateway_extra;
  x.start();
  y.start();
}

// Each of a and b has its route to the other within `within`.
inline bool routes_connected(const Node& a, const Node& b, itest::milliseconds within) {
  return itest::wait_for([&] { return a.num_routes() == 1 && b.num_routes() == 1; }, within);
}

// Both gateways accepted the other's connection within `within`.
inline bool gateways_connected(const Node& x, const Node& y, itest::milliseconds within) {
  return itest::wait_for([&] { return x.num_inbound_gateways() == 1 && y.num_inbound_gateways() == 1; }, within);
}

// `n` logged an authentication error (a peer refused) within `within`.
inline bool logs_authentication_error(const Node& n, itest::milliseconds within) {
  return itest::wait_for([&] { return n.proc->log().find("uthentication error") != std::string::npos; }, within);
}

}  // namespace ctest
