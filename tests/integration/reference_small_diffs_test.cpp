// Small observable answers checked against the 2.9.10 reference, each scenario run against
// both servers (testing_harness::binaries_to_compare()).
#include <gtest/gtest.h>

#include <optional>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using nlohmann::json;

// A raw client logged in as user/password with one subscription, answered by a PONG.
bool login_and_sub(RawClient& c, int port, const std::string& user, const std::string& subject) {
  if (!c.connect(port)) return false;
  c.send(R"(CONNECT {"verbose":false,"pedantic":false,"lang":"raw","user":")" + user + R"(","pass":")" + user +
         "\"}\r\nSUB " + subject + " 1\r\nPING\r\n");
  auto l = c.read_line_answering_pings(milliseconds(3000));
  return l && *l == "PONG";
}

// The connection of /connz's list with this authorized user and open or closed state.
json conn_of(const json& connz, const std::string& user, bool closed) {
  for (auto& c : connz.value("connections", json::array()))
    if (c.value("authorized_user", "") == user && c.contains("stop") == closed) return c;
  return json();
}

// /connz?auth=1 names the account only when it is not the global one ($G). With
// subs=detail an open connection's subscriptions carry no account, a closed one's carry
// it ($G too): the reference saves them that way when the connection closes.
TEST(ReferenceSmallDiffs, ConnzAuthAccountOnlyWhenNotGlobal) {
  const std::string conf_tail =
      "accounts { A { users [ {user: a, password: a} ] } }\n"
      "authorization { users [ {user: g, password: g} ] }\n";
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int http = testing_harness::free_port();
    auto s = start_with_config("http: 127.0.0.1:" + std::to_string(http) + "\n" + conf_tail, {}, bin);
    RawClient g_open, a_open;
    ASSERT_TRUE(login_and_sub(g_open, s->port(), "g", "foo")) << bin;
    ASSERT_TRUE(login_and_sub(a_open, s->port(), "a", "bar")) << bin;
    {
      RawClient g_gone, a_gone;
      ASSERT_TRUE(login_and_sub(g_gone, s->port(), "g", "gone.g")) << bin;
      ASSERT_TRUE(login_and_sub(a_gone, s->port(), "a", "gone.a")) << bin;
    }
    json connz;
    ASSERT_TRUE(wait_for([&] {
      connz = ctest::http_json(http, "/connz?auth=1&subs=detail&state=all");
      return !conn_of(connz, "g", true).is_null() && !conn_of(connz, "a", true).is_null();
    })) << bin << connz.dump();
    auto g = conn_of(connz, "g", false), a = conn_of(connz, "a", false);
    auto gc = conn_of(connz, "g", true), ac = conn_of(connz, "a", true);
    ASSERT_FALSE(g.is_null() || a.is_null()) << bin << connz.dump();
    EXPECT_FALSE(g.contains("account")) << bin << g.dump();
    EXPECT_FALSE(gc.contains("account")) << bin << gc.dump();
    EXPECT_EQ(a.value("account", ""), "A") << bin << a.dump();
    EXPECT_EQ(ac.value("account", ""), "A") << bin << ac.dump();
    auto sub0 = [](const json& c) { return c.value("subscriptions_list_detail", json::array()).at(0); };
    EXPECT_FALSE(sub0(g).contains("account")) << bin << g.dump();
    EXPECT_FALSE(sub0(a).contains("account")) << bin << a.dump();
    EXPECT_EQ(sub0(gc).value("account", ""), "$G") << bin << gc.dump();
    EXPECT_EQ(sub0(ac).value("account", ""), "A") << bin << ac.dump();
    // subs=1 and no subs: the same rule for the connection's own field.
    for (const char* q : {"/connz?auth=1&subs=1", "/connz?auth=1"}) {
      auto j = ctest::http_json(http, q);
      EXPECT_FALSE(conn_of(j, "g", false).contains("account")) << bin << q << j.dump();
      EXPECT_EQ(conn_of(j, "a", false).value("account", ""), "A") << bin << q << j.dump();
    }
    // Without auth=1 no account at all.
    auto plain = ctest::http_json(http, "/connz");
    for (auto& c : plain.value("connections", json::array())) EXPECT_FALSE(c.contains("account")) << bin << c.dump();
  }
}

// Two servers linked by a leafnode: each side of the link counts the 4 subscriptions the
// reference sends (the global account's three system imports and the loop-detection subject),
// not our local-only $SYS.REQ.USER.INFO (a later reference's request; 2.9.10 has none).
TEST(ReferenceSmallDiffs, LeafLinkCountsTheReferenceSubscriptions) {
  const std::set<std::string> imports{"$SYS.REQ.ACCOUNT.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.STATZ",
                                      "$SYS.REQ.SERVER.PING.CONNZ"};
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    ctest::Node hub, spoke;
    hub.binary = spoke.binary = bin;
    int leaf_port = testing_harness::free_port();
    hub.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }";
    spoke.extra = "leafnodes { reconnect: 1, remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(leaf_port) +
                  "\" } ] }";
    hub.start();
    spoke.start();
    for (const ctest::Node* n : {&hub, &spoke}) {
      json leafz;
      // Interest arrives right after the link is up: poll until all of it is there.
      EXPECT_TRUE(wait_for([&] {
        leafz = ctest::http_json(n->http_port, "/leafz?subs=1");
        auto leafs = leafz.value("leafs", json::array());
        return leafs.size() == 1 && leafs[0].value("subscriptions", 0) >= 4;
      }, milliseconds(8000))) << bin << leafz.dump();
      if (leafz.value("leafs", json::array()).size() != 1) continue;
      auto leaf = leafz["leafs"][0];
      EXPECT_EQ(leaf.value("subscriptions", 0), 4) << bin << leaf.dump();
      std::set<std::string> sys;
      int lds = 0;
      for (auto& s : leaf.value("subscriptions_list", json::array())) {
        auto subj = s.get<std::string>();
        if (subj.rfind("$LDS.", 0) == 0) ++lds;
        else sys.insert(subj);
      }
      EXPECT_EQ(lds, 1) << bin << leaf.dump();
      EXPECT_EQ(sys, imports) << bin << leaf.dump();
    }
  }
}

// authorization { timeout: "5s" }: 2.9.10 silently uses 1 s for any string there (its parser
// knows only numbers; 2.11.2 and later read a duration). Ours keeps the duration, which cannot
// cut slow clients off sooner than asked, and warns that the reference would use 1 s.
// A number is seconds on both.
TEST(ReferenceSmallDiffs, AuthTimeoutStringIsADurationWithAWarning) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    const bool reference = bin == testing_harness::reference_binary();
    for (auto [value, want_ours, want_ref] : {std::tuple{"\"5s\"", 5.0, 1.0}, std::tuple{"3", 3.0, 3.0}}) {
      int http = testing_harness::free_port();
      auto s = start_with_config("http: 127.0.0.1:" + std::to_string(http) +
                                     "\nauthorization { user: u, password: p, timeout: " + value + " }\n",
                                 {}, bin);
      auto v = ctest::http_json(http, "/varz");
      ASSERT_TRUE(v.contains("auth_timeout")) << bin << v.dump();
      EXPECT_DOUBLE_EQ(v["auth_timeout"].get<double>(), reference ? want_ref : want_ours) << bin << value;
      const bool string_value = value[0] == '"';
      if (!reference) {
        EXPECT_EQ(s->log().find("nats-server 2.9.10 uses 1s") != std::string::npos, string_value) << s->log();
      }
    }
  }
}

// A request through a service import reaches the exporter's responder with the reply
// "_R_.<6>.<6>": the reference's six base62 digits after its six-digit prefix. The same across
// a gateway: the gateway's "_GR_.<cluster hash>.<server hash>." mapping, when there is one, is
// taken off before a client sees the reply (on both servers), so the token is what shows.
// The gateway request comes first: it is the import's first use.
TEST(ReferenceSmallDiffs, ServiceReplyTokensAsTheReference) {
  const std::regex reply_format(R"(^_R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6}$)");
  const std::string accounts =
      "accounts {\n"
      "  EXP { users [ {user: e, password: e} ], exports [ {service: svc} ] }\n"
      "  IMP { users [ {user: i, password: i} ], imports [ {service: {account: EXP, subject: svc}} ] }\n"
      "}\n";
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    ctest::Node a, b;
    for (auto* n : {&a, &b}) {
      n->binary = bin;
      n->gateway_port = testing_harness::free_port();
      n->extra = accounts;
    }
    a.name = a.gateway = "A";
    b.name = b.gateway = "B";
    a.gateways = {{"B", "nats://127.0.0.1:" + std::to_string(b.gateway_port)}};
    b.gateways = {{"A", "nats://127.0.0.1:" + std::to_string(a.gateway_port)}};
    a.start();
    b.start();
    auto login = [](ConnPtr& c, const ctest::Node& n, const char* who) {
      std::string url = "nats://" + std::string(who) + ":" + who + "@127.0.0.1:" + std::to_string(n.proc->port());
      return connect_url(c, url);
    };
    // Requests from IMP on A until a responder of EXP on `on` sees one; its reply subject.
    auto reply_seen = [&](const ctest::Node& on) {
      ConnPtr req, resp;
      if (login(req, a, "i") != NATS_OK || login(resp, on, "e") != NATS_OK) return std::string("<no connection>");
      SubPtr svc, inbox;
      natsConnection_SubscribeSync(&svc.p, resp.p, "svc");
      natsConnection_SubscribeSync(&inbox.p, req.p, "answer.here");
      natsConnection_Flush(resp.p);
      natsConnection_Flush(req.p);
      std::string reply = "<no request>";
      wait_for([&] {
        natsConnection_PublishRequestString(req.p, "svc", "answer.here", "q");
        natsConnection_Flush(req.p);
        MsgPtr m;
        if (natsSubscription_NextMsg(&m.p, svc.p, 100) != NATS_OK) return false;
        reply = natsMsg_GetReply(m.p) ? natsMsg_GetReply(m.p) : "";
        natsConnection_PublishString(resp.p, reply.c_str(), "a");
        natsConnection_Flush(resp.p);
        return true;
      }, milliseconds(8000));
      MsgPtr answer;
      EXPECT_EQ(natsSubscription_NextMsg(&answer.p, inbox.p, 3000), NATS_OK) << "no answer to " << reply;
      return reply;
    };
    ASSERT_TRUE(wait_for([&] { return a.num_outbound_gateways() == 1 && b.num_outbound_gateways() == 1; },
                         milliseconds(10000)))
        << bin;
    std::string remote = reply_seen(b);
    EXPECT_TRUE(std::regex_match(remote, reply_format)) << bin << " " << remote;
    EXPECT_TRUE(std::regex_match(reply_seen(a), reply_format)) << bin;
  }
}

// The first PING on a new route or leafnode connection comes about 1 s after the handshake
// (2.9.10's firstPingInterval, plus up to a fifth at random), not at once.
TEST(ReferenceSmallDiffs, FirstPingOnRouteAndLeafAfterAboutOneSecond) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int cluster_port = testing_harness::free_port(), leaf_port = testing_harness::free_port();
    auto s = start_with_config("cluster { name: c, listen: 127.0.0.1:" + std::to_string(cluster_port) +
                                   " }\nleafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n",
                               {}, bin);
    // Both links at once, each timed from its dial (2.9.10 arms the timer on accept, ours once
    // the handshake is done: later, never earlier).
    RawClient route, leaf;
    auto route_start = Clock::now();
    ASSERT_TRUE(route.connect(cluster_port)) << bin;
    auto leaf_start = Clock::now();
    ASSERT_TRUE(leaf.connect(leaf_port)) << bin;
    route.send(ctest::fake_route_handshake("c"));
    leaf.send("CONNECT {\"name\":\"FAKELEAF\",\"headers\":true}\r\n");
    for (auto [peer, start, what] : {std::tuple{&route, route_start, "route"}, std::tuple{&leaf, leaf_start, "leaf"}}) {
      std::optional<std::string> line;
      while ((line = peer->read_line(milliseconds(3000))) && *line != "PING") {
      }
      auto after = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      ASSERT_TRUE(line) << bin << " " << what << ": no PING in 3 s";
      // Timers never fire early; a loaded machine may make them late. The leaf's PING may
      // have waited in the buffer while the route's was read, so only its lower bound counts.
      EXPECT_GE(after.count(), 900) << bin << " " << what;
      if (peer == &route) {
        EXPECT_LE(after.count(), 2500) << bin << " " << what;
      }
    }
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
