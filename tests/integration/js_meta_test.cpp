// The JetStream meta group across a supercluster, in the seed's topology: single-node
// clusters joined by gateways, `jetstream { store_dir }` on every server. One `_meta_` leader
// is elected and agreed on (/jsz meta_cluster, $SYS JSZ, STATSZ), /healthz is 503 until it is
// known, a killed leader is replaced, a restarted server rejoins as a current follower, and
// `nats server report jetstream` prints the RAFT table.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "cluster_test_util.h"
#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using namespace jsc;
using json = nlohmann::json;
using testing_harness::TempDir;

#ifdef NATS_CLI_BIN
testing_harness::CommandResult run_cli(const TempDir& home, const std::string& args) {
  std::string env = "env -u NATS_URL -u NATS_USER -u NATS_PASSWORD -u NATS_CREDS -u NATS_CONTEXT HOME=" + home.path() +
                    " XDG_CONFIG_HOME=" + home.path() + " ";
  return testing_harness::run_command(env + NATS_CLI_BIN + " " + args);
}
#endif

TEST(JsMeta, SeedElectsOneLeaderReportsItAndFailsOver) {
  JsSupercluster sc(3, 1);
  sc.node(0).start();
  // Alone, n1 cannot know a meta leader: the reference's 503 and wording.
  auto [code, body] = sc.node(0).healthz();
  EXPECT_EQ(code, 503) << body;
  EXPECT_EQ(json::parse(body, nullptr, false),
            json({{"status", "unavailable"}, {"error", "JetStream has not established contact with a meta leader"}}));
  auto t0 = Clock::now();
  sc.node(1).start();
  sc.node(2).start();

  // One leader, agreed by all, within a few seconds of the peers meeting.
  std::string leader = sc.agreed_leader(milliseconds(15000));
  ASSERT_FALSE(leader.empty()) << sc.node(0).proc->log();
  std::printf("[ meta ] leader %s agreed %lld ms after all three started\n", leader.c_str(),
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count()));
  for (auto& n : sc.nodes) EXPECT_EQ(n->healthz().first, 200) << n->name << " " << n->healthz().second;

  // /jsz: replicas only on the leader, without itself; everyone has the same peer and size.
  int leaders = 0;
  for (auto& n : sc.nodes) {
    auto j = n->jsz();
    ASSERT_TRUE(j.contains("meta_cluster")) << j.dump();
    auto& m = j["meta_cluster"];
    EXPECT_EQ(m["name"], n->cluster);
    EXPECT_EQ(m["cluster_size"], 3);
    EXPECT_EQ(m["peer"].get<std::string>().size(), 8u);
    EXPECT_TRUE(j["config"]["store_dir"].get<std::string>().find("/jetstream") != std::string::npos);
    if (n->name == leader) {
      ++leaders;
      ASSERT_TRUE(m.contains("replicas")) << m.dump();
      ASSERT_EQ(m["replicas"].size(), 2u) << m.dump();
      for (auto& r : m["replicas"]) {
        EXPECT_NE(r["name"], leader);
        EXPECT_TRUE(r["active"].is_number_integer());
        EXPECT_EQ(r["peer"].get<std::string>().size(), 8u);
      }
    } else {
      EXPECT_FALSE(m.contains("replicas")) << m.dump();
    }
  }
  EXPECT_EQ(leaders, 1);

  // $SYS: JSZ from every server, all naming the leader; STATSZ carries jetstream.meta.
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc.node(1).sys_url()), NATS_OK);
  std::vector<json> jsz;
  wait_for([&] {
    jsz = collect(nc.p, "$SYS.REQ.SERVER.PING.JSZ");
    return jsz.size() >= 3;
  }, milliseconds(8000));
  ASSERT_EQ(jsz.size(), 3u);
  for (auto& r : jsz) EXPECT_EQ(r["data"]["meta_cluster"]["leader"], leader) << r.dump();
  auto statsz = collect(nc.p, "$SYS.REQ.SERVER.PING");
  ASSERT_FALSE(statsz.empty());
  for (auto& r : statsz) {
    EXPECT_EQ(r["server"]["jetstream"], true);
    EXPECT_EQ(r["statsz"]["jetstream"]["meta"]["leader"], leader) << r.dump();
  }

#ifdef NATS_CLI_BIN
  {
    TempDir home;
    std::string out;
    // The report needs every server's answer and the leader's replicas; retry while it settles.
    wait_for([&] {
      out = run_cli(home, "--server " + sc.node(1).sys_url() + " server report jetstream").output;
      return out.find("RAFT Meta Group Information") != std::string::npos;
    }, milliseconds(10000));
    ASSERT_NE(out.find("JetStream Summary"), std::string::npos) << out;
    ASSERT_NE(out.find("RAFT Meta Group Information"), std::string::npos) << out;
    EXPECT_NE(out.find(leader + "*"), std::string::npos) << out;
    std::regex row(R"(│ (n\d) +│ (\w{8}) +│ (yes)? +│ (true|false) +│ (true|false) +│)");
    int rows = 0, yes = 0;
    for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator(); ++it) {
      ++rows;
      if ((*it)[3].matched) {
        ++yes;
        EXPECT_EQ((*it)[1].str(), leader);
      }
    }
    EXPECT_EQ(rows, 3) << out;
    EXPECT_EQ(yes, 1) << out;
  }
#endif

  // $JS.API.META.LEADER.STEPDOWN from the system account: the leader answers and steps down;
  // an election follows.
  {
    MsgPtr reply;
    ASSERT_EQ(natsConnection_RequestString(&reply.p, nc.p, "$JS.API.META.LEADER.STEPDOWN", "", 5000), NATS_OK);
    auto r = json::parse(reply.data(), nullptr, false);
    EXPECT_EQ(r.value("type", ""), "io.nats.jetstream.api.v1.meta_leader_stepdown_response") << reply.data();
    EXPECT_EQ(r.value("success", false), true) << reply.data();
    std::string next = sc.agreed_leader(milliseconds(15000), {}, leader);
    ASSERT_FALSE(next.empty());
    std::printf("[ meta ] step-down: %s -> %s\n", leader.c_str(), next.c_str());
    leader = next;
  }

  // Kill the leader: the other two elect a new one.
  size_t li = sc.index_of(leader);
  ASSERT_LT(li, sc.nodes.size());
  auto t1 = Clock::now();
  sc.node(li).kill9();
  // Followers keep naming the dead leader until their election timer fires.
  std::string next = sc.agreed_leader(milliseconds(20000), {li}, leader);
  ASSERT_FALSE(next.empty());
  EXPECT_NE(next, leader);
  std::printf("[ meta ] after killing %s, %s leads (%lld ms)\n", leader.c_str(), next.c_str(),
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(Clock::now() - t1).count()));

  // Restart it on the same store: it recovers its state and follows the new leader, current.
  sc.node(li).start();
  EXPECT_EQ(sc.agreed_leader(milliseconds(15000)), next);
  EXPECT_NE(sc.node(li).proc->log().find("JetStream cluster recovering state"), std::string::npos);
  size_t ni = sc.index_of(next);
  bool current = wait_for([&] {
    auto m = sc.node(ni).jsz()["meta_cluster"];
    if (!m.contains("replicas")) return false;
    for (auto& r : m["replicas"])
      if (r["name"] == leader) return r["current"] == true && !r.contains("lag") && !r.contains("offline");
    return false;
  }, milliseconds(10000));
  EXPECT_TRUE(current) << sc.node(ni).jsz().dump();
}

TEST(JsMeta, ThreeByThreeElectsOneLeader) {
  JsSupercluster sc(3, 3);
  for (auto& n : sc.nodes) n->start();
  std::string leader = sc.agreed_leader(milliseconds(30000));
  if (leader.empty()) {
    for (auto& n : sc.nodes) {
      std::string log = n->proc->log(), meta;
      for (size_t p = log.find("JetStream cluster"); p != std::string::npos; p = log.find("JetStream cluster", p + 1))
        meta += log.substr(p, log.find('\n', p) - p) + "; ";
      ADD_FAILURE() << n->name << ": " << n->jsz()["meta_cluster"].dump() << " " << meta;
    }
  }
  ASSERT_FALSE(leader.empty());
  for (auto& n : sc.nodes) {
    auto m = n->jsz()["meta_cluster"];
    EXPECT_EQ(m["cluster_size"], 9) << n->name << " " << m.dump();
    if (n->name == leader) {
      EXPECT_EQ(m["replicas"].size(), 8u) << m.dump();
    }
  }
}

// JetStream without a cluster block is standalone: no meta group, healthy at once.
TEST(JsMeta, StandaloneHasNoMetaGroup) {
  TempDir store;
  int http = testing_harness::free_port();
  auto s = start_with_config("http_port: " + std::to_string(http) + "\njetstream { store_dir: \"" + store.path() + "\" }\n");
  auto j = http_json(http, "/jsz");
  EXPECT_FALSE(j.contains("meta_cluster")) << j.dump();
  EXPECT_FALSE(j.contains("disabled")) << j.dump();
  auto v = http_json(http, "/varz");
  EXPECT_TRUE(v["jetstream"].contains("config")) << v["jetstream"].dump();
  EXPECT_TRUE(v["jetstream"].contains("stats")) << v["jetstream"].dump();
  EXPECT_EQ(json::parse(http_get(http, "/healthz"), nullptr, false), json({{"status", "ok"}}));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
