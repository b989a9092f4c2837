// The HTTP monitoring endpoints: field names compared with the reference server's for the
// same scenario, and the /connz options (subs, sort, limit/offset, state) checked on ours.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using testing_harness::free_port;
using testing_harness::ServerProcess;
using Json = nlohmann::json;

namespace {

struct HttpReply {
  int status = 0;
  std::string body;
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
  if (p != std::string::npos) r.body = all.substr(p + 4);
  return r;
}

Json get_json(int port, const std::string& path) {
  auto r = http_get(port, path);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  auto j = Json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << path << ": " << r.body;
  return j;
}

std::set<std::string> keys(const Json& j) {
  std::set<std::string> out;
  if (j.is_object())
    for (auto& [k, _] : j.items()) out.insert(k);
  return out;
}

// A server with monitoring, one client with two subscriptions, one message exchanged.
struct Scenario {
  int http_port = free_port();
  std::unique_ptr<ServerProcess> srv;
  ConnPtr nc;
  SubPtr s1, s2;

  explicit Scenario(const std::string& binary) {
    srv = std::make_unique<ServerProcess>(std::vector<std::string>{"-m", std::to_string(http_port)}, binary);
    srv->start();
    EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
    EXPECT_EQ(natsConnection_SubscribeSync(&s1.p, nc.p, "foo"), NATS_OK);
    EXPECT_EQ(natsConnection_QueueSubscribeSync(&s2.p, nc.p, "bar.*", "q"), NATS_OK);
    EXPECT_EQ(natsConnection_PublishString(nc.p, "foo", "hello"), NATS_OK);
    EXPECT_EQ(natsConnection_Flush(nc.p), NATS_OK);
    natsMsg* m = nullptr;
    EXPECT_EQ(natsSubscription_NextMsg(&m, s1.p, 2000), NATS_OK);
    natsMsg_Destroy(m);
  }
};

}  // namespace

TEST(Monitor, HealthzIsOk) {
  Scenario s(testing_harness::server_binary());
  auto r = http_get(s.http_port, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body), Json({{"status", "ok"}}));
}

TEST(Monitor, FieldNamesMatchReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  Scenario ours(testing_harness::server_binary());
  Scenario ref(testing_harness::reference_binary());
  for (const char* path : {"/varz", "/connz", "/subsz", "/routez", "/gatewayz", "/jsz", "/accountz"}) {
    Json a = get_json(ours.http_port, path), b = get_json(ref.http_port, path);
    auto ka = keys(a), kb = keys(b);
    // Fields we may add that a newer reference has; everything the reference sends must be there.
    for (auto& k : kb) EXPECT_TRUE(ka.count(k)) << path << " lacks \"" << k << "\"";
    for (auto& k : ka) EXPECT_TRUE(kb.count(k)) << path << " has extra \"" << k << "\"";
  }
  // One connection's fields, with subscriptions listed.
  Json a = get_json(ours.http_port, "/connz?subs=1"), b = get_json(ref.http_port, "/connz?subs=1");
  ASSERT_EQ(a["connections"].size(), 1u);
  ASSERT_EQ(b["connections"].size(), 1u);
  EXPECT_EQ(keys(a["connections"][0]), keys(b["connections"][0]));
  Json ad = get_json(ours.http_port, "/connz?subs=detail"), bd = get_json(ref.http_port, "/connz?subs=detail");
  auto all_keys = [](const Json& list) {
    std::set<std::string> out;
    for (auto& e : list) for (auto& k : keys(e)) out.insert(k);
    return out;
  };
  EXPECT_EQ(all_keys(ad["connections"][0]["subscriptions_list_detail"]),
            all_keys(bd["connections"][0]["subscriptions_list_detail"]));
  // Same types for the varz numbers clients graph.
  Json va = get_json(ours.http_port, "/varz"), vb = get_json(ref.http_port, "/varz");
  for (const char* k : {"port", "max_payload", "ping_interval", "write_deadline", "connections", "in_msgs", "mem"})
    EXPECT_EQ(va[k].type(), vb[k].type()) << k;
  EXPECT_EQ(va["max_payload"], vb["max_payload"]);
  EXPECT_EQ(va["ping_interval"], vb["ping_interval"]);
}

TEST(Monitor, ConnzOptions) {
  Scenario s(testing_harness::server_binary());
  // A second and third client, so sort/limit/offset have something to order.
  ConnPtr c2, c3;
  ASSERT_EQ(connect_url(c2, s.srv->url()), NATS_OK);
  ASSERT_EQ(connect_url(c3, s.srv->url()), NATS_OK);
  SubPtr x1, x2, x3;
  ASSERT_EQ(natsConnection_SubscribeSync(&x1.p, c3.p, "a"), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&x2.p, c3.p, "b"), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&x3.p, c3.p, "c"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(c3.p), NATS_OK);

  Json all = get_json(s.http_port, "/connz");
  EXPECT_EQ(all["num_connections"], 3);
  EXPECT_EQ(all["total"], 3);

  Json by_subs = get_json(s.http_port, "/connz?sort=subs");
  EXPECT_EQ(by_subs["connections"][0]["subscriptions"], 3);

  Json page = get_json(s.http_port, "/connz?limit=1&offset=1");
  EXPECT_EQ(page["num_connections"], 1);
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(page["offset"], 1);
  EXPECT_EQ(page["limit"], 1);
  EXPECT_EQ(page["connections"][0]["cid"], all["connections"][1]["cid"]);

  Json subs = get_json(s.http_port, "/connz?subs=1&sort=subs");
  std::set<std::string> listed;
  for (auto& v : subs["connections"][0]["subscriptions_list"]) listed.insert(v.get<std::string>());
  EXPECT_EQ(listed, (std::set<std::string>{"a", "b", "c"}));

  // Closed connections keep their stop time and reason.
  // (The harness's port probe may already be listed as a closed connection.)
  auto closed_before = get_json(s.http_port, "/connz?state=closed")["total"].get<int>();
  c2.reset();
  ASSERT_TRUE(wait_for([&] { return get_json(s.http_port, "/connz?state=closed")["total"] == closed_before + 1; }));
  Json closed = get_json(s.http_port, "/connz?state=closed&sort=stop");
  EXPECT_EQ(closed["connections"][0]["reason"], "Client Closed");
  EXPECT_TRUE(closed["connections"][0].contains("stop"));
  EXPECT_EQ(get_json(s.http_port, "/connz")["num_connections"], 2);

  EXPECT_EQ(http_get(s.http_port, "/connz?sort=bogus").status, 400);
}

TEST(Monitor, VarzCountsMessages) {
  Scenario s(testing_harness::server_binary());
  Json v = get_json(s.http_port, "/varz");
  EXPECT_EQ(v["connections"], 1);
  EXPECT_GE(v["in_msgs"].get<int>(), 1);
  EXPECT_GE(v["out_msgs"].get<int>(), 1);
  // The count includes the server's own $SYS subscriptions, as the reference's does.
  EXPECT_GE(v["subscriptions"].get<int>(), 2);
  Json sz = get_json(s.http_port, "/subsz?subs=1&acc=$G");
  std::set<std::string> client_subs;
  for (auto& e : sz["subscriptions_list"])
    if (e.contains("cid")) client_subs.insert(e["subject"].get<std::string>() + "|" + e.value("qgroup", ""));
  EXPECT_EQ(client_subs, (std::set<std::string>{"foo|", "bar.*|q"}));
  Json only_foo = get_json(s.http_port, "/subsz?subs=1&acc=$G&test=foo");
  ASSERT_GE(only_foo["subscriptions_list"].size(), 1u);
  for (auto& e : only_foo["subscriptions_list"]) EXPECT_NE(e["subject"], "bar.*");
}

}  // namespace NATS_TEST_FILE_ID
