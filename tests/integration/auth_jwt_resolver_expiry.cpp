// Resolver directories over time: a CACHE resolver keeps at most `limit` JWTs (a new one
// pushes out the least recently used) and removes each `ttl` after its last use, looking it
// up again at the next connect; a FULL resolver removes a JWT file once the JWT itself has
// expired. Run against our server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "jwt_fixture.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using testing_harness::ServerProcess;

class JwtResolverExpiry : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    for (auto& p : ports_) p = testing_harness::free_port();
  }
  // Server i (0: FULL with `preload`, 1: `resolver`), routed to the other.
  std::unique_ptr<ServerProcess> start(int i, const std::string& resolver, const std::string& preload = "") {
    std::string conf = "server_name: S" + std::to_string(i) + "\n" + operator_config() + "resolver { " + resolver +
                       ", dir: \"" + jwt_dir(i) + "\" }\nresolver_preload: {\n" + preload_line(sys_, sys_jwt_) +
                       preload + "}\n" + route_block(i, ports_);
    return start_with_config(conf, {}, GetParam());
  }
  bool stored(int i, const KeyPair& acc) const { return std::filesystem::exists(jwt_dir(i) + "/" + acc.pub + ".jwt"); }
  natsStatus connect_user(ConnPtr& c, const std::string& url, const KeyPair& account) {
    return JwtOperatorTest::connect_user(c, url, account, jwt::user_keys());
  }
  int ports_[2] = {0, 0};
};

// B (CACHE, limit 3: the system account's preload counts too) looks up three accounts from A:
// the store never holds more than three, the newest is there. With ttl 2s every looked-up JWT
// leaves B's directory within a few seconds of its last use (its clients stay).
TEST_P(JwtResolverExpiry, CacheKeepsTheLimitAndDropsEntriesAfterTheirTtl) {
  KeyPair x = jwt::account_keys(), y = jwt::account_keys(), z = jwt::account_keys();
  std::string preload;
  for (const auto* k : {&x, &y, &z})
    preload += preload_line(*k, jwt::sign(jwt::account_claims(*k, "A"), op_));
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
  dir_->write("jwts0/" + old_acc.pub + ".jwt", jwt::sign(claims, op_));
  dir_->write("jwts0/" + live.pub + ".jwt", jwt::sign(jwt::account_claims(live, "LIVE"), op_));
  auto a = start(0, "type: full");
  bool removed = wait_for([&] { return !stored(0, old_acc); }, milliseconds(5000));
  if (GetParam() == testing_harness::server_binary()) {
    EXPECT_TRUE(removed) << a->log();
  } else if (!removed) {
    // 2.9.10's removal at start races its own directory walk: NewExpiringDirJWTStore starts
    // the expiry goroutine (one check at once, then every minute) before it tracks the files
    // on disk, so under load the first check can find nothing yet and the file stays for a
    // minute (seen once in CI). Ours tracks the files first, then checks.
    std::cerr << "[ expiry ] 2.9.10 kept the expired JWT past its first check (its start-up race)\n";
  }
  EXPECT_TRUE(stored(0, live));
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtResolverExpiry, ::testing::ValuesIn(testing_harness::binaries_to_compare()));

}  // namespace

}  // namespace NATS_TEST_FILE_ID
