// The API audit advisory ($JS.EVENT.ADVISORY.API) of requests a client sends to a server
// that is not the one answering, against a 3-server 2.9.10 cluster: the requester's info
// travels with the request (Nats-Request-Info), so the audit's "client" names the client's
// own server, its rtt and cluster, whichever server answers (the meta leader, or an asset's
// host running the assigned create).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <set>
#include <string>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace jsc;

namespace {

// One line per distinct audit: its subject and what its client says about the requester.
std::set<std::string> routed_audits(const std::string& bin) {
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->binary = bin;
  for (auto& n : sc.nodes) n->start();
  std::string leader = sc.agreed_leader(milliseconds(30000));
  if (leader.empty()) return {"<no meta leader>"};
  size_t origin = (sc.index_of(leader) + 1) % sc.nodes.size();
  const std::string origin_name = sc.node(origin).name;
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(origin).proc->port())), NATS_OK);
  SubPtr sub;
  EXPECT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "$JS.EVENT.ADVISORY.API"), NATS_OK);
  natsConnection_Flush(nc.p);
  auto req = [&](const std::string& subj, const std::string& body) {
    MsgPtr m;
    natsStatus s = natsConnection_RequestString(&m.p, nc.p, subj.c_str(), body.c_str(), 5000);
    EXPECT_EQ(s, NATS_OK) << bin << " " << subj;
  };
  req("$JS.API.STREAM.CREATE.AUD", R"({"name":"AUD","subjects":["aud.>"],"num_replicas":1})");
  req("$JS.API.INFO", "");
  req("$JS.API.STREAM.NAMES", "");
  req("$JS.API.CONSUMER.DURABLE.CREATE.AUD.D",
      R"({"stream_name":"AUD","config":{"durable_name":"D","ack_policy":"explicit"}})");
  std::set<std::string> out;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 1500) != NATS_OK) break;
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_object() || !j.contains("client") || !j["client"].is_object()) {
      out.insert("<bad audit " + m.data() + ">");
      continue;
    }
    const json& c = j["client"];
    out.insert(j.value("subject", "?") + " acc=" + c.value("acc", "") +
               " server_is_clients=" + (c.value("server", "") == origin_name ? "yes" : "no:" + c.value("server", "")) +
               " rtt=" + (c.value("rtt", int64_t(0)) > 0 ? "yes" : "no") + " cluster=" + c.value("cluster", "<none>"));
  }
  return out;
}

TEST(JsClusterAuditClient, RoutedRequestsNameTheRequesterAsTheReference) {
  auto ours = routed_audits(testing_harness::server_binary());
  for (auto& l : ours) std::printf("ours %s\n", l.c_str());
  for (auto& l : ours) {
    EXPECT_NE(l.find("server_is_clients=yes"), std::string::npos) << l;
    EXPECT_NE(l.find("rtt=yes"), std::string::npos) << l;
  }
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = routed_audits(testing_harness::reference_binary());
  for (auto& l : ref) std::printf("ref  %s\n", l.c_str());
  EXPECT_EQ(ours, ref);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
