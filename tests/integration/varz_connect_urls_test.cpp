// /varz connect_urls and ws_connect_urls, and the connect_urls of a client's INFO, as the
// 2.9.10 reference gives them: absent until a route brings the other servers' URLs, then
// this server's own URLs followed by the routes', and this server's own alone once those
// routes are gone.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

std::set<std::string> varz_url_set(const ctest::Node& n, const char* key) {
  auto j = ctest::http_json(n.http_port, "/varz");
  std::set<std::string> out;
  if (j.contains(key))
    for (auto& u : j[key]) out.insert(u.get<std::string>());
  return out;
}

std::string tcp_url(const ctest::Node& n) { return "127.0.0.1:" + std::to_string(n.proc->port()); }

TEST(VarzConnectUrls, FollowTheRoutesAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    ctest::Node a, b;
    int ws_a = testing_harness::free_port(), ws_b = testing_harness::free_port();
    ctest::configure_route_pair(a, b, bin);
    a.extra = "host: 127.0.0.1\n" + ws_config(ws_a);
    b.extra = "host: 127.0.0.1\n" + ws_config(ws_b);
    a.start();
    // Alone: no URLs in /varz, none in a client's INFO.
    auto alone = ctest::http_json(a.http_port, "/varz");
    EXPECT_FALSE(alone.contains("connect_urls")) << bin << alone.dump();
    EXPECT_FALSE(alone.contains("ws_connect_urls")) << bin;
    {
      RawClient c(a.proc->port());
      EXPECT_EQ(c.info().find("connect_urls"), std::string::npos) << bin << c.info();
    }
    b.start();
    ASSERT_TRUE(wait_for([&] { return a.num_routes() == 1 && b.num_routes() == 1; }, milliseconds(10000))) << bin;
    const std::set<std::string> both{tcp_url(a), tcp_url(b)};
    const std::set<std::string> both_ws{"127.0.0.1:" + std::to_string(ws_a), "127.0.0.1:" + std::to_string(ws_b)};
    EXPECT_TRUE(wait_for([&] { return varz_url_set(a, "connect_urls") == both; }, milliseconds(5000))) << bin;
    EXPECT_EQ(varz_url_set(a, "ws_connect_urls"), both_ws) << bin;
    EXPECT_EQ(varz_url_set(b, "connect_urls"), both) << bin;
    EXPECT_EQ(varz_url_set(b, "ws_connect_urls"), both_ws) << bin;
    // The server's own URL comes first.
    auto v = ctest::http_json(a.http_port, "/varz");
    ASSERT_TRUE(v.contains("connect_urls")) << bin;
    EXPECT_EQ(v["connect_urls"][0], tcp_url(a)) << bin << v["connect_urls"].dump();
    // B gone: A keeps its own URLs only.
    b.proc->stop();
    EXPECT_TRUE(wait_for([&] { return varz_url_set(a, "connect_urls") == std::set<std::string>{tcp_url(a)}; },
                         milliseconds(10000)))
        << bin;
    EXPECT_EQ(varz_url_set(a, "ws_connect_urls"), std::set<std::string>{"127.0.0.1:" + std::to_string(ws_a)}) << bin;
  }
}

// With cluster { no_advertise } neither /varz nor the INFO lists URLs.
TEST(VarzConnectUrls, NoAdvertiseListsNone) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    ctest::Node a, b;
    ctest::configure_route_pair(a, b, bin);
    a.cluster_extra = b.cluster_extra = "no_advertise: true";
    a.start();
    b.start();
    ASSERT_TRUE(wait_for([&] { return a.num_routes() == 1 && b.num_routes() == 1; }, milliseconds(10000))) << bin;
    auto v = ctest::http_json(a.http_port, "/varz");
    EXPECT_FALSE(v.contains("connect_urls")) << bin << v.dump();
    RawClient c(a.proc->port());
    EXPECT_EQ(c.info().find("connect_urls"), std::string::npos) << bin << c.info();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
