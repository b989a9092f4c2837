// STREAM.LIST and CONSUMER.LIST while an asset's only server is down, against both servers.
// Injected: the server hosting an R1 stream (and its R1 durable) shuts down (SIGTERM: its
// shutdown event tells the others at once). Verified: the meta leader lists the stream and
// the consumer right away (not after the 4 s gather timeout) with the offline info the
// reference places by hand (zero state, `cluster` with the host as an offline replica; a
// consumer info without names) and names them under "missing"; the online stream is listed
// as usual. The answers' shapes are the reference's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;
using testing_harness::reference_available;
using testing_harness::reference_binary;

json ask(natsConnection* nc, const std::string& subject, const json& body = nullptr, int64_t ms = 6000) {
  MsgPtr m;
  std::string b = body.is_null() ? std::string() : body.dump();
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), b.c_str(), ms) != NATS_OK) return json::object();
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_object() ? j : json::object();
}

// The parts that do not change from run to run.
json masked(json j) {
  if (!j.is_object()) return j;
  for (auto* key : {"streams", "consumers"}) {
    if (!j.contains(key) || !j[key].is_array()) continue;
    for (auto& e : j[key]) {
      e["created"] = "T";
      // The configs are compared elsewhere; here what names the asset.
      json cfg = e["config"];
      e["config"] = key == std::string("streams") ? json{{"name", cfg.value("name", "")}}
                                                  : json{{"durable_name", cfg.value("durable_name", "")}};
      if (e.contains("state") && e["state"].value("messages", 0) > 0) e["state"] = "S";  // the online one
      if (e.contains("delivered")) {
        e["delivered"].erase("last_active");
        e["ack_floor"].erase("last_active");
      }
      if (e.contains("cluster")) {
        auto& c = e["cluster"];
        if (c.contains("leader")) c["leader"] = "L";
        if (c.contains("replicas"))
          for (auto& r : c["replicas"]) {
            r["name"] = "H";
            r["peer"] = "P";
          }
      }
    }
  }
  return j;
}

struct Seen {
  json streams, consumers;
  int64_t streams_ms = 0, consumers_ms = 0;
};

Seen run(const std::string& binary) {
  Seen seen;
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->tags = {"h:" + n->name};
    n->start();
  }
  std::string leader = sc.agreed_leader(milliseconds(20000));
  EXPECT_FALSE(leader.empty());
  if (leader.empty()) return seen;
  const size_t li = sc.index_of(leader);
  const size_t hi = (li + 1) % 3;  // the host that goes down: not the meta leader
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(li).proc->port())), NATS_OK);
  auto create = [&](const std::string& name, const std::string& on) {
    json r;
    wait_for([&] {
      r = ask(nc.p, "$JS.API.STREAM.CREATE." + name,
              {{"name", name}, {"subjects", {name + ".>"}}, {"num_replicas", 1}, {"placement", {{"tags", {"h:" + on}}}}});
      return r.contains("config");
    }, milliseconds(15000));
    EXPECT_TRUE(r.contains("config")) << r.dump();
  };
  create("OFF", sc.node(hi).name);
  create("ON", leader);
  json d = ask(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.OFF.D",
               {{"stream_name", "OFF"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}});
  EXPECT_TRUE(d.contains("config")) << d.dump();
  ask(nc.p, "ON.x", "1");
  EXPECT_TRUE(ask(nc.p, "$JS.API.STREAM.INFO.ON").contains("state"));

  sc.node(hi).proc->stop(SIGTERM);
  // The meta leader marks it offline on its shutdown event.
  bool offline = wait_for([&] {
    auto meta = sc.node(li).jsz().value("meta_cluster", json::object());
    for (const auto& r : meta.value("replicas", json::array()))
      if (r.value("name", "") == sc.node(hi).name) return r.value("offline", false);
    return false;
  }, milliseconds(10000));
  EXPECT_TRUE(offline) << sc.node(li).jsz().dump();

  auto t0 = Clock::now();
  seen.streams = ask(nc.p, "$JS.API.STREAM.LIST");
  seen.streams_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  t0 = Clock::now();
  seen.consumers = ask(nc.p, "$JS.API.CONSUMER.LIST.OFF");
  seen.consumers_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  return seen;
}

TEST(JsClusterListOffline, AssetsOfAServerThatShutDownAreListedAtOnceAsTheReference) {
  Seen ours = run(testing_harness::server_binary());
  // At once: nothing is asked of the server that is down (the gather would wait 4 s).
  EXPECT_LT(ours.streams_ms, 2500) << ours.streams.dump();
  EXPECT_LT(ours.consumers_ms, 2500) << ours.consumers.dump();
  const json& s = ours.streams;
  ASSERT_TRUE(s.contains("streams") && s["streams"].is_array()) << s.dump();
  ASSERT_EQ(s["streams"].size(), 2u) << s.dump();
  EXPECT_EQ(s.value("total", 0), 2);
  EXPECT_EQ(s.value("missing", json()), json({"OFF"})) << s.dump();
  const json& off = s["streams"][0];
  EXPECT_EQ(off["config"].value("name", ""), "OFF");
  EXPECT_EQ(off["state"].value("messages", -1), 0) << off.dump();
  ASSERT_TRUE(off.contains("cluster")) << off.dump();
  EXPECT_FALSE(off["cluster"].contains("leader")) << off.dump();
  ASSERT_EQ(off["cluster"].value("replicas", json::array()).size(), 1u) << off.dump();
  EXPECT_TRUE(off["cluster"]["replicas"][0].value("offline", false)) << off.dump();
  EXPECT_FALSE(off["cluster"]["replicas"][0].value("current", true)) << off.dump();
  EXPECT_EQ(s["streams"][1]["config"].value("name", ""), "ON");

  const json& c = ours.consumers;
  ASSERT_EQ(c.value("consumers", json::array()).size(), 1u) << c.dump();
  EXPECT_EQ(c.value("missing", json()), json({"D"})) << c.dump();
  EXPECT_EQ(c["consumers"][0]["config"].value("durable_name", ""), "D") << c.dump();
  EXPECT_EQ(c["consumers"][0].value("name", "x"), "") << c.dump();

  if (!reference_available()) GTEST_SKIP() << "reference server not installed";
  Seen ref = run(reference_binary());
  EXPECT_LT(ref.streams_ms, 2500);
  EXPECT_EQ(masked(ours.streams).dump(), masked(ref.streams).dump());
  EXPECT_EQ(masked(ours.consumers).dump(), masked(ref.consumers).dump());
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
