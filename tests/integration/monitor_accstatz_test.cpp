// The monitor's /accstatz (the reference's AccountStatz): per-account connection counts and
// traffic, only accounts with local connections unless ?unused=1; compared with 2.9.10.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using testing_harness::free_port;
using testing_harness::ServerProcess;
using itest::RawClient;

namespace {

const nlohmann::json* find_account(const nlohmann::json& z, const std::string& name) {
  if (!z.contains("account_statz") || !z["account_statz"].is_array()) return nullptr;
  for (const auto& a : z["account_statz"])
    if (a.value("acc", "") == name) return &a;
  return nullptr;
}

}  // namespace

TEST(MonitorAccstatz, CountsConnectionsAndTrafficAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int http = free_port();
    ServerProcess srv({"-m", std::to_string(http)}, bin);
    srv.start();
    RawClient sub(srv.port()), pub(srv.port());
    ASSERT_TRUE(sub.send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPING\r\n"));
    ASSERT_TRUE(sub.expect_line("PONG")) << bin;
    ASSERT_TRUE(pub.send("CONNECT {\"verbose\":false}\r\nPUB foo 5\r\nhello\r\nPUB foo 3\r\nabc\r\nPING\r\n"));
    ASSERT_TRUE(pub.expect_line("PONG")) << bin;
    ASSERT_TRUE(sub.send("PING\r\n"));
    // Both messages, then the PONG.
    std::string got = sub.read_until_suffix("PONG\r\n", std::chrono::milliseconds(3000));
    ASSERT_NE(got.find("abc"), std::string::npos) << bin << got;

    auto z = ctest::http_json(http, "/accstatz");
    EXPECT_TRUE(z.value("server_id", "").size() > 0) << bin << z.dump();
    EXPECT_TRUE(z.contains("now")) << bin;
    ASSERT_EQ(z["account_statz"].size(), 1u) << bin << z.dump();  // $SYS has no connections
    const auto* g = find_account(z, "$G");
    ASSERT_NE(g, nullptr) << bin << z.dump();
    EXPECT_EQ((*g)["conns"], 2) << bin;
    EXPECT_EQ((*g)["leafnodes"], 0) << bin;
    EXPECT_EQ((*g)["total_conns"], 2) << bin;
    EXPECT_EQ((*g)["received"]["msgs"], 2) << bin << g->dump();
    EXPECT_EQ((*g)["received"]["bytes"], 8) << bin << g->dump();
    EXPECT_EQ((*g)["sent"]["msgs"], 2) << bin << g->dump();
    EXPECT_EQ((*g)["sent"]["bytes"], 8) << bin << g->dump();
    EXPECT_EQ((*g)["slow_consumers"], 0) << bin;

    auto all = ctest::http_json(http, "/accstatz?unused=1");
    const auto* sys = find_account(all, "$SYS");
    ASSERT_NE(sys, nullptr) << bin << all.dump();
    EXPECT_EQ((*sys)["conns"], 0) << bin;

    auto bad = ctest::http_response(http, "/accstatz?unused=x");
    EXPECT_EQ(bad.body, "Error decoding boolean for 'unused': strconv.ParseBool: parsing \"x\": invalid syntax")
        << bin;
  }
}

}  // namespace NATS_TEST_FILE_ID
