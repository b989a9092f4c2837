// Config reload of the settings 2.9.10 reloads beyond limits, users and TLS (reload.go's
// authTimeoutOption, pidFileOption, portsFileDirOption, clientAdvertiseOption, tagsOption and
// accountsOption for accounts added): each changed while a client is connected, the client
// staying, and the observable result checked against our server and the reference with the
// same expectations.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "reload_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

class ReloadSettings : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
  }
  void start(const std::string& text) {
    conf_ = dir_.write("reload.conf", text);
    http_port_ = testing_harness::free_port();
    srv_ = std::make_unique<ServerProcess>(std::vector<std::string>{"-c", conf_, "-m", std::to_string(http_port_)},
                                           GetParam());
    srv_->start();
  }
  // Rewrites the config and sends SIGHUP; "" once applied, else the error logged.
  std::string reload(const std::string& text) {
    return reload_config(*srv_, conf_, text);
  }
  nlohmann::json varz() {
    auto r = testing_harness::run_command("curl -s http://127.0.0.1:" + std::to_string(http_port_) + "/varz");
    return nlohmann::json::parse(r.output, nullptr, false);
  }
  static std::string login(RawClient& c, const std::string& user) {
    c.send("CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"" + user + "\",\"pass\":\"pw\"}\r\nPING\r\n");
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
  static std::string ping(RawClient& c) {
    c.send("PING\r\n");
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
  // The *.ports files in `dir`.
  static int ports_files(const std::string& dir) {
    int n = 0;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".ports") ++n;
    return n;
  }
  TempDir dir_;
  std::string conf_;
  int http_port_ = 0;
  std::unique_ptr<ServerProcess> srv_;
};

// authorization timeout, pid_file, ports_file_dir and client_advertise, all in one reload.
TEST_P(ReloadSettings, AuthTimeoutPidFilePortsDirAndAdvertise) {
  TempDir d1, d2;
  std::string pid1 = dir_.path() + "/one.pid", pid2 = dir_.path() + "/two.pid";
  auto conf = [&](int timeout, const std::string& pid, const std::string& ports, const std::string& adv) {
    // A users list: 2.9.10 cuts clients of a single `user`/`password` at every reload (its
    // clientHasMovedToDifferentAccount finds no users map), which ours does not copy.
    return "authorization {\n  users: [{user: u, password: pw}]\n  timeout: " + std::to_string(timeout) + "\n}\npid_file: \"" +
           pid + "\"\nports_file_dir: \"" + ports + "\"\nclient_advertise: \"" + adv + "\"\n";
  };
  start(conf(5, pid1, d1.path(), "one.example:4111"));
  ASSERT_TRUE(wait_for([&] { return ports_files(d1.path()) == 1; }, milliseconds(3000)));
  RawClient kept(srv_->port());
  EXPECT_NE(kept.info().find("\"host\":\"one.example\",\"port\":4111"), std::string::npos) << kept.info();
  ASSERT_EQ(login(kept, "u"), "PONG");

  ASSERT_EQ(reload(conf(1, pid2, d2.path(), "two.example")), "") << srv_->log();
  // pid_file: the pid written to the new file.
  std::string pid_text;
  std::ifstream(pid2) >> pid_text;
  EXPECT_EQ(pid_text, std::to_string(srv_->pid()));
  // ports_file_dir: moved.
  EXPECT_TRUE(wait_for([&] { return ports_files(d2.path()) == 1; }, milliseconds(3000)));
  EXPECT_EQ(ports_files(d1.path()), 0);
  // client_advertise: new clients' INFO (no port: the client port).
  RawClient fresh(srv_->port());
  EXPECT_NE(fresh.info().find("\"host\":\"two.example\",\"port\":" + std::to_string(srv_->port())), std::string::npos)
      << fresh.info();
  auto v = varz();
  EXPECT_EQ(v.value("auth_timeout", 0.0), 1.0) << v.dump();
  EXPECT_EQ(v.value("host", ""), "two.example");
  // The authorization timeout: a client that never sends CONNECT is cut after 1 s now.
  auto t0 = Clock::now();
  fresh.read_until_close(milliseconds(4000));
  EXPECT_TRUE(fresh.closed());
  EXPECT_LT(Clock::now() - t0, milliseconds(3000));
  // The client connected before stays.
  EXPECT_EQ(ping(kept), "PONG") << srv_->log();
}

// server_tags: /varz (first asked after the reload) and STATSZ answers show the new tags.
TEST_P(ReloadSettings, TagsShowInVarzAndStatsz) {
  auto conf = [](const std::string& tags) {
    return "server_tags: [" + tags + "]\nsystem_account: SYS\naccounts {\n  SYS: {users: [{user: sys, password: pw}]}\n"
           "  APP: {users: [{user: app, password: pw}]}\n}\n";
  };
  start(conf("\"az:1\""));
  RawClient sys(srv_->port()), app(srv_->port());
  ASSERT_EQ(login(sys, "sys"), "PONG");
  ASSERT_EQ(login(app, "app"), "PONG");
  ASSERT_EQ(reload(conf("\"az:2\", \"ssd\"")), "") << srv_->log();
  EXPECT_EQ(varz().value("tags", nlohmann::json()), nlohmann::json::array({"az:2", "ssd"}));
  sys.send("SUB _INBOX.t 1\r\nPUB $SYS.REQ.SERVER.PING.STATSZ _INBOX.t 0\r\n\r\n");
  std::string body;
  for (int i = 0; i < 10 && body.empty(); ++i) {
    auto l = sys.read_line(milliseconds(3000));
    if (!l) break;
    if (l->rfind("MSG _INBOX.t", 0) == 0) body = sys.read_line(milliseconds(3000)).value_or("");
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << body;
  EXPECT_EQ(j["server"].value("tags", nlohmann::json()), nlohmann::json::array({"az:2", "ssd"})) << body;
  EXPECT_EQ(ping(app), "PONG");
}

// An account added to the config: its users log in, its exports reach the existing accounts
// that now import them, and the clients connected before stay.
TEST_P(ReloadSettings, AccountAddedTakesUsersAndImports) {
  std::string a_only = "accounts {\n  A: {users: [{user: a, password: pw}]}\n}\n";
  start(a_only);
  RawClient a(srv_->port());
  ASSERT_EQ(login(a, "a"), "PONG");
  a.send("SUB news 1\r\nSUB other 2\r\nPING\r\n");
  ASSERT_EQ(a.read_line(milliseconds(3000)).value_or(""), "PONG");
  RawClient early(srv_->port());
  EXPECT_EQ(login(early, "b"), "-ERR 'Authorization Violation'");

  ASSERT_EQ(reload("accounts {\n  A: {users: [{user: a, password: pw}]\n     imports: [{stream: {account: B, subject: news}}]}\n"
                   "  B: {users: [{user: b, password: pw}]\n     exports: [{stream: news}]}\n}\n"),
            "")
      << srv_->log();
  RawClient b(srv_->port());
  ASSERT_EQ(login(b, "b"), "PONG");
  b.send("PUB other 2\r\nno\r\nPUB news 2\r\nhi\r\nPING\r\n");
  EXPECT_EQ(b.read_line(milliseconds(3000)).value_or(""), "PONG");
  // Only the imported subject crosses into A.
  EXPECT_EQ(a.read_line(milliseconds(3000)).value_or(""), "MSG news 1 2");
  EXPECT_EQ(a.read_line(milliseconds(3000)).value_or(""), "hi");
  EXPECT_EQ(ping(a), "PONG");
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadSettings,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
