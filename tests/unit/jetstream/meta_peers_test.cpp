// Meta group sizing and membership (jetstream/cluster/meta_peers.h).
#include <gtest/gtest.h>

#include <algorithm>

#include "config/options.h"
#include "jetstream/cluster/meta_peers.h"
#include "util/ids.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

Options seed_options(const std::string& own) {
  Options o;
  o.cluster.configured = true;
  o.cluster.name = own;
  o.cluster.routes = {"nats-route://0.0.0.0:6222"};  // to itself, as the seed
  o.gateway.configured = true;
  o.gateway.name = own;
  for (const char* g : {"east", "central", "west"}) o.gateway.gateways.push_back(RemoteGateway{g, {"nats://0.0.0.0:7222"}});
  return o;
}

TEST(MetaPeers, SeedExpectsThree) {
  // 1 route (itself) + the URLs of the two other gateways.
  EXPECT_EQ(expected_cluster_size(seed_options("east"), 1), 3);
  EXPECT_EQ(expected_cluster_size(seed_options("west"), 3), 3);
}

TEST(MetaPeers, KnownPeersRaiseTheSize) { EXPECT_EQ(expected_cluster_size(seed_options("east"), 5), 5); }

TEST(MetaPeers, AtLeastTwo) {
  Options o;
  o.cluster.configured = true;
  EXPECT_EQ(expected_cluster_size(o, 1), 2);
  EXPECT_EQ(expected_cluster_size(o, 0), 2);
}

TEST(MetaPeers, ThreeByThree) {
  // Three routes (itself included) plus three URLs for each of the two other gateways.
  Options o = seed_options("central");
  o.cluster.routes = {"a", "b", "c"};
  for (auto& g : o.gateway.gateways) g.urls = {"x", "y", "z"};
  EXPECT_EQ(expected_cluster_size(o, 1), 9);
}

TEST(MetaPeers, OnlyOnlineJetStreamServersAreMembers) {
  std::vector<KnownServer> servers(4);
  servers[0].name = "n2";
  servers[0].jetstream = true;
  servers[1].name = "n3";
  servers[1].jetstream = true;
  servers[2].name = "plain";  // no JetStream
  servers[3].name = "gone";
  servers[3].jetstream = true;
  servers[3].offline = true;
  auto ids = known_js_peers("n1", servers);
  // The reference's node ids for the seed's servers (getHash of the names).
  EXPECT_EQ(ids, (std::vector<std::string>{"44jzkV9D", "BXScrY9i", "fjFyEjc1"}));
}

// The reference's sameDomain: a server of another named domain is never a peer; one without
// a domain (or our having none) is.
TEST(MetaPeers, KnownPeersShareTheDomain) {
  std::vector<KnownServer> servers(3);
  const char* names[] = {"other", "plain", "same"};
  const char* domains[] = {"LEAF", "", "HUB"};
  for (int i = 0; i < 3; ++i) servers[i].name = names[i], servers[i].domain = domains[i], servers[i].jetstream = true;
  EXPECT_EQ(known_js_peers("me", servers, "HUB").size(), 3u);  // me, plain, same
  EXPECT_EQ(known_js_peers("me", servers, "").size(), 4u);
  auto ids = known_js_peers("me", servers, "HUB");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), nats::util::hash_name("other")), 0);
}

KnownServer reporting(const std::string& name, nlohmann::json meta) {
  KnownServer k;
  k.name = name;
  k.jetstream = true;
  k.statsz = {{"jetstream", {{"meta", std::move(meta)}}}};
  return k;
}

TEST(MetaPeers, JoinsAGroupThatRunsWithoutIt) {
  const std::string self = util::hash_name("s4");
  nlohmann::json leader_meta = {{"leader", "s1"},
                                {"replicas", {{{"peer", util::hash_name("s2")}}, {{"peer", util::hash_name("s3")}}}}};
  // Only the leader's own report counts (a follower's names the leader but lists no members).
  EXPECT_FALSE(meta_group_runs_without(self, {reporting("s2", {{"leader", "s1"}})}));
  EXPECT_TRUE(meta_group_runs_without(self, {reporting("s2", {{"leader", "s1"}}), reporting("s1", leader_meta)}));
  // A bootstrap member (the leader lists it) starts with the group instead of joining.
  EXPECT_FALSE(meta_group_runs_without(util::hash_name("s3"), {reporting("s1", leader_meta)}));
  // No leader yet: everyone bootstraps.
  EXPECT_FALSE(meta_group_runs_without(self, {reporting("s1", nlohmann::json::object())}));
  auto offline = reporting("s1", leader_meta);
  offline.offline = true;
  EXPECT_FALSE(meta_group_runs_without(self, {offline}));
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
