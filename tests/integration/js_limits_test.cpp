// JetStream limits at create against the reference 2.9.10, answer by answer: the server's
// storage (`jetstream { max_memory_store, max_file_store }`, max_bytes reservations) and an
// account's `jetstream { max_streams, max_consumers }`.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// Each create's error (or "ok"), in order, on a server with 10000 bytes of memory and 20000
// of file storage.
std::vector<json> reservation_scenario(const std::string& binary) {
  TempDir store;
  auto srv = start_with_config("jetstream { store_dir: \"" + store.path() +
                                   "\", max_memory_store: 10000, max_file_store: 20000 }\n",
                               {}, binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
  auto create = [&](const std::string& name, const char* storage, int64_t max_bytes) {
    json cfg = {{"name", name}, {"subjects", {name}}, {"storage", storage}, {"max_bytes", max_bytes}};
    MsgPtr m;
    std::string body = cfg.dump();
    if (natsConnection_RequestString(&m.p, nc.p, ("$JS.API.STREAM.CREATE." + name).c_str(), body.c_str(), 3000) !=
        NATS_OK)
      return json("no answer");
    auto j = json::parse(m.data(), nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"] : json("ok");
  };
  return {create("A", "memory", 6000),  create("B", "memory", 6000),  // 6000 + 6000 > 10000
          create("C", "memory", -1),    // unlimited reserves 1 byte
          create("D", "file", 30000),   create("E", "file", 15000),
          create("A", "memory", 6000),  // the same config again: its own reservation counts
          create("F", "memory", 4000),  create("G", "memory", 3999)};
}

TEST(JsLimits, ServerReservationsAtCreate) {
  auto ours = reservation_scenario(server_binary());
  ASSERT_EQ(ours.size(), 8u);
  EXPECT_EQ(ours[0], "ok");
  EXPECT_EQ(ours[1].value("err_code", 0), 10028) << ours[1].dump();
  EXPECT_EQ(ours[3].value("err_code", 0), 10047) << ours[3].dump();
  EXPECT_EQ(ours[4], "ok");
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = reservation_scenario(reference_binary());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "create " << i;
}

// Each answer's error (or "ok"), then the account info limits, for account A limited to two
// streams and one consumer per stream.
std::vector<json> account_count_scenario(const std::string& binary) {
  TempDir store;
  auto srv = start_with_config(
      "accounts { A: { users: [{user: a, password: a}], jetstream: { max_streams: 2, max_consumers: 1 } } }\n"
      "jetstream { store_dir: \"" + store.path() + "\" }\n",
      {}, binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, "nats://a:a@127.0.0.1:" + std::to_string(srv->port())), NATS_OK);
  auto ask = [&](const std::string& subj, const json& body) {
    MsgPtr m;
    std::string b = body.dump();
    if (natsConnection_RequestString(&m.p, nc.p, subj.c_str(), b.c_str(), 3000) != NATS_OK) return json("no answer");
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_object()) return json("bad answer");
    if (j.contains("limits")) return j["limits"];
    return j.contains("error") ? j["error"] : json("ok");
  };
  auto stream = [&](const std::string& name, int64_t max_consumers) {
    json cfg = {{"name", name}, {"subjects", {name}}, {"storage", "memory"}, {"max_consumers", max_consumers}};
    return ask("$JS.API.STREAM.CREATE." + name, cfg);
  };
  auto durable = [&](const std::string& name) {
    json req = {{"stream_name", "A"}, {"config", {{"durable_name", name}, {"ack_policy", "explicit"}}}};
    return ask("$JS.API.CONSUMER.DURABLE.CREATE.A." + name, req);
  };
  return {stream("A", -1), stream("B", 3),  // more consumers than the account allows
          stream("B", 1),  stream("C", -1),  // a third stream
          stream("A", -1),                   // the same config again counts as a third
          durable("D1"),   durable("D2"),    ask("$JS.API.INFO", json::object())};
}

TEST(JsLimits, AccountStreamAndConsumerCounts) {
  auto ours = account_count_scenario(server_binary());
  ASSERT_EQ(ours.size(), 8u);
  EXPECT_EQ(ours[1].value("err_code", 0), 10026) << ours[1].dump();
  EXPECT_EQ(ours[3].value("err_code", 0), 10027) << ours[3].dump();
  EXPECT_EQ(ours[5], "ok");
  EXPECT_EQ(ours[6].value("err_code", 0), 10026) << ours[6].dump();
  EXPECT_EQ(ours[7].value("max_streams", 0), 2) << ours[7].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = account_count_scenario(reference_binary());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "answer " << i;
}

// At store time: once the memory streams hold more than max_memory_store, publishes are
// refused with 10023 (the PubAck bodies as the reference's).
std::vector<std::string> store_time_scenario(const std::string& binary) {
  TempDir store;
  auto srv = start_with_config("jetstream { store_dir: \"" + store.path() + "\", max_memory_store: 1000 }\n", {}, binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
  std::vector<std::string> out;
  auto request = [&](const std::string& subj, const std::string& body) {
    MsgPtr m;
    natsStatus s = natsConnection_Request(&m.p, nc.p, subj.c_str(), body.data(), static_cast<int>(body.size()), 3000);
    return s == NATS_OK ? m.data() : std::string("no answer");
  };
  request("$JS.API.STREAM.CREATE.M", R"({"name":"M","subjects":["m"],"storage":"memory"})");
  for (int i = 0; i < 3; ++i) out.push_back(request("m", std::string(600, 'x')));
  return out;
}

TEST(JsLimits, ServerStorageExceededAtStoreTime) {
  auto ours = store_time_scenario(server_binary());
  ASSERT_EQ(ours.size(), 3u);
  EXPECT_EQ(ours[1], R"({"stream":"M", "seq":2})");  // 1200 bytes stored: over the limit now
  EXPECT_NE(ours[2].find("\"err_code\":10023"), std::string::npos) << ours[2];
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  EXPECT_EQ(ours, store_time_scenario(reference_binary()));
}

// Clustered: the meta leader counts the account's streams before placing a new one, and an
// R3 stream's leader refuses publishes once its server holds more than max_memory_store.
TEST(JsLimits, ClusteredAccountStreamCountAndStoreTimeLimit) {
  jsc::JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->accounts = "accounts { $SYS: { users: [{user: sys, password: pass}] }\n"
                  "  A: { users: [{user: a, password: a}], jetstream: { max_streams: 1 } } }\n";
    n->js_extra = "max_memory_store: 1000";
  }
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://a:a@127.0.0.1:" + std::to_string(sc.node(1).proc->port())), NATS_OK);
  auto create = [&](const std::string& name) {
    json cfg = {{"name", name}, {"subjects", {name}}, {"storage", "memory"}, {"num_replicas", 3}};
    json answer;
    wait_for([&] {
      MsgPtr m;
      std::string b = cfg.dump();
      if (natsConnection_RequestString(&m.p, nc.p, ("$JS.API.STREAM.CREATE." + name).c_str(), b.c_str(), 5000) !=
          NATS_OK)
        return false;
      answer = json::parse(m.data(), nullptr, false);
      // 10008: the meta group is still forming.
      return answer.is_object() && !(answer.contains("error") && answer["error"].value("err_code", 0) == 10008);
    }, milliseconds(20000));
    return answer;
  };
  json first = create("S1");
  ASSERT_TRUE(first.is_object() && !first.contains("error")) << first.dump();
  std::vector<std::string> acks;
  for (int i = 0; i < 3; ++i) {
    std::string payload(600, 'x'), ack;
    wait_for([&] {  // right after the election the leader's subscription may still be on its way
      MsgPtr m;
      if (natsConnection_Request(&m.p, nc.p, "S1", payload.data(), 600, 2000) != NATS_OK) return false;
      return !(ack = m.data()).empty();
    }, milliseconds(10000));
    acks.push_back(ack);
  }
  EXPECT_NE(acks[1].find("\"seq\":2"), std::string::npos) << acks[1];
  EXPECT_NE(acks[2].find("\"err_code\":10023"), std::string::npos) << acks[2];
  json second = create("S2");
  ASSERT_TRUE(second.contains("error")) << second.dump();
  EXPECT_EQ(second["error"].value("err_code", 0), 10027) << second.dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
