// Resolver directories over time: a CACHE resolver keeps at most `limit` JWTs (a new one
// pushes out the least recently used) and removes each `ttl` after its last use, looking it
// up again at the next connect; a FULL resolver removes a JWT file once the JWT itself has
// expired. Run against our server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using testing_harness::ServerProcess;

class JwtResolverExpiry : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
    op_file_ = dir_.write("op.jwt", jwt::sign(jwt::operator_claims(op_, sys_.pub), op_));
    for (auto& p : ports_) p = testing_harness::free_port();
  }
  std::string jwt_dir(int i) const { return dir_.path() + "/jwts" + std::to_string(i); }
  // Server i (0: FULL with `preload`, 1: `resolver`), routed to the other.
  std::unique_ptr<ServerProcess> start(int i, const std::string& resolver, const std::string& preload = "") {
    auto listen = [](int port) { return "127.0.0.1:" + std::to_string(port); };
    std::string conf = "server_name: S" + std::to_string(i) + "\noperator: \"" + op_file_ + "\"\nsystem_account: " +
                       sys_.pub + "\nresolver { " + resolver + ", dir: \"" + jwt_dir(i) +
                       "\" }\nresolver_preload: {\n  " + sys_.pub + ": \"" +
                       jwt::sign(jwt::account_claims(sys_, "SYS"), op_) + "\"\n" + preload + "}\n" +
                       "cluster {\n  name: c1\n  listen: \"" + listen(ports_[i]) + "\"\n  routes: [\"nats-route://" +
                       listen(ports_[1 - i]) + "\"]\n}\n";
    return start_with_config(conf, {}, GetParam());
  }
  bool stored(int i, const KeyPair& acc) const { return std::filesystem::exists(jwt_dir(i) + "/" + acc.pub + ".jwt"); }
  natsStatus connect_user(ConnPtr& c, const std::string& url, const KeyPair& account) {
    static int n = 0;
    KeyPair user = jwt::user_keys();
    std::string file = dir_.write("e" + std::to_string(++n) + ".creds",
                                  jwt::creds(jwt::sign(jwt::user_claims(user, "u"), account), user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 5000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, file.c_str(), nullptr);
    return connect_signed(c, url, o.p);
  }
  testing_harness::TempDir dir_;
  KeyPair op_ = jwt::operator_keys(), sys_ = jwt::account_keys();
  std::string op_file_;
  int ports_[2] = {0, 0};
};

// B (CACHE, limit 3: the system account's preload counts too) looks up three accounts from A:
// the store never holds more than three, the newest is there. With ttl 2s every looked-up JWT
// leaves B's directory within a few seconds of its last use (its clients stay).
TEST_P(JwtResolverExpiry, CacheKeepsTheLimitAndDropsEntriesAfterTheirTtl) {
  KeyPair x = jwt::account_keys(), y = jwt::account_keys(), z = jwt::account_keys();
  std::string preload;
  for (const auto* k : {&x, &y, &z})
    preload += "  " + k->pub + ": \"" + jwt::sign(jwt::account_claims(*k, "A"), op_) + "\"\n";
  auto a = start(0, "type: full", preload);
  auto b = start(1, "type: cache, ttl: \"2s\", limit: 3");
  {
    // Wait for the route: a lookup needs it.
    ConnPtr probe;
    ASSERT_TRUE(wait_for(
        [&] {
          probe.reset();
          return connect_user(probe, b->url(), x) == NATS_OK;
        },
        milliseconds(10000)))
        << b->log();
  }
  ConnPtr cy, cz;
  ASSERT_EQ(connect_user(cy, b->url(), y), NATS_OK) << b->log();
  ASSERT_EQ(connect_user(cz, b->url(), z), NATS_OK) << b->log();
  EXPECT_TRUE(stored(1, z));
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(jwt_dir(1)))
    if (e.path().extension() == ".jwt") ++files;
  EXPECT_LE(files, 3u);
  // The ttl: gone within a few seconds although the clients are still connected.
  EXPECT_TRUE(wait_for([&] { return !stored(1, y) && !stored(1, z); }, milliseconds(8000)));
  // Still registered in memory, the account keeps its connections.
  EXPECT_EQ(natsConnection_Flush(cz.p), NATS_OK);
}

// A FULL directory holding a JWT that has already expired: the file is removed at start.
TEST_P(JwtResolverExpiry, FullRemovesAnExpiredJwtFile) {
  KeyPair old_acc = jwt::account_keys(), live = jwt::account_keys();
  auto claims = jwt::account_claims(old_acc, "OLD");
  claims["exp"] = jwt::now_unix() - 60;
  std::filesystem::create_directories(jwt_dir(0));
  dir_.write("jwts0/" + old_acc.pub + ".jwt", jwt::sign(claims, op_));
  dir_.write("jwts0/" + live.pub + ".jwt", jwt::sign(jwt::account_claims(live, "LIVE"), op_));
  auto a = start(0, "type: full");
  EXPECT_TRUE(wait_for([&] { return !stored(0, old_acc); }, milliseconds(5000))) << a->log();
  EXPECT_TRUE(stored(0, live));
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtResolverExpiry, ::testing::ValuesIn(testing_harness::binaries_to_compare()));

}  // namespace

}  // namespace NATS_TEST_FILE_ID
