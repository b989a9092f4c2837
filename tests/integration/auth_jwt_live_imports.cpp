// Account JWT imports and exports at run time, with the FULL resolver: an account used on
// another server of the cluster gets its imports run where the exporter's messages are
// published (the interest of the other server registers it), and an account JWT update that adds or
// removes an import or an export applies to the running server without a restart. Run against
// our server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>

#include <map>

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

class JwtLiveImports : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    for (auto& p : route_ports_) p = testing_harness::free_port();
  }
  // Server `i` (0: A, 1: B), FULL resolver with the system and exporter accounts preloaded;
  // with `clustered`, routed to the other one.
  std::unique_ptr<ServerProcess> start(int i, bool clustered) {
    std::string conf = "server_name: " + std::string(i == 0 ? "A" : "B") + "\n" + operator_config() +
                       "resolver { type: full, dir: \"" + jwt_dir(i) + "\" }\nresolver_preload: {\n" +
                       preload_line(sys_, sys_jwt_) + preload_line(exp_, jwt::sign(exporter(true), op_)) + "}\n";
    if (clustered) conf += route_block(i, route_ports_);
    return start_with_config(conf, {}, GetParam());
  }
  json exporter(bool exports_feed) const {
    return exports_feed ? feed_exporter(exp_, "EXP") : jwt::account_claims(exp_, "EXP");
  }
  json importer(bool imports_feed) const {
    return imports_feed ? feed_importer(acc_, "ACC", exp_.pub) : jwt::account_claims(acc_, "ACC");
  }
  // Pushes an account JWT; the number of servers that answered "jwt updated".
  int push(natsConnection* sys, const json& claims, size_t servers) {
    std::string inbox = "_INBOX.push." + std::to_string(++seq_);
    SubPtr sub;
    if (natsConnection_SubscribeSync(&sub.p, sys, inbox.c_str()) != NATS_OK) return 0;
    std::string token = jwt::sign(claims, op_);
    natsConnection_PublishRequestString(sys, "$SYS.REQ.CLAIMS.UPDATE", inbox.c_str(), token.c_str());
    int ok = 0;
    for (size_t i = 0; i < servers; ++i) {
      MsgPtr m;
      if (natsSubscription_NextMsg(&m.p, sub.p, 3000) != NATS_OK) break;
      auto j = json::parse(m.data(), nullptr, false);
      if (j.is_object() && j.contains("data")) ++ok;
    }
    return ok;
  }
  // Publishes feed.x on `pub` until `got` counts one more message (true), or gives up.
  static bool flows(natsConnection* pub, MsgCounter& got, milliseconds within = milliseconds(6000)) {
    int before;
    {
      std::lock_guard lk(got.mu);
      before = got.count;
    }
    return wait_for([&] {
      natsConnection_PublishString(pub, "feed.x", "hi");
      natsConnection_Flush(pub);
      return got.wait_count(before + 1, milliseconds(200));
    }, within);
  }
  // No message for `got` while feed.x is published for a while.
  static bool silent(natsConnection* pub, MsgCounter& got) {
    int before;
    {
      std::lock_guard lk(got.mu);
      before = got.count;
    }
    for (int i = 0; i < 5; ++i) {
      natsConnection_PublishString(pub, "feed.x", "hi");
      natsConnection_Flush(pub);
      std::this_thread::sleep_for(milliseconds(100));
    }
    std::lock_guard lk(got.mu);
    return got.count == before;
  }

  KeyPair sys_user_ = jwt::user_keys(), acc_ = jwt::account_keys(), exp_ = jwt::account_keys(),
          user_ = jwt::user_keys(), exp_user_ = jwt::user_keys();
  int route_ports_[2] = {0, 0};
  int seq_ = 0;
};

// ACC is pushed to both servers after the cluster formed and is used on B only: its user
// there subscribes to the imported feed.x, EXP's publisher is on A. A registers ACC when B's
// interest in it arrives (as the reference's lookup on a remote subscription), runs the
// import and the message reaches B.
TEST_P(JwtLiveImports, ImportOfAccountUsedOnAnotherServerFlows) {
  auto a = start(0, true);
  auto b = start(1, true);
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK) << a->log();
  ASSERT_TRUE(wait_for([&] { return push(sys.p, importer(true), 2) == 2; }, milliseconds(10000))) << b->log();
  ConnPtr on_b, on_a;
  ASSERT_EQ(connect_user(on_b, b->url(), acc_, user_), NATS_OK) << b->log();
  ASSERT_EQ(connect_user(on_a, a->url(), exp_, exp_user_), NATS_OK) << a->log();
  MsgCounter got;
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, on_b.p, "feed.x", MsgCounter::on_msg, &got), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(on_b.p), NATS_OK);
  EXPECT_TRUE(flows(on_a.p, got)) << a->log();
}

// One server: an update adding ACC's import makes EXP's messages reach ACC's subscriber; an
// update of EXP withdrawing the export stops them; putting it back resumes them.
TEST_P(JwtLiveImports, ImportAndExportChangesApplyLive) {
  auto a = start(0, false);
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK) << a->log();
  ASSERT_EQ(push(sys.p, importer(false), 1), 1);
  ConnPtr imp, exp;
  ASSERT_EQ(connect_user(imp, a->url(), acc_, user_), NATS_OK) << a->log();
  ASSERT_EQ(connect_user(exp, a->url(), exp_, exp_user_), NATS_OK) << a->log();
  MsgCounter got;
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, imp.p, "feed.x", MsgCounter::on_msg, &got), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(imp.p), NATS_OK);
  EXPECT_TRUE(silent(exp.p, got));

  ASSERT_EQ(push(sys.p, importer(true), 1), 1);
  EXPECT_TRUE(flows(exp.p, got)) << a->log();
  ASSERT_EQ(push(sys.p, exporter(false), 1), 1);
  EXPECT_TRUE(silent(exp.p, got)) << a->log();
  ASSERT_EQ(push(sys.p, exporter(true), 1), 1);
  EXPECT_TRUE(flows(exp.p, got)) << a->log();
  EXPECT_EQ(natsConnection_Flush(imp.p), NATS_OK);  // the clients stayed connected
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtLiveImports,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
