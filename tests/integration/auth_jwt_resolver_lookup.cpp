// Account JWT lookups between servers: a server whose resolver (FULL or CACHE) lacks an
// account's JWT asks the others ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP) when a user of that
// account connects; a FULL server that has it answers. The CACHE resolver stores what it
// looked up and takes pushed updates only for the accounts it already uses ("jwt update cache
// skipped" otherwise). Run against our server and the reference 2.9.10 with the same
// expectations.
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

class JwtResolverLookup : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    for (auto& p : cluster_ports_) p = testing_harness::free_port();
  }
  // Server `i` (0: A, 1: B) with the resolver block `resolver` (its dir added), routed to the
  // other one; `preload` are extra "<key>: <jwt>" lines of resolver_preload.
  std::unique_ptr<ServerProcess> start(int i, const std::string& resolver, const std::string& preload = "") {
    std::string conf = "server_name: " + std::string(i == 0 ? "A" : "B") + "\n" + operator_config() + "resolver { " +
                       resolver + ", dir: \"" + jwt_dir(i) + "\" }\nresolver_preload: {\n" +
                       preload_line(sys_, sys_jwt_) + preload + "}\n";
    if (gateways_) {
      // Two clusters of one server each, joined by gateways.
      conf += "gateway {\n  name: g" + std::to_string(i) + "\n  listen: \"" + listen(cluster_ports_[i]) +
              "\"\n  gateways: [\n";
      for (int k = 0; k < 2; ++k)
        conf += "    {name: g" + std::to_string(k) + ", urls: [\"nats://" + listen(cluster_ports_[k]) + "\"]}\n";
      conf += "  ]\n}\n";
    } else {
      conf += route_block(i, cluster_ports_);
    }
    return start_with_config(conf, {}, GetParam());
  }
  bool stored(int i, const KeyPair& acc) const {
    return std::filesystem::exists(jwt_dir(i) + "/" + acc.pub + ".jwt");
  }
  // The "data" message of each server's answer to a push, by server name.
  std::map<std::string, std::string> push(natsConnection* nc, const json& claims) {
    std::map<std::string, std::string> out;
    for (const auto& answer : gather(nc, "$SYS.REQ.CLAIMS.UPDATE", jwt::sign(claims, op_), 2)) {
      json j = json::parse(answer, nullptr, false);
      out[j["server"].value("name", "")] =
          j.contains("data") ? j["data"].value("message", "") : "error: " + j["error"].dump();
    }
    return out;
  }

  KeyPair sys_user_ = jwt::user_keys(), acc_ = jwt::account_keys(), exp_ = jwt::account_keys(),
          user_ = jwt::user_keys(), exp_user_ = jwt::user_keys();
  int cluster_ports_[2] = {0, 0};  // route or gateway listen ports
  bool gateways_ = false;
};

// B (CACHE) has no JWT of the account nor of the account it imports a stream from; A (FULL)
// has both. A user of the account connects to B: B looks both up from A, stores them, and the
// import works across the route. Pushes: B skips the account until it uses it, then updates.
TEST_P(JwtResolverLookup, CacheServerLooksUpAccountAndItsExporterFromFullServer) {
  json exporter = feed_exporter(exp_, "EXP"), importer = feed_importer(acc_, "ACC", exp_.pub);
  auto a = start(0, "type: full", preload_line(exp_, jwt::sign(exporter, op_)) + preload_line(acc_, jwt::sign(importer, op_)));
  auto b = start(1, "type: cache, ttl: \"1h\", limit: 10");
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK) << a->log();
  ASSERT_TRUE(cluster_formed(sys.p)) << b->log();
  EXPECT_FALSE(stored(1, acc_));
  EXPECT_EQ(push(sys.p, importer), (std::map<std::string, std::string>{{"A", "jwt updated"}, {"B", "jwt update cache skipped"}}));

  ConnPtr on_b, on_a;
  ASSERT_EQ(connect_user(on_b, b->url(), acc_, user_), NATS_OK) << b->log();
  EXPECT_TRUE(stored(1, acc_));
  EXPECT_TRUE(stored(1, exp_));
  ASSERT_EQ(connect_user(on_a, a->url(), exp_, exp_user_), NATS_OK) << a->log();
  MsgCounter got;
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, on_b.p, "feed.x", MsgCounter::on_msg, &got), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(on_b.p), NATS_OK);
  // The subscription's interest crosses the route asynchronously: publish until one arrives.
  EXPECT_TRUE(wait_for([&] {
    natsConnection_PublishString(on_a.p, "feed.x", "hi");
    natsConnection_Flush(on_a.p);
    return got.wait_count(1, milliseconds(200));
  }, milliseconds(8000)));
  EXPECT_EQ(push(sys.p, importer), (std::map<std::string, std::string>{{"A", "jwt updated"}, {"B", "jwt updated cache"}}));
}

// Both FULL, only A has the account (the pack sync is a minute away): B looks it up at the
// user's CONNECT and stores it.
TEST_P(JwtResolverLookup, FullServerLooksUpMissingAccount) {
  auto a = start(0, "type: full", preload_line(acc_, jwt::sign(jwt::account_claims(acc_, "ACC"), op_)));
  auto b = start(1, "type: full");
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK) << a->log();
  ASSERT_TRUE(cluster_formed(sys.p)) << b->log();
  EXPECT_FALSE(stored(1, acc_));
  ConnPtr on_b;
  ASSERT_EQ(connect_user(on_b, b->url(), acc_, user_), NATS_OK) << b->log();
  EXPECT_TRUE(stored(1, acc_));
  // The client's first round trip after the held CONNECT works.
  EXPECT_EQ(natsConnection_Flush(on_b.p), NATS_OK);
}

// Nobody has the account: after the lookup's `timeout` the user is refused as usual.
TEST_P(JwtResolverLookup, UnknownAccountIsRefusedAfterTheLookupTimesOut) {
  auto a = start(0, "type: full");
  auto b = start(1, "type: cache, timeout: \"300ms\"");
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK) << a->log();
  ASSERT_TRUE(cluster_formed(sys.p)) << b->log();
  ConnPtr on_b;
  EXPECT_NE(connect_user(on_b, b->url(), acc_, user_), NATS_OK);
  EXPECT_FALSE(stored(1, acc_));
  // A later push of the account makes it known to A only; B then finds it by lookup.
  EXPECT_EQ(push(sys.p, jwt::account_claims(acc_, "ACC")),
            (std::map<std::string, std::string>{{"A", "jwt updated"}, {"B", "jwt update cache skipped"}}));
  ASSERT_EQ(connect_user(on_b, b->url(), acc_, user_), NATS_OK) << b->log();
}

// FULL resolvers in two clusters joined by gateways: a push to one reaches the other (both
// answer), and an account only the first has is looked up across the gateway.
TEST_P(JwtResolverLookup, FullResolversAcrossGateways) {
  gateways_ = true;
  auto a = start(0, "type: full", preload_line(exp_, jwt::sign(jwt::account_claims(exp_, "EXP"), op_)));
  auto b = start(1, "type: full");
  ConnPtr sys;
  ASSERT_EQ(connect_user(sys, a->url(), sys_, sys_user_), NATS_OK) << a->log();
  ASSERT_TRUE(cluster_formed(sys.p)) << a->log() << b->log();
  EXPECT_EQ(push(sys.p, jwt::account_claims(acc_, "ACC")),
            (std::map<std::string, std::string>{{"A", "jwt updated"}, {"B", "jwt updated"}}));
  EXPECT_TRUE(stored(1, acc_));
  ConnPtr on_b;
  ASSERT_EQ(connect_user(on_b, b->url(), exp_, exp_user_), NATS_OK) << b->log();
  EXPECT_TRUE(stored(1, exp_));
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtResolverLookup,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

// The directory resolvers' option checks: both servers refuse with the same message.
TEST(JwtResolverConfig, CacheAndFullOptionErrors) {
  KeyPair op = jwt::operator_keys(), sys = jwt::account_keys();
  testing_harness::TempDir d;
  std::string op_file = d.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
  std::string head = "operator: \"" + op_file + "\"\n";
  std::string dir = d.path() + "/jwt";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"resolver { type: cache, dir: \"" + dir + "\", interval: \"2m\" }\n", "CACHE does not accept sync"},
      {"resolver { type: cache, dir: \"" + dir + "\", allow_delete: true }\n", "CACHE does not accept allow_delete"},
      {"resolver { type: full, dir: \"" + dir + "\", ttl: \"2m\" }\n", "FULL does not accept ttl"},
      {"resolver { type: other, dir: \"" + dir + "\" }\n", "error parsing account resolver, should be MEM or"},
      {"resolver { type: cache, dir: \"" + op_file + "\" }\n", "dir needs to point to an accessible directory"},
  };
  int n = 0;
  for (const auto& [conf, want] : cases) {
    std::string file = d.write("c" + std::to_string(++n) + ".conf", head + conf);
    for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
      if (bin != testing_harness::server_binary() && !testing_harness::reference_available()) continue;
      auto r = testing_harness::run_command("timeout 10 " + bin + " -p -1 -c " + file + " 2>&1");
      EXPECT_NE(r.status, 0) << bin << "\n" << conf;
      EXPECT_NE(r.output.find(want), std::string::npos) << bin << ": " << r.output;
    }
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
