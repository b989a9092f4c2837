// Clusters: real server processes joined by routes on loopback. A 3-node cluster from one
// seed route (full mesh through gossip), churn (kill and restart a node), exactly-once
// delivery, queue groups one-per-message cluster-wide, connect_urls for clients, and bad
// peers refused.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

struct Cluster3 {
  std::vector<std::unique_ptr<Node>> nodes;
  explicit Cluster3(std::vector<std::string> binaries = {}) {
    int seed = testing_harness::free_port();
    for (int i = 0; i < 3; ++i) {
      auto n = std::make_unique<Node>();
      n->name = "n" + std::to_string(i);
      n->cluster = "c1";
      n->cluster_port = i == 0 ? seed : testing_harness::free_port();
      n->routes = {"nats-route://127.0.0.1:" + std::to_string(seed)};
      if (i < static_cast<int>(binaries.size()) && !binaries[i].empty()) n->binary = binaries[i];
      nodes.push_back(std::move(n));
    }
    for (auto& n : nodes) n->start();
  }
  bool wait_mesh(std::chrono::milliseconds t = std::chrono::seconds(8)) {
    return wait_for([&] {
      for (auto& n : nodes)
        if (n->num_routes() != static_cast<int>(nodes.size()) - 1) return false;
      return true;
    }, t);
  }
};

}  // namespace

TEST(ClusterRoutes, ThreeNodeFullMeshFromSeedRoute) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh()) << c.nodes[1]->proc->log();
  // Messages from a route are never forwarded to other routes, so each pair reaching the
  // other proves a direct route between them.
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i != j) {
        EXPECT_TRUE(can_reach(*c.nodes[i], *c.nodes[j])) << i << "->" << j;
      }
    }
  }
}

TEST(ClusterRoutes, MessagesExactlyOnceAndQueueOnePerMessage) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh());
  ConnPtr pub, s1, s2, q0, q1, q2;
  ASSERT_EQ(connect_url(pub, c.nodes[0]->url()), NATS_OK);
  ASSERT_EQ(connect_url(s1, c.nodes[1]->url()), NATS_OK);
  ASSERT_EQ(connect_url(s2, c.nodes[2]->url()), NATS_OK);
  ASSERT_EQ(connect_url(q0, c.nodes[0]->url()), NATS_OK);
  ASSERT_EQ(connect_url(q1, c.nodes[1]->url()), NATS_OK);
  ASSERT_EQ(connect_url(q2, c.nodes[2]->url()), NATS_OK);
  MsgCounter m1, m2, mq0, mq1, mq2;
  SubPtr a, b, wild, x, y, z;
  ASSERT_EQ(natsConnection_Subscribe(&a.p, s1.p, "data.x", MsgCounter::on_msg, &m1), NATS_OK);
  // Two overlapping subscriptions on one server still get one RMSG per message each way.
  ASSERT_EQ(natsConnection_Subscribe(&b.p, s2.p, "data.x", MsgCounter::on_msg, &m2), NATS_OK);
  ASSERT_EQ(natsConnection_Subscribe(&wild.p, s2.p, "data.*", MsgCounter::on_msg, &m2), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&x.p, q0.p, "work", "g", MsgCounter::on_msg, &mq0), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&y.p, q1.p, "work", "g", MsgCounter::on_msg, &mq1), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&z.p, q2.p, "work", "g", MsgCounter::on_msg, &mq2), NATS_OK);
  for (auto* cn : {s1.p, s2.p, q0.p, q1.p, q2.p}) ASSERT_EQ(natsConnection_Flush(cn), NATS_OK);
  ASSERT_TRUE(wait_interest(*c.nodes[0], "data.x", 2));
  ASSERT_TRUE(wait_interest(*c.nodes[0], "work", 3));

  for (int i = 0; i < 200; ++i) natsConnection_PublishString(pub.p, "data.x", "m");
  for (int i = 0; i < 300; ++i) natsConnection_PublishString(pub.p, "work", "w");
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  EXPECT_TRUE(m1.wait_count(200));
  EXPECT_TRUE(m2.wait_count(400));
  EXPECT_TRUE(wait_for([&] { return mq0.get() + mq1.get() + mq2.get() >= 300; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(m1.get(), 200);
  EXPECT_EQ(m2.get(), 400);
  EXPECT_EQ(mq0.get() + mq1.get() + mq2.get(), 300);
  // Remote members get a share (weighted random across the cluster).
  EXPECT_GT(mq1.get() + mq2.get(), 0);
}

TEST(ClusterRoutes, RequestReplyAcrossRoutes) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh());
  ConnPtr svc, req;
  ASSERT_EQ(connect_url(svc, c.nodes[2]->url()), NATS_OK);
  ASSERT_EQ(connect_url(req, c.nodes[0]->url()), NATS_OK);
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, svc.p, "svc.echo", echo_handler, nullptr), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
  ASSERT_TRUE(wait_interest(*c.nodes[0], "svc.echo", 1));
  for (int i = 0; i < 20; ++i) {
    MsgPtr reply;
    ASSERT_EQ(natsConnection_RequestString(&reply.p, req.p, "svc.echo", "ping", 2000), NATS_OK) << i;
    EXPECT_EQ(reply.data(), "echo:ping");
  }
}

TEST(ClusterRoutes, KillAndRestartNodeHealsAndKeepsInterestRight) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh());
  // A subscriber on node 2, which goes away.
  {
    ConnPtr s2;
    ASSERT_EQ(connect_url(s2, c.nodes[2]->url()), NATS_OK);
    SubPtr sub;
    ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, s2.p, "churn"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(s2.p), NATS_OK);
    ASSERT_TRUE(wait_interest(*c.nodes[0], "churn", 1));
    c.nodes[2]->proc->stop(SIGKILL);
  }
  ASSERT_TRUE(wait_for([&] { return c.nodes[0]->num_routes() == 1 && c.nodes[1]->num_routes() == 1; },
                       std::chrono::seconds(5)));
  // Its interest is gone with it.
  EXPECT_TRUE(wait_interest(*c.nodes[0], "churn", 0));

  c.nodes[2]->start();
  ASSERT_TRUE(c.wait_mesh(std::chrono::seconds(10))) << c.nodes[2]->proc->log();
  ConnPtr pub, s1, s2;
  ASSERT_EQ(connect_url(pub, c.nodes[0]->url()), NATS_OK);
  ASSERT_EQ(connect_url(s1, c.nodes[1]->url()), NATS_OK);
  ASSERT_EQ(connect_url(s2, c.nodes[2]->url()), NATS_OK);
  MsgCounter m1, m2;
  SubPtr a, b;
  ASSERT_EQ(natsConnection_Subscribe(&a.p, s1.p, "after", MsgCounter::on_msg, &m1), NATS_OK);
  ASSERT_EQ(natsConnection_Subscribe(&b.p, s2.p, "after", MsgCounter::on_msg, &m2), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(s1.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(s2.p), NATS_OK);
  ASSERT_TRUE(wait_interest(*c.nodes[0], "after", 2));
  for (int i = 0; i < 50; ++i) natsConnection_PublishString(pub.p, "after", "x");
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  EXPECT_TRUE(m1.wait_count(50));
  EXPECT_TRUE(m2.wait_count(50));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(m1.get(), 50);
  EXPECT_EQ(m2.get(), 50);
}

TEST(ClusterRoutes, ClientsLearnConnectUrls) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh());
  RawClient rc(c.nodes[0]->proc->port());
  ASSERT_TRUE(rc.connected());
  auto j = nlohmann::json::parse(rc.info_json());
  ASSERT_TRUE(j.contains("connect_urls")) << rc.info();
  std::set<std::string> urls;
  for (auto& u : j["connect_urls"]) urls.insert(u.get<std::string>());
  for (auto& n : c.nodes) EXPECT_TRUE(urls.count("127.0.0.1:" + std::to_string(n->proc->port()))) << rc.info();
  EXPECT_EQ(j.value("cluster", ""), "c1");
}

TEST(ClusterRoutes, RoutezReportsPeers) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh());
  auto j = nlohmann::json::parse(http_get(c.nodes[0]->http_port, "/routez"));
  ASSERT_EQ(j["num_routes"], 2);
  std::set<std::string> ids;
  for (auto& r : j["routes"]) {
    ids.insert(r["remote_id"].get<std::string>());
    EXPECT_TRUE(r.contains("rid"));
    EXPECT_TRUE(r.contains("did_solicit"));
    EXPECT_TRUE(r.contains("subscriptions"));
  }
  EXPECT_EQ(ids.size(), 2u);
  auto v = nlohmann::json::parse(http_get(c.nodes[0]->http_port, "/varz"));
  EXPECT_EQ(v["routes"], 2);
  EXPECT_EQ(v["cluster"]["name"], "c1");
}

TEST(ClusterRoutes, MalformedRouteLineIsRefusedAndClusterUnaffected) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh());
  RawClient peer(c.nodes[0]->cluster_port);
  ASSERT_TRUE(peer.connected());
  ASSERT_EQ(peer.info().rfind("INFO ", 0), 0u);
  peer.send(fake_route_handshake("c1"));
  // An RMSG with a non-numeric size: the reference closes the route.
  peer.send("RMSG $G foo bar notanumber\r\n");
  EXPECT_TRUE(peer.wait_closed(milliseconds(2000)));
  // The real routes still work.
  EXPECT_TRUE(can_reach(*c.nodes[1], *c.nodes[0]));
  EXPECT_TRUE(can_reach(*c.nodes[0], *c.nodes[2]));
  EXPECT_EQ(c.nodes[0]->num_routes(), 2);
}

TEST(ClusterRoutes, ClusterNameConflictIsRefused) {
  Cluster3 c;
  ASSERT_TRUE(c.wait_mesh());
  RawClient peer(c.nodes[0]->cluster_port);
  ASSERT_TRUE(peer.connected());
  peer.send(fake_route_handshake("other"));
  auto l = peer.read_line(milliseconds(2000));
  while (l && l->rfind("-ERR", 0) != 0) l = peer.read_line(milliseconds(2000));
  ASSERT_TRUE(l.has_value());
  EXPECT_NE(l->find("Rejecting connection, cluster name \"other\" does not match \"c1\""), std::string::npos) << *l;
  EXPECT_TRUE(peer.wait_closed(milliseconds(2000)));
  EXPECT_EQ(c.nodes[0]->num_routes(), 2);
}

TEST(ClusterRoutes, WrongRouteCredentialsAreRefused) {
  Node n;
  n.cluster = "c1";
  n.cluster_port = testing_harness::free_port();
  n.cluster_extra = "authorization { user: ruser, password: rpass }";
  n.start();
  // The harness waits for the client port. Ours opens the route port before it now
  // (StartupListenerOrder); 2.9.10 a moment after it, so the test still allows for that.
  RawClient peer;
  wait_for([&] {
    if (peer.connect(n.cluster_port)) return true;
    peer.close();
    return false;
  }, milliseconds(5000));
  ASSERT_TRUE(peer.connected());
  EXPECT_NE(peer.info().find("\"auth_required\":true"), std::string::npos) << peer.info();
  peer.send("CONNECT {\"user\":\"ruser\",\"pass\":\"bad\",\"name\":\"NFAKE\",\"cluster\":\"c1\"}\r\n");
  auto l = peer.read_line(milliseconds(2000));
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(*l, "-ERR 'Authorization Violation'");
  EXPECT_TRUE(peer.wait_closed(milliseconds(2000)));
}

TEST(ClusterRoutes, RouteWithCredentialsConnects) {
  int seed = testing_harness::free_port();
  Node a, b;
  for (auto* n : {&a, &b}) {
    n->cluster = "c1";
    n->cluster_extra = "authorization { user: ruser, password: rpass }";
    n->routes = {"nats-route://ruser:rpass@127.0.0.1:" + std::to_string(seed)};
  }
  a.cluster_port = seed;
  b.cluster_port = testing_harness::free_port();
  a.start();
  b.start();
  ASSERT_TRUE(wait_for([&] { return a.num_routes() == 1 && b.num_routes() == 1; }, std::chrono::seconds(5)));
  EXPECT_TRUE(can_reach(a, b));
  EXPECT_TRUE(can_reach(b, a));
}

TEST(ClusterRoutes, ServersListingEachOtherKeepOneRoute) {
  // Both servers solicit each other (and themselves): duplicates are resolved to one route.
  int pa = testing_harness::free_port(), pb = testing_harness::free_port();
  std::vector<std::string> both = {"nats-route://127.0.0.1:" + std::to_string(pa),
                                   "nats-route://127.0.0.1:" + std::to_string(pb)};
  Node a, b;
  a.cluster = b.cluster = "c1";
  a.cluster_port = pa;
  b.cluster_port = pb;
  a.routes = b.routes = both;
  a.start();
  b.start();
  ASSERT_TRUE(wait_for([&] { return a.num_routes() == 1 && b.num_routes() == 1; }, std::chrono::seconds(6)));
  // Stable: still one route each a little later, and messages arrive once.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(a.num_routes(), 1);
  EXPECT_EQ(b.num_routes(), 1);
  ConnPtr pub, sub;
  ASSERT_EQ(connect_url(pub, a.url()), NATS_OK);
  ASSERT_EQ(connect_url(sub, b.url()), NATS_OK);
  MsgCounter m;
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, sub.p, "once", MsgCounter::on_msg, &m), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(sub.p), NATS_OK);
  ASSERT_TRUE(wait_interest(a, "once", 1));
  for (int i = 0; i < 20; ++i) natsConnection_PublishString(pub.p, "once", "x");
  natsConnection_Flush(pub.p);
  EXPECT_TRUE(m.wait_count(20));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(m.get(), 20);
}

TEST(ClusterRoutes, AccountsStaySeparateAcrossRoutesAndHeadersPass) {
  int seed = testing_harness::free_port();
  std::string accounts =
      "accounts {\n  A { users: [{user: a, password: a}] }\n  B { users: [{user: b, password: b}] }\n}\n";
  Node n1, n2;
  for (auto* n : {&n1, &n2}) {
    n->cluster = "c1";
    n->routes = {"nats-route://127.0.0.1:" + std::to_string(seed)};
    n->extra = accounts;
  }
  n1.cluster_port = seed;
  n2.cluster_port = testing_harness::free_port();
  n1.start();
  n2.start();
  ASSERT_TRUE(wait_for([&] { return n1.num_routes() == 1 && n2.num_routes() == 1; }, std::chrono::seconds(5)));
  RawClient a_sub(n2.proc->port()), b_sub(n2.proc->port()), a_pub(n1.proc->port());
  ASSERT_TRUE(a_sub.send("CONNECT {\"user\":\"a\",\"pass\":\"a\",\"verbose\":false,\"headers\":true}\r\nSUB acc.x 1\r\nPING\r\n"));
  ASSERT_TRUE(a_sub.expect_line("PONG"));
  ASSERT_TRUE(b_sub.send("CONNECT {\"user\":\"b\",\"pass\":\"b\",\"verbose\":false,\"headers\":true}\r\nSUB acc.x 1\r\nPING\r\n"));
  ASSERT_TRUE(b_sub.expect_line("PONG"));
  ASSERT_TRUE(a_pub.send("CONNECT {\"user\":\"a\",\"pass\":\"a\",\"verbose\":false,\"headers\":true}\r\nPING\r\n"));
  ASSERT_TRUE(a_pub.expect_line("PONG"));
  ASSERT_TRUE(wait_interest(n1, "acc.x", 2));
  const std::string hdr = "NATS/1.0\r\nK: v\r\n\r\n";
  ASSERT_TRUE(a_pub.send("HPUB acc.x r " + std::to_string(hdr.size()) + " " + std::to_string(hdr.size() + 2) +
                         "\r\n" + hdr + "hi\r\nPING\r\n"));
  ASSERT_TRUE(a_pub.expect_line("PONG"));
  auto l = a_sub.read_line(milliseconds(2000));
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(*l, "HMSG acc.x 1 r " + std::to_string(hdr.size()) + " " + std::to_string(hdr.size() + 2));
  auto body = a_sub.read_exact(hdr.size() + 4);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, hdr + "hi\r\n");
  // Account B's subscriber on the same subject sees nothing.
  EXPECT_FALSE(b_sub.read_line(milliseconds(300)).has_value());
}


// Start-up listener order. 2.9.10 (Server.Start) opens the gateway, websocket and leafnode
// listeners before it accepts clients, and the route listener right after (a goroutine,
// logged after "Server is ready"). Ours opens all of them before the client port, so a tool
// that connects to another port once the client port answers is never refused; the log
// lines come in 2.9.10's order.
namespace {

struct StartPorts {
  int client = testing_harness::free_port();
  int route = testing_harness::free_port();
  int gateway = testing_harness::free_port();
  int leaf = testing_harness::free_port();
  int ws = testing_harness::free_port();
  int http = testing_harness::free_port();
};

// Every listener kind 2.9.10 opens at start (gateways and leafnodes together need a
// system account). The cluster and gateway names agree, as 2.9.10 requires.
std::string all_listeners_config(const StartPorts& p, const std::string& ports_dir) {
  std::string c = "listen: 127.0.0.1:" + std::to_string(p.client) + "\n";
  c += "http: 127.0.0.1:" + std::to_string(p.http) + "\n";
  c += "server_name: S1\n";
  if (!ports_dir.empty()) c += "ports_file_dir: \"" + ports_dir + "\"\n";
  c += "accounts { SYS { users [{user: s, password: s}] } }\nsystem_account: SYS\n";
  c += "cluster { name: g1, listen: 127.0.0.1:" + std::to_string(p.route) + " }\n";
  c += "gateway { name: g1, listen: 127.0.0.1:" + std::to_string(p.gateway) + " }\n";
  c += "leafnodes { listen: 127.0.0.1:" + std::to_string(p.leaf) + " }\n";
  c += "websocket { listen: 127.0.0.1:" + std::to_string(p.ws) + ", no_tls: true }\n";
  return c;
}

// The server starts on the test thread; a watcher connects to the client port every few
// hundred microseconds and, the moment it accepts, to each other port once.
TEST(StartupListenerOrder, OtherPortsOpenOnceClientPortAnswers) {
  for (int round = 0; round < 6; ++round) {
    StartPorts p;
    std::atomic<bool> stop{false};
    std::string refused;  // written by the watcher, read after join
    bool seen = false;
    std::thread watcher([&] {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
      while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
        if (!testing_harness::port_open(p.client)) {
          std::this_thread::sleep_for(std::chrono::microseconds(300));
          continue;
        }
        seen = true;
        for (auto [name, port] : {std::pair{"route", p.route}, {"gateway", p.gateway}, {"leafnode", p.leaf},
                                  {"websocket", p.ws}})
          if (!testing_harness::port_open(port)) refused += std::string(name) + " ";
        return;
      }
    });
    testing_harness::TempDir conf;
    testing_harness::ServerProcess srv({"-c", conf.write("s.conf", all_listeners_config(p, ""))},
                                       testing_harness::server_binary(), p.client);
    try {
      srv.start();
    } catch (...) {
      stop = true;
      watcher.join();
      throw;
    }
    // The watcher may be scheduled late under load: it stops once it has seen the port.
    watcher.join();
    ASSERT_TRUE(seen) << "round " << round;
    EXPECT_EQ(refused, "") << "round " << round << ": refused once the client port answered";
  }
}

// The listeners' start-up lines, and the ports file, as 2.9.10 gives them.
TEST(StartupListenerOrder, LogLinesAndPortsFileAsReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    StartPorts p;
    testing_harness::TempDir d;
    testing_harness::TempDir conf;
    auto srv = std::make_unique<testing_harness::ServerProcess>(
        std::vector<std::string>{"-c", conf.write("s.conf", all_listeners_config(p, d.path()))}, bin, p.client);
    srv->start();
    const std::vector<std::string> order = {"Listening for gateways connections", "Listening for websocket clients",
                                            "Listening for leafnode connections", "Listening for client connections",
                                            "Server is ready", "Cluster name is",
                                            "Listening for route connections"};
    std::string log;
    // 2.9.10 logs the route lines from a goroutine, just after it is ready.
    ASSERT_TRUE(wait_for([&] {
      log = srv->log();
      return log.find(order.back()) != std::string::npos;
    }, milliseconds(5000))) << bin << "\n" << log;
    size_t at = 0;
    for (const auto& line : order) {
      size_t pos = log.find(line);
      ASSERT_NE(pos, std::string::npos) << bin << ": " << line << "\n" << log;
      EXPECT_GE(pos, at) << bin << ": '" << line << "' out of order\n" << log;
      at = pos;
    }
    std::string path = d.path() + "/nats-server_" + std::to_string(srv->pid()) + ".ports";
    ASSERT_TRUE(wait_for([&] { return access(path.c_str(), R_OK) == 0; }, milliseconds(5000))) << bin;
    std::ifstream in(path);
    auto j = nlohmann::json::parse(in, nullptr, false);
    EXPECT_EQ(j["nats"], nlohmann::json::array({"nats://127.0.0.1:" + std::to_string(p.client)})) << bin << j.dump();
    EXPECT_EQ(j["cluster"], nlohmann::json::array({"nats://127.0.0.1:" + std::to_string(p.route)})) << bin << j.dump();
    EXPECT_EQ(j["websocket"], nlohmann::json::array({"ws://127.0.0.1:" + std::to_string(p.ws)})) << bin << j.dump();
    EXPECT_EQ(j["monitoring"], nlohmann::json::array({"http://127.0.0.1:" + std::to_string(p.http)}))
        << bin << j.dump();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
