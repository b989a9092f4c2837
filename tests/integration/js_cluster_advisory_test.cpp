// Stream and consumer action advisories in clustered mode, against a 3-server 2.9.10 cluster:
// CREATED / UPDATED / DELETED for R1 and R3 streams and consumers (also a consumer deleted
// with its stream), each sent once (by the asset's leader), counted by subject.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace jsc;
using testing_harness::reference_binary;
using testing_harness::server_binary;

namespace {

std::vector<std::string> cluster_advisories(const std::string& bin) {
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->binary = bin;
  for (auto& n : sc.nodes) n->start();
  std::vector<std::string> out;
  if (sc.agreed_leader(milliseconds(30000)).empty()) return {"<no meta leader>"};
  ConnPtr nc, watcher;
  EXPECT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  EXPECT_EQ(connect_url(watcher, "nats://127.0.0.1:" + std::to_string(sc.node(1).proc->port())), NATS_OK);
  SubPtr sub;
  EXPECT_EQ(natsConnection_SubscribeSync(&sub.p, watcher.p, "$JS.EVENT.ADVISORY.>"), NATS_OK);
  natsConnection_Flush(watcher.p);
  std::this_thread::sleep_for(milliseconds(200));  // the subscription reaches every server
  auto req = [&](const std::string& subj, const std::string& body) {
    MsgPtr m;
    for (int attempt = 0; attempt < 3; ++attempt)
      if (natsConnection_Request(&m.p, nc.p, subj.c_str(), body.data(), static_cast<int>(body.size()), 5000) == NATS_OK)
        return m.data();
    return std::string("<no answer>");
  };
  out.push_back(req("$JS.API.STREAM.CREATE.R3", R"({"name":"R3","subjects":["r3.>"],"num_replicas":3})").substr(0, 40));
  out.push_back(req("$JS.API.STREAM.CREATE.R1", R"({"name":"R1","subjects":["r1.>"],"num_replicas":1})").substr(0, 40));
  req("$JS.API.STREAM.UPDATE.R3", R"({"name":"R3","subjects":["r3.>"],"num_replicas":3,"max_msgs":10})");
  req("$JS.API.STREAM.UPDATE.R1", R"({"name":"R1","subjects":["r1.>"],"num_replicas":1,"max_msgs":10})");
  req("$JS.API.CONSUMER.DURABLE.CREATE.R3.C3", R"({"stream_name":"R3","config":{"durable_name":"C3","ack_policy":"explicit"}})");
  req("$JS.API.CONSUMER.DURABLE.CREATE.R3.C4", R"({"stream_name":"R3","config":{"durable_name":"C4","ack_policy":"explicit"}})");
  req("$JS.API.CONSUMER.DURABLE.CREATE.R1.D", R"({"stream_name":"R1","config":{"durable_name":"D","ack_policy":"explicit"}})");
  req("$JS.API.CONSUMER.DELETE.R3.C3", "");
  req("$JS.API.CONSUMER.DELETE.R1.D", "");
  // C4 goes with it, without an advisory of its own (as 2.9.10 clustered).
  req("$JS.API.STREAM.DELETE.R3", "");
  req("$JS.API.STREAM.DELETE.R1", "");
  // Action advisories by subject, counted (audits left out: which server audits differs).
  std::map<std::string, int> seen;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 1500) != NATS_OK) break;
    std::string s = m.subject();
    if (s.rfind("$JS.EVENT.ADVISORY.API", 0) == 0 || s.find("LEADER_ELECTED") != std::string::npos) continue;
    // 2.9.10 sends C4's DELETED (the consumer going with its stream) in some runs and not
    // in others (2 of 3 runs here): a race in the reference, left out of the comparison.
    if (s == "$JS.EVENT.ADVISORY.CONSUMER.DELETED.R3.C4") continue;
    ++seen[s];
  }
  for (auto& [s, n] : seen) out.push_back(s + " x" + std::to_string(n));
  return out;
}

TEST(JsClusterAdvisory, ActionAdvisoriesMatchReference) {
  auto ours = cluster_advisories(server_binary());
  for (auto& l : ours) std::printf("ours %s\n", l.c_str());
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = cluster_advisories(reference_binary());
  for (size_t i = 0; i < std::max(ours.size(), ref.size()); ++i)
    EXPECT_EQ(i < ours.size() ? ours[i] : "<none>", i < ref.size() ? ref[i] : "<none>") << "line " << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
