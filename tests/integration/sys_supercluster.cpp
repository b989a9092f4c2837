// The system account across a supercluster: `$SYS.REQ.SERVER.PING` answered by every server
// (each with its own name, cluster, gateways and routes), filters, `$SYS.REQ.SERVER.<id>.X`
// across gateways, CONNECT/DISCONNECT events seen from another cluster, account and user
// requests, no answer for a non-system user, the server directory (SHUTDOWN), and the JSON
// field names compared with the reference's replies in the same topology.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;
using nlohmann::json;

namespace {

const char* const kAccounts =
    "accounts: {\n"
    "  $SYS: { users: [{user: sys, password: pass}] }\n"
    "  APP: { users: [{user: app, password: pass}] }\n"
    "}\n";

// One server of a supercluster, with the seed's sys.conf (plus an application account).
struct SysNode {
  std::string name, cluster, binary;
  int cluster_port = testing_harness::free_port();
  int gateway_port = 0;
  std::vector<int> route_ports;                               // the cluster's route ports
  std::vector<std::pair<std::string, int>> gateways;          // name, port
  int http_port = testing_harness::free_port();
  std::unique_ptr<testing_harness::ServerProcess> proc;

  std::string config() const {
    std::string c = "server_name: " + name + "\nhttp_port: " + std::to_string(http_port) + "\n" + kAccounts;
    c += "cluster {\n  name: " + cluster + "\n  listen: 127.0.0.1:" + std::to_string(cluster_port) + "\n  routes: [\n";
    for (int p : route_ports) c += "    \"nats-route://127.0.0.1:" + std::to_string(p) + "\"\n";
    c += "  ]\n}\n";
    c += "gateway {\n  name: \"" + cluster + "\"\n  listen: 127.0.0.1:" + std::to_string(gateway_port) + "\n  gateways: [\n";
    for (auto& [n, p] : gateways) c += "    {name: \"" + n + "\", urls: [\"nats://127.0.0.1:" + std::to_string(p) + "\"]}\n";
    c += "  ]\n}\n";
    return c;
  }
  void start() { proc = start_with_config(config(), {}, binary); }
  std::string url(const std::string& user) const {
    return "nats://" + user + ":pass@127.0.0.1:" + std::to_string(proc->port());
  }
};

// `clusters` clusters of `per_cluster` servers, every cluster listing every gateway (its
// own included, as the seed does); within a cluster every server lists every route.
struct Supercluster {
  std::vector<std::unique_ptr<SysNode>> nodes;
  int per_cluster;

  Supercluster(int clusters, int per, const std::string& binary = testing_harness::server_binary()) : per_cluster(per) {
    const char* names[] = {"east", "central", "west"};
    std::vector<int> gw_ports;
    for (int c = 0; c < clusters; ++c) gw_ports.push_back(testing_harness::free_port());
    for (int c = 0; c < clusters; ++c) {
      std::vector<SysNode*> members;
      for (int i = 0; i < per; ++i) {
        auto n = std::make_unique<SysNode>();
        n->name = "n" + std::to_string(c * per + i + 1);
        n->cluster = names[c];
        n->binary = binary;
        n->gateway_port = i == 0 ? gw_ports[c] : testing_harness::free_port();
        for (int k = 0; k < clusters; ++k) n->gateways.emplace_back(names[k], gw_ports[k]);
        members.push_back(n.get());
        nodes.push_back(std::move(n));
      }
      for (auto* m : members)
        for (auto* o : members) m->route_ports.push_back(o->cluster_port);  // itself too, as the seed
    }
    for (auto& n : nodes) n->start();
  }
  SysNode& node(size_t i) { return *nodes[i]; }

  // Who is missing what, with the tail of those servers' logs (for a failed wait_connected).
  std::string describe() {
    std::string out;
    for (auto& n : nodes) {
      auto r = http_json(n->http_port, "/routez");
      auto g = http_json(n->http_port, "/gatewayz");
      int routes = r.contains("num_routes") ? r["num_routes"].get<int>() : -1;
      size_t outbound = g.contains("outbound_gateways") ? g["outbound_gateways"].size() : 0;
      size_t inbound = g.contains("inbound_gateways") ? g["inbound_gateways"].size() : 0;
      out += n->name + " (" + n->cluster + "): routes " + std::to_string(routes) + ", gateways out " +
             std::to_string(outbound) + " in " + std::to_string(inbound) + "\n";
      if (routes != per_cluster - 1 || outbound != nodes.size() / per_cluster - 1) {
        std::string log = n->proc->log();
        out += log.substr(log.size() > 3000 ? log.size() - 3000 : 0) + "\n";
      }
    }
    return out;
  }

  // Every server has its routes and all other clusters' gateways (both directions).
  bool wait_connected(milliseconds t = milliseconds(15000)) {
    int clusters = static_cast<int>(nodes.size()) / per_cluster;
    return wait_for([&] {
      for (auto& n : nodes) {
        auto r = http_json(n->http_port, "/routez");
        if (!r.contains("num_routes") || r["num_routes"].get<int>() != per_cluster - 1) return false;
        auto g = http_json(n->http_port, "/gatewayz");
        if (!g.contains("outbound_gateways") || static_cast<int>(g["outbound_gateways"].size()) != clusters - 1)
          return false;
        // With several servers per cluster, a remote cluster dials just one of them.
        if (per_cluster == 1 &&
            (!g.contains("inbound_gateways") || static_cast<int>(g["inbound_gateways"].size()) != clusters - 1))
          return false;
      }
      return true;
    }, t);
  }
};

// Publishes one request and collects replies until `quiet` passes without one (or `max`).
std::vector<json> collect(natsConnection* nc, const std::string& subject, const std::string& body = "",
                          milliseconds quiet = milliseconds(500), milliseconds max = milliseconds(4000)) {
  std::vector<json> out;
  std::string inbox = "_INBOX.sys" + std::to_string(::getpid()) + "." + std::to_string(std::rand());
  SubPtr sub;
  if (natsConnection_SubscribeSync(&sub.p, nc, inbox.c_str()) != NATS_OK) return out;
  natsConnection_Flush(nc);
  natsConnection_PublishRequest(nc, subject.c_str(), inbox.c_str(), body.data(), static_cast<int>(body.size()));
  natsConnection_Flush(nc);
  auto deadline = Clock::now() + max;
  auto wait = std::min(milliseconds(3000), max);  // for the first reply
  while (Clock::now() < deadline) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, wait.count()) != NATS_OK) break;
    wait = quiet;
    if (natsMsg_GetDataLength(m.p) == 0) continue;  // a status message
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::set<std::string> names_of(const std::vector<json>& replies) {
  std::set<std::string> s;
  for (auto& r : replies) s.insert(r["server"].value("name", ""));
  return s;
}

// Every object key path ("statsz.gateways[].name") in j, for comparing shapes.
void key_paths(const json& j, const std::string& prefix, std::set<std::string>& out) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      std::string p = prefix.empty() ? k : prefix + "." + k;
      out.insert(p);
      key_paths(v, p, out);
    }
  } else if (j.is_array()) {
    for (auto& v : j) key_paths(v, prefix + "[]", out);
  }
}

class SysSeed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sc_ = new Supercluster(3, 1);
    ASSERT_TRUE(sc_->wait_connected()) << sc_->node(0).proc->log();
  }
  static void TearDownTestSuite() {
    delete sc_;
    sc_ = nullptr;
  }
  // Waits until PING from `n` is answered by `count` servers (interest and gossip settle).
  static std::vector<json> ping_all(natsConnection* nc, size_t count, const std::string& subject = "$SYS.REQ.SERVER.PING") {
    std::vector<json> r;
    wait_for([&] {
      r = collect(nc, subject);
      return r.size() >= count;
    }, milliseconds(8000));
    return r;
  }
  static Supercluster* sc_;
};
Supercluster* SysSeed::sc_ = nullptr;

TEST_F(SysSeed, PingAnsweredByEveryServerWithItsOwnIdentity) {
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc_->node(0).url("sys")), NATS_OK);
  auto replies = ping_all(nc.p, 3);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(names_of(replies), (std::set<std::string>{"n1", "n2", "n3"}));
  std::map<std::string, std::string> cluster_of{{"n1", "east"}, {"n2", "central"}, {"n3", "west"}};
  std::set<std::string> ids;
  for (auto& r : replies) {
    ASSERT_TRUE(r.contains("statsz")) << r.dump();
    std::string name = r["server"]["name"];
    EXPECT_EQ(r["server"]["cluster"], cluster_of[name]);
    EXPECT_EQ(r["server"]["ver"], "2.9.10");
    ids.insert(r["server"]["id"].get<std::string>());
    auto& st = r["statsz"];
    // Single-node clusters: no routes; one outbound gateway to each other cluster.
    EXPECT_FALSE(st.contains("routes") && !st["routes"].empty()) << st.dump();
    ASSERT_TRUE(st.contains("gateways")) << st.dump();
    std::set<std::string> gws;
    for (auto& g : st["gateways"]) {
      gws.insert(g["name"].get<std::string>());
      EXPECT_EQ(g["inbound_connections"], 1) << g.dump();
      EXPECT_GT(g["gwid"].get<uint64_t>(), 0u);
      EXPECT_TRUE(g["sent"].contains("msgs") && g["received"].contains("bytes"));
    }
    std::set<std::string> expected;
    for (auto& [n, c] : cluster_of)
      if (n != name) expected.insert(c);
    EXPECT_EQ(gws, expected) << name;
  }
  EXPECT_EQ(ids.size(), 3u);
  // The heartbeats made every server aware of the other two.
  EXPECT_TRUE(wait_for([&] {
    auto r = collect(nc.p, "$SYS.REQ.SERVER.PING");
    if (r.size() != 3) return false;
    for (auto& x : r)
      if (x["statsz"]["active_servers"] != 3) return false;
    return true;
  }, milliseconds(8000)));
}

TEST_F(SysSeed, FiltersSelectASubset) {
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc_->node(1).url("sys")), NATS_OK);
  ASSERT_EQ(ping_all(nc.p, 3).size(), 3u);
  auto west = collect(nc.p, "$SYS.REQ.SERVER.PING", R"({"cluster":"west"})");
  EXPECT_EQ(names_of(west), std::set<std::string>{"n3"});
  auto n1 = collect(nc.p, "$SYS.REQ.SERVER.PING.VARZ", R"({"server_name":"n1"})");
  ASSERT_EQ(n1.size(), 1u);
  EXPECT_EQ(n1[0]["data"]["server_name"], "n1");
  auto none = collect(nc.p, "$SYS.REQ.SERVER.PING.STATSZ", R"({"cluster":"nowhere"})", milliseconds(300),
                      milliseconds(1500));
  EXPECT_TRUE(none.empty());
}

// Requests the reference gained in 2.10 (2.9.10 answers them with no responders):
// PING.IDZ and USER.INFO, which answers about the requester from the server it is on.
TEST_F(SysSeed, IdzAndUserInfo) {
  ConnPtr sys, app;
  ASSERT_EQ(connect_url(sys, sc_->node(1).url("sys")), NATS_OK);
  ASSERT_EQ(connect_url(app, sc_->node(0).url("app")), NATS_OK);
  ASSERT_EQ(ping_all(sys.p, 3).size(), 3u);
  auto idz = collect(sys.p, "$SYS.REQ.SERVER.PING.IDZ");
  EXPECT_EQ(names_of(idz), (std::set<std::string>{"n1", "n2", "n3"}));
  for (auto& r : idz) EXPECT_EQ(r["data"]["id"], r["server"]["id"]);
  auto me = collect(app.p, "$SYS.REQ.USER.INFO");
  ASSERT_EQ(me.size(), 1u);
  EXPECT_EQ(me[0]["data"]["user"], "app");
  EXPECT_EQ(me[0]["data"]["account"], "APP");
  EXPECT_EQ(me[0]["server"]["name"], "n1");
  auto me_sys = collect(sys.p, "$SYS.REQ.USER.INFO");
  ASSERT_EQ(me_sys.size(), 1u);
  EXPECT_EQ(me_sys[0]["data"]["user"], "sys");
  EXPECT_EQ(me_sys[0]["data"]["account"], "$SYS");
  EXPECT_EQ(me_sys[0]["server"]["name"], "n2");
}

TEST_F(SysSeed, ServerIdRequestReachesOneServerAcrossGateways) {
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc_->node(0).url("sys")), NATS_OK);
  auto replies = ping_all(nc.p, 3);
  std::string west_id;
  for (auto& r : replies)
    if (r["server"]["name"] == "n3") west_id = r["server"]["id"];
  ASSERT_FALSE(west_id.empty());
  auto varz = collect(nc.p, "$SYS.REQ.SERVER." + west_id + ".VARZ");
  ASSERT_EQ(varz.size(), 1u);
  EXPECT_EQ(varz[0]["server"]["name"], "n3");
  EXPECT_EQ(varz[0]["data"]["server_id"], west_id);
  EXPECT_EQ(varz[0]["data"]["cluster"]["name"], "west") << varz[0]["data"].dump();
  auto statsz = collect(nc.p, "$SYS.REQ.SERVER." + west_id + ".STATSZ");
  ASSERT_EQ(statsz.size(), 1u);
  EXPECT_TRUE(statsz[0].contains("statsz"));
}

TEST_F(SysSeed, ClientConnectInOneClusterSeenInAnother) {
  ConnPtr sys;
  ASSERT_EQ(connect_url(sys, sc_->node(2).url("sys")), NATS_OK);  // west
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, sys.p, "$SYS.ACCOUNT.APP.>"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(sys.p), NATS_OK);
  // The subscription's interest must reach east before the event is published there: probe
  // from east until the subscriber in west sees it.
  ConnPtr probe;
  ASSERT_EQ(connect_url(probe, sc_->node(0).url("sys")), NATS_OK);
  ASSERT_TRUE(wait_for([&] {
    natsConnection_PublishString(probe.p, "$SYS.ACCOUNT.APP.PROBE", "x");
    natsConnection_Flush(probe.p);
    MsgPtr m;
    return natsSubscription_NextMsg(&m.p, sub.p, 100) == NATS_OK;
  }, milliseconds(5000)));
  for (MsgPtr m; natsSubscription_NextMsg(&m.p, sub.p, 100) == NATS_OK; m.reset()) {
  }
  SubPtr old_subject;  // the pre-2.2 subject the reference still sends to
  ASSERT_EQ(natsConnection_SubscribeSync(&old_subject.p, sys.p, "$SYS.SERVER.ACCOUNT.APP.CONNS"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(sys.p), NATS_OK);
  ConnPtr app;
  OptsPtr o;
  natsOptions_SetName(o.p, "evented");
  natsOptions_SetAllowReconnect(o.p, false);
  ASSERT_EQ(connect_url(app, sc_->node(0).url("app"), o.p), NATS_OK);  // east
  json connect, conns, disconnect;
  auto deadline = Clock::now() + milliseconds(5000);
  bool closed = false;
  while (Clock::now() < deadline && disconnect.is_null()) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 200) != NATS_OK) continue;
    auto j = json::parse(m.data(), nullptr, false);
    if (m.subject() == "$SYS.ACCOUNT.APP.CONNECT") connect = j;
    if (m.subject() == "$SYS.ACCOUNT.APP.SERVER.CONNS" && conns.is_null()) conns = j;
    if (m.subject() == "$SYS.ACCOUNT.APP.DISCONNECT") disconnect = j;
    if (!connect.is_null() && !closed) {
      app.reset();
      closed = true;
    }
  }
  ASSERT_FALSE(connect.is_null());
  EXPECT_EQ(connect["type"], "io.nats.server.advisory.v1.client_connect");
  EXPECT_EQ(connect["server"]["name"], "n1");
  EXPECT_EQ(connect["server"]["cluster"], "east");
  EXPECT_EQ(connect["client"]["acc"], "APP");
  EXPECT_EQ(connect["client"]["user"], "app");
  EXPECT_EQ(connect["client"]["name"], "evented");
  EXPECT_EQ(connect["client"]["kind"], "Client");
  ASSERT_FALSE(conns.is_null());
  EXPECT_EQ(conns["type"], "io.nats.server.advisory.v1.account_connections");
  EXPECT_EQ(conns["acc"], "APP");
  EXPECT_EQ(conns["conns"], 1);
  ASSERT_FALSE(disconnect.is_null());
  EXPECT_EQ(disconnect["type"], "io.nats.server.advisory.v1.client_disconnect");
  EXPECT_EQ(disconnect["client"]["id"], connect["client"]["id"]);
  EXPECT_TRUE(disconnect["client"].contains("stop"));
  EXPECT_EQ(disconnect["reason"], "Client Closed");
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, old_subject.p, 2000), NATS_OK);
  EXPECT_EQ(json::parse(m.data())["acc"], "APP");
}

TEST_F(SysSeed, NonSystemUserGetsNoResponders) {
  ConnPtr app;
  ASSERT_EQ(connect_url(app, sc_->node(0).url("app")), NATS_OK);
  MsgPtr m;
  natsStatus s = natsConnection_RequestString(&m.p, app.p, "$SYS.REQ.SERVER.PING", "", 2000);
  EXPECT_EQ(s, NATS_NO_RESPONDERS) << natsStatus_GetText(s);
  natsStatus s2 = natsConnection_RequestString(&m.p, app.p, "$SYS.REQ.SERVER.PING.VARZ", "{}", 2000);
  EXPECT_EQ(s2, NATS_NO_RESPONDERS) << natsStatus_GetText(s2);
}

TEST_F(SysSeed, AccountRequests) {
  ConnPtr sys, app;
  ASSERT_EQ(connect_url(sys, sc_->node(1).url("sys")), NATS_OK);
  ASSERT_EQ(connect_url(app, sc_->node(0).url("app")), NATS_OK);
  ASSERT_EQ(ping_all(sys.p, 3).size(), 3u);
  // CONNZ for APP: every server answers; east lists the app connection.
  auto connz = collect(sys.p, "$SYS.REQ.ACCOUNT.APP.CONNZ");
  ASSERT_EQ(connz.size(), 3u);
  for (auto& r : connz) {
    int n = r["data"]["num_connections"];
    EXPECT_EQ(n, r["server"]["name"] == "n1" ? 1 : 0) << r.dump();
  }
  auto info = collect(sys.p, "$SYS.REQ.ACCOUNT.APP.INFO");
  ASSERT_EQ(info.size(), 3u);
  for (auto& r : info) EXPECT_EQ(r["data"]["account_name"], "APP");
  // CONNS: only the server with a local APP connection answers.
  auto conns = collect(sys.p, "$SYS.REQ.ACCOUNT.APP.CONNS");
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0]["server"]["name"], "n1");
  EXPECT_EQ(conns[0]["conns"], 1);
}

// Every account imports the reference's system services: a user asking
// $SYS.REQ.SERVER.PING.CONNZ, $SYS.REQ.ACCOUNT.PING.CONNZ or $SYS.REQ.ACCOUNT.PING.STATZ learns
// about its own account only, from the servers of the supercluster. Same answers from the
// reference where it is installed.
TEST(SysImports, UsersAskAboutTheirOwnAccount) {
  struct Seen {
    std::map<std::string, int> server_connz, account_connz;  // server name -> APP connections listed
    std::set<std::string> connz_accounts;                     // accounts named in the connections
    std::vector<std::string> statz_accounts;
  };
  auto observe = [](const std::string& binary, Seen& seen) {
    Supercluster sc(3, 1, binary);
    ASSERT_TRUE(sc.wait_connected());
    ConnPtr sys, app, app2;
    ASSERT_EQ(connect_url(sys, sc.node(1).url("sys")), NATS_OK);
    ASSERT_TRUE(wait_for([&] { return collect(sys.p, "$SYS.REQ.SERVER.PING").size() == 3; }, milliseconds(8000)));
    ASSERT_EQ(connect_url(app, sc.node(0).url("app")), NATS_OK);
    ASSERT_EQ(connect_url(app2, sc.node(2).url("app")), NATS_OK);
    auto by_server = [](const std::vector<json>& replies, std::map<std::string, int>& out, std::set<std::string>* accs) {
      for (auto& r : replies) {
        out[r["server"].value("name", "")] = r["data"].value("num_connections", -1);
        if (accs && r["data"]["connections"].is_array())
          for (auto& c : r["data"]["connections"]) accs->insert(c.value("account", "APP"));
      }
    };
    // Wait until the reply comes from all three (interest across gateways settles).
    std::vector<json> r;
    wait_for([&] {
      r = collect(app.p, "$SYS.REQ.SERVER.PING.CONNZ");
      return r.size() >= 3;
    }, milliseconds(6000));
    by_server(r, seen.server_connz, &seen.connz_accounts);
    by_server(collect(app.p, "$SYS.REQ.ACCOUNT.PING.CONNZ"), seen.account_connz, nullptr);
    for (auto& x : collect(app.p, "$SYS.REQ.ACCOUNT.PING.STATZ"))
      for (auto& a : x["data"]["account_statz"]) seen.statz_accounts.push_back(a.value("acc", ""));
    std::sort(seen.statz_accounts.begin(), seen.statz_accounts.end());
  };
  Seen ours;
  observe(testing_harness::server_binary(), ours);
  std::map<std::string, int> want = {{"n1", 1}, {"n2", 0}, {"n3", 1}};
  EXPECT_EQ(ours.server_connz, want);
  EXPECT_EQ(ours.account_connz, want);
  EXPECT_EQ(ours.connz_accounts, std::set<std::string>{"APP"});
  EXPECT_EQ(ours.statz_accounts, (std::vector<std::string>{"APP", "APP"}));
  if (!testing_harness::reference_available()) return;
  Seen ref;
  observe(testing_harness::reference_binary(), ref);
  EXPECT_EQ(ours.server_connz, ref.server_connz);
  EXPECT_EQ(ours.account_connz, ref.account_connz);
  EXPECT_EQ(ours.statz_accounts, ref.statz_accounts);
}

// The reference's JSON shapes in the same topology, where it is installed.
TEST(SysReference, FieldNamesMatchTheReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto shapes = [](const std::string& binary, std::set<std::string>& statsz, std::set<std::string>& connect,
                   std::set<std::string>& varz_reply, std::set<std::string>& acc_info) {
    Supercluster sc(3, 1, binary);
    ASSERT_TRUE(sc.wait_connected());
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, sc.node(0).url("sys")), NATS_OK);
    std::vector<json> r;
    ASSERT_TRUE(wait_for([&] {
      r = collect(nc.p, "$SYS.REQ.SERVER.PING");
      return r.size() == 3;
    }, milliseconds(8000)));
    for (auto& x : r) key_paths(x, "", statsz);
    SubPtr sub;
    ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "$SYS.ACCOUNT.APP.CONNECT"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);
    {
      ConnPtr app;
      OptsPtr o;
      natsOptions_SetName(o.p, "shape");
      natsOptions_SetAllowReconnect(o.p, false);
      ASSERT_EQ(connect_url(app, sc.node(0).url("app"), o.p), NATS_OK);
      MsgPtr m;
      ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 3000), NATS_OK);
      key_paths(json::parse(m.data()), "", connect);
    }
    auto v = collect(nc.p, "$SYS.REQ.SERVER.PING.VARZ", R"({"server_name":"n2"})");
    ASSERT_EQ(v.size(), 1u);
    for (auto& [k, _] : v[0].items()) varz_reply.insert(k);
    for (auto& [k, _] : v[0]["server"].items()) varz_reply.insert("server." + k);
    auto ai = collect(nc.p, "$SYS.REQ.ACCOUNT.APP.INFO", "", milliseconds(500));
    ASSERT_FALSE(ai.empty());
    for (auto& [k, _] : ai[0]["data"].items()) acc_info.insert(k);
  };
  std::set<std::string> ref_statsz, ref_connect, ref_varz, ref_info, our_statsz, our_connect, our_varz, our_info;
  shapes(testing_harness::reference_binary(), ref_statsz, ref_connect, ref_varz, ref_info);
  shapes(testing_harness::server_binary(), our_statsz, our_connect, our_varz, our_info);
  // Fields that depend on state rather than shape: routes appear only in multi-node clusters.
  EXPECT_EQ(our_statsz, ref_statsz);
  EXPECT_EQ(our_connect, ref_connect);
  EXPECT_EQ(our_varz, ref_varz);
  EXPECT_EQ(our_info, ref_info);
}

TEST(SysDirectory, ShutdownRemovesTheServer) {
  Supercluster sc(3, 1);
  ASSERT_TRUE(sc.wait_connected());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc.node(0).url("sys")), NATS_OK);
  auto active = [&] {
    auto r = collect(nc.p, "$SYS.REQ.SERVER.PING", R"({"server_name":"n1"})", milliseconds(200), milliseconds(1500));
    return r.size() == 1 ? r[0]["statsz"]["active_servers"].get<int>() : -1;
  };
  ASSERT_TRUE(wait_for([&] { return active() == 3; }, milliseconds(8000)));
  sc.node(2).proc->stop();
  // The SHUTDOWN event (not the 150s orphan timeout) takes it out of the table.
  EXPECT_TRUE(wait_for([&] { return active() == 2; }, milliseconds(5000)));
}

TEST(SysSupercluster, ThreeByThreePingAnsweredByNine) {
  Supercluster sc(3, 3);
  ASSERT_TRUE(sc.wait_connected(milliseconds(30000))) << sc.describe();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc.node(4).url("sys")), NATS_OK);
  std::vector<json> r;
  // On a loaded machine the mesh may still be completing: wait for the full picture.
  auto complete = [](const std::vector<json>& replies) {
    if (replies.size() < 9) return false;
    for (auto& x : replies) {
      auto& st = x["statsz"];
      if (!st.contains("routes") || st["routes"].size() != 2) return false;
      if (!st.contains("gateways") || st["gateways"].size() != 2) return false;
    }
    return true;
  };
  wait_for([&] {
    r = collect(nc.p, "$SYS.REQ.SERVER.PING");
    return complete(r);
  }, milliseconds(20000));
  ASSERT_EQ(r.size(), 9u);
  EXPECT_EQ(names_of(r).size(), 9u);
  for (auto& x : r) {
    auto& st = x["statsz"];
    ASSERT_TRUE(st.contains("routes")) << x["server"]["name"];
    EXPECT_EQ(st["routes"].size(), 2u) << st.dump();
    for (auto& rt : st["routes"]) {
      EXPECT_TRUE(rt.contains("rid") && rt.contains("name") && rt.contains("pending")) << rt.dump();
    }
    ASSERT_TRUE(st.contains("gateways"));
    EXPECT_EQ(st["gateways"].size(), 2u) << st.dump();
  }
  std::vector<json> west;
  wait_for([&] {
    west = collect(nc.p, "$SYS.REQ.SERVER.PING", R"({"cluster":"west"})");
    return west.size() >= 3;
  }, milliseconds(10000));
  EXPECT_EQ(names_of(west), (std::set<std::string>{"n7", "n8", "n9"}));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
