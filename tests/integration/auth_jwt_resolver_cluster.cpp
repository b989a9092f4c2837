// The directory account resolver (resolver { type: full }) in a two-server cluster: a JWT
// pushed to one server reaches the other over the route (both answer the push), and a
// server that was down during the push catches up by the periodic $SYS.REQ.CLAIMS.PACK sync
// (`interval`). Run against our server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;
using testing_harness::ServerProcess;

class JwtResolverCluster : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
    dir_ = std::make_unique<testing_harness::TempDir>();
    op_file_ = dir_->write("op.jwt", jwt::sign(jwt::operator_claims(op_, sys_.pub), op_));
    sys_jwt_ = jwt::sign(jwt::account_claims(sys_, "SYS"), op_);
    for (auto& p : cluster_ports_) p = testing_harness::free_port();
  }
  // Server `i` (0: A, 1: B), routed to the other one, storing its JWTs in <dir>/jwts<i>.
  std::unique_ptr<ServerProcess> start(int i) {
    auto listen = [](int port) { return "127.0.0.1:" + std::to_string(port); };
    std::string conf = "server_name: " + std::string(i == 0 ? "A" : "B") + "\noperator: \"" + op_file_ +
                       "\"\nsystem_account: " + sys_.pub + "\nresolver { type: full, dir: \"" + jwt_dir(i) +
                       "\", interval: \"500ms\" }\nresolver_preload: {\n  " + sys_.pub + ": \"" + sys_jwt_ +
                       "\"\n}\ncluster {\n  name: c1\n  listen: \"" + listen(cluster_ports_[i]) +
                       "\"\n  routes: [\"nats-route://" + listen(cluster_ports_[1 - i]) + "\"]\n}\n";
    return start_with_config(conf, {}, GetParam());
  }
  std::string jwt_dir(int i) const { return dir_->path() + "/jwts" + std::to_string(i); }
  natsStatus connect_user(ConnPtr& c, const std::string& url, const KeyPair& account, const KeyPair& user) {
    static int n = 0;
    std::string ujwt = jwt::sign(jwt::user_claims(user, "u"), account);
    std::string file = dir_->write("u" + std::to_string(++n) + ".creds", jwt::creds(ujwt, user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 2000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, file.c_str(), nullptr);
    return connect_signed(c, url, o.p);
  }
  // Publishes a request and collects the answers that arrive within `wait` (stops early once
  // `want` arrived).
  std::vector<std::string> gather(natsConnection* nc, const std::string& subject, const std::string& payload,
                                  size_t want, milliseconds wait = milliseconds(3000)) {
    std::string inbox = "_INBOX.gather." + std::to_string(++inbox_seq_);
    SubPtr sub;
    std::vector<std::string> out;
    if (natsConnection_SubscribeSync(&sub.p, nc, inbox.c_str()) != NATS_OK) return out;
    natsConnection_PublishRequestString(nc, subject.c_str(), inbox.c_str(), payload.c_str());
    auto deadline = Clock::now() + wait;
    while (out.size() < want && Clock::now() < deadline) {
      MsgPtr m;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (natsSubscription_NextMsg(&m.p, sub.p, std::max<int64_t>(left, 1)) != NATS_OK) break;
      out.push_back(m.data());
    }
    return out;
  }
  // Both servers answer a STATSZ ping: the route is up and the $SYS interest has crossed it.
  bool cluster_formed(natsConnection* nc) {
    return wait_for([&] { return gather(nc, "$SYS.REQ.SERVER.PING", "", 2, milliseconds(500)).size() == 2; },
                    milliseconds(10000));
  }

  KeyPair op_ = jwt::operator_keys(), sys_ = jwt::account_keys(), sys_user_ = jwt::user_keys(),
          acc_ = jwt::account_keys(), user_ = jwt::user_keys();
  std::unique_ptr<testing_harness::TempDir> dir_;
  std::string op_file_, sys_jwt_;
  int cluster_ports_[2] = {0, 0};
  int inbox_seq_ = 0;
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
