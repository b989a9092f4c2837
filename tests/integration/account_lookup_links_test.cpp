// Accounts looked up for server links in operator mode with the URL resolver (the reference's
// LookupAccount on a resolver miss), against 2.9.10 with the same expectations: a leaf whose
// credentials bind an account the hub has not fetched yet (the hub fetches it, then binds the
// leaf); a leaf remote bound to an account its server has not fetched yet; and a route's
// interest in an account the other server lacks, which must still count once a client of
// that account connects there and publishes (kept aside until the account is registered, as
// 2.9.10 keeps it in a placeholder account).
#include <gtest/gtest.h>

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

int all_num_leafs(const ctest::Node& n) {
  auto j = ctest::http_json(n.http_port, "/leafz");
  return j.contains("leafnodes") ? j["leafnodes"].get<int>() : -1;
}

// Operator, system account and account A served by a local HTTP server.
struct LookupSetup {
  KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys();
  testing_harness::TempDir dir;
  JwtHttpServer http;
  std::string op_file;

  LookupSetup() {
    op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
    http.serve(sys.pub, jwt::sign(jwt::account_claims(sys, "SYS"), op));
    http.serve(acc.pub, jwt::sign(jwt::account_claims(acc, "A"), op));
    http.serve("", "");  // both servers check at start-up that the base URL answers
  }
  std::string operator_mode() const {
    return "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver: URL(\"" + http.base() + "\")\n";
  }
  std::string user_creds(const std::string& name) {
    KeyPair u = jwt::user_keys();
    return dir.write(name + ".creds", jwt::creds(jwt::sign(jwt::user_claims(u, name), acc), u.seed));
  }
  static natsStatus connect_creds(ConnPtr& c, const std::string& url, const std::string& creds) {
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 5000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
    return connect_signed(c, url, o.p);
  }
};

// Publishes on `pc` until `got` counts one message (interest crosses links asynchronously).
bool publish_until_heard(ConnPtr& pc, MsgCounter& got) {
  return wait_for([&] {
    natsConnection_PublishString(pc.p, "lookup.x", "hi");
    natsConnection_Flush(pc.p);
    return got.wait_count(1, milliseconds(200));
  }, milliseconds(10000));
}

// A hub with a leafnode listener on `leaf_port`, and a leaf with one remote to it (`remote`:
// the remote's other fields); `*_mode`: what goes first in each config (operator mode or
// nothing). Both are started by the test, in its order.
void lookup_hub(ctest::Node& hub, const std::string& bin, const std::string& hub_mode, int leaf_port) {
  hub.binary = bin;
  hub.name = "hub";
  hub.extra = hub_mode + "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n";
}
void lookup_leaf(ctest::Node& leaf, const std::string& bin, const std::string& leaf_mode, int leaf_port,
                 const std::string& remote) {
  leaf.binary = bin;
  leaf.name = "leaf";
  leaf.extra = leaf_mode + "leafnodes { reconnect: 1\n remotes [ { url: \"nats-leaf://127.0.0.1:" +
               std::to_string(leaf_port) + "\", " + remote + " } ] }\n";
}
bool leaf_linked(const ctest::Node& hub, const ctest::Node& leaf) {
  return wait_for([&] { return all_num_leafs(hub) == 1 && all_num_leafs(leaf) == 1; }, milliseconds(10000));
}

// Subscribes on `sub_url`, then publishes on `pub_url` until one message arrives (interest
// crosses the link asynchronously).
bool lookup_flow(const std::string& sub_url, const std::string& sub_creds, const std::string& pub_url,
                 const std::string& pub_creds) {
  ConnPtr sc, pc;
  if (LookupSetup::connect_creds(sc, sub_url, sub_creds) != NATS_OK) return false;
  if (pub_creds.empty() ? connect_url(pc, pub_url) != NATS_OK : LookupSetup::connect_creds(pc, pub_url, pub_creds) != NATS_OK)
    return false;
  MsgCounter got;
  SubPtr s;
  if (natsConnection_Subscribe(&s.p, sc.p, "lookup.x", MsgCounter::on_msg, &got) != NATS_OK) return false;
  natsConnection_Flush(sc.p);
  return publish_until_heard(pc, got);
}

// The leaf's credentials bind account A, which the hub fetches at the leaf's CONNECT.
TEST(AccountLookupLinks, HubFetchesTheAccountOfALeafsCredentials) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    LookupSetup st;
    int leaf_port = testing_harness::free_port();
    ctest::Node hub, leaf;
    lookup_hub(hub, bin, st.operator_mode(), leaf_port);
    hub.start();
    EXPECT_EQ(st.http.requests_for(st.acc.pub), 0) << bin;
    lookup_leaf(leaf, bin, "", leaf_port, "credentials: \"" + st.user_creds("leaf") + "\"");
    leaf.start();
    ASSERT_TRUE(leaf_linked(hub, leaf)) << bin << hub.proc->log() << leaf.proc->log();
    EXPECT_EQ(st.http.requests_for(st.acc.pub), 1) << bin;
    // Bound to A: a user of A on the hub hears what is published on the leaf.
    EXPECT_TRUE(lookup_flow(hub.url(), st.user_creds("sub"), leaf.url(), "")) << bin;
  }
}

// A leaf remote bound to account A on a server that has not fetched A: fetched at the dial.
TEST(AccountLookupLinks, LeafRemoteAccountIsFetchedAtTheDial) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    LookupSetup st;
    int leaf_port = testing_harness::free_port();
    ctest::Node hub, leaf;
    lookup_hub(hub, bin, "", leaf_port);
    hub.start();
    lookup_leaf(leaf, bin, st.operator_mode(), leaf_port, "account: " + st.acc.pub);
    leaf.start();
    ASSERT_TRUE(leaf_linked(hub, leaf)) << bin << hub.proc->log() << leaf.proc->log();
    EXPECT_GE(st.http.requests_for(st.acc.pub), 1) << bin;
    // A user of A on the leaf hears what is published on the hub's global account.
    EXPECT_TRUE(lookup_flow(leaf.url(), st.user_creds("sub"), hub.url(), "")) << bin;
  }
}

// S2 hears S1's interest in A before it has A: once a user of A connects to S2, what it
// publishes reaches the subscriber on S1.
TEST(AccountLookupLinks, RouteInterestInAnAccountNotYetFetched) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    LookupSetup st;
    ctest::Node s1, s2;
    s1.cluster_port = testing_harness::free_port();
    s2.cluster_port = testing_harness::free_port();
    for (auto* n : {&s1, &s2}) {
      n->binary = bin;
      n->cluster = "lookup";
      n->extra = st.operator_mode();
    }
    s1.name = "s1";
    s2.name = "s2";
    s2.routes = {"nats://127.0.0.1:" + std::to_string(s1.cluster_port)};
    s1.start();
    s2.start();
    ASSERT_TRUE(wait_for([&] { return s1.num_routes() == 1 && s2.num_routes() == 1; }, milliseconds(10000)))
        << bin << s2.proc->log();
    ConnPtr sc;
    ASSERT_EQ(LookupSetup::connect_creds(sc, s1.url(), st.user_creds("sub")), NATS_OK) << bin;
    MsgCounter got;
    SubPtr s;
    ASSERT_EQ(natsConnection_Subscribe(&s.p, sc.p, "lookup.x", MsgCounter::on_msg, &got), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(sc.p), NATS_OK);
    // Let the RS+ reach S2 before any user of A connects there.
    std::this_thread::sleep_for(milliseconds(300));
    ConnPtr pc;
    ASSERT_EQ(LookupSetup::connect_creds(pc, s2.url(), st.user_creds("pub")), NATS_OK) << bin;
    EXPECT_TRUE(publish_until_heard(pc, got)) << bin << s2.proc->log();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
