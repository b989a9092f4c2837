// /connz?state=closed lists closed leaf connections, differentially against 2.9.10: its
// saveClosedClient keeps CLIENT and LEAF connections, on the hub (the leafs it accepted) and
// on the leaf (the connection it dialled). Open leafs stay out of /connz (they are in /leafz).
#include <gtest/gtest.h>

#include <string>

#include "cluster_test_util.h"
#include "harness.h"
#include "leaf_util.h"

namespace NATS_TEST_FILE_ID {

using nlohmann::json;

// The parts of a closed entry that do not depend on timing or ports: its keys and the
// values both servers must agree on. Not compared: pending_bytes (2.9.10 saves the entry in a
// goroutine, so a refused leaf's -ERR may or may not be counted), subscriptions (a hub and
// leaf of ours count 5 remote subscriptions where two 2.9.10 servers count 4), rtt.
json stable_view(const json& e) {
  json v = json::object();
  json keys = json::array();
  for (auto it = e.begin(); it != e.end(); ++it) keys.push_back(it.key());
  v["keys"] = keys;
  for (const char* k : {"kind", "reason", "ip", "name", "account", "authorized_user"})
    if (e.contains(k)) v[k] = e[k];
  return v;
}

// A hub binding its leafs to account A (user leafu), and a leaf dialling it; both started.
struct HubAndLeaf {
  ctest::Node hub, leaf;
  int leaf_port = testing_harness::free_port();
  explicit HubAndLeaf(const std::string& bin, const std::string& password = "pw") {
    hub.binary = leaf.binary = bin;
    hub.name = "HUB";
    leaf.name = "LEAF";
    hub.extra = "accounts { A { users: [{user: leafu, password: pw}] } }\n"
                "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }";
    leaf.extra = "leafnodes { remotes: [ { url: \"nats://leafu:" + password + "@127.0.0.1:" + std::to_string(leaf_port) +
                 "\" } ] }";
    hub.start();
    leaf.start();
  }
};

// Leaf entries in a /connz answer (the harness's readiness probe leaves a closed client).
int num_leafs(const json& connz) {
  int n = 0;
  for (const auto& c : connz.value("connections", json::array())) n += c.value("kind", "") == "Leafnode";
  return n;
}

// The one closed leaf entry /connz?state=closed&auth=1 shows on `n`, once there ({} if none).
json closed_entry(const ctest::Node& n) {
  json e = json::object();
  itest::wait_for([&] {
    auto j = ctest::http_json(n.http_port, "/connz?state=closed&auth=1");
    for (const auto& c : j.value("connections", json::array()))
      if (c.value("kind", "") == "Leafnode") e = c;
    return !e.empty();
  }, itest::milliseconds(4000));
  return e;
}

TEST(LeafConnzClosed, HubListsTheClosedLeafAsReference) {
  json views;
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    HubAndLeaf s(bin);
    ASSERT_TRUE(ltest::leafs_connected(s.hub, s.leaf)) << bin << s.hub.proc->log() << s.leaf.proc->log();
    // Open leafs are not client connections.
    EXPECT_EQ(ctest::http_json(s.hub.http_port, "/connz").value("total", -1), 0) << bin;
    EXPECT_EQ(num_leafs(ctest::http_json(s.hub.http_port, "/connz?state=closed")), 0) << bin;
    // ... unless filtered by account: 2.9.10 walks the account's connections, leafs included.
    auto open = ctest::http_json(s.hub.http_port, "/connz?acc=A&auth=1");
    ASSERT_EQ(open.value("total", -1), 1) << bin << open.dump();
    json oe = open["connections"][0];
    EXPECT_EQ(oe.value("kind", ""), "Leafnode") << bin;
    EXPECT_FALSE(oe.contains("stop")) << bin;
    EXPECT_EQ(oe.value("name", ""), "LEAF") << bin;
    EXPECT_EQ(oe.value("account", ""), "A") << bin;
    views.push_back(stable_view(oe));
    s.leaf.proc->stop();
    json e = closed_entry(s.hub);
    ASSERT_FALSE(e.empty()) << bin << s.hub.proc->log();
    EXPECT_EQ(e.value("kind", ""), "Leafnode") << bin << e.dump();
    EXPECT_FALSE(e.contains("type")) << bin << e.dump();
    EXPECT_EQ(e.value("reason", ""), "Client Closed") << bin << e.dump();
    EXPECT_EQ(e.value("ip", ""), "127.0.0.1") << bin;
    EXPECT_EQ(e.value("name", ""), "LEAF") << bin;  // the leaf's CONNECT name
    EXPECT_TRUE(e.contains("version")) << bin;
    EXPECT_EQ(e.value("account", ""), "A") << bin;
    EXPECT_EQ(e.value("authorized_user", ""), "leafu") << bin;
    EXPECT_TRUE(e.contains("stop")) << bin;
    // state=all: the closed leaf (and the probe's closed client); state=open: nothing.
    EXPECT_EQ(num_leafs(ctest::http_json(s.hub.http_port, "/connz?state=all")), 1) << bin;
    EXPECT_EQ(ctest::http_json(s.hub.http_port, "/connz").value("total", -1), 0) << bin;
    EXPECT_EQ(ctest::http_json(s.hub.http_port, "/connz?state=closed&acc=A").value("total", -1), 1) << bin;
    EXPECT_EQ(ctest::http_json(s.hub.http_port, "/connz?state=closed&acc=B").value("total", -1), 0) << bin;
    views.push_back(stable_view(e));
  }
  if (views.size() == 2) {
    EXPECT_EQ(views[0], views[1]) << "ours vs 2.9.10";
  }
}

TEST(LeafConnzClosed, LeafListsItsDialledConnectionAsReference) {
  json views;
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    HubAndLeaf s(bin);
    ASSERT_TRUE(ltest::leafs_connected(s.hub, s.leaf)) << bin << s.hub.proc->log() << s.leaf.proc->log();
    EXPECT_EQ(ctest::http_json(s.leaf.http_port, "/connz").value("total", -1), 0) << bin;
    EXPECT_EQ(ctest::http_json(s.leaf.http_port, "/connz?acc=%24G").value("total", -1), 1) << bin;
    s.hub.proc->stop();
    json e = closed_entry(s.leaf);
    ASSERT_FALSE(e.empty()) << bin << s.leaf.proc->log();
    EXPECT_EQ(e.value("kind", ""), "Leafnode") << bin << e.dump();
    EXPECT_EQ(e.value("ip", ""), "127.0.0.1") << bin;
    EXPECT_EQ(e.value("port", 0), s.leaf_port) << bin;
    // Dialled: no CONNECT of the other side, so no name or version; bound to $G, no account.
    EXPECT_FALSE(e.contains("name")) << bin << e.dump();
    EXPECT_FALSE(e.contains("version")) << bin << e.dump();
    EXPECT_FALSE(e.contains("account")) << bin << e.dump();
    // A closed connection of the global account keeps no account name in 2.9.10: acc=$G
    // does not find it.
    EXPECT_EQ(ctest::http_json(s.leaf.http_port, "/connz?state=closed&acc=%24G").value("total", -1), 0) << bin;
    views.push_back(stable_view(e));
  }
  if (views.size() == 2) {
    EXPECT_EQ(views[0], views[1]) << "ours vs 2.9.10";
  }
}

// A leaf refused for its credentials: closed with 2.9.10's "Authentication Failure", its
// CONNECT's name, version and user kept, no account.
TEST(LeafConnzClosed, RefusedLeafAsReference) {
  json views;
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    HubAndLeaf s(bin, "wrong");
    json e = closed_entry(s.hub);
    ASSERT_FALSE(e.empty()) << bin << s.hub.proc->log();
    EXPECT_EQ(e.value("reason", ""), "Authentication Failure") << bin << e.dump();
    EXPECT_EQ(e.value("name", ""), "LEAF") << bin << e.dump();
    EXPECT_TRUE(e.contains("version")) << bin << e.dump();
    EXPECT_EQ(e.value("authorized_user", ""), "leafu") << bin << e.dump();
    EXPECT_FALSE(e.contains("account")) << bin << e.dump();
    views.push_back(stable_view(e));
  }
  if (views.size() == 2) {
    EXPECT_EQ(views[0], views[1]) << "ours vs 2.9.10";
  }
}

}  // namespace NATS_TEST_FILE_ID
