// Config reload of the server-to-server blocks (server/reload_links.cpp): the TLS certificate
// of the gateway, leafnodes and websocket listeners (new connections get the new one, a leaf
// connected before stays), and the cluster block beyond its routes (authorization cuts the
// accepted routes that no longer pass, the route INFO follows no_advertise and
// cluster_advertise), a leaf remote's deny_exports (2.9.10 takes the reload and ignores the
// change; ours applies it). Each against our server and 2.9.10 with the same expectations,
// but for that one.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cluster_test_util.h"
#include "reload_links_util.h"
#include "reload_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::free_port;

// A TLS handshake with 127.0.0.1:port that verifies the server's certificate against `ca`
// (a clear-text INFO line first, as leafnode listeners send, is read and skipped).
bool handshake_verifies(int port, const std::string& ca) {
  return tls_first_line(port, ca, ClearInfo::if_sent, false).empty();
}

std::string ping(RawClient& c) {
  c.send("PING\r\n");
  return c.read_line(milliseconds(3000)).value_or("<none>");
}

class ReloadLinks : public ReloadLinksTest {};
class ReloadLinksTls : public ReloadLinksTlsTest {};

// The certificate of the gateway, leafnodes and websocket blocks changes by reload: new
// handshakes present the new one, the leaf connected before stays and carries messages.
TEST_P(ReloadLinksTls, GatewayLeafnodeWebsocketCertificates) {
  const int gw = free_port(), lp = free_port(), wp = free_port(), http = free_port(), leaf_http = free_port();
  auto hub_conf = [&](const TestPki& p) {
    std::string tls = ReloadLinksTls::tls(p);
    // 2.9.10 wants a system account with both gateway and leafnodes.
    return "accounts { SYS {} }\nsystem_account: SYS\n"
           "gateway { name: A, listen: \"127.0.0.1:" + std::to_string(gw) + "\", " + tls + " }\n" +
           "leafnodes { listen: \"127.0.0.1:" + std::to_string(lp) + "\", " + tls + " }\n" +
           "websocket { listen: \"127.0.0.1:" + std::to_string(wp) + "\", " + tls + " }\n";
  };
  auto hub = start("hub.conf", hub_conf(*one_), http);
  auto leaf = start("leaf.conf",
                    "leafnodes { remotes: [{ url: \"nats-leaf://127.0.0.1:" + std::to_string(lp) +
                        "\", tls { ca_file: \"" + one_->ca + "\" } }] }\n",
                    leaf_http);
  ASSERT_TRUE(wait_for([&] { return varz_count(http, "leafnodes") == 1; }, milliseconds(4000))) << hub->log();
  for (int port : {gw, lp, wp}) {
    EXPECT_TRUE(handshake_verifies(port, one_->ca)) << port;
    EXPECT_FALSE(handshake_verifies(port, two_->ca)) << port;
  }

  ASSERT_EQ(reload_config(*hub, conf("hub.conf"), hub_conf(*two_)), "") << hub->log();
  for (int port : {gw, lp, wp}) {
    EXPECT_TRUE(handshake_verifies(port, two_->ca)) << port;
    EXPECT_FALSE(handshake_verifies(port, one_->ca)) << port;
  }
  // The leaf connected with the old certificate stays, and messages cross it.
  EXPECT_EQ(varz_count(http, "leafnodes"), 1);
  RawClient sub(leaf->port()), pub(hub->port());
  sub.send("CONNECT {\"verbose\":false}\r\nSUB crossing 1\r\n");
  ASSERT_EQ(ping(sub), "PONG");
  pub.send("CONNECT {\"verbose\":false}\r\n");
  ASSERT_EQ(ping(pub), "PONG");
  bool got = wait_for(
      [&] {
        pub.send("PUB crossing 2\r\nhi\r\n");
        auto l = sub.read_line(milliseconds(200));
        return l && *l == "MSG crossing 1 2";
      },
      milliseconds(4000));
  EXPECT_TRUE(got) << hub->log();
}

// Accepted routes whose credentials no longer pass are cut ("Authorization Violation"); a
// client stays; the route comes back once the other side dials with the new password.
TEST_P(ReloadLinks, ClusterAuthorizationCutsAcceptedRoutes) {
  const int ap = free_port(), bp = free_port(), ahttp = free_port(), bhttp = free_port();
  auto a_conf = [&](const std::string& pw) {
    return "cluster { name: C, listen: \"127.0.0.1:" + std::to_string(ap) +
           "\", authorization { user: r, password: " + pw + " } }\n";
  };
  auto b_conf = [&](const std::string& pw) {
    return "cluster { name: C, listen: \"127.0.0.1:" + std::to_string(bp) + "\", routes: [\"nats-route://r:" + pw +
           "@127.0.0.1:" + std::to_string(ap) + "\"] }\n";
  };
  auto a = start("a.conf", a_conf("one"), ahttp);
  auto b = start("b.conf", b_conf("one"), bhttp);
  ASSERT_TRUE(wait_for([&] { return varz_count(ahttp, "routes") == 1; }, milliseconds(4000))) << a->log();
  RawClient client(a->port());
  client.send("CONNECT {\"verbose\":false}\r\n");
  ASSERT_EQ(ping(client), "PONG");

  ASSERT_EQ(reload_config(*a, conf("a.conf"), a_conf("two")), "") << a->log();
  EXPECT_TRUE(wait_for([&] { return varz_count(ahttp, "routes") == 0; }, milliseconds(3000))) << a->log();
  EXPECT_TRUE(wait_for([&] { return b->log().find("Authorization Violation") != std::string::npos; },
                       milliseconds(3000)))
      << b->log();
  EXPECT_EQ(ping(client), "PONG");

  ASSERT_EQ(reload_config(*b, conf("b.conf"), b_conf("two")), "") << b->log();
  EXPECT_TRUE(wait_for([&] { return varz_count(ahttp, "routes") == 1; }, milliseconds(4000))) << a->log();
}

// The route INFO of new connections follows authorization, no_advertise, cluster_advertise
// and the name; connect_retries is taken. The listen port is refused with 2.9.10's text.
TEST_P(ReloadLinks, ClusterInfoFollowsReload) {
  const int cp = free_port(), http = free_port();
  auto s = start("c.conf", "cluster { name: C, listen: \"127.0.0.1:" + std::to_string(cp) + "\" }\n", http);
  RawClient before(cp);
  auto info = nlohmann::json::parse(before.info().substr(5), nullptr, false);
  EXPECT_FALSE(info.value("auth_required", false)) << before.info();
  EXPECT_TRUE(info.contains("connect_urls")) << before.info();

  ASSERT_EQ(reload_config(*s, conf("c.conf"),
                          "cluster { name: C, listen: \"127.0.0.1:" + std::to_string(cp) +
                              "\", authorization { user: r, password: pw }, no_advertise: true,"
                              " cluster_advertise: \"adv.example:7777\", connect_retries: 2 }\n"),
            "")
      << s->log();
  RawClient after(cp);
  info = nlohmann::json::parse(after.info().substr(5), nullptr, false);
  EXPECT_TRUE(info.value("auth_required", false)) << after.info();
  EXPECT_FALSE(info.contains("connect_urls")) << after.info();
  EXPECT_EQ(info.value("ip", ""), "nats-route://adv.example:7777/") << after.info();
  EXPECT_EQ(info.value("port", 0), 7777) << after.info();

  const int other = free_port();
  EXPECT_EQ(reload_config(*s, conf("c.conf"), "cluster { name: C, listen: \"127.0.0.1:" + std::to_string(other) + "\" }\n"),
            "config reload not supported for cluster port: old=" + std::to_string(cp) + ", new=" + std::to_string(other));
  // A new cluster name, as 2.9.10's setClusterName: the INFO of new routes and new clients,
  // and /varz, carry it.
  ASSERT_EQ(reload_config(*s, conf("c.conf"), "cluster { name: D, listen: \"127.0.0.1:" + std::to_string(cp) + "\" }\n"),
            "")
      << s->log();
  RawClient route_after(cp), client_after(s->port());
  EXPECT_EQ(nlohmann::json::parse(route_after.info().substr(5), nullptr, false).value("cluster", ""), "D")
      << route_after.info();
  EXPECT_EQ(nlohmann::json::parse(client_after.info().substr(5), nullptr, false).value("cluster", ""), "D")
      << client_after.info();
  EXPECT_EQ(ctest::http_json(http, "/varz")["cluster"].value("name", ""), "D");
}

// A JetStream API request from `c` (subscribed to _r as sid 1): the answer's payload, or
// "<none>" when nothing came within `wait`.
std::string js_api(RawClient& c, const std::string& subject, const std::string& body,
                   milliseconds wait = milliseconds(3000)) {
  c.send("PUB " + subject + " _r " + std::to_string(body.size()) + "\r\n" + body + "\r\n");
  auto l = c.read_line(wait);
  if (!l) return "<none>";
  if (l->rfind("MSG _r 1 ", 0) != 0) return *l;
  return c.read_line(milliseconds(3000)).value_or("<no payload>");
}

bool has_jetstream(const std::string& info) { return info.find("\"jetstream\":true") != std::string::npos; }

// JetStream turned off and on again by reload: off, the API is not answered and new
// clients' INFO drops "jetstream"; on, the API answers again (and ours has the stream back
// from disk with its message).
// A client connected throughout stays. Limits and store_dir of a running JetStream are
// refused with 2.9.10's texts.
TEST_P(ReloadLinks, JetStreamTurnedOffAndOn) {
  const std::string store = dir_.path() + "/js";
  const std::string on = "jetstream { store_dir: \"" + store + "\" }\n";
  auto s = start("js.conf", on, free_port());
  RawClient c(s->port());
  EXPECT_TRUE(has_jetstream(c.info())) << c.info();
  c.send("CONNECT {\"verbose\":false}\r\nSUB _r 1\r\n");
  ASSERT_EQ(ping(c), "PONG");
  ASSERT_NE(js_api(c, "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"],"storage":"file"})").find("stream_create_response"),
            std::string::npos);
  c.send("PUB s 2\r\nhi\r\n");
  ASSERT_EQ(ping(c), "PONG");

  ASSERT_EQ(reload_config(*s, conf("js.conf"), "jetstream: disabled\n"), "") << s->log();
  EXPECT_EQ(js_api(c, "$JS.API.INFO", "", milliseconds(500)), "<none>");
  EXPECT_EQ(ping(c), "PONG");
  RawClient off(s->port());
  EXPECT_FALSE(has_jetstream(off.info())) << off.info();

  ASSERT_EQ(reload_config(*s, conf("js.conf"), on), "") << s->log();
  std::string info = js_api(c, "$JS.API.STREAM.INFO.S", "");
  // Ours restores the stream from its files; 2.9.10's restarted JetStream does not load the
  // streams on disk (they come back only with a server restart).
  if (ours()) EXPECT_NE(info.find("\"messages\":1,"), std::string::npos) << info;
  else EXPECT_NE(info.find("\"err_code\":10059"), std::string::npos) << info;
  RawClient again(s->port());
  EXPECT_TRUE(has_jetstream(again.info())) << again.info();

  EXPECT_EQ(reload_config(*s, conf("js.conf"), "jetstream { store_dir: \"" + store + "2\" }\n"),
            "config reload not supported for jetstream storage directory");
  EXPECT_EQ(reload_config(*s, conf("js.conf"), "jetstream { store_dir: \"" + store + "\", max_mem: 1G }\n"),
            "config reload not supported for jetstream dynamic max memory and store");
  EXPECT_EQ(ping(c), "PONG");
}

// A server started without JetStream gets it by reload.
TEST_P(ReloadLinks, JetStreamTurnedOnWithoutRestart) {
  auto s = start("js.conf", "", free_port());
  RawClient c(s->port());
  EXPECT_FALSE(has_jetstream(c.info())) << c.info();
  c.send("CONNECT {\"verbose\":false}\r\nSUB _r 1\r\n");
  ASSERT_EQ(ping(c), "PONG");
  ASSERT_EQ(reload_config(*s, conf("js.conf"), "jetstream { store_dir: \"" + dir_.path() + "/js\" }\n"), "")
      << s->log();
  EXPECT_NE(js_api(c, "$JS.API.INFO", "").find("account_info_response"), std::string::npos);
  RawClient fresh(s->port());
  EXPECT_TRUE(has_jetstream(fresh.info())) << fresh.info();
}

// The port the hub sees its one leaf connection from (0: no leaf).
int hub_leaf_port(int http) {
  auto j = ctest::http_json(http, "/leafz");
  if (!j.contains("leafs") || j["leafs"].size() != 1) return 0;
  return j["leafs"][0].value("port", 0);
}

// A cluster renamed by reload, as 2.9.10's setClusterName: the leaf connections the server
// dialled are closed ("Cluster Name Conflict") and redialled; the ones it accepted stay.
TEST_P(ReloadLinks, ClusterRenameCutsDialledLeafs) {
  const int hub_leaf = free_port(), hub_cp = free_port(), hub_http = free_port(), spoke_cp = free_port();
  auto hub_conf = [&](const std::string& name) {
    return "cluster { name: " + name + ", listen: \"127.0.0.1:" + std::to_string(hub_cp) +
           "\" }\nleafnodes { listen: \"127.0.0.1:" + std::to_string(hub_leaf) + "\" }\n";
  };
  auto spoke_conf = [&](const std::string& name) {
    return "cluster { name: " + name + ", listen: \"127.0.0.1:" + std::to_string(spoke_cp) +
           "\" }\nleafnodes { remotes: [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(hub_leaf) + "\" } ] }\n";
  };
  auto hub = start("hub.conf", hub_conf("H1"), hub_http);
  auto spoke = start("spoke.conf", spoke_conf("S1"), free_port());
  ASSERT_TRUE(wait_for([&] { return hub_leaf_port(hub_http) != 0; }, milliseconds(5000))) << spoke->log();
  const int first = hub_leaf_port(hub_http);
  const std::string conflict = "connection closed: Cluster Name Conflict";

  ASSERT_EQ(reload_config(*hub, conf("hub.conf"), hub_conf("H2")), "") << hub->log();
  ASSERT_EQ(reload_config(*spoke, conf("spoke.conf"), spoke_conf("S2")), "") << spoke->log();
  EXPECT_TRUE(wait_for([&] { return spoke->log().find(conflict) != std::string::npos; }, milliseconds(3000)))
      << spoke->log();
  // Redialled (after the 1 s reconnect wait): the hub sees it from another port.
  EXPECT_TRUE(wait_for([&] { int p = hub_leaf_port(hub_http); return p != 0 && p != first; }, milliseconds(4000)))
      << spoke->log();
  // The hub's rename left its accepted leaf alone.
  EXPECT_EQ(hub->log().find(conflict), std::string::npos) << hub->log();
}

// The subject of the next message `c` gets within `timeout` ("" if none).
std::string next_msg_subject(RawClient& c, milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    auto l = c.read_line(milliseconds(100));
    if (l && l->rfind("MSG ", 0) == 0) return l->substr(4, l->find(' ', 4) - 4);
    if (l && *l == "PING") c.send("PONG\r\n");
  }
  return "";
}

// A leaf remote's deny_exports changed by reload: 2.9.10 accepts the reload (its comparison
// leaves the denies out) but keeps using the ones it started with; ours applies them, the
// remote's link redialled so that both sides take them. About 3 s per server.
TEST_P(ReloadLinks, LeafRemoteDeniesReloaded) {
  const bool ours = GetParam() == testing_harness::server_binary();
  const int hub_leaf = free_port(), hub_http = free_port();
  auto spoke_conf = [&](const std::string& deny) {
    return "leafnodes { reconnect: 1, remotes: [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(hub_leaf) +
           "\", deny_exports: [\"" + deny + "\"] } ] }\n";
  };
  auto hub = start("hub.conf", "leafnodes { listen: \"127.0.0.1:" + std::to_string(hub_leaf) + "\" }\n", hub_http);
  const int spoke_http = free_port();
  auto spoke = start("spoke.conf", spoke_conf("denied.>"), spoke_http);
  ASSERT_TRUE(wait_for([&] { return hub_leaf_port(hub_http) != 0; }, milliseconds(5000))) << spoke->log();
  RawClient sub(hub->port()), pub(spoke->port());
  sub.send("CONNECT {\"verbose\":false}\r\nSUB denied.x 1\r\nSUB open.x 2\r\n");
  ASSERT_EQ(ping(sub), "PONG");
  pub.send("CONNECT {\"verbose\":false}\r\n");
  ASSERT_EQ(ping(pub), "PONG");
  // Once the interest is across, the denied subject does not cross, the other does.
  ASSERT_TRUE(wait_for(
      [&] {
        pub.send("PUB open.x 2\r\nhi\r\n");
        return next_msg_subject(sub, milliseconds(200)) == "open.x";
      },
      milliseconds(5000)));
  auto crossing = [&] {
    while (!next_msg_subject(sub, milliseconds(100)).empty()) {
    }
    pub.send("PUB denied.x 2\r\nhi\r\nPUB open.x 2\r\nhi\r\n");
    return next_msg_subject(sub, milliseconds(1000));
  };
  EXPECT_EQ(crossing(), "open.x");

  ASSERT_EQ(reload_config(*spoke, conf("spoke.conf"), spoke_conf("other.>")), "") << spoke->log();
  // /varz shows the reloaded ones on both.
  auto varz = ctest::http_json(spoke_http, "/varz");
  EXPECT_EQ(varz["leaf"]["remotes"][0]["deny"]["exports"], nlohmann::json::array({"other.>"})) << varz["leaf"].dump();
  if (ours) {
    EXPECT_TRUE(wait_for([&] { return crossing() == "denied.x"; }, milliseconds(5000))) << spoke->log();
    EXPECT_NE(spoke->log().find("deny_imports/deny_exports reloaded"), std::string::npos) << spoke->log();
  } else {
    // 2.9.10: the link stays, and so do the denies it started with.
    std::this_thread::sleep_for(milliseconds(1500));
    EXPECT_EQ(crossing(), "open.x") << spoke->log();
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadLinks,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });
INSTANTIATE_TEST_SUITE_P(Servers, ReloadLinksTls,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
