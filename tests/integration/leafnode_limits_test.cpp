// Leaf connections and account limits, and leafnodes { min_version }, each checked against
// the 2.9.10 reference hub: max_leafnodes refuses a leaf over the limit with the
// reference's error, leafs take client slots of max_connections, and a hub with a minimum
// version rejects older leafs (with the reference's text) while accepting newer ones.
#include <gtest/gtest.h>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

int num_leafs(const Node& n) {
  auto j = http_json(n.http_port, "/leafz");
  return j.contains("leafnodes") ? j["leafnodes"].get<int>() : -1;
}

// A hub whose account A (user a/a) has `limits`, and leafs that bind to it as user a.
struct LimitedHub {
  Node hub;
  int leaf_port = testing_harness::free_port();
  std::vector<std::unique_ptr<Node>> leafs;

  LimitedHub(const std::string& bin, const std::string& limits, const std::string& leafnodes_extra = "") {
    hub.binary = bin;
    hub.name = "hub";
    hub.extra = "accounts { A { users [ { user: a, password: a } ]\n limits { " + limits + " } } }\n" +
                "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + "\n" + leafnodes_extra + " }\n";
    hub.start();
  }
  Node& add_leaf(const std::string& bin) {
    auto n = std::make_unique<Node>();
    n->binary = bin;
    n->name = "leaf" + std::to_string(leafs.size() + 1);
    n->extra = "leafnodes { reconnect: 1\n remotes [ { url: \"nats-leaf://a:a@127.0.0.1:" +
               std::to_string(leaf_port) + "\" } ] }\n";
    n->start();
    leafs.push_back(std::move(n));
    return *leafs.back();
  }
};

TEST(LeafLimits, MaxLeafnodesRefusesTheLeafOverTheLimit) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    LimitedHub h(bin, "max_leafnodes: 1");
    auto& l1 = h.add_leaf(bin);
    ASSERT_TRUE(wait_for([&] { return num_leafs(h.hub) == 1 && num_leafs(l1) == 1; }, milliseconds(10000))) << bin;
    auto& l2 = h.add_leaf(bin);
    EXPECT_TRUE(wait_for([&] { return l2.proc->log().find("maximum account active connections exceeded") != std::string::npos; },
                         milliseconds(10000)))
        << bin << l2.proc->log();
    // (2.9.10's /leafz also lists the refused leaf's attempts; ours lists the admitted one.)
    if (bin == testing_harness::server_binary()) {
      EXPECT_EQ(num_leafs(h.hub), 1);
    }
    // Once the first leaf goes, the second gets in on its next attempt.
    l1.proc->stop();
    EXPECT_TRUE(wait_for([&] { return num_leafs(l2) == 1; }, milliseconds(10000))) << bin;
  }
}

// A leaf takes a client slot of the account's max_connections (the reference counts it among
// the account's clients), but max_connections never refuses the leaf itself.
TEST(LeafLimits, LeafsCountTowardMaxConnections) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    LimitedHub h(bin, "max_connections: 1");
    auto& l1 = h.add_leaf(bin);
    ASSERT_TRUE(wait_for([&] { return num_leafs(h.hub) == 1 && num_leafs(l1) == 1; }, milliseconds(10000))) << bin;
    auto& l2 = h.add_leaf(bin);
    EXPECT_TRUE(wait_for([&] { return num_leafs(h.hub) == 2 && num_leafs(l2) == 1; }, milliseconds(10000))) << bin;
    RawClient c(h.hub.proc->port());
    ASSERT_TRUE(c.send("CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"a\"}\r\nPING\r\n"));
    auto l = c.read_line(milliseconds(5000));
    ASSERT_TRUE(l) << bin;
    EXPECT_EQ(*l, "-ERR 'maximum account active connections exceeded'") << bin;
  }
}

TEST(LeafLimits, MinVersionRejectsOlderLeafsAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    LimitedHub h(bin, "max_connections: 10", "min_version: \"2.10.0\"");
    auto& l1 = h.add_leaf(bin);
    const std::string text = "connection rejected since minimum version required is \"2.10.0\"";
    EXPECT_TRUE(wait_for([&] { return l1.proc->log().find(text) != std::string::npos; }, milliseconds(10000)))
        << bin << l1.proc->log();
    EXPECT_NE(h.hub.proc->log().find(text), std::string::npos) << bin;
    // The hub holds the rejected connection a while before closing it (so the leaf does not
    // redial at once), and then records why.
    EXPECT_TRUE(wait_for([&] { return num_leafs(h.hub) == 0; }, milliseconds(10000))) << bin;
    EXPECT_TRUE(wait_for([&] { return h.hub.proc->log().find("Minimum Version Required") != std::string::npos; },
                         milliseconds(10000)))
        << bin;
  }
  // Our leaf says 2.9.10: a hub asking for 2.9.0 takes it.
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    LimitedHub h(bin, "max_connections: 10", "min_version: \"v2.9.0\"");
    auto& l1 = h.add_leaf(testing_harness::server_binary());
    EXPECT_TRUE(wait_for([&] { return num_leafs(h.hub) == 1 && num_leafs(l1) == 1; }, milliseconds(10000))) << bin;
  }
}

TEST(LeafLimits, MinVersionConfigErrorsAsTheReference) {
  testing_harness::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"2.7.9", "the minimum version should be at least 2.8.0"},
      {"abc", "invalid leafnode's minimum version: invalid semver"},
      {"2.8", "invalid leafnode's minimum version: strconv.Atoi: parsing \"\": invalid syntax"},
  };
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    for (const auto& [mv, want] : cases) {
      std::string conf = dir.write("mv.conf", "leafnodes { listen: 127.0.0.1:" + std::to_string(testing_harness::free_port()) +
                                                  "\n min_version: \"" + mv + "\" }\n");
      auto r = testing_harness::run_command("timeout 10 " + bin + " -t -c " + conf);
      EXPECT_NE(r.status, 0) << bin << " " << mv;
      EXPECT_NE(r.output.find(want), std::string::npos) << bin << " " << mv << ": " << r.output;
    }
  }
}

// 2.9.10 would extend the hub's JetStream over this link (both sides run JetStream in the
// same domain and share the system account); this server does not implement that, so it
// refuses the link with a clear error instead of running two meta groups that think they
// are one domain. Different domains over the system account still connect.
TEST(LeafJetStream, SharedSystemAccountInTheSameDomainIsRefused) {
  for (std::string domain : {"", "D"}) {
    testing_harness::TempDir hub_store, leaf_store;
    Node hub, leaf;
    int leaf_port = testing_harness::free_port();
    const std::string accounts = "accounts { SYS { users [ { user: sys, password: sys } ] } }\nsystem_account: SYS\n";
    const std::string dom = domain.empty() ? "" : ", domain: " + domain;
    hub.name = "hub";
    hub.extra = accounts + "jetstream { store_dir: \"" + hub_store.path() + "\"" + dom + " }\n" +
                "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n";
    leaf.name = "leaf";
    leaf.extra = accounts + "jetstream { store_dir: \"" + leaf_store.path() + "\"" + dom + " }\n" +
                 "leafnodes { remotes [ { url: \"nats-leaf://sys:sys@127.0.0.1:" + std::to_string(leaf_port) +
                 "\", account: SYS } ] }\n";
    hub.start();
    leaf.start();
    const std::string text = "JetStream domain extension over a shared system account is not supported";
    EXPECT_TRUE(wait_for([&] { return hub.proc->log().find(text) != std::string::npos; }, milliseconds(10000)))
        << domain << hub.proc->log();
    EXPECT_TRUE(wait_for([&] { return leaf.proc->log().find(text) != std::string::npos; }, milliseconds(10000)))
        << domain << leaf.proc->log();
    EXPECT_EQ(num_leafs(hub), 0);
  }
  // Other domains: the system account link stays up (nothing to extend).
  testing_harness::TempDir hub_store, leaf_store;
  Node hub, leaf;
  int leaf_port = testing_harness::free_port();
  const std::string accounts = "accounts { SYS { users [ { user: sys, password: sys } ] } }\nsystem_account: SYS\n";
  hub.extra = accounts + "jetstream { store_dir: \"" + hub_store.path() + "\", domain: HUB }\n" +
              "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n";
  leaf.extra = accounts + "jetstream { store_dir: \"" + leaf_store.path() + "\", domain: LEAF }\n" +
               "leafnodes { remotes [ { url: \"nats-leaf://sys:sys@127.0.0.1:" + std::to_string(leaf_port) +
               "\", account: SYS } ] }\n";
  hub.start();
  leaf.start();
  EXPECT_TRUE(wait_for([&] { return num_leafs(hub) == 1 && num_leafs(leaf) == 1; }, milliseconds(10000)));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
