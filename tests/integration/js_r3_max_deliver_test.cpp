// A replicated consumer's state after max_deliver, against a 3-server 2.9.10 cluster: the
// leader stops redelivering a message at max_deliver and drops it from its pending acks, but
// only in its memory (2.9.10 replicates no entry for it), so the replicas' stored state keeps
// it pending. After a leader stepdown the new leader shows it pending until it next tries to
// deliver (a waiting pull request), then drops it again (sending a second MAX_DELIVERIES
// advisory). The test walks that path on both servers and compares the consumer info at each
// step and the advisories.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>
#include <vector>

#include "js_cluster_util.h"
#include "js_r3_consumer_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using testing_harness::reference_binary;
using testing_harness::server_binary;

namespace {

using json = nlohmann::json;
using itest::milliseconds;
using itest::wait_for;

// The accounting fields of a consumer info, in one line.
std::string accounting(const json& info) {
  if (!info.is_object() || !info.contains("delivered")) return "<no info: " + info.dump() + ">";
  auto seqs = [](const json& s) {
    return std::to_string(s.value("consumer_seq", 0)) + "/" + std::to_string(s.value("stream_seq", 0));
  };
  return "delivered " + seqs(info["delivered"]) + " ack_floor " + seqs(info["ack_floor"]) +
         " num_ack_pending " + std::to_string(info.value("num_ack_pending", -1)) + " num_redelivered " +
         std::to_string(info.value("num_redelivered", -1)) + " num_pending " +
         std::to_string(info.value("num_pending", -1));
}

std::vector<std::string> max_deliver_path(const std::string& bin) {
  jsc::JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->binary = bin;
  for (auto& n : sc.nodes) n->start();
  std::vector<std::string> out;
  if (sc.agreed_leader(milliseconds(30000)).empty()) return {"<no meta leader>"};
  itest::ConnPtr nc, watcher;
  EXPECT_EQ(itest::connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  EXPECT_EQ(itest::connect_url(watcher, "nats://127.0.0.1:" + std::to_string(sc.node(1).proc->port())), NATS_OK);
  itest::SubPtr adv;
  EXPECT_EQ(natsConnection_SubscribeSync(&adv.p, watcher.p, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"), NATS_OK);
  natsConnection_Flush(watcher.p);

  r3c::setup_stream(nc.p, 3);
  json body = {{"stream_name", "ORDERS"},
               {"config",
                {{"durable_name", "D"}, {"ack_policy", "explicit"}, {"ack_wait", 300000000}, {"max_deliver", 2}}}};
  r3c::request_ok(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D", body);
  std::string leader = r3c::wait_consumer_leader(nc.p);
  if (leader.empty()) return {"<no consumer leader>"};

  // 1 stays unacked, 2 and 3 are acked.
  auto first = r3c::fetch(nc.p, 3);
  out.push_back("first fetch: " + std::to_string(first.size()));
  for (auto& f : first) {
    if (f.sseq != 1) {
      EXPECT_TRUE(r3c::ack_sync(nc.p, f));
    }
  }
  // The redelivery of 1 (delivery 2 of 2), left unacked too.
  bool redelivered = false;
  wait_for([&] {
    for (auto& f : r3c::fetch(nc.p, 1, milliseconds(1000)))
      if (f.sseq == 1 && f.dc == 2) redelivered = true;
    return redelivered;
  }, milliseconds(15000));
  out.push_back(std::string("redelivered: ") + (redelivered ? "yes" : "no"));
  // A waiting request makes the leader look again: it drops 1 (max_deliver) and sends nothing.
  out.push_back("after max_deliver fetch: " + std::to_string(r3c::fetch(nc.p, 1, milliseconds(1500)).size()));
  out.push_back("leader: " + accounting(r3c::consumer_info(nc.p)));

  json sd = r3c::request(nc.p, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.D", "", 5000);
  out.push_back("stepdown: " + sd.dump());
  std::string next = r3c::wait_consumer_leader(nc.p, leader);
  if (next.empty()) return out.push_back("<no new consumer leader>"), out;
  // The replicas' state: 1 still pending; a waiting request lets the new leader drop it.
  out.push_back("new leader: " + accounting(r3c::consumer_info(nc.p)));
  out.push_back("new leader fetch: " + std::to_string(r3c::fetch(nc.p, 1, milliseconds(2500)).size()));
  out.push_back("new leader after fetch: " + accounting(r3c::consumer_info(nc.p)));

  // A new message acked: nothing pending, the floor catches up with what was delivered.
  r3c::request_ok(nc.p, "orders.new", "m4", milliseconds(10000));
  auto got = r3c::fetch(nc.p, 1, milliseconds(2000));
  out.push_back("fourth: " + std::to_string(got.size()) + (got.empty() ? "" : " seq " + std::to_string(got[0].sseq)));
  for (auto& f : got) EXPECT_TRUE(r3c::ack_sync(nc.p, f));
  out.push_back("after ack: " + accounting(r3c::consumer_info(nc.p)));

  int advisories = 0;
  for (;;) {
    itest::MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, adv.p, 1000) != NATS_OK) break;
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_discarded() && j.value("stream_seq", 0) == 1 && j.value("deliveries", 0) == 2) ++advisories;
  }
  out.push_back("max_deliver advisories: " + std::to_string(advisories));
  return out;
}

}  // namespace

TEST(JsR3MaxDeliver, NewLeaderAgreesWithReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = max_deliver_path(reference_binary());
  auto ours = max_deliver_path(server_binary());
  std::string r, o;
  for (auto& s : ref) r += s + "\n";
  for (auto& s : ours) o += s + "\n";
  EXPECT_EQ(o, r);
}

}  // namespace NATS_TEST_FILE_ID
