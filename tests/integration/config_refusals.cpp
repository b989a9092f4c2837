// Fail closed, end to end: a config that asks for something this server does not do stops it
// at start-up (not only under -t) with file:line:col and a non-zero exit, and a harmless
// ignored key is reported once in the start-up log.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

// Operator mode (issue 13) reads the operator JWT file at start-up: a missing one stops the
// server with file:line:col, as an invalid preloaded account JWT does.
TEST(ConfigRefusals, OperatorModeWithBadJwtsStopsTheServerAtStartup) {
  testing_harness::TempDir d;
  std::string conf = d.write("op.conf",
                             "port: -1\n"
                             "operator: \"/nonexistent/op.jwt\"\n"
                             "system_account: AAAXAUVSGK7TCRHFIRAS4SYXVJ76EWDMNXZM3XNLKGZZS3YEHHHWHEF7\n"
                             "resolver: MEMORY\n"
                             "resolver_preload: {\n"
                             "  AAAXAUVSGK7TCRHFIRAS4SYXVJ76EWDMNXZM3XNLKGZZS3YEHHHWHEF7: \"eyJ0eXAiOiJKV1QifQ\"\n"
                             "}\n");
  for (const char* mode : {"", " -t"}) {
    auto r = testing_harness::run_command("timeout 10 " + testing_harness::server_binary() + mode + " -c " + conf);
    EXPECT_NE(r.status, 0) << mode << r.output;
    EXPECT_NE(r.output.find(conf + ":2:1: error parsing operator JWT: open /nonexistent/op.jwt: no such file or directory"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find(": invalid account JWT"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("Server is ready"), std::string::npos) << r.output;
  }
}

// The URL resolver fetches over http and https only: another scheme is refused; the directory
// resolvers' wrong options are refused at the resolver's position.
TEST(ConfigRefusals, UnimplementedResolversAreRefused) {
  testing_harness::TempDir d;
  for (const auto& [conf, want] : std::vector<std::pair<std::string, std::string>>{
           {"resolver: URL(ftp://127.0.0.1:1/jwt/v1/accounts/)\n",
            ":1:1: resolver URL \"ftp://127.0.0.1:1/jwt/v1/accounts/\" is not supported by this server (only http:// and https:// URLs)"},
           {"resolver { type: full, dir: \"/tmp\", ttl: \"1h\" }\n", ":1:1: FULL does not accept ttl"},
           {"resolver { type: full, dir: \"/tmp\", sync: \"1h\" }\n", ":1:37: resolver sync is not supported by this server"},
       }) {
    std::string file = d.write("r.conf", conf);
    auto r = testing_harness::run_command("timeout 10 " + testing_harness::server_binary() + " -t -c " + file);
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(file + want), std::string::npos) << r.output;
  }
}

TEST(ConfigRefusals, SecuritySettingsInsideBlocksAreRefused) {
  testing_harness::TempDir d;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"cluster { port: -1, permissions { import: \">\" } }\n", ":1:21: permissions is not supported by this server"},
      {"accounts { A { exports: [ { stream: s, account_token_position: 1 } ] } }\n",
       ":1:40: account_token_position is not supported by this server"},
      {"authorization { auth_callout { issuer: x } }\n", ":1:17: auth_callout is not supported by this server"},
  };
  int n = 0;
  for (const auto& [text, expect] : cases) {
    std::string conf = d.write("c" + std::to_string(++n) + ".conf", "port: -1\n" + text);
    auto r = testing_harness::run_command("timeout 10 " + testing_harness::server_binary() + " -c " + conf);
    EXPECT_NE(r.status, 0) << text;
    // The refused key is on line 2 of the file.
    std::string want = expect;
    want.replace(0, 2, ":2");
    EXPECT_NE(r.output.find(conf + want), std::string::npos) << r.output;
  }
}

TEST(ConfigRefusals, IgnoredSettingIsLoggedOnceAtStartup) {
  auto srv = start_with_config("prof_port: 6060\n");
  ConnPtr c;
  ASSERT_EQ(connect_url(c, srv->url()), NATS_OK);
  std::ifstream in(srv->log_path());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  auto first = log.find("prof_port: setting is accepted but ignored by this server");
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("prof_port: setting is accepted", first + 1), std::string::npos) << log;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
