// Placement through the meta log, on the seed's topology (single-node clusters east, central,
// west joined by gateways) and on one 3-node cluster with server_tags: where a stream lands,
// that exactly one server answers each request from any cluster, that the stream survives a
// meta leader change and its host's restart, and the reference's placement errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;
using testing_harness::reference_available;
using testing_harness::reference_binary;
using testing_harness::server_binary;

// One request, every answer (exactly one expected).
json one_answer(natsConnection* nc, const std::string& subject, const std::string& payload = "") {
  auto all = collect(nc, subject, milliseconds(700), payload);
  EXPECT_EQ(all.size(), 1u) << subject << " got " << all.size() << " answers";
  return all.empty() ? json() : all.front();
}

std::string client_url(const JsNode& n) { return "nats://127.0.0.1:" + std::to_string(n.proc->port()); }

json stream_cfg(const std::string& name, const std::string& subject, json placement = nullptr, int replicas = 1) {
  json c{{"name", name}, {"subjects", {subject}}, {"storage", "file"}, {"num_replicas", replicas}};
  if (!placement.is_null()) c["placement"] = placement;
  return c;
}

json err_json(int code, int err_code, const std::string& desc) {
  return {{"code", code}, {"err_code", err_code}, {"description", desc}};
}

TEST(JsClusterPlace, SeedStreamPlacedInEastFromWestServedEverywhere) {
  JsSupercluster sc(3, 1);  // n1 east, n2 central, n3 west
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty()) << sc.node(0).proc->log();
  ConnPtr east, central, west, sys;
  ASSERT_EQ(connect_url(east, client_url(sc.node(0))), NATS_OK);
  ASSERT_EQ(connect_url(central, client_url(sc.node(1))), NATS_OK);
  ASSERT_EQ(connect_url(west, client_url(sc.node(2))), NATS_OK);
  ASSERT_EQ(connect_url(sys, sc.node(1).sys_url()), NATS_OK);

  // Created from west, placed in east: the answer comes once and names east's server.
  auto r = one_answer(west.p, "$JS.API.STREAM.CREATE.ORDERS",
                      stream_cfg("ORDERS", "orders.>", {{"cluster", "east"}}).dump());
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["type"], "io.nats.jetstream.api.v1.stream_create_response");
  EXPECT_EQ(r["cluster"], json({{"name", "east"}, {"leader", "n1"}})) << r.dump();
  EXPECT_EQ(r["did_create"], true);
  EXPECT_EQ(r["config"]["placement"], json({{"cluster", "east"}}));
  const json created = r["created"];

  // Without placement: the cluster of the server the request came in on.
  r = one_answer(west.p, "$JS.API.STREAM.CREATE.LOCAL", stream_cfg("LOCAL", "local.>").dump());
  EXPECT_EQ(r["cluster"], json({{"name", "west"}, {"leader", "n3"}})) << r.dump();

  // Published from central, stored in east.
  for (int i = 0; i < 3; ++i) {
    MsgPtr m;
    ASSERT_EQ(natsConnection_RequestString(&m.p, central.p, "orders.new", "hello", 3000), NATS_OK);
    auto ack = json::parse(m.data(), nullptr, false);
    EXPECT_EQ(ack, json({{"stream", "ORDERS"}, {"seq", i + 1}})) << m.data();
  }
  r = one_answer(east.p, "$JS.API.STREAM.INFO.ORDERS");
  EXPECT_EQ(r["state"]["messages"], 3) << r.dump();
  EXPECT_EQ(r["cluster"]["leader"], "n1");
  r = one_answer(west.p, "$JS.API.STREAM.MSG.GET.ORDERS", R"({"seq":2})");
  EXPECT_EQ(r["message"]["subject"], "orders.new") << r.dump();

  // NAMES and LIST see the whole supercluster, from any server.
  r = one_answer(central.p, "$JS.API.STREAM.NAMES");
  EXPECT_EQ(r["streams"], json({"LOCAL", "ORDERS"})) << r.dump();
  r = one_answer(east.p, "$JS.API.STREAM.LIST");
  ASSERT_EQ(r["total"], 2) << r.dump();
  ASSERT_EQ(r["streams"].size(), 2u) << r.dump();
  EXPECT_EQ(r["streams"][1]["config"]["name"], "ORDERS");
  EXPECT_EQ(r["streams"][1]["state"]["messages"], 3);
  EXPECT_FALSE(r.contains("missing"));
  r = one_answer(central.p, "$JS.API.INFO");
  EXPECT_EQ(r["streams"], 2) << r.dump();

  // A durable consumer on the placed stream, pulled from central.
  r = one_answer(west.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D",
                 R"({"stream_name":"ORDERS","config":{"durable_name":"D","ack_policy":"explicit"}})");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["num_pending"], 3);
  EXPECT_EQ(r["cluster"], json({{"name", "east"}, {"leader", "n1"}})) << r.dump();
  {
    MsgPtr m;
    ASSERT_EQ(natsConnection_RequestString(&m.p, central.p, "$JS.API.CONSUMER.MSG.NEXT.ORDERS.D", R"({"batch":1})", 3000),
              NATS_OK);
    EXPECT_EQ(m.data(), "hello");
    ASSERT_NE(natsMsg_GetReply(m.p), nullptr);
    natsConnection_PublishString(central.p, natsMsg_GetReply(m.p), "+ACK");
    natsConnection_Flush(central.p);
  }

  // The meta leader moves: the stream is still found and served.
  std::string old_leader = sc.agreed_leader(milliseconds(1000));
  r = one_answer(sys.p, "$JS.API.META.LEADER.STEPDOWN");
  EXPECT_EQ(r["success"], true) << r.dump();
  std::string new_leader = sc.agreed_leader(milliseconds(15000), {}, old_leader);
  ASSERT_FALSE(new_leader.empty());
  r = one_answer(west.p, "$JS.API.STREAM.INFO.ORDERS");
  EXPECT_EQ(r["state"]["messages"], 3) << r.dump();
  r = one_answer(central.p, "$JS.API.STREAM.NAMES");
  EXPECT_EQ(r["streams"], json({"LOCAL", "ORDERS"})) << r.dump();
  wait_for([&] {
    r = one_answer(west.p, "$JS.API.CONSUMER.INFO.ORDERS.D");
    return r.value("num_ack_pending", 1) == 0;
  }, milliseconds(3000));
  EXPECT_EQ(r["ack_floor"]["stream_seq"], 1) << r.dump();

  // An unknown stream: one "not found", from the meta leader.
  r = one_answer(west.p, "$JS.API.STREAM.INFO.NOPE");
  EXPECT_EQ(r["error"], err_json(404, 10059, "stream not found")) << r.dump();

  // The host restarts: it recovers the stream and the consumer's state from the meta log.
  sc.node(0).kill9();
  sc.node(0).start();
  json info;
  wait_for([&] {
    auto all = collect(west.p, "$JS.API.STREAM.INFO.ORDERS", milliseconds(300));
    if (all.size() != 1 || all[0].contains("error")) return false;
    info = all[0];
    return true;
  }, milliseconds(20000));
  EXPECT_EQ(info["state"]["messages"], 3) << info.dump() << sc.node(0).proc->log();
  EXPECT_EQ(info["created"], created);  // the assignment's time, not the restart's
  r = one_answer(west.p, "$JS.API.CONSUMER.INFO.ORDERS.D");
  EXPECT_EQ(r["ack_floor"]["stream_seq"], 1) << r.dump();
  EXPECT_EQ(r["num_pending"], 2) << r.dump();
  std::pair<int, std::string> h;
  wait_for([&] { return (h = sc.node(0).healthz()).first == 200; }, milliseconds(5000));
  EXPECT_EQ(h.first, 200) << h.second;

#ifdef NATS_CLI_BIN
  // `nats stream add --cluster` from west, and `nats stream info` printing natscli's block.
  {
    TempDir home;
    auto cli = [&](const std::string& url, const std::string& args) {
      return testing_harness::run_command("env -u NATS_URL -u NATS_CONTEXT HOME=" + home.path() +
                                          " XDG_CONFIG_HOME=" + home.path() + " " + NATS_CLI_BIN + " -s " + url +
                                          " " + args);
    };
    auto add = cli(client_url(sc.node(2)), "stream add CLI --cluster east --subjects 'cli.>' --storage file --defaults");
    EXPECT_EQ(add.status, 0) << add.output;
    auto info = cli(client_url(sc.node(1)), "stream info CLI");
    EXPECT_EQ(info.status, 0) << info.output;
    EXPECT_TRUE(std::regex_search(info.output, std::regex("Cluster Information:\n\n +Name: east\n +Leader: n1\n")))
        << info.output;
  }
#endif

  // Deleted from central: gone everywhere.
  r = one_answer(central.p, "$JS.API.STREAM.DELETE.ORDERS");
  EXPECT_EQ(r, json({{"type", "io.nats.jetstream.api.v1.stream_delete_response"}, {"success", true}})) << r.dump();
  r = one_answer(west.p, "$JS.API.STREAM.NAMES");
  EXPECT_EQ(r["streams"], json({"CLI", "LOCAL"})) << r.dump();
}

TEST(JsClusterPlace, TaggedClusterPlacementAndTheReferenceErrors) {
  JsSupercluster sc(1, 3);  // n1..n3 in cluster east
  for (size_t i = 0; i < 3; ++i) sc.node(i).tags = {"az:" + std::to_string(i + 1), "ssd"};
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty()) << sc.node(0).proc->log();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, client_url(sc.node(0))), NATS_OK);

  auto r = one_answer(nc.p, "$JS.API.STREAM.CREATE.PT2", stream_cfg("PT2", "pt2.>", {{"tags", {"az:2"}}}).dump());
  EXPECT_EQ(r["cluster"], json({{"name", "east"}, {"leader", "n2"}})) << r.dump();
  EXPECT_EQ(r["config"]["placement"], json({{"tags", {"az:2"}}}));

  const std::string type = "io.nats.jetstream.api.v1.stream_create_response";
  r = one_answer(nc.p, "$JS.API.STREAM.CREATE.T9", stream_cfg("T9", "t9.>", {{"tags", {"az:9"}}}).dump());
  EXPECT_EQ(r, json({{"type", type},
                     {"error", err_json(400, 10005, "no suitable peers for placement, tags not matched ['az:9']")}}));
  r = one_answer(nc.p, "$JS.API.STREAM.CREATE.R5", stream_cfg("R5", "r5.>", nullptr, 5).dump());
  EXPECT_EQ(r, json({{"type", type}, {"error", err_json(400, 10005, "no suitable peers for placement")}}));
  r = one_answer(nc.p, "$JS.API.STREAM.CREATE.UC", stream_cfg("UC", "uc.>", {{"cluster", "nowhere"}}).dump());
  EXPECT_EQ(r, json({{"type", type}, {"error", err_json(400, 10005, "no suitable peers for placement")}}));
  // R3: one replica on each server; the group's leader answers, with its two followers.
  r = one_answer(nc.p, "$JS.API.STREAM.CREATE.R3", stream_cfg("R3", "r3.>", nullptr, 3).dump());
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["did_create"], true);
  EXPECT_EQ(r["config"]["num_replicas"], 3);
  ASSERT_TRUE(r["cluster"].contains("leader")) << r.dump();
  for (int i = 0; i < 3; ++i) {
    MsgPtr m;
    ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "r3.x", "v", 3000), NATS_OK);
    EXPECT_EQ(json::parse(m.data(), nullptr, false), json({{"stream", "R3"}, {"seq", i + 1}})) << m.data();
  }
  wait_for([&] {
    r = one_answer(nc.p, "$JS.API.STREAM.INFO.R3");
    return r.contains("cluster") && r["cluster"].contains("replicas") && r["cluster"]["replicas"].size() == 2;
  }, milliseconds(5000));
  EXPECT_EQ(r["state"]["messages"], 3) << r.dump();
  ASSERT_EQ(r["cluster"]["replicas"].size(), 2u) << r.dump();
  for (auto& rep : r["cluster"]["replicas"]) {
    EXPECT_NE(rep["name"], r["cluster"]["leader"]);
    EXPECT_EQ(rep["peer"].get<std::string>().size(), 8u);
  }
  // Scaling up needs servers that carry the placement's tags: only one has az:2.
  r = one_answer(nc.p, "$JS.API.STREAM.UPDATE.PT2", stream_cfg("PT2", "pt2.>", {{"tags", {"az:2"}}}, 3).dump());
  EXPECT_EQ(r["error"]["err_code"], 10005) << r.dump();
  EXPECT_EQ(r["error"]["description"], "no suitable peers for placement, tags not matched ['az:2']") << r.dump();
  // A durable with default replicas is R3 like its stream (its own group), answered once.
  r = one_answer(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.R3.D", R"({"stream_name":"R3","config":{"durable_name":"D"}})");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["cluster"]["replicas"].size(), 2u) << r.dump();
  // (Scaling the stream with it: js_r3_consumer_follow_test.cpp.) Deleted: one answer.
  r = one_answer(nc.p, "$JS.API.CONSUMER.DELETE.R3.D");
  EXPECT_EQ(r.value("success", false), true) << r.dump();
  // An explicit R1 consumer on the R3 stream (as the reference capture): one host, one answer.
  r = one_answer(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.R3.E",
                 R"({"stream_name":"R3","config":{"durable_name":"E","ack_policy":"explicit","num_replicas":1}})");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["num_pending"], 3) << r.dump();
  EXPECT_EQ(r["config"]["num_replicas"], 1);
  ASSERT_TRUE(r.contains("cluster")) << r.dump();
  EXPECT_FALSE(r["cluster"].contains("replicas"));
  {
    MsgPtr m;
    ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "$JS.API.CONSUMER.MSG.NEXT.R3.E", R"({"batch":1})", 3000),
              NATS_OK);
    EXPECT_EQ(m.data(), "v");
  }
  r = one_answer(nc.p, "$JS.API.CONSUMER.INFO.R3.E");
  EXPECT_EQ(r["num_ack_pending"], 1) << r.dump();
  // Every server runs what is placed on it: healthy (the asset check passes).
  for (auto& n : sc.nodes) {
    std::pair<int, std::string> h;
    wait_for([&] { return (h = n->healthz()).first == 200; }, milliseconds(5000));
    EXPECT_EQ(h.first, 200) << n->name << " " << h.second;
  }
  // Scaled down to R1: one copy keeps every message and the consumer; the others go.
  r = one_answer(nc.p, "$JS.API.STREAM.UPDATE.R3", stream_cfg("R3", "r3.>", nullptr, 1).dump());
  ASSERT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["type"], "io.nats.jetstream.api.v1.stream_update_response");
  EXPECT_EQ(r["config"]["num_replicas"], 1);
  EXPECT_EQ(r["state"]["messages"], 3) << r.dump();
  ASSERT_TRUE(r.contains("cluster"));
  EXPECT_FALSE(r["cluster"].contains("replicas")) << r.dump();
  const std::string r1_host = r["cluster"].value("leader", "");
  {
    MsgPtr m;
    ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "r3.x", "v", 3000), NATS_OK);
    EXPECT_EQ(json::parse(m.data(), nullptr, false), json({{"stream", "R3"}, {"seq", 4}})) << m.data();
  }
  r = one_answer(nc.p, "$JS.API.STREAM.INFO.R3");
  EXPECT_EQ(r["state"]["messages"], 4) << r.dump();
  EXPECT_EQ(r["cluster"], json({{"name", "east"}, {"leader", r1_host}})) << r.dump();
  r = one_answer(nc.p, "$JS.API.CONSUMER.INFO.R3.E");
  EXPECT_EQ(r["num_pending"], 3) << r.dump();
  r = one_answer(nc.p, "$JS.API.STREAM.DELETE.R3");
  EXPECT_EQ(r["success"], true) << r.dump();
  // Subjects of another stream, and a second create with another config.
  r = one_answer(nc.p, "$JS.API.STREAM.CREATE.OV", stream_cfg("OV", "pt2.x").dump());
  EXPECT_EQ(r["error"], err_json(400, 10065, "subjects overlap with an existing stream")) << r.dump();
  r = one_answer(nc.p, "$JS.API.STREAM.CREATE.PT2", stream_cfg("PT2", "other.>").dump());
  EXPECT_EQ(r["error"]["err_code"], 10058) << r.dump();
  r = one_answer(nc.p, "$JS.API.STREAM.NAMES");
  EXPECT_EQ(r["streams"], json({"PT2"})) << r.dump();

  // Spread: R1 streams without tags go to the least loaded servers first.
  std::set<std::string> hosts;
  for (int i = 0; i < 2; ++i) {
    std::string name = "S" + std::to_string(i);
    r = one_answer(nc.p, "$JS.API.STREAM.CREATE." + name, stream_cfg(name, name + ".>").dump());
    hosts.insert(r["cluster"].value("leader", ""));
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"n1", "n3"}));
}

// The same requests against a 3-node cluster of the reference and of ours (server_tags az:N):
// identical answers once times are masked. R1 only (what we place today).
TEST(JsClusterPlaceDiff, TaggedClusterAnswersMatchReference) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  const std::vector<std::pair<std::string, std::string>> script = {
      {"$JS.API.STREAM.CREATE.PT2", R"({"name":"PT2","subjects":["pt2.>"],"placement":{"tags":["az:2"]}})"},
      {"$JS.API.STREAM.CREATE.T9", R"({"name":"T9","subjects":["t9.>"],"placement":{"tags":["az:9"]}})"},
      {"$JS.API.STREAM.CREATE.R5", R"({"name":"R5","subjects":["r5.>"],"num_replicas":5})"},
      {"$JS.API.STREAM.CREATE.UC", R"({"name":"UC","subjects":["uc.>"],"placement":{"cluster":"nowhere"}})"},
      {"$JS.API.STREAM.CREATE.OV", R"({"name":"OV","subjects":["pt2.a"]})"},
      {"pt2.a", "one"},
      {"$JS.API.STREAM.INFO.PT2", ""},
      {"$JS.API.STREAM.MSG.GET.PT2", R"({"seq":1})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.PT2.D", R"({"stream_name":"PT2","config":{"durable_name":"D","ack_policy":"explicit"}})"},
      {"$JS.API.CONSUMER.INFO.PT2.D", ""},
      {"$JS.API.CONSUMER.NAMES.PT2", ""},
      {"$JS.API.STREAM.NAMES", ""},
      {"$JS.API.STREAM.LIST", ""},
      {"$JS.API.CONSUMER.LIST.PT2", ""},
      {"$JS.API.STREAM.INFO.NOPE", ""},
      {"$JS.API.CONSUMER.DELETE.PT2.D", ""},
      {"$JS.API.STREAM.DELETE.PT2", ""},
      {"$JS.API.STREAM.NAMES", ""},
  };
  auto run = [&](const std::string& bin) {
    JsSupercluster sc(1, 3);
    for (size_t i = 0; i < 3; ++i) {
      sc.node(i).tags = {"az:" + std::to_string(i + 1), "ssd"};
      sc.node(i).binary = bin;
    }
    for (auto& n : sc.nodes) n->start();
    std::vector<std::string> out;
    if (sc.agreed_leader(milliseconds(30000)).empty()) return out;
    ConnPtr nc;
    EXPECT_EQ(connect_url(nc, client_url(sc.node(0))), NATS_OK);
    std::regex ts(R"re("(created|first_ts|last_ts|time|ts)":"[^"]*")re");
    for (auto& [subj, body] : script) {
      MsgPtr m;
      std::string got = "<no answer>";
      for (int attempt = 0; attempt < 3 && got == "<no answer>"; ++attempt)
        if (natsConnection_Request(&m.p, nc.p, subj.c_str(), body.data(), static_cast<int>(body.size()), 4000) == NATS_OK)
          got = m.data();
      out.push_back(std::regex_replace(got, ts, "\"$1\":\"T\""));
      if (subj == "$JS.API.CONSUMER.NAMES.PT2") {
        // PT2's host (n2, tag az:2) reports it in /jsz with its consumer.
        auto jsz = http_json(sc.node(1).http_port, "/jsz?streams=true&consumers=true&config=true");
        json detail = jsz.contains("account_details") ? jsz["account_details"][0]["stream_detail"] : json();
        out.push_back(std::regex_replace(detail.dump(), ts, "\"$1\":\"T\""));
      }
    }
    return out;
  };
  auto ref = run(reference_binary());
  if (std::getenv("JSC_DIFF_PRINT")) for (auto& l : ref) std::printf("REF %s\n", l.c_str());
  auto ours = run(server_binary());
  ASSERT_EQ(ref.size(), script.size() + 1) << "reference cluster did not elect a meta leader";
  ASSERT_EQ(ours.size(), script.size() + 1);
  for (size_t i = 0, k = 0; i < ref.size(); ++i) {
    bool jsz = i > 0 && script[k - 1].first == "$JS.API.CONSUMER.NAMES.PT2" && ref[i].front() == '[';
    EXPECT_EQ(ours[i], ref[i]) << (jsz ? std::string("/jsz stream_detail") : script[k].first + " " + script[k].second);
    if (!jsz) ++k;
  }
}

}  // namespace

namespace {

// An R3 stream created through the API survives a kill -9 of every server: each one
// replays the meta log, restarts its replica from its files and the group serves again.
TEST(JsClusterPlace, ReplicatedStreamRecoversFromTheMetaLogAfterEveryServerRestarts) {
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty()) << sc.node(0).proc->log();
  {
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, client_url(sc.node(0))), NATS_OK);
    auto r = one_answer(nc.p, "$JS.API.STREAM.CREATE.ORDERS", stream_cfg("ORDERS", "orders.>", nullptr, 3).dump());
    ASSERT_FALSE(r.contains("error")) << r.dump();
    for (int i = 0; i < 5; ++i) {
      MsgPtr m;
      ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "orders.new", "x", 3000), NATS_OK);
    }
  }
  for (auto& n : sc.nodes) n->kill9();
  for (auto& n : sc.nodes) n->start();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, client_url(sc.node(1))), NATS_OK);
  json info;
  wait_for([&] {
    auto all = collect(nc.p, "$JS.API.STREAM.INFO.ORDERS", milliseconds(300));
    if (all.size() != 1 || all[0].contains("error")) return false;
    info = all[0];
    return info["cluster"].contains("replicas") && info["cluster"]["replicas"].size() == 2;
  }, milliseconds(30000));
  EXPECT_EQ(info["state"]["messages"], 5) << info.dump() << sc.node(1).proc->log();
  ASSERT_TRUE(info["cluster"].contains("replicas")) << info.dump();
  MsgPtr m;
  ASSERT_EQ(natsConnection_RequestString(&m.p, nc.p, "orders.new", "x", 3000), NATS_OK);
  EXPECT_EQ(json::parse(m.data(), nullptr, false), json({{"stream", "ORDERS"}, {"seq", 6}})) << m.data();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
