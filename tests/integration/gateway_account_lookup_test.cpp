// Accounts looked up because of what crosses a cluster that has gateways, in operator mode
// with the URL resolver (the reference's LookupAccount), ours and 2.9.10 with the same
// expectations. Cluster R has two servers; cluster S's server dials only r2, so S's messages
// for R arrive at r2, and r2 announces to S the interest of its whole cluster. A subscriber of
// account A connects to r1 (which fetches A); r2 hears that interest over the route without
// having A, and still announces it to S (ours fetches A then, route_lookup.cpp; 2.9.10 keeps
// the interest in a placeholder account and fetches A when S's first message for it comes),
// so a publisher of A on s1 is heard on r1.
// 2.9.10 sends gateway messages only on announced interest to another 2.9 server, so a
// gateway message for an account unknown to the receiver (gateway_lookup.cpp) only comes from
// older servers: a raw gateway connection plays one, and the account is answered with A-.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "jwt_http_server.h"
#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;

natsStatus gwl_connect(ConnPtr& c, const std::string& url, const std::string& creds) {
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 5000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
  return connect_signed(c, url, o.p);
}

// Inbound gateway connections from cluster `gw` (one per server of it).
int gwl_inbound_from(const ctest::Node& n, const std::string& gw) {
  auto j = ctest::http_json(n.http_port, "/gatewayz");
  if (!j.contains("inbound_gateways") || !j["inbound_gateways"].contains(gw)) return 0;
  return static_cast<int>(j["inbound_gateways"][gw].size());
}

TEST(GatewayAccountLookup, RouteInterestInAnUnknownAccountReachesTheOtherCluster) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys();
    testing_harness::TempDir dir;
    std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
    JwtHttpServer http;
    http.serve(sys.pub, jwt::sign(jwt::account_claims(sys, "SYS"), op));
    http.serve(acc.pub, jwt::sign(jwt::account_claims(acc, "A"), op));
    http.serve("", "");
    auto creds = [&](const std::string& name) {
      KeyPair u = jwt::user_keys();
      return dir.write(name + ".creds", jwt::creds(jwt::sign(jwt::user_claims(u, name), acc), u.seed));
    };

    ctest::Node r1, r2, s1;
    for (auto* n : {&r1, &r2, &s1}) {
      n->binary = bin;
      n->gateway_port = testing_harness::free_port();
      n->extra = "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver: URL(\"" + http.base() +
                 "\")\n";
    }
    r1.name = "r1";
    r2.name = "r2";
    s1.name = "s1";
    r1.cluster = r2.cluster = "R";
    r1.cluster_port = testing_harness::free_port();
    r2.cluster_port = testing_harness::free_port();
    r2.routes = {"nats://127.0.0.1:" + std::to_string(r1.cluster_port)};
    r1.gateway = r2.gateway = "R";
    s1.gateway = "S";
    r1.gateways = r2.gateways = {{"S", "nats://127.0.0.1:" + std::to_string(s1.gateway_port)}};
    s1.gateways = {{"R", "nats://127.0.0.1:" + std::to_string(r2.gateway_port)}};
    r1.start();
    r2.start();
    s1.start();
    ASSERT_TRUE(wait_for([&] {
      return r1.num_routes() == 1 && r2.num_routes() == 1 && s1.num_outbound_gateways() == 1 &&
             gwl_inbound_from(s1, "R") == 2 && r1.num_outbound_gateways() == 1 && r2.num_outbound_gateways() == 1;
    }, milliseconds(15000)))
        << bin << s1.proc->log();

    ConnPtr sc;
    ASSERT_EQ(gwl_connect(sc, r1.url(), creds("sub")), NATS_OK) << bin;
    MsgCounter got;
    SubPtr s;
    ASSERT_EQ(natsConnection_Subscribe(&s.p, sc.p, "gwl.x", MsgCounter::on_msg, &got), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(sc.p), NATS_OK);
    ConnPtr pc;
    ASSERT_EQ(gwl_connect(pc, s1.url(), creds("pub")), NATS_OK) << bin;
    EXPECT_TRUE(wait_for([&] {
      natsConnection_PublishString(pc.p, "gwl.x", "hi");
      natsConnection_Flush(pc.p);
      return got.wait_count(1, milliseconds(200));
    }, milliseconds(10000)))
        << bin << r2.proc->log();
    // At least r1 and s1, for their clients.
    EXPECT_GE(http.requests_for(acc.pub), 2) << bin;
  }
}

// A remote gateway (a raw connection) sends a message for an account the server does not
// have (no operator mode: nothing to look up): the answer is `A- <account>`, once.
TEST(GatewayAccountLookup, MessageForAnUnknownAccountIsAnsweredWithAMinus) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int gw_port = testing_harness::free_port();
    auto srv = start_with_config("gateway { name: R\n listen: 127.0.0.1:" + std::to_string(gw_port) + " }\n", {}, bin);
    RawClient g(gw_port);
    ASSERT_TRUE(g.connected()) << bin;
    g.send("CONNECT {\"echo\":false,\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"headers\":true,"
           "\"name\":\"NFAKEGATEWAY\",\"cluster\":\"\",\"gateway\":\"S\"}\r\nPING\r\n");
    bool pong = false;
    for (int i = 0; i < 500 && !pong; ++i) pong = g.read_line(milliseconds(3000)).value_or("<none>") == "PONG";
    ASSERT_TRUE(pong) << bin;
    g.send("RMSG NOSUCHACCOUNT gwl.x 2\r\nhi\r\nRMSG NOSUCHACCOUNT gwl.x 2\r\nhi\r\nPING\r\n");
    std::vector<std::string> lines;
    for (int i = 0; i < 20; ++i) {
      auto l = g.read_line(milliseconds(3000));
      if (!l || *l == "PONG") break;
      lines.push_back(*l);
    }
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "A- NOSUCHACCOUNT"), 1) << bin;
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
