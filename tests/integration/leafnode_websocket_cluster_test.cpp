// A websocket leaf and a hub cluster: the hub's leaf INFO carries the websocket URLs of the
// cluster's other servers (ws_connect_urls), in the first INFO and in the async INFO sent when
// a server joins, so a leaf configured with one hub server fails over to another when it goes.
// Our hubs and 2.9.10's, our leaf and 2.9.10's, the same observable answers. Also how /varz
// shows remote URLs (a websocket URL's path left out, 7422 for a URL without a port).
#include <gtest/gtest.h>

#include <map>

#include "cluster_test_util.h"
#include "leaf_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;
using ltest::num_leafs;

namespace {

// A hub server with a route port, a leafnodes port and a plain websocket port.
struct Hub {
  Node node;
  int leaf_port = testing_harness::free_port();
  int ws_port = testing_harness::free_port();
  Hub(const std::string& bin, const std::string& name, const Hub* route_to) {
    node.binary = bin;
    node.name = name;
    node.cluster = "hub";
    node.cluster_port = testing_harness::free_port();
    if (route_to) node.routes = {"nats-route://127.0.0.1:" + std::to_string(route_to->node.cluster_port)};
    node.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\nwebsocket { listen: 127.0.0.1:" +
                 std::to_string(ws_port) + ", no_tls: true }\n";
  }
};

// The "ws_connect_urls" of the INFO a hub's leafnodes port sends first ("-" when absent).
std::string info_ws_urls(int leaf_port) {
  RawClient raw(leaf_port);
  auto j = nlohmann::json::parse(raw.info_json(), nullptr, false);
  if (j.is_discarded()) return "<no INFO: " + raw.info() + ">";
  return j.contains("ws_connect_urls") ? j["ws_connect_urls"].dump() : "-";
}

TEST(LeafWebsocketCluster, LeafInfoListsTheOtherServersWebsocketUrls) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    Hub a(bin, "A", nullptr);
    a.node.start();
    EXPECT_EQ(info_ws_urls(a.leaf_port), "-");  // alone: none (never its own)
    Hub b(bin, "B", &a);
    b.node.start();
    ASSERT_TRUE(wait_for([&] { return a.node.num_routes() == 1 && b.node.num_routes() == 1; }, milliseconds(5000)));
    EXPECT_TRUE(wait_for([&] { return info_ws_urls(a.leaf_port) == "[\"127.0.0.1:" + std::to_string(b.ws_port) + "\"]"; },
                         milliseconds(2000)))
        << info_ws_urls(a.leaf_port);
    EXPECT_EQ(info_ws_urls(b.leaf_port), "[\"127.0.0.1:" + std::to_string(a.ws_port) + "\"]");
    // B gone: A's INFO lists nobody again (B dialled A: the accepted route's end counts too).
    b.node.proc.reset();
    EXPECT_TRUE(wait_for([&] { return info_ws_urls(a.leaf_port) == "-"; }, milliseconds(3000)))
        << info_ws_urls(a.leaf_port);
  }
}

// A leaf configured with ws://A only; B joins the hub cluster afterwards (the leaf hears of it
// in an async INFO); A stops and the leaf reconnects to B, where traffic flows again.
void fail_over(const std::string& hub_bin, const std::string& leaf_bin) {
  Hub a(hub_bin, "A", nullptr);
  a.node.start();
  Node leaf;
  leaf.binary = leaf_bin;
  leaf.name = "leaf";
  leaf.extra = "leafnodes { remotes [ { url: \"ws://127.0.0.1:" + std::to_string(a.ws_port) + "\" } ] }\n";
  leaf.start();
  ASSERT_TRUE(ltest::leafs_connected(a.node, leaf, milliseconds(5000))) << leaf.proc->log();
  Hub b(hub_bin, "B", &a);
  b.node.start();
  ASSERT_TRUE(wait_for([&] { return a.node.num_routes() == 1 && b.node.num_routes() == 1; }, milliseconds(5000)));
  // A sends its leafs the async INFO when it registers B's route, which is when its leaf
  // port's INFO starts listing B: the leaf has it (in its socket at least) once that shows.
  ASSERT_TRUE(wait_for([&] { return info_ws_urls(a.leaf_port) != "-"; }, milliseconds(3000)));
  a.node.proc.reset();
  ASSERT_TRUE(ltest::leafs_connected(b.node, leaf, milliseconds(8000))) << leaf.proc->log() << b.node.proc->log();
  ltest::leaf_exchange(b.node, leaf, "failover.svc", 4096);
}

TEST(LeafWebsocketCluster, OurLeafFailsOverBetweenOurHubs) {
  fail_over(testing_harness::server_binary(), testing_harness::server_binary());
}

TEST(LeafWebsocketCluster, ReferenceLeafFailsOverBetweenOurHubs) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  fail_over(testing_harness::server_binary(), testing_harness::reference_binary());
}

TEST(LeafWebsocketCluster, OurLeafFailsOverBetweenReferenceHubs) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  fail_over(testing_harness::reference_binary(), testing_harness::server_binary());
}

// /varz "leaf" of a server with remotes only: the URLs as host:port whatever their scheme,
// user info or path, 7422 where none is given (websocket too: 2.9.10 dials that port), and
// neither host nor auth_timeout without a leafnodes port.
TEST(LeafWebsocketVarz, RemoteUrlsShowAsTheReferenceShowsThem) {
  const std::string p1 = std::to_string(testing_harness::free_port()), p2 = std::to_string(testing_harness::free_port());
  std::map<std::string, nlohmann::json> leaf;
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    Node n;
    n.binary = bin;
    n.extra = "leafnodes { remotes [ { url: \"ws://127.0.0.1:" + p1 + "/some/path\" },\n { urls: [\"wss://u:p@127.0.0.1/x\", \"wss://127.0.0.1:" +
              p2 + "\"] },\n { url: \"nats-leaf://127.0.0.1\" } ] }\n";
    n.start();
    leaf[bin] = http_json(n.http_port, "/varz")["leaf"];
    EXPECT_EQ(leaf[bin].dump(), "{\"remotes\":[{\"urls\":[\"127.0.0.1:" + p1 + "\"]},{\"urls\":[\"127.0.0.1:7422\",\"127.0.0.1:" + p2 +
                                   "\"]},{\"urls\":[\"127.0.0.1:7422\"]}]}")
        << bin;
  }
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
