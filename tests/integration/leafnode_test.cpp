// Leaf nodes: a Debian nats-server 2.9.10 leaf solicits our hub, our leaf solicits a
// 2.9.10 hub and our own hub; clients on either side exchange messages, requests and queue
// traffic; the leafnodes authorization binds the leaf to an account; a leaf fails over
// between the servers of a hub cluster; a former link's loop-detection subject is no loop.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster_test_util.h"
#include "jwt_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

struct HubAndLeaf {
  Node hub, leaf;
  int leaf_port = testing_harness::free_port();
  HubAndLeaf(std::string hub_bin = testing_harness::server_binary(),
             std::string leaf_bin = testing_harness::reference_binary()) {
    hub.binary = std::move(hub_bin);
    leaf.binary = std::move(leaf_bin);
  }

  // hub_auth: the body of the hub's leafnodes authorization block (empty: none);
  // creds: "user:pass@" in the leaf's remote URL.
  void start(const std::string& hub_extra = "", const std::string& hub_auth = "", const std::string& creds = "",
             const std::string& leaf_remote_extra = "") {
    hub.name = "hub";
    hub.extra = hub_extra + "\nleafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) +
                (hub_auth.empty() ? "" : "\n authorization { " + hub_auth + " }") + " }\n";
    leaf.name = "leaf";
    leaf.extra = "leafnodes { remotes [ { url: \"nats-leaf://" + creds + "127.0.0.1:" + std::to_string(leaf_port) +
                 "\" " + leaf_remote_extra + " } ] }\n";
    hub.start();
    leaf.start();
  }
  int num_leafs(const Node* n = nullptr) const {
    auto j = http_json((n ? n : &hub)->http_port, "/leafz");
    return j.contains("leafnodes") ? j["leafnodes"].get<int>() : -1;
  }
  // Checked on whichever side is ours (the reference has /leafz too).
  bool connected() {
    return wait_for([&] { return num_leafs() == 1 && num_leafs(&leaf) == 1; }, milliseconds(10000));
  }
};

// Publishes on `from` until `to`'s subscriber on `subj` gets one (interest crosses the
// leaf connection asynchronously).
bool reaches(natsConnection* from, natsConnection* to, const std::string& subj) {
  SubPtr s;
  if (natsConnection_SubscribeSync(&s.p, to, subj.c_str()) != NATS_OK) return false;
  natsConnection_Flush(to);
  auto deadline = Clock::now() + milliseconds(8000);
  while (Clock::now() < deadline) {
    natsConnection_PublishString(from, subj.c_str(), "x");
    natsConnection_Flush(from);
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, s.p, 100) == NATS_OK) return true;
  }
  return false;
}

bool answers(natsConnection* svc, natsConnection* req, const std::string& subj) {
  SubPtr s;
  if (natsConnection_Subscribe(&s.p, svc, subj.c_str(), echo_handler, nullptr) != NATS_OK) return false;
  natsConnection_Flush(svc);
  bool ok = wait_for([&] {
    MsgPtr r;
    return natsConnection_RequestString(&r.p, req, subj.c_str(), "w", 300) == NATS_OK;
  }, milliseconds(8000));
  if (!ok) return false;
  for (int i = 0; i < 5; ++i) {
    MsgPtr r;
    if (natsConnection_RequestString(&r.p, req, subj.c_str(), "hi", 2000) != NATS_OK) return false;
    if (r.data() != "echo:hi") return false;
  }
  return true;
}

}  // namespace

TEST(LeafNode, ReferenceLeafExchangesMessagesAndRequestsWithOurHub) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  HubAndLeaf t;
  t.start();
  ASSERT_TRUE(t.connected()) << t.hub.proc->log();
  ConnPtr h, l;
  ASSERT_EQ(connect_url(h, t.hub.url()), NATS_OK);
  ASSERT_EQ(connect_url(l, t.leaf.url()), NATS_OK);
  EXPECT_TRUE(reaches(h.p, l.p, "to.leaf"));
  EXPECT_TRUE(reaches(l.p, h.p, "to.hub"));
  EXPECT_TRUE(answers(h.p, l.p, "svc.on.hub"));
  EXPECT_TRUE(answers(l.p, h.p, "svc.on.leaf"));
  // Headers cross too.
  SubPtr s;
  ASSERT_EQ(natsConnection_SubscribeSync(&s.p, l.p, "hdr.test"), NATS_OK);
  natsConnection_Flush(l.p);
  ASSERT_TRUE(reaches(h.p, l.p, "hdr.test.ready"));
  natsMsg* m = nullptr;
  ASSERT_EQ(natsMsg_Create(&m, "hdr.test", nullptr, "body", 4), NATS_OK);
  natsMsgHeader_Set(m, "X-Leaf", "yes");
  ASSERT_EQ(natsConnection_PublishMsg(h.p, m), NATS_OK);
  natsMsg_Destroy(m);
  MsgPtr got;
  ASSERT_EQ(natsSubscription_NextMsg(&got.p, s.p, 3000), NATS_OK);
  const char* v = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(got.p, "X-Leaf", &v), NATS_OK);
  EXPECT_STREQ(v, "yes");
  EXPECT_EQ(got.data(), "body");
  // Monitoring counts the leaf and its interest.
  auto varz = http_json(t.hub.http_port, "/varz");
  EXPECT_EQ(varz["leafnodes"], 1);
  EXPECT_EQ(varz["leaf"]["port"], t.leaf_port);
  auto leafz = http_json(t.hub.http_port, "/leafz?subs=1");
  ASSERT_EQ(leafz["leafs"].size(), 1u);
  EXPECT_EQ(leafz["leafs"][0]["account"], "$G");
  EXPECT_GT(leafz["leafs"][0]["in_msgs"].get<int>(), 0);
  // Interest withdrawn on the leaf leaves the hub.
  natsSubscription_Unsubscribe(s.p);
  natsConnection_Flush(l.p);
  EXPECT_TRUE(wait_for([&] { return t.hub.interest("hdr.test") == 0; }, milliseconds(5000)));
}

TEST(LeafNode, QueueGroupsPreferLocalMembersAndFallBackAcrossTheLeaf) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  HubAndLeaf t;
  t.start();
  ASSERT_TRUE(t.connected()) << t.hub.proc->log();
  ConnPtr h, l;
  ASSERT_EQ(connect_url(h, t.hub.url()), NATS_OK);
  ASSERT_EQ(connect_url(l, t.leaf.url()), NATS_OK);
  MsgCounter on_hub, on_leaf;
  SubPtr qh, ql;
  ASSERT_EQ(natsConnection_QueueSubscribe(&qh.p, h.p, "work", "g", MsgCounter::on_msg, &on_hub), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&ql.p, l.p, "work", "g", MsgCounter::on_msg, &on_leaf), NATS_OK);
  natsConnection_Flush(h.p);
  natsConnection_Flush(l.p);
  // Both members known on the hub: its own and the leaf's.
  ASSERT_TRUE(wait_for([&] { return t.hub.interest("work") >= 2; }, milliseconds(5000)));
  for (int i = 0; i < 50; ++i) natsConnection_PublishString(h.p, "work", "x");
  natsConnection_Flush(h.p);
  for (int i = 0; i < 50; ++i) natsConnection_PublishString(l.p, "work", "x");
  natsConnection_Flush(l.p);
  ASSERT_TRUE(wait_for([&] { return on_hub.get() + on_leaf.get() >= 100; }, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(on_hub.get(), 50);   // the hub's publishes stay with the hub's member
  EXPECT_EQ(on_leaf.get(), 50);  // and the leaf's with the leaf's
  // Without a local member, the hub's messages cross to the leaf's.
  natsSubscription_Unsubscribe(qh.p);
  natsConnection_Flush(h.p);
  ASSERT_TRUE(wait_for([&] { return t.hub.interest("work") == 1; }, milliseconds(5000)));
  for (int i = 0; i < 20; ++i) natsConnection_PublishString(h.p, "work", "x");
  natsConnection_Flush(h.p);
  EXPECT_TRUE(wait_for([&] { return on_leaf.get() == 70; }, milliseconds(5000))) << on_leaf.get();
}

TEST(LeafNode, AuthorizationUsersBindTheLeafToTheirAccount) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  HubAndLeaf t;
  t.start("accounts { A { users [ {user: ua, password: pa} ] }, B { users [ {user: ub, password: pb} ] } }",
          "users [ {user: leafa, password: s3cret, account: A} ]", "leafa:s3cret@");
  ASSERT_TRUE(t.connected()) << t.hub.proc->log();
  auto leafz = http_json(t.hub.http_port, "/leafz");
  EXPECT_EQ(leafz["leafs"][0]["account"], "A");
  ConnPtr a, b, l;
  ASSERT_EQ(connect_url(a, "nats://ua:pa@127.0.0.1:" + std::to_string(t.hub.proc->port())), NATS_OK);
  ASSERT_EQ(connect_url(b, "nats://ub:pb@127.0.0.1:" + std::to_string(t.hub.proc->port())), NATS_OK);
  ASSERT_EQ(connect_url(l, t.leaf.url()), NATS_OK);
  SubPtr sb;
  ASSERT_EQ(natsConnection_SubscribeSync(&sb.p, b.p, "acct.>"), NATS_OK);
  natsConnection_Flush(b.p);
  EXPECT_TRUE(reaches(l.p, a.p, "acct.a"));
  EXPECT_TRUE(reaches(a.p, l.p, "acct.back"));
  MsgPtr m;
  EXPECT_NE(natsSubscription_NextMsg(&m.p, sb.p, 200), NATS_OK) << "account B saw the leaf's traffic";
}

TEST(LeafNode, WrongCredentialsAreRefused) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  HubAndLeaf t;
  t.start("", "user: leaf, password: right", "leaf:wrong@");
  EXPECT_TRUE(wait_for([&] { return t.hub.proc->log().find("authentication error") != std::string::npos; },
                       milliseconds(8000)));
  EXPECT_EQ(t.num_leafs(), 0);
  EXPECT_NE(t.leaf.proc->log().find("Authorization Violation"), std::string::npos);
}

// Without a leafnodes authorization a hub asks a leaf only for what the leaf names: 2.9.10
// lets in a leaf with no credentials (bound to $G) although clients need a user, and one with
// any credentials when the clients' auth is a token; a users-list user it names must match.
TEST(LeafNode, WithoutLeafAuthorizationALeafNamingNoUserGetsInAsTheReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  struct Case {
    std::string hub_auth, creds;
  };
  const std::vector<Case> cases = {
      {"authorization { users [ {user: u, password: p} ] }", ""},
      {"authorization { users [ {user: u, password: p} ] }", "u:wrong@"},
      {"authorization { users [ {user: u, password: p} ] }", "u:p@"},
      {"authorization { token: secret }", "x:y@"},
  };
  std::vector<std::string> answers[2];
  int side = 0;
  for (const auto& hub_bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    for (const auto& c : cases) {
      HubAndLeaf t(hub_bin, testing_harness::reference_binary());
      t.start(c.hub_auth, "", c.creds);
      bool in = false, refused = false;
      wait_for([&] {
        in = t.num_leafs() == 1;
        refused = t.hub.proc->log().find("authentication error") != std::string::npos;
        return in || refused;
      }, milliseconds(8000));
      std::string account;
      if (in) account = http_json(t.hub.http_port, "/leafz")["leafs"][0].value("account", "");
      answers[side].push_back(c.hub_auth + " / '" + c.creds + "': " +
                              (in ? "in, account " + account : refused ? "refused" : "neither"));
    }
    ++side;
  }
  EXPECT_EQ(answers[0], answers[1]);
  ASSERT_EQ(answers[0].size(), 4u);
  EXPECT_NE(answers[0][0].find("in, account $G"), std::string::npos) << answers[0][0];
  EXPECT_NE(answers[0][1].find("refused"), std::string::npos) << answers[0][1];
}

namespace {
void exchange_both_ways(HubAndLeaf& t) {
  ConnPtr h, l;
  ASSERT_EQ(connect_url(h, t.hub.url()), NATS_OK);
  ASSERT_EQ(connect_url(l, t.leaf.url()), NATS_OK);
  EXPECT_TRUE(reaches(h.p, l.p, "to.leaf"));
  EXPECT_TRUE(reaches(l.p, h.p, "to.hub"));
  EXPECT_TRUE(answers(h.p, l.p, "svc.on.hub"));
  EXPECT_TRUE(answers(l.p, h.p, "svc.on.leaf"));
}
}  // namespace

TEST(LeafNode, OurLeafSolicitsAReferenceHub) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  HubAndLeaf t(testing_harness::reference_binary(), testing_harness::server_binary());
  t.start();
  ASSERT_TRUE(t.connected()) << t.leaf.proc->log();
  exchange_both_ways(t);
}

TEST(LeafNode, OurLeafSolicitsOurHubWithAnAccount) {
  HubAndLeaf t(testing_harness::server_binary(), testing_harness::server_binary());
  t.start("accounts { A { users [ {user: ua, password: pa} ] } }", "user: lf, password: pw, account: A", "lf:pw@");
  ASSERT_TRUE(t.connected()) << t.leaf.proc->log() << t.hub.proc->log();
  EXPECT_EQ(http_json(t.hub.http_port, "/leafz")["leafs"][0]["account"], "A");
  ConnPtr a, l;
  ASSERT_EQ(connect_url(a, "nats://ua:pa@127.0.0.1:" + std::to_string(t.hub.proc->port())), NATS_OK);
  ASSERT_EQ(connect_url(l, t.leaf.url()), NATS_OK);
  EXPECT_TRUE(reaches(a.p, l.p, "to.leaf"));
  EXPECT_TRUE(reaches(l.p, a.p, "to.hub"));
  EXPECT_TRUE(answers(a.p, l.p, "svc.on.hub"));
  EXPECT_TRUE(answers(l.p, a.p, "svc.on.leaf"));
}

TEST(LeafNode, LeafFailsOverBetweenHubClusterServers) {
  // Two of our servers form the hub cluster; our leaf is told of the first only.
  int seed = testing_harness::free_port();
  int lp[2] = {testing_harness::free_port(), testing_harness::free_port()};
  Node hubs[2];
  for (int i = 0; i < 2; ++i) {
    hubs[i].name = "h" + std::to_string(i);
    hubs[i].cluster = "hub";
    hubs[i].cluster_port = i == 0 ? seed : testing_harness::free_port();
    hubs[i].routes = {"nats-route://127.0.0.1:" + std::to_string(seed)};
    hubs[i].extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(lp[i]) + " }";
    hubs[i].start();
  }
  ASSERT_TRUE(wait_for([&] { return hubs[0].num_routes() == 1 && hubs[1].num_routes() == 1; }, milliseconds(10000)));
  Node leaf;
  leaf.name = "leaf";
  // Only the first hub is configured: the second is learnt from the hub's INFO.
  leaf.extra = "leafnodes { reconnect: 1, remotes [ { urls: [\"nats-leaf://127.0.0.1:" + std::to_string(lp[0]) +
               "\"] } ] }";
  leaf.start();
  auto leafs_on = [](const Node& n) {
    auto j = http_json(n.http_port, "/leafz");
    return j.contains("leafnodes") ? j["leafnodes"].get<int>() : -1;
  };
  ASSERT_TRUE(wait_for([&] { return leafs_on(hubs[0]) + leafs_on(hubs[1]) == 1; }, milliseconds(10000)));
  const int first = leafs_on(hubs[0]) == 1 ? 0 : 1;
  const int other = 1 - first;
  {
    ConnPtr h, l;
    ASSERT_EQ(connect_url(h, hubs[other].url()), NATS_OK);
    ASSERT_EQ(connect_url(l, leaf.url()), NATS_OK);
    EXPECT_TRUE(reaches(l.p, h.p, "before.failover"));  // through the hub it is on, then the route
    EXPECT_TRUE(reaches(h.p, l.p, "before.failover.back"));
  }
  hubs[first].proc->stop(SIGKILL);
  ASSERT_TRUE(wait_for([&] { return leafs_on(hubs[other]) == 1; }, milliseconds(10000))) << leaf.proc->log();
  ConnPtr h, l;
  ASSERT_EQ(connect_url(h, hubs[other].url()), NATS_OK);
  ASSERT_EQ(connect_url(l, leaf.url()), NATS_OK);
  EXPECT_TRUE(reaches(l.p, h.p, "after.failover"));
  EXPECT_TRUE(reaches(h.p, l.p, "after.failover.back"));
  EXPECT_TRUE(answers(h.p, l.p, "svc.after.failover"));
}

namespace {
// Two servers that each accept leafs and solicit the other: a loop. The server whose
// loop-detection subject comes back says so with the reference's error and backs off.
void expect_loop_detected(const std::string& bin_a, const std::string& bin_b) {
  int pa = testing_harness::free_port(), pb = testing_harness::free_port();
  Node a, b;
  a.name = "a";
  a.binary = bin_a;
  a.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(pa) + ", remotes [ { url: \"nats-leaf://127.0.0.1:" +
            std::to_string(pb) + "\" } ] }";
  b.name = "b";
  b.binary = bin_b;
  b.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(pb) + ", remotes [ { url: \"nats-leaf://127.0.0.1:" +
            std::to_string(pa) + "\" } ] }";
  a.start();
  b.start();
  const std::string text = "Loop detected for leafnode account=\"$G\". Delaying attempt to reconnect for 30s";
  EXPECT_TRUE(wait_for([&] {
    return a.proc->log().find(text) != std::string::npos || b.proc->log().find(text) != std::string::npos;
  }, milliseconds(10000))) << a.proc->log() << b.proc->log();
}
}  // namespace

TEST(LeafNode, LoopBetweenOurServersIsDetected) {
  expect_loop_detected(testing_harness::server_binary(), testing_harness::server_binary());
}

TEST(LeafNode, LoopWithAReferenceServerIsDetected) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  expect_loop_detected(testing_harness::server_binary(), testing_harness::reference_binary());
}

TEST(LeafNode, DenyImportsAndExportsKeepSubjectsOnTheirSide) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  HubAndLeaf t(testing_harness::reference_binary(), testing_harness::server_binary());
  t.start("", "", "", ", deny_exports: [\"secret.>\"], deny_imports: [\"private.>\"]");
  ASSERT_TRUE(t.connected()) << t.leaf.proc->log();
  ConnPtr h, l;
  ASSERT_EQ(connect_url(h, t.hub.url()), NATS_OK);
  ASSERT_EQ(connect_url(l, t.leaf.url()), NATS_OK);
  // Exports: the leaf's secret.x stays on the leaf, ok.x crosses.
  SubPtr hs;
  ASSERT_EQ(natsConnection_SubscribeSync(&hs.p, h.p, "secret.x"), NATS_OK);
  natsConnection_Flush(h.p);
  ASSERT_TRUE(reaches(l.p, h.p, "ok.x"));
  natsConnection_PublishString(l.p, "secret.x", "no");
  natsConnection_Flush(l.p);
  // Imports: the hub's private.x does not reach the leaf's subscriber, ok.y does.
  SubPtr ls;
  ASSERT_EQ(natsConnection_SubscribeSync(&ls.p, l.p, "private.x"), NATS_OK);
  natsConnection_Flush(l.p);
  ASSERT_TRUE(reaches(h.p, l.p, "ok.y"));
  natsConnection_PublishString(h.p, "private.x", "no");
  natsConnection_Flush(h.p);
  MsgPtr m1, m2;
  EXPECT_NE(natsSubscription_NextMsg(&m1.p, hs.p, 500), NATS_OK) << "secret.x left the leaf";
  EXPECT_NE(natsSubscription_NextMsg(&m2.p, ls.p, 200), NATS_OK) << "private.x entered the leaf";
}

// Operator mode: our leaf signs the hub's nonce with the seed of its creds file and binds
// to the creds' account, on our hub and on a 2.9.10 hub.
class LeafCreds : public ::testing::TestWithParam<std::string> {};

TEST_P(LeafCreds, OurLeafAuthenticatesWithACredsFile) {
  if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
    GTEST_SKIP() << "no reference nats-server";
  using itest::jwt::KeyPair;
  KeyPair op = itest::jwt::operator_keys(), sys = itest::jwt::account_keys(), a = itest::jwt::account_keys();
  KeyPair leaf_user = itest::jwt::user_keys(), client_user = itest::jwt::user_keys();
  testing_harness::TempDir d;
  std::string op_file = d.write("op.jwt", itest::jwt::sign(itest::jwt::operator_claims(op, sys.pub), op) + "\n");
  std::string sys_jwt = itest::jwt::sign(itest::jwt::account_claims(sys, "SYS"), op);
  std::string a_jwt = itest::jwt::sign(itest::jwt::account_claims(a, "A"), op);
  auto creds = [&](const KeyPair& u, const std::string& name) {
    return d.write(name + ".creds", itest::jwt::creds(itest::jwt::sign(itest::jwt::user_claims(u, name), a), u.seed));
  };
  std::string leaf_creds = creds(leaf_user, "leaf"), client_creds = creds(client_user, "client");
  HubAndLeaf t(GetParam(), testing_harness::server_binary());
  t.start("operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver: MEMORY\nresolver_preload: { " +
              sys.pub + ": \"" + sys_jwt + "\", " + a.pub + ": \"" + a_jwt + "\" }\n",
          "", "", ", credentials: \"" + leaf_creds + "\"");
  ASSERT_TRUE(t.connected()) << t.leaf.proc->log() << t.hub.proc->log();
  ConnPtr h, l;
  OptsPtr o;
  natsOptions_SetUserCredentialsFromFiles(o.p, client_creds.c_str(), nullptr);
  ASSERT_EQ(connect_signed(h, t.hub.url(), o.p), NATS_OK);
  ASSERT_EQ(connect_url(l, t.leaf.url()), NATS_OK);
  EXPECT_TRUE(reaches(h.p, l.p, "creds.to.leaf"));
  EXPECT_TRUE(reaches(l.p, h.p, "creds.to.hub"));
}

INSTANTIATE_TEST_SUITE_P(HubBinaries, LeafCreds,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()));

TEST(LeafNode, RawLeafProtocolOnTheHub) {
  HubAndLeaf t(testing_harness::server_binary(), testing_harness::server_binary());
  t.hub.name = "hub";
  t.hub.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(t.leaf_port) + " }\n";
  t.hub.start();
  // The INFO a hub sends: a nonce, a client ID and the leafnode URLs (2.9 leafs require them).
  RawClient raw(t.leaf_port);
  auto info = nlohmann::json::parse(raw.info_json());
  EXPECT_TRUE(info.contains("nonce"));
  EXPECT_GT(info["client_id"].get<int>(), 0);
  EXPECT_EQ(info["leafnode_urls"][0], "127.0.0.1:" + std::to_string(t.leaf_port));
  EXPECT_EQ(info["info_on_connect"], true);
  // Odd field types are no reason to fail; no headers means messages come without theirs.
  raw.send("CONNECT {\"headers\":\"yes\",\"name\":7}\r\nLS+ raw.x\r\nLS+ raw.q g 2\r\nPING\r\n");
  bool connect_info = false, ls_lds = false;
  for (int i = 0; i < 10; ++i) {
    auto l = raw.read_line(milliseconds(2000));
    if (!l) break;
    if (l->find("\"connect_info\":true") != std::string::npos) connect_info = true;
    if (l->rfind("LS+ $LDS.", 0) == 0) ls_lds = true;
    if (*l == "PONG") break;
  }
  EXPECT_TRUE(connect_info);
  EXPECT_TRUE(ls_lds);
  ASSERT_TRUE(wait_for([&] { return t.hub.interest("raw.x") == 1; }, milliseconds(3000)));
  ConnPtr h;
  ASSERT_EQ(connect_url(h, t.hub.url()), NATS_OK);
  natsMsg* m = nullptr;
  ASSERT_EQ(natsMsg_Create(&m, "raw.x", "rep", "body", 4), NATS_OK);
  natsMsgHeader_Set(m, "K", "V");
  ASSERT_EQ(natsConnection_PublishMsg(h.p, m), NATS_OK);
  natsMsg_Destroy(m);
  natsConnection_PublishString(h.p, "raw.q", "q");
  natsConnection_Flush(h.p);
  std::vector<std::string> lines;
  for (int i = 0; i < 10 && lines.size() < 4; ++i) {
    auto l = raw.read_line(milliseconds(2000));
    if (!l) break;
    if (l->rfind("LMSG", 0) == 0 || l->rfind("HMSG", 0) == 0 || *l == "body" || *l == "q") lines.push_back(*l);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"LMSG raw.x rep 4", "body", "LMSG raw.q | g 1", "q"}));
  // Our own loop-detection subject coming back is a loop.
  std::string lds;
  {
    RawClient r2(t.leaf_port);
    r2.send("CONNECT {\"headers\":true}\r\nPING\r\n");
    for (int i = 0; i < 10 && lds.empty(); ++i) {
      auto l = r2.read_line(milliseconds(2000));
      if (!l) break;
      if (l->rfind("LS+ $LDS.", 0) == 0) lds = l->substr(4);
    }
    ASSERT_FALSE(lds.empty());
    r2.send("LS+ " + lds + "\r\n");
    auto e = r2.read_line(milliseconds(2000));
    while (e && e->rfind("-ERR", 0) != 0) e = r2.read_line(milliseconds(2000));
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(*e, "-ERR 'Loop detected for leafnode account=\"$G\". Delaying attempt to reconnect for 30s'");
  }
}

TEST(LeafNode, ASecondConnectionFromTheSameLeafReplacesTheFirst) {
  HubAndLeaf t(testing_harness::server_binary(), testing_harness::server_binary());
  t.hub.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(t.leaf_port) + " }\n";
  t.hub.start();
  auto bind = [](RawClient& r) {
    r.send("CONNECT {\"name\":\"same\",\"headers\":true}\r\nPING\r\n");
    for (int i = 0; i < 10; ++i) {
      auto l = r.read_line(milliseconds(2000));
      if (!l || *l == "PONG") return;
    }
  };
  RawClient first(t.leaf_port), second(t.leaf_port);
  bind(first);
  ASSERT_TRUE(wait_for([&] { return t.num_leafs() == 1; }, milliseconds(3000)));
  bind(second);
  std::optional<std::string> e;
  for (int i = 0; i < 20; ++i) {
    e = first.read_line(milliseconds(2000));
    if (!e || e->rfind("-ERR", 0) == 0) break;
  }
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, "-ERR 'Duplicate Remote LeafNode Connection'");
  EXPECT_TRUE(wait_for([&] { return t.num_leafs() == 1; }, milliseconds(3000)));
}

namespace {
// Our hub; two servers (`edge_bin`) clustered as "edge", each a leaf of the hub.
void leaf_cluster_gets_every_message_once(const std::string& edge_bin) {
  int hp = testing_harness::free_port(), seed = testing_harness::free_port();
  Node hub, edge[2];
  hub.name = "hub";
  hub.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(hp) + " }";
  hub.start();
  for (int i = 0; i < 2; ++i) {
    edge[i].name = "e" + std::to_string(i);
    edge[i].binary = edge_bin;
    edge[i].cluster = "edge";
    edge[i].cluster_port = i == 0 ? seed : testing_harness::free_port();
    edge[i].routes = {"nats-route://127.0.0.1:" + std::to_string(seed)};
    edge[i].extra = "leafnodes { remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(hp) + "\" } ] }";
    edge[i].start();
  }
  auto leafs_on = [](const Node& n) { return http_json(n.http_port, "/leafz")["leafnodes"].get<int>(); };
  ASSERT_TRUE(wait_for([&] { return leafs_on(hub) == 2 && edge[0].num_routes() == 1 && edge[1].num_routes() == 1; },
                       milliseconds(10000)));
  ConnPtr h, e0, e1;
  ASSERT_EQ(connect_url(h, hub.url()), NATS_OK);
  ASSERT_EQ(connect_url(e0, edge[0].url()), NATS_OK);
  ASSERT_EQ(connect_url(e1, edge[1].url()), NATS_OK);
  MsgCounter on_hub, on_e0, on_e1;
  SubPtr sh, s0, s1;
  ASSERT_EQ(natsConnection_Subscribe(&sh.p, h.p, "once", MsgCounter::on_msg, &on_hub), NATS_OK);
  ASSERT_EQ(natsConnection_Subscribe(&s0.p, e0.p, "once", MsgCounter::on_msg, &on_e0), NATS_OK);
  ASSERT_EQ(natsConnection_Subscribe(&s1.p, e1.p, "once", MsgCounter::on_msg, &on_e1), NATS_OK);
  for (auto* c : {h.p, e0.p, e1.p}) natsConnection_Flush(c);
  // Interest settles: the hub sees both edge servers' subscribers.
  ASSERT_TRUE(wait_for([&] { return hub.interest("once") == 3; }, milliseconds(5000)));
  ASSERT_TRUE(wait_interest(edge[0], "once", 3) && wait_interest(edge[1], "once", 3));
  for (auto* c : {h.p, e0.p, e1.p}) {
    natsConnection_PublishString(c, "once", "x");
    natsConnection_Flush(c);
  }
  EXPECT_TRUE(wait_for([&] { return on_hub.get() >= 3 && on_e0.get() >= 3 && on_e1.get() >= 3; }, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(on_hub.get(), 3);
  EXPECT_EQ(on_e0.get(), 3);
  EXPECT_EQ(on_e1.get(), 3);
}
}  // namespace

TEST(LeafNode, ALeafClusterGetsEveryMessageOnce) { leaf_cluster_gets_every_message_once(testing_harness::server_binary()); }

TEST(LeafNode, AReferenceLeafClusterGetsEveryMessageOnce) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  leaf_cluster_gets_every_message_once(testing_harness::reference_binary());
}

TEST(LeafNode, RequestsFromAnotherClusterReachALeafAndGetAnswers) {
  // A supercluster hub of two one-server clusters (ours); the leaf hangs off cluster "a".
  int ga = testing_harness::free_port(), gb = testing_harness::free_port(), lp = testing_harness::free_port();
  Node a, b, leaf;
  a.name = "a1";
  a.gateway = "a";
  a.gateway_port = ga;
  a.gateways = {{"b", "nats://127.0.0.1:" + std::to_string(gb)}};
  // Leaf nodes next to gateways need a named system account (2.9.10 refuses to start otherwise).
  const std::string sys = "accounts { SYS {} }\nsystem_account: SYS\n";
  a.extra = sys + "leafnodes { listen: 127.0.0.1:" + std::to_string(lp) + " }";
  b.extra = sys;
  b.name = "b1";
  b.gateway = "b";
  b.gateway_port = gb;
  b.gateways = {{"a", "nats://127.0.0.1:" + std::to_string(ga)}};
  a.start();
  b.start();
  ASSERT_TRUE(wait_for([&] { return a.num_outbound_gateways() == 1 && b.num_outbound_gateways() == 1; },
                       milliseconds(10000)));
  // A service in cluster "b" from before the leaf connects: the leaf learns of it with the
  // hub's initial interest (the gateway's), one that comes later as it appears.
  ConnPtr svc;
  ASSERT_EQ(connect_url(svc, b.url()), NATS_OK);
  SubPtr early;
  ASSERT_EQ(natsConnection_Subscribe(&early.p, svc.p, "svc.in.b.early", echo_handler, nullptr), NATS_OK);
  natsConnection_Flush(svc.p);
  {
    ConnPtr on_a;
    ASSERT_EQ(connect_url(on_a, a.url()), NATS_OK);
    ASSERT_TRUE(wait_for([&] {
      MsgPtr r;
      return natsConnection_RequestString(&r.p, on_a.p, "svc.in.b.early", "q", 300) == NATS_OK;
    }, milliseconds(8000)));
  }
  leaf.name = "leaf";
  leaf.extra = "leafnodes { remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(lp) + "\" } ] }";
  leaf.start();
  ASSERT_TRUE(wait_for([&] { return http_json(a.http_port, "/leafz")["leafnodes"] == 1; }, milliseconds(10000)));
  ConnPtr req;
  ASSERT_EQ(connect_url(req, leaf.url()), NATS_OK);
  // The reply goes back through the hub's gateway (`_GR_.` interest on the leaf connection).
  EXPECT_TRUE(answers(req.p, svc.p, "svc.on.the.leaf"));
  // The leaf's clients reach services and subscribers in cluster "b".
  auto ask = [&](const char* subj) {
    return wait_for([&] {
      MsgPtr r;
      return natsConnection_RequestString(&r.p, req.p, subj, "q", 300) == NATS_OK && r.data() == "echo:q";
    }, milliseconds(8000));
  };
  EXPECT_TRUE(ask("svc.in.b.early"));
  EXPECT_TRUE(answers(svc.p, req.p, "svc.in.b.late"));
  EXPECT_TRUE(reaches(req.p, svc.p, "from.leaf.to.b"));
  EXPECT_TRUE(reaches(svc.p, req.p, "from.b.to.leaf"));
  // Interest gone in "b" leaves the leaf too.
  EXPECT_EQ(leaf.interest("svc.in.b.early"), 1);
  natsSubscription_Unsubscribe(early.p);
  natsConnection_Flush(svc.p);
  EXPECT_TRUE(wait_for([&] { return leaf.interest("svc.in.b.early") == 0; }, milliseconds(8000)));
}

// Loop detection across a reconnect: each leaf link announces a loop-detection subject
// ("$LDS.<id>") of its own. A hub that still holds the subject of a former link (a hub
// cluster whose route from the server the leaf left has not closed yet) and sends it to the
// new link is not a loop; the new link's own subject coming back is. A raw socket plays the
// hub, so that the stale subject arrives every time, not by chance.
namespace {

// The hub's end of one leaf link: lines in, protocol out.
class FakeHubLink {
 public:
  explicit FakeHubLink(int fd) : fd_(fd) {}
  ~FakeHubLink() { if (fd_ >= 0) ::close(fd_); }
  FakeHubLink(const FakeHubLink&) = delete;
  FakeHubLink& operator=(const FakeHubLink&) = delete;

  bool send(const std::string& s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); }
  std::optional<std::string> read_line(milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string l = buf_.substr(0, nl > 0 && buf_[nl - 1] == '\r' ? nl - 1 : nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char b[4096];
      ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(b, static_cast<size_t>(n));
    }
  }
  // Reads until a line starting with `prefix` (answering the leaf's PINGs); empty if none came.
  std::string wait_for_line(const std::string& prefix, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto l = read_line(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
      if (!l) return {};
      if (*l == "PING") send("PONG\r\n");
      if (l->rfind(prefix, 0) == 0) return *l;
    }
    return {};
  }

 private:
  int fd_;
  std::string buf_;
};

// Accepts the next connection on `lfd` within `timeout`; -1 if none.
int accept_leaf_link(int lfd, milliseconds timeout) {
  pollfd p{lfd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  return ::accept(lfd, nullptr, nullptr);
}

// The hub's INFO: without info_on_connect the leaf registers on it, right after its CONNECT;
// without a client_id and leafnode_urls a 2.9 leaf takes it for a wrong port.
std::string fake_hub_info(int port) {
  return "INFO {\"server_id\":\"NFAKEHUB\",\"server_name\":\"fakehub\",\"version\":\"2.9.10\",\"proto\":1,\"client_id\":5,"
         "\"headers\":true,\"max_payload\":1048576,\"leafnode_urls\":[\"127.0.0.1:" +
         std::to_string(port) + "\"]}\r\n";
}

}  // namespace

TEST(LeafNode, AFormerLinksLoopSubjectIsNotALoopTheCurrentOneIs) {
  const int port = testing_harness::free_port();
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 8), 0);
  struct CloseFd {
    int fd;
    ~CloseFd() { ::close(fd); }
  } guard{lfd};

  Node leaf;
  leaf.name = "leaf";
  leaf.extra = "leafnodes { reconnect: 1, remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(port) + "\" } ] }";
  leaf.start();

  std::string first;
  {
    int fd = accept_leaf_link(lfd, milliseconds(10000));
    ASSERT_GE(fd, 0) << leaf.proc->log();
    FakeHubLink link(fd);
    ASSERT_TRUE(link.send(fake_hub_info(port)));
    first = link.wait_for_line("LS+ $LDS.", milliseconds(5000));
    ASSERT_FALSE(first.empty()) << leaf.proc->log();
    first = first.substr(4);
  }  // the hub drops the link; the leaf dials again

  int fd = accept_leaf_link(lfd, milliseconds(10000));
  ASSERT_GE(fd, 0) << leaf.proc->log();
  FakeHubLink link(fd);
  ASSERT_TRUE(link.send(fake_hub_info(port)));
  std::string current = link.wait_for_line("LS+ $LDS.", milliseconds(5000));
  ASSERT_FALSE(current.empty()) << leaf.proc->log();
  current = current.substr(4);
  EXPECT_NE(current, first);

  // The former link's subject is interest like any other: the link stays.
  ASSERT_TRUE(link.send("LS+ " + first + "\r\nPING\r\n"));
  EXPECT_EQ(link.wait_for_line("PONG", milliseconds(5000)), "PONG") << leaf.proc->log();
  EXPECT_EQ(leaf.proc->log().find("Loop detected"), std::string::npos) << leaf.proc->log();
  EXPECT_EQ(http_json(leaf.http_port, "/leafz").value("leafnodes", 0), 1);

  // This link's own subject coming back is a loop, with the reference's error.
  ASSERT_TRUE(link.send("LS+ " + current + "\r\n"));
  EXPECT_EQ(link.wait_for_line("-ERR", milliseconds(5000)),
            "-ERR 'Loop detected for leafnode account=\"$G\". Delaying attempt to reconnect for 30s'")
      << leaf.proc->log();
}

}  // namespace NATS_TEST_FILE_ID
