// Leaf nodes in the system account's events and in /varz, differential against 2.9.10: a
// hub with gateways announces a leaf bound to account A on $SYS.ACCOUNT.A.LEAFNODE.CONNECT
// and counts it in A's SERVER.CONNS; when the leaf goes, only SERVER.CONNS says so (the
// reference has no leaf disconnect event). /varz's leaf block lists TLS and the remotes.
#include <gtest/gtest.h>

#include <set>

#include "cluster_test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

std::set<std::string> keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (auto& [k, _] : j.items()) out.insert(k);
  return out;
}

struct LeafEvents {
  nlohmann::json connect_event, conns_up, conns_down;
  bool got_connect = false, got_up = false, got_down = false;
};

// The hub runs `hub_bin`; the leaf is always ours (the events are the hub's).
LeafEvents observe(const std::string& hub_bin) {
  LeafEvents ev;
  Node hub, leaf;
  const int leaf_port = testing_harness::free_port();
  hub.binary = hub_bin;
  hub.name = "hub";
  hub.gateway = "g1";
  hub.gateway_port = testing_harness::free_port();
  hub.extra = "accounts { SYS { users [ {user: sys, password: sys} ] }, A { users [ {user: a, password: a} ] } }\n"
              "system_account: SYS\n"
              "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) +
              "\n authorization { users [ {user: leaf, password: leaf, account: A} ] } }\n";
  hub.start();
  ConnPtr sys;
  EXPECT_EQ(connect_url(sys, "nats://sys:sys@127.0.0.1:" + std::to_string(hub.proc->port())), NATS_OK);
  if (!sys.p) return ev;
  SubPtr on_connect, on_conns;
  natsConnection_SubscribeSync(&on_connect.p, sys.p, "$SYS.ACCOUNT.A.LEAFNODE.CONNECT");
  natsConnection_SubscribeSync(&on_conns.p, sys.p, "$SYS.ACCOUNT.A.SERVER.CONNS");
  natsConnection_Flush(sys.p);
  leaf.name = "leaf";
  leaf.extra = "leafnodes { remotes [ { url: \"nats-leaf://leaf:leaf@127.0.0.1:" + std::to_string(leaf_port) +
               "\" } ] }\n";
  leaf.start();
  MsgPtr m;
  if (natsSubscription_NextMsg(&m.p, on_connect.p, 10000) == NATS_OK) {
    ev.connect_event = nlohmann::json::parse(m.data(), nullptr, false);
    ev.got_connect = true;
  }
  MsgPtr c;
  if (natsSubscription_NextMsg(&c.p, on_conns.p, 5000) == NATS_OK) {
    ev.conns_up = nlohmann::json::parse(c.data(), nullptr, false);
    ev.got_up = true;
  }
  leaf.proc->stop();
  MsgPtr d;
  if (natsSubscription_NextMsg(&d.p, on_conns.p, 5000) == NATS_OK) {
    ev.conns_down = nlohmann::json::parse(d.data(), nullptr, false);
    ev.got_down = true;
  }
  // Nothing else about the leaf on the connect subject.
  MsgPtr extra;
  EXPECT_NE(natsSubscription_NextMsg(&extra.p, on_connect.p, 300), NATS_OK);
  return ev;
}

void check(const LeafEvents& ev, const std::string& who) {
  ASSERT_TRUE(ev.got_connect) << who;
  EXPECT_EQ(ev.connect_event.value("acc", ""), "A") << who;
  EXPECT_EQ(ev.connect_event["server"].value("name", ""), "hub") << who;
  ASSERT_TRUE(ev.got_up) << who;
  EXPECT_EQ(ev.conns_up.value("leafnodes", -1), 1) << who << ev.conns_up.dump();
  EXPECT_EQ(ev.conns_up.value("total_conns", -1), 1) << who;
  ASSERT_TRUE(ev.got_down) << who;
  EXPECT_EQ(ev.conns_down.value("leafnodes", -1), 0) << who << ev.conns_down.dump();
  EXPECT_EQ(ev.conns_down.value("total_conns", -1), 0) << who;
}

}  // namespace

TEST(LeafNodeEvents, LeafConnectAndAccountConnsAsTheReference) {
  LeafEvents ours = observe(testing_harness::server_binary());
  check(ours, "ours");
  if (!testing_harness::reference_available()) return;
  LeafEvents ref = observe(testing_harness::reference_binary());
  check(ref, "reference");
  EXPECT_EQ(keys(ours.connect_event), keys(ref.connect_event)) << ours.connect_event.dump() << "\n"
                                                               << ref.connect_event.dump();
  EXPECT_EQ(keys(ours.conns_up), keys(ref.conns_up));
}

class LeafVarz : public TlsSuite {};

TEST_F(LeafVarz, LeafBlockAsTheReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  auto varz_leaf = [&](const std::string& bin) {
    Node n;
    n.binary = bin;
    n.extra = "accounts { A { users [ {user: a, password: a} ] } }\n"
              "leafnodes {\n listen: 127.0.0.1:" + std::to_string(testing_harness::free_port()) +
              "\n tls { cert_file: \"" + pki_->server_cert + "\", key_file: \"" + pki_->server_key +
              "\", ca_file: \"" + pki_->ca + "\", verify: true }\n"
              " remotes [ { url: \"nats-leaf://u:p@127.0.0.1:" + std::to_string(testing_harness::free_port()) +
              "\", account: A, deny_imports: [\"x.>\"], deny_exports: [\"y\"], tls { ca_file: \"" + pki_->ca +
              "\" } },\n  { urls: [\"nats-leaf://127.0.0.1:1\", \"nats-leaf://localhost\"] } ]\n}\n";
    n.start();
    auto j = http_json(n.http_port, "/varz")["leaf"];
    j.erase("port");
    return j;
  };
  auto ours = varz_leaf(testing_harness::server_binary());
  auto ref = varz_leaf(testing_harness::reference_binary());
  // The remotes' ports differ per run; their shape must not.
  for (auto* j : {&ours, &ref})
    for (auto& r : (*j)["remotes"])
      if (r.contains("urls") && r["urls"].size() == 1) r["urls"][0] = "P";
  EXPECT_EQ(ours, ref) << ours.dump() << "\n" << ref.dump();
}

}  // namespace NATS_TEST_FILE_ID
