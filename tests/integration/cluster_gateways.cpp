// Superclusters: clusters joined by gateways. The seed topology (three single-node
// clusters east/central/west, each config listing all three gateways, its own among them),
// request/reply across gateways (including replies to fresh inboxes), queue groups answered
// in the local cluster first, gateway discovery from a single URL, and bad peers refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

// Three single-node clusters as in the seed example, on test-picked ports.
struct SeedTopology {
  std::vector<std::unique_ptr<Node>> nodes;  // east, central, west
  explicit SeedTopology(std::vector<std::string> binaries = {}) {
    const char* names[] = {"east", "central", "west"};
    std::vector<int> gw_ports;
    for (int i = 0; i < 3; ++i) gw_ports.push_back(testing_harness::free_port());
    for (int i = 0; i < 3; ++i) {
      auto n = std::make_unique<Node>();
      n->name = std::string("n") + std::to_string(i + 1);
      n->cluster = names[i];
      n->cluster_port = testing_harness::free_port();
      n->routes = {"nats-route://127.0.0.1:" + std::to_string(n->cluster_port)};  // itself
      n->gateway = names[i];
      n->gateway_port = gw_ports[i];
      for (int k = 0; k < 3; ++k)
        n->gateways.emplace_back(names[k], "nats://127.0.0.1:" + std::to_string(gw_ports[k]));
      if (i < static_cast<int>(binaries.size()) && !binaries[i].empty()) n->binary = binaries[i];
      nodes.push_back(std::move(n));
    }
    for (auto& n : nodes) n->start();
  }
  Node& east() { return *nodes[0]; }
  Node& central() { return *nodes[1]; }
  Node& west() { return *nodes[2]; }
  bool wait_connected(std::chrono::milliseconds t = std::chrono::seconds(10)) {
    return wait_for([&] {
      for (auto& n : nodes)
        if (n->num_outbound_gateways() != 2 || n->num_inbound_gateways() != 2) return false;
      return true;
    }, t);
  }
};

void request_from_west_answered_in_east(SeedTopology& t) {
  ConnPtr svc, req;
  ASSERT_EQ(connect_url(svc, t.east().url()), NATS_OK);
  ASSERT_EQ(connect_url(req, t.west().url()), NATS_OK);
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, svc.p, "svc.time", echo_handler, nullptr), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
  // The first request may race the service's interest reaching west; retry until it lands.
  ASSERT_TRUE(wait_for([&] {
    MsgPtr r;
    return natsConnection_RequestString(&r.p, req.p, "svc.time", "warm", 300) == NATS_OK;
  }, std::chrono::seconds(8)));
  for (int i = 0; i < 20; ++i) {
    MsgPtr reply;
    ASSERT_EQ(natsConnection_RequestString(&reply.p, req.p, "svc.time", "q", 2000), NATS_OK) << i;
    EXPECT_EQ(reply.data(), "echo:q");
  }
}

void queue_answered_locally(SeedTopology& t) {
  ConnPtr e, w, pw, pc;
  ASSERT_EQ(connect_url(e, t.east().url()), NATS_OK);
  ASSERT_EQ(connect_url(w, t.west().url()), NATS_OK);
  ASSERT_EQ(connect_url(pw, t.west().url()), NATS_OK);
  ASSERT_EQ(connect_url(pc, t.central().url()), NATS_OK);
  MsgCounter me, mw;
  SubPtr se, sw;
  ASSERT_EQ(natsConnection_QueueSubscribe(&se.p, e.p, "jobs", "workers", MsgCounter::on_msg, &me), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&sw.p, w.p, "jobs", "workers", MsgCounter::on_msg, &mw), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(e.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(w.p), NATS_OK);
  // Central has no member: wait until both remote groups are known there.
  ASSERT_TRUE(wait_for([&] {
    int before = me.get() + mw.get();
    natsConnection_PublishString(pc.p, "jobs", "probe");
    natsConnection_Flush(pc.p);
    return wait_for([&] { return me.get() + mw.get() > before; }, milliseconds(200));
  }, std::chrono::seconds(8)));
  std::this_thread::sleep_for(milliseconds(200));
  int e0 = me.get(), w0 = mw.get();

  // Published in west: the west member takes all of them.
  for (int i = 0; i < 50; ++i) natsConnection_PublishString(pw.p, "jobs", "w");
  ASSERT_EQ(natsConnection_Flush(pw.p), NATS_OK);
  EXPECT_TRUE(wait_for([&] { return mw.get() - w0 >= 50; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(mw.get() - w0, 50);
  EXPECT_EQ(me.get() - e0, 0);

  // Published in central (no member): each message to exactly one remote member.
  int e1 = me.get(), w1 = mw.get();
  for (int i = 0; i < 60; ++i) natsConnection_PublishString(pc.p, "jobs", "c");
  ASSERT_EQ(natsConnection_Flush(pc.p), NATS_OK);
  EXPECT_TRUE(wait_for([&] { return (me.get() - e1) + (mw.get() - w1) >= 60; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ((me.get() - e1) + (mw.get() - w1), 60);
}

}  // namespace

TEST(ClusterGateways, SeedTopologyConnectsAndSkipsOwnGateway) {
  SeedTopology t;
  ASSERT_TRUE(t.wait_connected()) << t.east().proc->log();
  auto j = http_json(t.east().http_port, "/gatewayz");
  EXPECT_EQ(j["name"], "east");
  EXPECT_TRUE(j["outbound_gateways"].contains("central"));
  EXPECT_TRUE(j["outbound_gateways"].contains("west"));
  EXPECT_FALSE(j["outbound_gateways"].contains("east"));
  EXPECT_TRUE(j["inbound_gateways"].contains("west"));
  auto v = http_json(t.east().http_port, "/varz");
  EXPECT_EQ(v["gateway"]["name"], "east");
}

TEST(ClusterGateways, RequestFromWestAnsweredByServiceInEast) {
  SeedTopology t;
  ASSERT_TRUE(t.wait_connected());
  request_from_west_answered_in_east(t);
}

TEST(ClusterGateways, QueueGroupInTwoClustersAnsweredLocally) {
  SeedTopology t;
  ASSERT_TRUE(t.wait_connected());
  queue_answered_locally(t);
}

TEST(ClusterGateways, ReplyToFreshInboxIsNotLost) {
  // The responder answers on an inbox created just before the request; its interest may not
  // have reached east yet, so the reply must follow the _GR_ mapping back to west.
  SeedTopology t;
  ASSERT_TRUE(t.wait_connected());
  RawClient svc(t.east().proc->port());
  RawClient cli(t.west().proc->port());
  ASSERT_TRUE(svc.send("CONNECT {\"verbose\":false}\r\nSUB fresh.svc 1\r\nPING\r\n"));
  ASSERT_TRUE(svc.expect_line("PONG"));
  ASSERT_TRUE(cli.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
  ASSERT_TRUE(cli.expect_line("PONG"));
  // Wait until west knows about the service (interest from east), using a probe.
  ASSERT_TRUE(wait_for([&] {
    cli.send("PUB fresh.svc 5\r\nprobe\r\n");
    auto l = svc.read_line(milliseconds(200));
    if (!l) return false;
    svc.read_line(milliseconds(200));  // payload
    return true;
  }, std::chrono::seconds(8)));
  std::this_thread::sleep_for(milliseconds(200));
  while (svc.read_line(milliseconds(50))) {
  }
  for (int i = 0; i < 5; ++i) {
    std::string inbox = "_INBOX.fresh" + std::to_string(i);
    // Subscribe and request back to back; the reply is sent the moment the request lands.
    ASSERT_TRUE(cli.send("SUB " + inbox + " " + std::to_string(10 + i) + "\r\nPUB fresh.svc " + inbox + " 3\r\nreq\r\n"));
    auto l = svc.read_line(milliseconds(2000));
    ASSERT_TRUE(l.has_value());
    // MSG fresh.svc 1 <reply> 3: the reply reaches the client as the plain inbox.
    EXPECT_EQ(*l, "MSG fresh.svc 1 " + inbox + " 3");
    svc.read_line();
    ASSERT_TRUE(svc.send("PUB " + inbox + " 3\r\nrep\r\n"));
    auto m = cli.read_line(milliseconds(2000));
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(*m, "MSG " + inbox + " " + std::to_string(10 + i) + " 3");
    cli.read_line();
  }
}

TEST(ClusterGateways, DiscoveryFromOneUrl) {
  // A and B know each other; C only knows A. B learns of C through gossip and connects.
  int pa = testing_harness::free_port(), pb = testing_harness::free_port(), pc = testing_harness::free_port();
  auto url = [](int p) { return "nats://127.0.0.1:" + std::to_string(p); };
  Node a, b, c;
  a.gateway = "A"; a.gateway_port = pa; a.gateways = {{"B", url(pb)}};
  b.gateway = "B"; b.gateway_port = pb; b.gateways = {{"A", url(pa)}};
  c.gateway = "C"; c.gateway_port = pc; c.gateways = {{"A", url(pa)}};
  a.start();
  b.start();
  c.start();
  ASSERT_TRUE(wait_for([&] {
    return a.num_outbound_gateways() == 2 && b.num_outbound_gateways() == 2 && c.num_outbound_gateways() == 2;
  }, std::chrono::seconds(10))) << a.num_outbound_gateways() << b.num_outbound_gateways() << c.num_outbound_gateways();
  EXPECT_TRUE(can_reach(b, c, milliseconds(5000)));
  EXPECT_TRUE(can_reach(c, b, milliseconds(5000)));
}

TEST(ClusterGateways, GatewayNamingTheWrongClusterIsRefused) {
  // A lists "B" at an address where gateway "X" listens: A refuses that connection.
  int pa = testing_harness::free_port(), px = testing_harness::free_port();
  Node a, x;
  a.gateway = "A"; a.gateway_port = pa; a.gateways = {{"B", "nats://127.0.0.1:" + std::to_string(px)}};
  x.gateway = "X"; x.gateway_port = px;
  x.start();
  a.start();
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(a.num_outbound_gateways(), 0);
  EXPECT_NE(a.proc->log().find("remote gateway name is \"X\""), std::string::npos) << a.proc->log();
  // Nothing else is disturbed: clients still work on both.
  ConnPtr c1;
  EXPECT_EQ(connect_url(c1, a.url()), NATS_OK);
}

TEST(ClusterGateways, MalformedGatewayLineIsRefused) {
  SeedTopology t;
  ASSERT_TRUE(t.wait_connected());
  RawClient peer(t.east().gateway_port);
  ASSERT_TRUE(peer.connected());
  EXPECT_NE(peer.info().find("\"gateway\":\"east\""), std::string::npos) << peer.info();
  peer.send("CONNECT {\"echo\":false,\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"headers\":true,"
            "\"name\":\"NFAKEGW\",\"cluster\":\"\",\"gateway\":\"fake\"}\r\n");
  peer.send("RMSG $G foo + \r\n");
  EXPECT_TRUE(peer.wait_closed(milliseconds(2000)));
  request_from_west_answered_in_east(t);
}

TEST(ClusterGateways, SuperclusterOfThreeClustersOfThree) {
  const char* names[] = {"A", "B", "C"};
  std::vector<int> seed_route, seed_gw;
  for (int c = 0; c < 3; ++c) {
    seed_route.push_back(testing_harness::free_port());
    seed_gw.push_back(testing_harness::free_port());
  }
  std::vector<std::unique_ptr<Node>> nodes;  // cluster c, node i at 3*c+i
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 3; ++i) {
      auto n = std::make_unique<Node>();
      n->name = std::string(names[c]) + std::to_string(i);
      n->cluster = names[c];
      n->cluster_port = i == 0 ? seed_route[c] : testing_harness::free_port();
      n->routes = {"nats-route://127.0.0.1:" + std::to_string(seed_route[c])};
      n->gateway = names[c];
      n->gateway_port = i == 0 ? seed_gw[c] : testing_harness::free_port();
      for (int k = 0; k < 3; ++k)
        n->gateways.emplace_back(names[k], "nats://127.0.0.1:" + std::to_string(seed_gw[k]));
      nodes.push_back(std::move(n));
    }
  for (auto& n : nodes) n->start();
  auto at = [&](int c, int i) -> Node& { return *nodes[3 * c + i]; };
  ASSERT_TRUE(wait_for([&] {
    for (auto& n : nodes)
      if (n->num_routes() != 2 || n->num_outbound_gateways() != 2) return false;
    return true;
  }, std::chrono::seconds(15)));

  // Plain interest on a non-seed server of C, published from a non-seed server of A.
  EXPECT_TRUE(can_reach(at(0, 1), at(2, 2)));
  EXPECT_TRUE(can_reach(at(2, 1), at(1, 2)));

  // A service (queue group) with members in B and C; requests from every server of A.
  ConnPtr sb, sc;
  ASSERT_EQ(connect_url(sb, at(1, 1).url()), NATS_OK);
  ASSERT_EQ(connect_url(sc, at(2, 2).url()), NATS_OK);
  SubPtr qb, qc;
  ASSERT_EQ(natsConnection_QueueSubscribe(&qb.p, sb.p, "sc.svc", "svc", echo_handler, nullptr), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&qc.p, sc.p, "sc.svc", "svc", echo_handler, nullptr), NATS_OK);
  natsConnection_Flush(sb.p);
  natsConnection_Flush(sc.p);
  for (int i = 0; i < 3; ++i) {
    ConnPtr req;
    ASSERT_EQ(connect_url(req, at(0, i).url()), NATS_OK);
    ASSERT_TRUE(wait_for([&] {
      MsgPtr r;
      return natsConnection_RequestString(&r.p, req.p, "sc.svc", "w", 300) == NATS_OK;
    }, std::chrono::seconds(8))) << i;
    for (int k = 0; k < 10; ++k) {
      MsgPtr r;
      ASSERT_EQ(natsConnection_RequestString(&r.p, req.p, "sc.svc", "x", 2000), NATS_OK) << i << "/" << k;
      EXPECT_EQ(r.data(), "echo:x");
    }
  }

  // A queue group with members in A (server 1) and B (server 2): publishes in A stay in A,
  // publishes in C go to exactly one member.
  ConnPtr ma, mb, pa, pc;
  ASSERT_EQ(connect_url(ma, at(0, 1).url()), NATS_OK);
  ASSERT_EQ(connect_url(mb, at(1, 2).url()), NATS_OK);
  ASSERT_EQ(connect_url(pa, at(0, 2).url()), NATS_OK);
  ASSERT_EQ(connect_url(pc, at(2, 0).url()), NATS_OK);
  MsgCounter ca, cb;
  SubPtr s1, s2;
  ASSERT_EQ(natsConnection_QueueSubscribe(&s1.p, ma.p, "sc.jobs", "w", MsgCounter::on_msg, &ca), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&s2.p, mb.p, "sc.jobs", "w", MsgCounter::on_msg, &cb), NATS_OK);
  natsConnection_Flush(ma.p);
  natsConnection_Flush(mb.p);
  ASSERT_TRUE(wait_interest(at(0, 2), "sc.jobs", 1));
  ASSERT_TRUE(wait_for([&] {
    int before = ca.get() + cb.get();
    natsConnection_PublishString(pc.p, "sc.jobs", "probe");
    natsConnection_Flush(pc.p);
    return wait_for([&] { return ca.get() + cb.get() > before; }, milliseconds(200));
  }, std::chrono::seconds(8)));
  std::this_thread::sleep_for(milliseconds(300));
  int a0 = ca.get(), b0 = cb.get();
  for (int i = 0; i < 40; ++i) natsConnection_PublishString(pa.p, "sc.jobs", "a");
  natsConnection_Flush(pa.p);
  EXPECT_TRUE(wait_for([&] { return ca.get() - a0 >= 40; }));
  for (int i = 0; i < 40; ++i) natsConnection_PublishString(pc.p, "sc.jobs", "c");
  natsConnection_Flush(pc.p);
  EXPECT_TRUE(wait_for([&] { return (ca.get() - a0) + (cb.get() - b0) >= 80; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ((ca.get() - a0) + (cb.get() - b0), 80);
  EXPECT_GE(ca.get() - a0, 40);
}

TEST(ClusterGateways, GatewayCredentials) {
  int pa = testing_harness::free_port(), pb = testing_harness::free_port();
  auto url = [](int p) { return "nats://gu:gp@127.0.0.1:" + std::to_string(p); };
  Node a, b;
  a.gateway = "A"; a.gateway_port = pa; a.gateways = {{"B", url(pb)}};
  b.gateway = "B"; b.gateway_port = pb; b.gateways = {{"A", url(pa)}};
  a.gateway_extra = b.gateway_extra = "authorization { user: gu, password: gp }";
  a.start();
  b.start();
  ASSERT_TRUE(wait_for([&] { return a.num_outbound_gateways() == 1 && b.num_outbound_gateways() == 1; },
                       std::chrono::seconds(8)));
  EXPECT_TRUE(can_reach(a, b));
  // A peer with the wrong password is refused; the real gateways are not disturbed.
  RawClient peer(pa);
  ASSERT_TRUE(peer.connected());
  EXPECT_NE(peer.info().find("\"auth_required\":true"), std::string::npos) << peer.info();
  peer.send("CONNECT {\"echo\":false,\"verbose\":false,\"pedantic\":false,\"user\":\"gu\",\"pass\":\"bad\","
            "\"tls_required\":false,\"headers\":true,\"name\":\"NFAKEGW\",\"cluster\":\"\",\"gateway\":\"Z\"}\r\n");
  auto l = peer.read_line(milliseconds(2000));
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(*l, "-ERR 'Authorization Violation'");
  EXPECT_TRUE(peer.wait_closed(milliseconds(2000)));
  EXPECT_TRUE(can_reach(b, a));
}

TEST(ClusterGateways, HeadersCrossGateways) {
  SeedTopology t;
  ASSERT_TRUE(t.wait_connected());
  RawClient sub(t.east().proc->port()), pub(t.west().proc->port());
  ASSERT_TRUE(sub.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB hdr.x 1\r\nPING\r\n"));
  ASSERT_TRUE(sub.expect_line("PONG"));
  ASSERT_TRUE(pub.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nPING\r\n"));
  ASSERT_TRUE(pub.expect_line("PONG"));
  const std::string hdr = "NATS/1.0\r\nK: v\r\n\r\n";
  const std::string line = "HPUB hdr.x " + std::to_string(hdr.size()) + " " + std::to_string(hdr.size() + 2) + "\r\n" +
                           hdr + "hi\r\n";
  // Until east's interest reaches west, publishes are dropped; retry until one lands.
  std::optional<std::string> got;
  ASSERT_TRUE(wait_for([&] {
    pub.send(line);
    got = sub.read_line(milliseconds(200));
    return got.has_value();
  }, std::chrono::seconds(8)));
  EXPECT_EQ(*got, "HMSG hdr.x 1 " + std::to_string(hdr.size()) + " " + std::to_string(hdr.size() + 2));
  auto body = sub.read_exact(hdr.size() + 4);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, hdr + "hi\r\n");
}

TEST(ClusterGateways, DiscoveryReachesEveryServerOfACluster) {
  // Cluster X has two servers and knows no other gateway; Z knows only X's seed. Both X
  // servers must end up with an outbound connection to Z (the seed tells its route peer).
  int rx = testing_harness::free_port(), gx0 = testing_harness::free_port(), gz = testing_harness::free_port();
  Node x0, x1, z;
  for (auto* n : {&x0, &x1}) {
    n->cluster = "X";
    n->routes = {"nats-route://127.0.0.1:" + std::to_string(rx)};
    n->gateway = "X";
  }
  x0.cluster_port = rx;
  x1.cluster_port = testing_harness::free_port();
  x0.gateway_port = gx0;
  x1.gateway_port = testing_harness::free_port();
  z.gateway = "Z";
  z.gateway_port = gz;
  z.gateways = {{"X", "nats://127.0.0.1:" + std::to_string(gx0)}};
  x0.start();
  x1.start();
  ASSERT_TRUE(wait_for([&] { return x0.num_routes() == 1 && x1.num_routes() == 1; }, std::chrono::seconds(5)));
  z.start();
  ASSERT_TRUE(wait_for([&] {
    return x0.num_outbound_gateways() == 1 && x1.num_outbound_gateways() == 1 && z.num_outbound_gateways() == 1;
  }, std::chrono::seconds(10))) << x1.proc->log();
  EXPECT_TRUE(can_reach(x1, z));
  EXPECT_TRUE(can_reach(z, x1));
}

TEST(ClusterGateways, SystemPingAnsweredByEveryCluster) {
  // $SYS.REQ.SERVER.PING from west: the internal responders of east and central answer on
  // the mapped `_GR_` reply, which must find its way back.
  SeedTopology t;
  for (auto& n : t.nodes) {
    n->extra = "accounts: { $SYS: { users: [{user: sys, password: pass}] } }";
    n->start();
  }
  ASSERT_TRUE(t.wait_connected());
  RawClient c(t.west().proc->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false,\"user\":\"sys\",\"pass\":\"pass\"}\r\nSUB _INBOX.ping 1\r\nPING\r\n"));
  ASSERT_TRUE(c.expect_line("PONG"));
  std::set<std::string> names;
  ASSERT_TRUE(wait_for([&] {
    c.send("PUB $SYS.REQ.SERVER.PING _INBOX.ping 0\r\n\r\n");
    auto deadline = Clock::now() + milliseconds(500);
    while (Clock::now() < deadline) {
      auto l = c.read_line(milliseconds(100));
      if (!l || l->rfind("MSG _INBOX.ping", 0) != 0) continue;
      auto body = c.read_line();
      if (!body) continue;
      auto j = nlohmann::json::parse(*body, nullptr, false);
      if (!j.is_discarded() && j.contains("server")) names.insert(j["server"]["name"].get<std::string>());
    }
    return names.size() == 3;
  }, std::chrono::seconds(8)));
}

}  // namespace NATS_TEST_FILE_ID
