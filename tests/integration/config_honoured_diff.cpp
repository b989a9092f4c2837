// Settings that were parsed and dropped before issue 14 and are now honoured, checked
// against the reference 2.9.10 with the same config and the same protocol exchange.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "both_servers_test.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

// Sends `data` then a PING on a fresh connection and returns the lines up to the PONG (or
// until the server closes the connection).
std::string exchange(int port, const std::string& data, std::string* info = nullptr) {
  RawClient c(port);
  if (info) *info = c.info_json();
  c.send(data + "PING\r\n");
  std::string out;
  for (;;) {
    auto l = c.read_line(milliseconds(2000));
    if (!l) return out + "<closed>\n";
    if (*l == "PONG") return out;
    out += *l + "\n";
  }
}

TEST(ConfigHonouredDiff, MaxSubTokens) {
  auto answers = per_binary([](const std::string& bin) {
    auto srv = start_with_config("max_sub_tokens: 3\n", {}, bin);
    return exchange(srv->port(), "CONNECT {\"verbose\":false}\r\nSUB a.b.c 1\r\nSUB a.b.c.d 2\r\nSUB a.> 3\r\n");
  });
  const std::string& ours = answers[testing_harness::server_binary()];
  EXPECT_EQ(ours, "-ERR 'Permissions Violation for Subscription to \"a.b.c.d\", too many tokens'\n");
  if (answers.size() > 1) {
    EXPECT_EQ(ours, answers[testing_harness::reference_binary()]);
  }
}

TEST(ConfigHonouredDiff, MaxSubTokensLimits) {
  per_binary([](const std::string& bin) {
    testing_harness::TempDir d;
    for (const std::string bad : {"max_sub_tokens: 256\n", "max_subscription_tokens: 0\n"}) {
      auto r = testing_harness::run_command(bin + " -t -c " + d.write("t.conf", bad));
      EXPECT_NE(r.status, 0) << bin << ": " << bad;
      EXPECT_NE(r.output.find(bad.find("256") != std::string::npos ? "value is too big" : "value can not be negative"),
                std::string::npos)
          << bin << ": " << r.output;
    }
  });
}

TEST(ConfigHonouredDiff, NoHeaderSupport) {
  auto answers = per_binary([](const std::string& bin) {
    auto srv = start_with_config("no_header_support: true\n", {}, bin);
    std::string info;
    std::string answer = exchange(
        srv->port(), "CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB h 1\r\nHPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", &info);
    EXPECT_FALSE(nlohmann::json::parse(info).value("headers", true)) << bin << ": " << info;
    return answer;
  });
  const std::string& ours = answers[testing_harness::server_binary()];
  EXPECT_EQ(ours.find("HMSG"), std::string::npos) << ours;
  if (answers.size() > 1) {
    EXPECT_EQ(ours, answers[testing_harness::reference_binary()]);
  }
}

// cluster_advertise is what a server tells its route peers to connect to.
TEST(ConfigHonouredDiff, ClusterAdvertiseInRouteInfo) {
  per_binary([](const std::string& bin) {
    int cport = testing_harness::free_port();
    auto srv = start_with_config("cluster { name: c, listen: \"127.0.0.1:" + std::to_string(cport) +
                                     "\", cluster_advertise: \"10.1.2.3:7777\" }\n",
                                 {}, bin);
    // 2.9.10 opens the cluster port after the client port the harness waited for.
    testing_harness::wait_listening({cport});
    RawClient route(cport);
    auto j = nlohmann::json::parse(route.info_json());
    EXPECT_EQ(j.value("host", ""), "10.1.2.3") << bin << ": " << route.info();
    EXPECT_EQ(j.value("port", 0), 7777) << bin;
    EXPECT_EQ(j.value("ip", ""), "nats-route://10.1.2.3:7777/") << bin;
  });
}

// ports_file_dir: the file the reference writes, with the same name and the same URLs.
TEST(ConfigHonouredDiff, PortsFile) {
  per_binary([](const std::string& bin) {
    testing_harness::TempDir d;
    int http = testing_harness::free_port();
    testing_harness::ServerProcess srv({"-m", std::to_string(http), "--ports_file_dir", d.path()}, bin);
    srv.start();
    std::string path = d.path() + "/nats-server_" + std::to_string(srv.pid()) + ".ports";
    ASSERT_TRUE(wait_for([&] { return access(path.c_str(), R_OK) == 0; }, milliseconds(5000))) << bin;
    std::ifstream in(path);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    EXPECT_EQ(j["nats"], nlohmann::json::array({"nats://127.0.0.1:" + std::to_string(srv.port())})) << bin << j.dump();
    EXPECT_EQ(j["monitoring"], nlohmann::json::array({"http://127.0.0.1:" + std::to_string(http)})) << bin << j.dump();
    srv.stop();
    EXPECT_NE(access(path.c_str(), F_OK), 0) << bin << ": removed on shutdown";
  });
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
