// /healthz with a replicated asset that is not current, as 2.9.10's health check: a server
// that holds a replica of an R3 stream whose group has lost its leader and quorum answers 503
// {"status":"unavailable","error":"JetStream stream '$G > HZ' is not current"} while its meta
// group stays current, and {"status":"ok"} (200) again once the peers are back.
// Topology: one 5-node cluster, so the meta group keeps its quorum while two of the stream's
// three peers are stopped (SIGSTOP) and the third can only wait. Run against ours and, when
// installed, the reference server.
#include <gtest/gtest.h>

#include "js_cluster_healthz_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc_healthz;

void stream_replica_not_current_is_unhealthy(const std::string& binary) {
  JsSupercluster sc(1, 5);
  start_five(sc, binary);
  if (::testing::Test::HasFatalFailure()) return;

  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  json cfg{{"name", "HZ"}, {"subjects", {"hz.>"}}, {"storage", "file"}, {"num_replicas", 3}};
  auto created = json::parse(request_text(nc.p, "$JS.API.STREAM.CREATE.HZ", cfg.dump()), nullptr, false);
  ASSERT_TRUE(created.is_object() && created.contains("config")) << created.dump();
  // One stored message, then a leader with two current replicas.
  json info;
  bool settled = wait_for([&] {
    request_text(nc.p, "hz.a", "x");
    info = json::parse(request_text(nc.p, "$JS.API.STREAM.INFO.HZ", ""), nullptr, false);
    return info.is_object() && info.contains("cluster") && group_settled(info["cluster"], 2);
  }, milliseconds(20000));
  ASSERT_TRUE(settled) << info.dump();
  expect_all_healthy(sc);
  // The meta group (5 servers, 3 running) keeps or re-elects its leader meanwhile.
  expect_unhealthy_while_quorum_lost(
      sc, info["cluster"], {{"status", "unavailable"}, {"error", "JetStream stream '$G > HZ' is not current"}});
}

TEST(JsClusterHealthz, StreamReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  stream_replica_not_current_is_unhealthy(testing_harness::server_binary());
}

TEST(JsClusterHealthz, ReferenceStreamReplicaNotCurrentIsUnhealthyUntilPeersReturn) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  stream_replica_not_current_is_unhealthy(testing_harness::reference_binary());
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
