// `nats server list` over a hub and a leaf that share the system account through a leaf
// remote (and carry an application account through a second one): both servers answer the
// STATSZ ping and are listed; 2.9.10's STATSZ has no leaf field, leaf connections are not in
// `connections`, and each server counts both in `active_servers`. Checked in `--json` and in
// the table, for our server and 2.9.10 in the same topology.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

#ifdef NATS_CLI_BIN
using namespace testing_harness;

namespace {

const char* kLeafListAccounts =
    "accounts {\n"
    "  SYS { users: [ { user: sys, password: pass } ] }\n"
    "  APP { users: [ { user: app, password: app } ] }\n"
    "}\nsystem_account: SYS\n";

std::string cli_in(const TempDir& home, const std::string& args) {
  return "env -u NATS_URL -u NATS_USER -u NATS_PASSWORD -u NATS_CREDS -u NATS_CONTEXT HOME=" + home.path() +
         " XDG_CONFIG_HOME=" + home.path() + " " + NATS_CLI_BIN + " " + args;
}

// Per server name, from `server list --json`: "<connections>/<active_servers>" (empty until
// both answer).
std::map<std::string, std::string> leaf_counts(const TempDir& home, const std::string& url) {
  auto r = run_command(cli_in(home, "-s " + url + " --user sys --password pass --timeout 2s server list --json"));
  std::map<std::string, std::string> out;
  auto arr = nlohmann::json::parse(r.output, nullptr, false);
  if (r.status != 0 || !arr.is_array()) return out;
  for (auto& m : arr) {
    if (!m.is_object() || !m.contains("server") || !m.contains("statsz")) continue;
    const auto& st = m["statsz"];
    out[m["server"].value("name", "")] =
        std::to_string(st.value("connections", -1)) + "/" + std::to_string(st.value("active_servers", -1));
  }
  return out;
}

void leaf_counts_in_server_list(const std::string& bin) {
  TempDir d, home;
  int leaf_port = free_port();
  std::string hub_conf = d.write("hub.conf", std::string("server_name: hub\n") + kLeafListAccounts +
                                                 "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n");
  std::string url = "127.0.0.1:" + std::to_string(leaf_port);
  std::string leaf_conf =
      d.write("leaf.conf", std::string("server_name: leaf\n") + kLeafListAccounts +
                               "leafnodes { remotes: [\n"
                               "  { url: \"nats-leaf://sys:pass@" + url + "\", account: SYS }\n"
                               "  { url: \"nats-leaf://app:app@" + url + "\", account: APP }\n] }\n");
  ServerProcess hub({"-c", hub_conf}, bin), leaf({"-c", leaf_conf}, bin);
  hub.start();
  leaf.start();

  std::map<std::string, std::string> counts;
  // The CLI's own connection is the hub's only client (leaf connections are not clients in
  // STATSZ), and each server counts both in active_servers.
  std::map<std::string, std::string> want{{"hub", "1/2"}, {"leaf", "0/2"}};
  EXPECT_TRUE(itest::wait_for([&] { return (counts = leaf_counts(home, hub.url())) == want; },
                              std::chrono::milliseconds(15000)))
      << bin << " got " << nlohmann::json(counts).dump() << "\n" << hub.log() << leaf.log();
  // Asked through the leaf, the same servers answer (the client is now the leaf's).
  EXPECT_EQ(leaf_counts(home, leaf.url()), (std::map<std::string, std::string>{{"hub", "0/2"}, {"leaf", "1/2"}}))
      << bin;

  auto table = run_command(cli_in(home, "-s " + hub.url() + " --user sys --password pass server list"));
  ASSERT_EQ(table.status, 0) << table.output;
  EXPECT_NE(table.output.find("│ hub "), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("│ leaf "), std::string::npos) << table.output;
}

}  // namespace

TEST(CliServerLeaf, ListCountsLeafConnections) {
  for (const auto& bin : binaries_to_compare()) leaf_counts_in_server_list(bin);
}

#endif  // NATS_CLI_BIN

}  // namespace NATS_TEST_FILE_ID
