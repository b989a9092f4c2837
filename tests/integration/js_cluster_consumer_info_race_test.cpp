// CONSUMER.INFO sent right after an ephemeral's create was answered, through another server,
// answers the consumer. The create is answered by the consumer's host once it applied the
// meta entry; the stream's leader, which answers for consumers it has no assignment of (a
// mirror's or source's direct consumer), may not have applied that entry yet: it answered
// 10014 "consumer not found" (about one request in seven). It now answers only once its meta
// state has caught up as of the request (JsCluster::route_unknown_consumer_info); 2.9.10
// answers "not found" only from the meta leader. "Caught up" is measured against the index the
// meta leader reports when asked after the request (meta_read_index.h): a follower's own
// commit index may be stale (the append of the create, heard after the request, carried the
// commit index of before it), which still answered 10014 about once in 300 under load.
// Differential: the same rounds against both.
#include <gtest/gtest.h>

#include <string>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

// Rounds whose CONSUMER.INFO did not answer the consumer just created (the answers, for the
// failure message).
std::vector<std::string> info_right_after_create(const std::string& bin, int rounds) {
  std::vector<std::string> wrong;
  Cluster c(3, 0);
  for (auto& n : c.nodes) {
    n->routes.clear();
    for (auto& k : c.nodes) n->routes.push_back(k->cluster_port);
  }
  for (auto& n : c.nodes) n->proc = start_with_config(n->config(), {}, bin);
  std::vector<ConnPtr> ncs(3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(connect_url(ncs[i], c.node(i).url("a:a")), NATS_OK);
  if (!ncs[2].p) return {"no connection"};
  json cfg = {{"name", "CI"}, {"subjects", {"ci.>"}}, {"num_replicas", 3}};
  json created;
  // Asked every 500 ms until the meta group has formed (an idempotent create).
  wait_for([&] {
    created = request(ncs[0].p, "$JS.API.STREAM.CREATE.CI", cfg, 500);
    return created.contains("config");
  }, milliseconds(30000));
  EXPECT_TRUE(created.contains("config")) << created.dump() << c.logs();
  json ack;
  wait_for([&] { return !(ack = publish(ncs[0].p, "ci.x", "m")).empty(); }, milliseconds(5000));
  EXPECT_EQ(ack.value("seq", 0), 1) << ack.dump();
  const json ccfg = {{"stream_name", "CI"}, {"config", {{"ack_policy", "explicit"}}}};
  for (int r = 0; r < rounds; ++r) {
    // Created through one server (placed at random on one of the three), asked through the next.
    json cons = request(ncs[r % 3].p, "$JS.API.CONSUMER.CREATE.CI", ccfg);
    if (!cons.contains("name")) {
      wrong.push_back("create: " + cons.dump());
      continue;
    }
    const std::string name = cons["name"];
    json info = request(ncs[(r + 1) % 3].p, "$JS.API.CONSUMER.INFO.CI." + name, nullptr, 3000);
    if (info.value("name", "") != name || info.contains("error")) wrong.push_back(name + ": " + info.dump());
  }
  return wrong;
}

TEST(JsClusterConsumerInfo, AnsweredRightAfterAnEphemeralCreateThroughAnotherServer) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    auto wrong = info_right_after_create(bin, 30);
    EXPECT_TRUE(wrong.empty()) << wrong.size() << " of 30 wrong, first: " << wrong.front();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
