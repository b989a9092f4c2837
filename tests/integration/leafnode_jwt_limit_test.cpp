// The account JWT's `leaf` limit (leaf node connections per account) on a hub in operator
// mode, against the 2.9.10 reference: a leaf over the limit is refused with the reference's
// error, a raised limit lets it in, and a lowered limit leaves the connected leafs alone
// (2.9.10 cuts leafs over `leaf` only when another server's connection counts arrive, not
// on a JWT update of a single server); an account JWT whose `exp` passes cuts the leafs bound
// to it, as its clients. Also leafnodes { reconnect } given as a string, refused with the
// reference's text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;

int ljl_num_leafs(const ctest::Node& n) {
  auto j = ctest::http_json(n.http_port, "/leafz");
  return j.contains("leafnodes") ? j["leafnodes"].get<int>() : -1;
}

// A hub with a full resolver, account A pushed by a system user with `leaf` as given.
struct JwtLeafHub {
  KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), sys_user = jwt::user_keys(), acc = jwt::account_keys(),
          leaf_user = jwt::user_keys();
  testing_harness::TempDir dir;
  ctest::Node hub;
  int leaf_port = testing_harness::free_port();
  std::string leaf_creds;
  ConnPtr sys_conn;
  std::vector<std::unique_ptr<ctest::Node>> leafs;

  explicit JwtLeafHub(const std::string& bin) {
    std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
    std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
    hub.binary = bin;
    hub.name = "hub";
    hub.extra = "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver { type: full, dir: \"" +
                dir.path() + "/jwts\" }\nresolver_preload: { " + sys.pub + ": \"" + sys_jwt + "\" }\n" +
                "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n";
    hub.start();
    std::string sys_creds =
        dir.write("sys.creds", jwt::creds(jwt::sign(jwt::user_claims(sys_user, "sys"), sys), sys_user.seed));
    leaf_creds = dir.write("leaf.creds", jwt::creds(jwt::sign(jwt::user_claims(leaf_user, "leaf"), acc), leaf_user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 3000);
    natsOptions_SetUserCredentialsFromFiles(o.p, sys_creds.c_str(), nullptr);
    EXPECT_EQ(connect_signed(sys_conn, hub.proc->url(), o.p), NATS_OK);
  }
  // Pushes A's JWT with `leaf` as its leaf limit; the resolver's answer code.
  int push(int leaf, int64_t expires = 0) {
    auto c = jwt::account_claims(acc, "A");
    c["nats"]["limits"]["leaf"] = leaf;
    if (expires) c["exp"] = expires;
    MsgPtr m;
    std::string token = jwt::sign(c, op);
    if (natsConnection_RequestString(&m.p, sys_conn.p, "$SYS.REQ.CLAIMS.UPDATE", token.c_str(), 3000) != NATS_OK)
      return -1;
    auto j = nlohmann::json::parse(m.data(), nullptr, false);
    return j.is_object() && j.contains("data") ? j["data"].value("code", -1) : -1;
  }
  ctest::Node& add_leaf() {
    auto n = std::make_unique<ctest::Node>();
    n->name = "leaf" + std::to_string(leafs.size() + 1);
    n->extra = "leafnodes { reconnect: 1\n remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(leaf_port) +
               "\", credentials: \"" + leaf_creds + "\" } ] }\n";
    n->start();
    leafs.push_back(std::move(n));
    return *leafs.back();
  }
};

TEST(LeafJwtLimit, LeafLimitOfTheAccountJwtAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    JwtLeafHub h(bin);
    ASSERT_EQ(h.push(1), 200) << bin;
    auto& l1 = h.add_leaf();
    ASSERT_TRUE(wait_for([&] { return ljl_num_leafs(h.hub) == 1 && ljl_num_leafs(l1) == 1; }, milliseconds(10000)))
        << bin << l1.proc->log();
    auto& l2 = h.add_leaf();
    EXPECT_TRUE(wait_for([&] { return l2.proc->log().find("maximum account active connections exceeded") != std::string::npos; },
                         milliseconds(10000)))
        << bin << l2.proc->log();
    // A raised limit: the refused leaf gets in on its next attempt.
    ASSERT_EQ(h.push(2), 200) << bin;
    EXPECT_TRUE(wait_for([&] { return ljl_num_leafs(h.hub) == 2 && ljl_num_leafs(l2) == 1; }, milliseconds(10000)))
        << bin << l2.proc->log();
    // A lowered limit: both stay (no cut on a single server's JWT update) ...
    ASSERT_EQ(h.push(1), 200) << bin;
    auto deadline = std::chrono::steady_clock::now() + milliseconds(1500);
    while (std::chrono::steady_clock::now() < deadline) {
      EXPECT_EQ(ljl_num_leafs(h.hub), 2) << bin;
      std::this_thread::sleep_for(milliseconds(250));
    }
    // ... but a third leaf is refused.
    auto& l3 = h.add_leaf();
    EXPECT_TRUE(wait_for([&] { return l3.proc->log().find("maximum account active connections exceeded") != std::string::npos; },
                         milliseconds(10000)))
        << bin << l3.proc->log();
    EXPECT_EQ(ljl_num_leafs(l1), 1) << bin;
    EXPECT_EQ(ljl_num_leafs(l2), 1) << bin;
  }
}

// An account JWT whose `exp` passes while a leaf is bound to it: as 2.9.10, whose account
// clients include its leafs, the hub sends the leaf "-ERR 'Account Authentication Expired'"
// (the leaf logs it as a Leafnode Error), closes it with "Authentication Expired", and
// refuses its redials with "Authorization Violation" while the account stays expired; a JWT
// pushed without `exp` lets it back in. About 4 s per server.
TEST(LeafJwtLimit, ExpiredAccountCutsItsLeafsAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    JwtLeafHub h(bin);
    int64_t exp = jwt::now_unix() + 2;
    ASSERT_EQ(h.push(-1, exp), 200) << bin;
    auto& l1 = h.add_leaf();
    ASSERT_TRUE(wait_for([&] { return ljl_num_leafs(h.hub) == 1 && ljl_num_leafs(l1) == 1; }, milliseconds(10000)))
        << bin << l1.proc->log();
    EXPECT_TRUE(wait_for([&] { return l1.proc->log().find("Account Authentication Expired") != std::string::npos; },
                         milliseconds(5000)))
        << bin << l1.proc->log();
    EXPECT_GE(jwt::now_unix(), exp) << bin;
    EXPECT_TRUE(wait_for([&] { return h.hub.proc->log().find("Leafnode connection closed: Authentication Expired") !=
                                      std::string::npos; },
                         milliseconds(3000)))
        << bin << h.hub.proc->log();
    // Its redial is refused while the account stays expired.
    size_t after = l1.proc->log().find("Account Authentication Expired");
    EXPECT_TRUE(wait_for([&] { return l1.proc->log().find("Authorization Violation", after) != std::string::npos; },
                         milliseconds(5000)))
        << bin << l1.proc->log();
    EXPECT_EQ(ljl_num_leafs(h.hub), 0) << bin;
    // As 2.9.10, /connz?state=closed lists the closed leaf with its reason.
    {
      auto closed = ctest::http_json(h.hub.http_port, "/connz?state=closed");
      bool found = false;
      for (const auto& c : closed.value("connections", nlohmann::json::array()))
        found |= c.value("kind", "") == "Leafnode" && c.value("reason", "") == "Authentication Expired";
      EXPECT_TRUE(found) << bin << closed.dump();
    }
    // Renewed: back in on its next redial.
    ASSERT_EQ(h.push(-1), 200) << bin;
    EXPECT_TRUE(wait_for([&] { return ljl_num_leafs(h.hub) == 1 && ljl_num_leafs(l1) == 1; }, milliseconds(5000)))
        << bin << l1.proc->log();
  }
}

// The dialling side: a leaf remote bound to a local account whose JWT expires is cut too (the
// hub gets "-ERR 'Account Authentication Expired'"), then redialled and bound again, as
// 2.9.10 (its lookup of an expired account with the same JWT at hand returns the account).
// About 4 s per server.
TEST(LeafJwtLimit, ExpiredLocalAccountCutsTheDialledLeafAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys();
    testing_harness::TempDir dir;
    ctest::Node hub, spoke;
    int leaf_port = testing_harness::free_port();
    hub.binary = spoke.binary = bin;
    hub.name = "hub";
    hub.extra = "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n";
    hub.start();
    auto claims = jwt::account_claims(acc, "A");
    int64_t exp = jwt::now_unix() + 3;
    claims["exp"] = exp;
    std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
    spoke.name = "spoke";
    spoke.extra = "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver: MEMORY\n" +
                  "resolver_preload: { " + sys.pub + ": \"" + jwt::sign(jwt::account_claims(sys, "SYS"), op) + "\", " +
                  acc.pub + ": \"" + jwt::sign(claims, op) + "\" }\n" +
                  "leafnodes { reconnect: 1\n remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(leaf_port) +
                  "\", account: " + acc.pub + " } ] }\n";
    spoke.start();
    ASSERT_TRUE(wait_for([&] { return ljl_num_leafs(hub) == 1 && ljl_num_leafs(spoke) == 1; }, milliseconds(10000)))
        << bin << spoke.proc->log();
    EXPECT_TRUE(wait_for([&] { return hub.proc->log().find("Account Authentication Expired") != std::string::npos; },
                         milliseconds(6000)))
        << bin << hub.proc->log();
    EXPECT_GE(jwt::now_unix(), exp) << bin;
    EXPECT_TRUE(wait_for([&] { return spoke.proc->log().find("Leafnode connection closed: Authentication Expired") !=
                                      std::string::npos; },
                         milliseconds(3000)))
        << bin << spoke.proc->log();
    // Redialled and bound again.
    size_t cut = spoke.proc->log().find("Leafnode connection closed: Authentication Expired");
    EXPECT_TRUE(wait_for([&] { return spoke.proc->log().find("Leafnode connection created", cut) != std::string::npos &&
                                      ljl_num_leafs(hub) == 1 && ljl_num_leafs(spoke) == 1; },
                         milliseconds(5000)))
        << bin << spoke.proc->log();
  }
}

// 2.9.10 reads leafnodes { reconnect } as a whole number of seconds and stops on anything
// else with Go's conversion error at the key.
TEST(LeafJwtLimit, ReconnectMustBeWholeSecondsAsTheReference) {
  testing_harness::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"\"250ms\"", "string"}, {"2.5", "float64"}, {"true", "bool"}};
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    for (const auto& [value, go_type] : cases) {
      std::string conf = dir.write("r.conf", "port: -1\nleafnodes { reconnect: " + value +
                                                 "\n remotes [ { url: \"nats://127.0.0.1:1\" } ] }\n");
      auto r = testing_harness::run_command("timeout 10 " + bin + " -t -c " + conf);
      EXPECT_NE(r.status, 0) << bin << " " << value;
      const std::string want = "r.conf:2:13: interface conversion: interface {} is " + go_type + ", not int64";
      EXPECT_NE(r.output.find(want), std::string::npos) << bin << " " << value << ": " << r.output;
    }
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
