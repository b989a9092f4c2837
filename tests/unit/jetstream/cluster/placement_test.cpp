#include "jetstream/cluster/placement.h"

#include <gtest/gtest.h>

#include <set>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

// The reference capture's 3-node cluster c1 (server_tags az:N, ssd) plus a single-node east.
std::vector<PlacementCandidate> servers() {
  return {{"s1", "id1", "c1", {"az:1", "ssd"}, true, false, 0},
          {"s2", "id2", "c1", {"az:2", "ssd"}, true, false, 0},
          {"s3", "id3", "c1", {"az:3", "ssd"}, true, false, 0},
          {"e1", "ide", "east", {}, true, false, 0}};
}

PlacementRequest req(int r, std::string cluster = "", std::vector<std::string> tags = {}) {
  PlacementRequest q;
  q.replicas = r;
  q.cluster = std::move(cluster);
  q.tags = std::move(tags);
  q.default_cluster = "c1";
  return q;
}

TEST(Placement, R3PicksThreeDistinctServersOfTheDefaultCluster) {
  auto res = place(req(3), servers());
  ASSERT_TRUE(res.ok()) << res.error.description;
  EXPECT_EQ(res.cluster, "c1");
  std::set<std::string> ids(res.peers.begin(), res.peers.end());
  EXPECT_EQ(ids, (std::set<std::string>{"id1", "id2", "id3"}));
}

TEST(Placement, ExplicitClusterWins) {
  auto res = place(req(1, "east"), servers());
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res.cluster, "east");
  EXPECT_EQ(res.peers, std::vector<std::string>{"ide"});
}

TEST(Placement, R5OnThreeServersAsTheReference) {
  auto res = place(req(5), servers());
  EXPECT_FALSE(res.ok());
  EXPECT_TRUE(res.peers.empty());  // never a partial placement
  EXPECT_EQ(res.error.code, 400);
  EXPECT_EQ(res.error.err_code, 10005);
  EXPECT_EQ(res.error.description, "no suitable peers for placement");
}

TEST(Placement, UnknownClusterAsTheReference) {
  auto res = place(req(1, "nowhere"), servers());
  EXPECT_EQ(res.error.err_code, 10005);
  EXPECT_EQ(res.error.description, "no suitable peers for placement");
}

TEST(Placement, TagsNotMatchedAsTheReference) {
  auto res = place(req(1, "", {"az:9"}), servers());
  EXPECT_EQ(res.error.err_code, 10005);
  EXPECT_EQ(res.error.description, "no suitable peers for placement, tags not matched ['az:9']");
}

TEST(Placement, TagSelectsTheServer) {
  auto res = place(req(1, "", {"az:2"}), servers());
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res.peers, std::vector<std::string>{"id2"});
  res = place(req(2, "", {"ssd", "az:2"}), servers());
  EXPECT_EQ(res.error.description, "no suitable peers for placement, tags not matched ['az:2']");
}

TEST(Placement, OfflineAndExcludedServersAreSkippedWithTheirReasons) {
  auto s = servers();
  s[0].offline = true;
  s[1].tags.push_back("!jetstream");
  auto res = place(req(2), s);
  EXPECT_EQ(res.error.description, "no suitable peers for placement, peer offline, exclude tag set");
  res = place(req(1), s);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res.peers, std::vector<std::string>{"id3"});
}

TEST(Placement, SpreadsOverTheLeastLoaded) {
  auto s = servers();
  s[0].assets = 4;
  s[1].assets = 1;
  s[2].assets = 2;
  EXPECT_EQ(place(req(1), s).peers, std::vector<std::string>{"id2"});
  EXPECT_EQ(place(req(2), s).peers, (std::vector<std::string>{"id2", "id3"}));
}

TEST(Placement, NonJetStreamServersDoNotCount) {
  auto s = servers();
  s[2].jetstream = false;
  EXPECT_EQ(place(req(3), s).error.description, "no suitable peers for placement");
}

TEST(Placement, PlacementJson) {
  std::string cluster;
  std::vector<std::string> tags;
  placement_from_json(nlohmann::ordered_json::parse(R"({"cluster":"east","tags":["a","b"]})"), cluster, tags);
  EXPECT_EQ(cluster, "east");
  EXPECT_EQ(tags, (std::vector<std::string>{"a", "b"}));
  placement_from_json(nullptr, cluster, tags);
  EXPECT_TRUE(cluster.empty() && tags.empty());
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
