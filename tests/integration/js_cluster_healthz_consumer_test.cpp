// /healthz with a replicated consumer that is not current, as 2.9.10's health check: a server
// that holds a replica of an R3 consumer whose group has lost its leader and quorum, while the
// consumer's stream (R5) and the meta group stay current, answers 503
// {"status":"unavailable","error":"JetStream consumer '$G > HZC > D' is not current"}, and
// {"status":"ok"} (200) again once the peers are back.
// Topology: one 5-node cluster; stream HZC on all five, durable D on three of them. Two of the
// consumer's peers are stopped (SIGSTOP): the stream and meta groups keep 3 of 5, the
// consumer's third peer can only wait. Run against ours and, when installed, the reference.
#include <gtest/gtest.h>

#include "js_cluster_healthz_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc_healthz;

void consumer_replica_not_current_is_unhealthy(const std::string& binary) {
  JsSupercluster sc(1, 5);
  start_five(sc, binary);
  if (::testing::Test::HasFatalFailure()) return;

  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  json scfg{{"name", "HZC"}, {"subjects", {"hzc.>"}}, {"storage", "file"}, {"num_replicas", 5}};
  json created;
  ASSERT_TRUE(wait_for([&] {
    created = json::parse(request_text(nc.p, "$JS.API.STREAM.CREATE.HZC", scfg.dump()), nullptr, false);
    return created.is_object() && created.contains("config");
  }, milliseconds(20000))) << created.dump();
  json ccfg{{"stream_name", "HZC"},
            {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}, {"num_replicas", 3}}}};
  json cons;
  ASSERT_TRUE(wait_for([&] {
    cons = json::parse(request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.HZC.D", ccfg.dump()), nullptr, false);
    return cons.is_object() && cons.contains("config");
  }, milliseconds(20000))) << cons.dump();

  // One stored message; both groups with a leader and current replicas.
  json info;
  bool settled = wait_for([&] {
    request_text(nc.p, "hzc.a", "x");
    auto s = json::parse(request_text(nc.p, "$JS.API.STREAM.INFO.HZC", ""), nullptr, false);
    info = json::parse(request_text(nc.p, "$JS.API.CONSUMER.INFO.HZC.D", ""), nullptr, false);
    return s.is_object() && s.contains("cluster") && group_settled(s["cluster"], 4) && info.is_object() &&
           info.contains("cluster") && group_settled(info["cluster"], 2);
  }, milliseconds(20000));
  ASSERT_TRUE(settled) << info.dump();
  expect_all_healthy(sc);
  // The stream (5 peers) and the meta group keep a quorum of three meanwhile.
  expect_unhealthy_while_quorum_lost(
      sc, info["cluster"], {{"status", "unavailable"}, {"error", "JetStream consumer '$G > HZC > D' is not current"}});
}

TEST(JsClusterHealthz, ConsumerReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  consumer_replica_not_current_is_unhealthy(testing_harness::server_binary());
}

TEST(JsClusterHealthz, ReferenceConsumerReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  consumer_replica_not_current_is_unhealthy(testing_harness::reference_binary());
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
