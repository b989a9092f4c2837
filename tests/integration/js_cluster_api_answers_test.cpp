// What a replicated stream's API answers carry in a 3-node cluster, against both servers:
//  - the create answer comes from the new leader, with its replicas;
//  - a message delete and a purge are answered once applied: a read right after the answer
//    sees the change, and deleting the same message again is 10043 "sequence <n> not found";
//  - stream info's consumer_count counts every consumer the meta log placed on the stream,
//    also R1 ephemerals that live on another peer than the stream leader;
//  - a replicated push durable's create answer shows it as before its first delivery.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;
using testing_harness::reference_available;
using testing_harness::reference_binary;

json ask(natsConnection* nc, const std::string& subject, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), body.c_str(), 5000) != NATS_OK) return nullptr;
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

std::string err_of(const json& r) {
  if (!r.is_object() || !r.contains("error")) return "none";
  return std::to_string(r["error"].value("err_code", 0)) + " " + r["error"].value("description", "");
}

std::vector<std::string> run(const std::string& binary) {
  std::vector<std::string> seen;
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  EXPECT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(1).proc->port())), NATS_OK);
  json r;
  wait_for([&] {  // the meta group may still settle its first leader
    r = ask(nc.p, "$JS.API.STREAM.CREATE.S", json{{"name", "S"}, {"subjects", {"s.>"}}, {"num_replicas", 3}}.dump());
    return r.is_object() && !r.contains("error") && r.contains("config");
  }, milliseconds(15000));
  EXPECT_TRUE(r.is_object() && r.contains("config")) << r.dump();
  if (!r.is_object() || !r.contains("config")) return seen;
  size_t replicas = r.contains("cluster") ? r["cluster"].value("replicas", json::array()).size() : 0;
  EXPECT_EQ(replicas, 2u) << r.dump();
  seen.push_back("create replicas " + std::to_string(replicas));

  for (int i = 1; i <= 4; ++i) {
    json ack;
    wait_for([&] {
      ack = ask(nc.p, "s.x", "m" + std::to_string(i));
      return ack.is_object() && ack.value("seq", 0) == i;
    }, milliseconds(10000));
    EXPECT_EQ(ack.value("seq", 0), i) << ack.dump();
  }

  r = ask(nc.p, "$JS.API.STREAM.MSG.DELETE.S", json{{"seq", 2}}.dump());
  seen.push_back("delete 2: " + err_of(r) + " success " + std::to_string(r.value("success", false)));
  // The answer comes after the delete is applied: the message is gone for the next read.
  r = ask(nc.p, "$JS.API.STREAM.MSG.GET.S", json{{"seq", 2}}.dump());
  seen.push_back("get 2 after delete: " + err_of(r));
  r = ask(nc.p, "$JS.API.STREAM.MSG.DELETE.S", json{{"seq", 2}}.dump());
  seen.push_back("delete 2 again: " + err_of(r));
  r = ask(nc.p, "$JS.API.STREAM.MSG.DELETE.S", json{{"seq", 1}, {"no_erase", true}}.dump());
  seen.push_back("delete 1 no_erase: " + err_of(r) + " success " + std::to_string(r.value("success", false)));
  r = ask(nc.p, "$JS.API.STREAM.MSG.DELETE.S", json{{"seq", 1}}.dump());
  seen.push_back("delete 1 again (below first): " + err_of(r));

  r = ask(nc.p, "$JS.API.STREAM.PURGE.S", json{{"keep", 1}}.dump());
  seen.push_back("purge keep 1: purged " + std::to_string(r.value("purged", -1)));
  r = ask(nc.p, "$JS.API.STREAM.INFO.S");
  seen.push_back("messages right after the purge " + std::to_string(r["state"].value("messages", -1)));

  // One durable and three ephemerals (R1, each on a random peer of the stream).
  r = ask(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.S.D",
          json{{"stream_name", "S"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}}.dump());
  EXPECT_EQ(err_of(r), "none") << r.dump();
  // A replicated push durable whose deliver subject has interest: its create answer is the
  // info as of before its first delivery (2.9.10's setLeader snapshot), not after it.
  SubPtr dlv;
  EXPECT_EQ(natsConnection_SubscribeSync(&dlv.p, nc.p, "dlv.p"), NATS_OK);
  natsConnection_Flush(nc.p);
  r = ask(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.S.P",
          json{{"stream_name", "S"},
               {"config", {{"durable_name", "P"}, {"deliver_subject", "dlv.p"}, {"ack_policy", "explicit"}}}}
              .dump());
  EXPECT_EQ(err_of(r), "none") << r.dump();
  if (r.is_object() && r.contains("delivered"))
    seen.push_back("push create: delivered " + std::to_string(r["delivered"].value("stream_seq", -1)) + " pending " +
                   std::to_string(r.value("num_pending", -1)) + " ack_pending " +
                   std::to_string(r.value("num_ack_pending", -1)));
  for (int i = 0; i < 3; ++i) {
    r = ask(nc.p, "$JS.API.CONSUMER.CREATE.S", json{{"stream_name", "S"}, {"config", {{"ack_policy", "explicit"}}}}.dump());
    EXPECT_EQ(err_of(r), "none") << r.dump();
  }
  // (The stream leader may apply the last create's meta entry a moment after its host answered.)
  int count = -1;
  wait_for([&] {
    r = ask(nc.p, "$JS.API.STREAM.INFO.S");
    count = r.is_object() && r.contains("state") ? r["state"].value("consumer_count", -1) : -1;
    return count == 5;
  }, milliseconds(3000));
  seen.push_back("consumer_count " + std::to_string(count));
  return seen;
}

TEST(JsClusterApiAnswers, CreateDeletePurgeAndConsumerCountAsTheReference) {
  auto ours = run(testing_harness::server_binary());
  // As 2.9.10 answered them (a file store: below the first sequence is the store's error).
  const std::vector<std::string> expected = {
      "create replicas 2",
      "delete 2: none success 1",
      "get 2 after delete: 10037 no message found",
      "delete 2 again: 10043 sequence 2 not found",
      "delete 1 no_erase: none success 1",
      "delete 1 again (below first): 10057 no message found",
      "purge keep 1: purged 1",
      "messages right after the purge 1",
      "push create: delivered 3 pending 1 ack_pending 0",
      "consumer_count 5",
  };
  EXPECT_EQ(ours, expected);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = run(reference_binary());
  EXPECT_EQ(ours, ref);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
