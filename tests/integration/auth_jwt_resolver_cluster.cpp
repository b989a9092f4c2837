// The directory account resolver (resolver { type: full }) in a two-server cluster: a JWT
// pushed to one server reaches the other over the route (both answer the push), and a
// server that was down during the push catches up by the periodic $SYS.REQ.CLAIMS.PACK sync
// (`interval`). Run against our server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "jwt_fixture.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;
using testing_harness::ServerProcess;

class JwtResolverCluster : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    for (auto& p : cluster_ports_) p = testing_harness::free_port();
  }
  // Server `i` (0: A, 1: B), routed to the other one, storing its JWTs in <dir>/jwts<i>.
  std::unique_ptr<ServerProcess> start(int i) {
    std::string conf = "server_name: " + std::string(i == 0 ? "A" : "B") + "\n" + operator_config() +
                       "resolver { type: full, dir: \"" + jwt_dir(i) + "\", interval: \"500ms\" }\n" +
                       "resolver_preload: {\n" + preload_line(sys_, sys_jwt_) + "}\n" + route_block(i, cluster_ports_);
    return start_with_config(conf, {}, GetParam());
  }
  natsStatus connect_user(ConnPtr& c, const std::string& url, const KeyPair& account, const KeyPair& user) {
    return JwtOperatorTest::connect_user(c, url, account, user, 2000);
  }

  KeyPair sys_user_ = jwt::user_keys(), acc_ = jwt::account_keys(), user_ = jwt::user_keys();
  int cluster_ports_[2] = {0, 0};
};

TEST_P(JwtResolverCluster, PushReachesEveryServerAndBothAnswer) {
  auto a = start(0), b = start(1);
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK);
  ASSERT_TRUE(cluster_formed(sys.p)) << a->log();
  auto answers = gather(sys.p, "$SYS.REQ.CLAIMS.UPDATE", jwt::sign(jwt::account_claims(acc_, "A"), op_), 2);
  ASSERT_EQ(answers.size(), 2u);
  std::set<std::string> servers;
  for (const auto& r : answers) {
    json j = json::parse(r, nullptr, false);
    EXPECT_EQ(j["data"], json({{"account", acc_.pub}, {"code", 200}, {"message", "jwt updated"}})) << r;
    servers.insert(j["server"].value("name", ""));
  }
  EXPECT_EQ(servers, (std::set<std::string>{"A", "B"}));
  // The user of the pushed account is known on B, and an update revoking it, pushed to A,
  // cuts it on B.
  ConnPtr on_b;
  ASSERT_EQ(connect_user(on_b, b->url(), acc_, user_), NATS_OK) << b->log();
  json revoking = jwt::account_claims(acc_, "A");
  revoking["nats"]["revocations"] = {{"*", jwt::now_unix()}};
  ASSERT_EQ(gather(sys.p, "$SYS.REQ.CLAIMS.UPDATE", jwt::sign(revoking, op_), 2).size(), 2u);
  EXPECT_TRUE(wait_for([&] { return natsConnection_IsClosed(on_b.p); }, milliseconds(5000))) << b->log();
}

TEST_P(JwtResolverCluster, ServerDownDuringThePushCatchesUpByPackSync) {
  auto a = start(0);
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK);
  auto answers = gather(sys.p, "$SYS.REQ.CLAIMS.UPDATE", jwt::sign(jwt::account_claims(acc_, "A"), op_), 1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(json::parse(answers[0], nullptr, false)["data"]["code"], 200) << answers[0];
  auto b = start(1);
  // No client of B asks for the account: the JWT arrives by B's (or A's) sync alone. B picks
  // a random member of the "responder" queue group, itself included, so this takes a few
  // 500 ms rounds.
  std::string file = jwt_dir(1) + "/" + acc_.pub + ".jwt";
  EXPECT_TRUE(wait_for([&] { return std::filesystem::exists(file); }, milliseconds(15000))) << b->log();
  ConnPtr on_b;
  EXPECT_EQ(connect_user(on_b, b->url(), acc_, user_), NATS_OK) << b->log();
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtResolverCluster,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
