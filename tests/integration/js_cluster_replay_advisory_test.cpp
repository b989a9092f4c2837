// Clustered R1 assets after their host restarts, against a 3-server 2.9.10 cluster: the host
// recreates its R1 stream and durable consumer from the replayed meta log, which must not
// send their CREATED advisories or API audits of their create requests again.
#include <gtest/gtest.h>
#include <nats/nats.h>

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

std::vector<std::string> restart_advisories(const std::string& bin) {
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->binary = bin;
  for (auto& n : sc.nodes) n->start();
  if (sc.agreed_leader(milliseconds(30000)).empty()) return {"<no meta leader>"};
  auto req = [](natsConnection* nc, const std::string& subj, const std::string& body) {
    MsgPtr m;
    if (natsConnection_RequestString(&m.p, nc, subj.c_str(), body.c_str(), 5000) != NATS_OK) return json();
    auto j = json::parse(m.data(), nullptr, false);
    return j.is_discarded() ? json() : j;
  };
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  json created = req(nc.p, "$JS.API.STREAM.CREATE.R1", R"({"name":"R1","subjects":["r1.>"],"num_replicas":1})");
  if (!created.contains("cluster")) return {"<stream create: " + created.dump() + ">"};
  // 2.9.10 may answer the stream create before its meta leader has applied it, and then refuses a
  // consumer on it for a moment with 10059 (seen in CI): asked again until the stream is known.
  json cons;
  wait_for([&] {
    cons = req(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.R1.D",
               R"({"stream_name":"R1","config":{"durable_name":"D","ack_policy":"explicit"}})");
    return !(cons.contains("error") && cons["error"].value("err_code", 0) == 10059);
  }, milliseconds(5000));
  if (!cons.contains("config")) return {"<consumer create: " + cons.dump() + ">"};
  size_t host = sc.index_of(created["cluster"].value("leader", ""));
  if (host >= sc.nodes.size()) return {"<no host in " + created.dump() + ">"};
  size_t other = (host + 1) % sc.nodes.size();

  // Watching from a server that stays up; what the creates sent has arrived and is dropped.
  ConnPtr watcher;
  EXPECT_EQ(connect_url(watcher, "nats://127.0.0.1:" + std::to_string(sc.node(other).proc->port())), NATS_OK);
  SubPtr sub;
  EXPECT_EQ(natsConnection_SubscribeSync(&sub.p, watcher.p, "$JS.EVENT.ADVISORY.>"), NATS_OK);
  natsConnection_Flush(watcher.p);
  std::this_thread::sleep_for(milliseconds(500));
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 200) != NATS_OK) break;
  }

  sc.node(host).proc->stop();
  sc.node(host).start();
  // Back: the stream and its consumer answer again (asked from the server that stayed up).
  bool back = false;
  wait_for([&] {
    json si = req(watcher.p, "$JS.API.STREAM.INFO.R1", "");
    json ci = req(watcher.p, "$JS.API.CONSUMER.INFO.R1.D", "");
    back = si.contains("config") && ci.contains("config");
    return back;
  }, milliseconds(30000));
  std::vector<std::string> out{std::string("back after restart: ") + (back ? "yes" : "no")};
  std::map<std::string, int> seen;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 1500) != NATS_OK) break;
    std::string s = m.subject();
    if (s == "$JS.EVENT.ADVISORY.API") {
      // Audits of our own INFO requests are expected; of a create, not.
      auto j = json::parse(m.data(), nullptr, false);
      std::string api = j.is_object() ? j.value("subject", "") : "";
      if (api.find("CREATE") != std::string::npos) ++seen["audit " + api];
      // The requester's cluster, named in every audit (2.9.10's ClientInfo).
      if (j.is_object() && j.contains("client") && j["client"].is_object())
        seen["audit client cluster " + j["client"].value("cluster", "<none>")] = 1;  // not how many
      continue;
    }
    if (s.find("LEADER_ELECTED") != std::string::npos) continue;
    ++seen[s];
  }
  for (auto& [s, n] : seen) out.push_back(s + " x" + std::to_string(n));
  return out;
}

}  // namespace

TEST(JsClusterAdvisory, R1AssetsSendNothingAgainOnMetaReplay) {
  auto ours = restart_advisories(server_binary());
  std::string o;
  for (auto& s : ours) o += s + "\n";
  EXPECT_EQ(o.rfind("back after restart: yes\n", 0), 0u) << o;
  EXPECT_EQ(o.find("CREATE"), std::string::npos) << o;
  EXPECT_NE(o.find("audit client cluster east"), std::string::npos) << o;
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  std::string r;
  for (auto& s : restart_advisories(reference_binary())) r += s + "\n";
  EXPECT_EQ(o, r);
}

}  // namespace NATS_TEST_FILE_ID
