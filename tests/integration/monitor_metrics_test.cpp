// /metrics (ours only: the reference 2.9.10 has no Prometheus endpoint, it answers 404): a
// running JetStream server with a stream and a consumer, and a three-server JetStream cluster
// with an R3 stream, are scraped and the answers checked line by line against the text
// exposition format, then for the values the scenario implies (Raft groups in the cluster).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <map>
#include <regex>
#include <set>

#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;

namespace {

struct HttpReply {
  int status = 0;
  std::string headers, body;
};

HttpReply http_get(int port, const std::string& path) {
  RawClient c;
  HttpReply r;
  if (!c.connect(port, /*read_info=*/false)) return r;
  c.send("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  c.wait_closed(milliseconds(3000));
  std::string all = c.buffered();
  if (all.rfind("HTTP/1.", 0) == 0) r.status = std::atoi(all.c_str() + 9);
  size_t p = all.find("\r\n\r\n");
  if (p == std::string::npos) return r;
  r.headers = all.substr(0, p);
  r.body = all.substr(p + 4);
  return r;
}

std::string request(natsConnection* nc, const std::string& subj, const std::string& body) {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 3000) != NATS_OK)
    return "";
  std::string out(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

// Checks the exposition format; returns sample line -> value ("name{labels}" -> "value").
std::map<std::string, std::string> parse_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
  static const std::string label = R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")";
  static const std::regex sample("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{" + label + "(?:," + label +
                                 ")*\\})? (-?[0-9]+(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)");
  std::map<std::string, std::string> samples;
  std::set<std::string> seen_families;
  std::string family, helped;
  bool typed = false;
  size_t pos = 0, n = 0;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the last line ends with a newline";
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      family = m[1];
      EXPECT_TRUE(seen_families.insert(family).second) << "family twice: " << line;
      helped = family;
      typed = false;
    } else if (std::regex_match(line, m, type)) {
      EXPECT_EQ(m[1].str(), helped) << "TYPE right after its HELP: " << line;
      if (m[2] == "counter") {
        EXPECT_TRUE(family.size() > 6 && family.ends_with("_total")) << line;
      }
      typed = true;
    } else if (std::regex_match(line, m, sample)) {
      EXPECT_TRUE(typed) << "sample before its TYPE: " << line;
      EXPECT_EQ(m[1].str(), family) << "sample outside its family: " << line;
      std::string key = line.substr(0, line.rfind(' '));
      EXPECT_TRUE(samples.emplace(key, m[3]).second) << "duplicate sample: " << line;
    } else {
      ADD_FAILURE() << "line " << n << " is not in the text format: [" << line << "]";
    }
  }
  return samples;
}

TEST(MonitorMetrics, ScrapeOfAJetStreamServerIsValidAndCounts) {
  TempDir store;
  int http_port = free_port();
  ServerProcess srv({"-js", "-sd", store.path(), "-m", std::to_string(http_port)}, server_binary());
  srv.start();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.url()), NATS_OK);
  std::string created = request(nc.p, "$JS.API.STREAM.CREATE.ORDERS", R"({"name":"ORDERS","subjects":["orders.>"]})");
  ASSERT_NE(created.find("\"config\""), std::string::npos) << created;
  for (int i = 0; i < 3; ++i) ASSERT_NE(request(nc.p, "orders.new", "hello").find("\"seq\""), std::string::npos);
  std::string consumer = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.C1",
                                 R"({"stream_name":"ORDERS","config":{"durable_name":"C1","ack_policy":"explicit"}})");
  ASSERT_NE(consumer.find("\"num_pending\""), std::string::npos) << consumer;
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "watch"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);

  auto r = http_get(http_port, "/metrics");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r.headers;
  auto m = parse_exposition(r.body);
  auto value = [&](const std::string& key) { return m.count(key) ? m[key] : "<missing " + key + ">"; };

  EXPECT_EQ(value("nats_server_connections"), "1");
  EXPECT_EQ(value("nats_account_connections{account=\"$G\"}"), "1");
  EXPECT_EQ(value("nats_jetstream_enabled"), "1");
  EXPECT_EQ(value("nats_jetstream_streams"), "1");
  EXPECT_EQ(value("nats_jetstream_consumers"), "1");
  EXPECT_EQ(value("nats_jetstream_messages"), "3");
  EXPECT_EQ(value("nats_jetstream_account_streams{account=\"$G\"}"), "1");
  EXPECT_EQ(value("nats_jetstream_stream_messages{account=\"$G\",stream=\"ORDERS\"}"), "3");
  EXPECT_EQ(value("nats_jetstream_stream_last_seq{account=\"$G\",stream=\"ORDERS\"}"), "3");
  EXPECT_EQ(value("nats_jetstream_consumer_pending_messages{account=\"$G\",stream=\"ORDERS\",consumer=\"C1\"}"), "3");
  EXPECT_EQ(value("nats_jetstream_consumer_ack_pending_messages{account=\"$G\",stream=\"ORDERS\",consumer=\"C1\"}"),
            "0");
  EXPECT_NE(value("nats_jetstream_stream_bytes{account=\"$G\",stream=\"ORDERS\",storage=\"file\"}"), "0");
  EXPECT_NE(value("nats_jetstream_storage_used_bytes"), "0");
  // Every message so far came in from the one client: 3 publishes and the API requests.
  EXPECT_GE(std::stoll(value("nats_server_in_msgs_total")), 5);
  EXPECT_GE(std::stoll(value("nats_server_subscriptions")), 1);
  EXPECT_GT(std::stod(value("nats_server_uptime_seconds")), 0);
  EXPECT_GT(std::stod(value("nats_server_memory_bytes")), 0);
  EXPECT_TRUE(m.count("nats_server_cpu_percent"));
  EXPECT_TRUE(m.count("nats_server_slow_consumers_total"));
  EXPECT_TRUE(m.count("nats_server_out_bytes_total"));
}

// Three clustered JetStream servers and an R3 stream: every server reports the meta group
// (size 3, one leader, the same leader name) and the stream's Raft group with its term and
// applied index; the format stays valid with routes and Raft groups in it.
TEST(MonitorMetrics, ClusterScrapeShowsRaftGroups) {
  jsc::JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->start();
  std::string leader = sc.agreed_leader(milliseconds(15000));
  ASSERT_FALSE(leader.empty());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc.node(0).proc->url()), NATS_OK);
  std::string created;
  ASSERT_TRUE(wait_for([&] {
    created = request(nc.p, "$JS.API.STREAM.CREATE.R3", R"({"name":"R3","subjects":["r3.>"],"num_replicas":3})");
    return created.find("\"config\"") != std::string::npos;
  }, milliseconds(10000))) << created;
  for (int i = 0; i < 2; ++i) ASSERT_NE(request(nc.p, "r3.x", "m").find("\"seq\""), std::string::npos);
  int leaders = 0;
  for (auto& n : sc.nodes) {
    std::map<std::string, std::string> m;
    std::string stream_group;
    // Each replica applies the two messages on its own schedule: wait until this one has.
    ASSERT_TRUE(wait_for([&] {
      auto r = http_get(n->http_port, "/metrics");
      if (r.status != 200) return false;
      m = parse_exposition(r.body);
      for (auto& [k, v] : m)
        if (k.rfind("nats_raft_group_applied{group=\"S-R3", 0) == 0 && std::stoll(v) >= 2) stream_group = k;
      auto msgs = m.find("nats_jetstream_stream_messages{account=\"$G\",stream=\"R3\"}");
      return !stream_group.empty() && msgs != m.end() && msgs->second == "2";
    }, milliseconds(10000))) << n->name;
    auto value = [&](const std::string& key) { return m.count(key) ? m[key] : "<missing " + key + ">"; };
    EXPECT_EQ(value("nats_raft_meta_cluster_size"), "3") << n->name;
    EXPECT_EQ(value("nats_raft_meta_leader_info{leader=\"" + leader + "\"}"), "1") << n->name;
    leaders += value("nats_raft_meta_is_leader") == "1";
    EXPECT_GE(std::stoll(value("nats_raft_group_term{group=\"_meta_\"}")), 1) << n->name;
    EXPECT_GE(std::stoll(value("nats_raft_group_applied{group=\"_meta_\"}")), 1) << n->name;
    EXPECT_EQ(value("nats_server_routes"), "2") << n->name;
  }
  EXPECT_EQ(leaders, 1);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
