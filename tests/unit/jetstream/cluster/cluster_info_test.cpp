#include "jetstream/cluster/cluster_info.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

TEST(ClusterInfo, R1HasNameAndLeaderOnly) {
  EXPECT_EQ(cluster_info_json("c1", GroupStatus{"s2", {}}).dump(), R"({"name":"c1","leader":"s2"})");
}

TEST(ClusterInfo, NoLeaderYetOmitsIt) {
  // As the reference right after scaling up: replicas listed, no leader.
  GroupStatus st;
  st.replicas.push_back({"s1", "k2My6qdB", true, false, 0, 0});
  EXPECT_EQ(cluster_info_json("c1", st).dump(),
            R"({"name":"c1","replicas":[{"name":"s1","current":true,"active":0,"peer":"k2My6qdB"}]})");
}

TEST(ClusterInfo, ReplicaFieldsInTheReferenceOrder) {
  GroupStatus st{"s3", {{"s1", "k2My6qdB", false, true, 4511971307, 2}, {"s2", "noC8kOtg", true, false, 397711, 0}}};
  EXPECT_EQ(cluster_info_json("c1", st).dump(),
            R"({"name":"c1","leader":"s3","replicas":[)"
            R"({"name":"s1","current":false,"offline":true,"active":4511971307,"lag":2,"peer":"k2My6qdB"},)"
            R"({"name":"s2","current":true,"active":397711,"peer":"noC8kOtg"}]})");
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
