// Differential multi-connection scripts for accounts, users and permissions: each script is
// played against the reference nats-server and the server under test, and the transcripts
// (per step, per connection, everything up to a PONG) must match once volatile parts are
// normalised (INFO contents, "_R_" reply tokens).
#include <gtest/gtest.h>

#include <regex>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

struct Step {
  int conn;
  std::string data;  // a PING is appended
};

struct DiffScript {
  std::string name;
  std::string config;
  int conns;
  std::vector<Step> steps;
};

std::string normalise(const std::string& line) {
  if (line.rfind("INFO ", 0) == 0)
    return line.find("\"auth_required\":true") != std::string::npos ? "INFO <auth>" : "INFO";
  static const std::regex reply(R"(_R_\.[A-Za-z0-9]+\.[A-Za-z0-9]+)");
  return std::regex_replace(line, reply, "_R_.X");
}

// Reads one connection up to its next PONG (after sending PING), or until it closes.
std::string drain(RawClient& c) {
  if (c.closed()) return "<closed>\n";
  std::string out;
  c.send("PING\r\n");
  for (;;) {
    auto l = c.read_line(milliseconds(1500));
    if (!l) return out + (c.closed() ? "<closed>\n" : "<timeout>\n");
    if (*l == "PONG") return out;
    out += normalise(*l) + "\n";
  }
}

std::string transcript(const DiffScript& s, const std::string& binary) {
  auto srv = start_with_config(s.config, {}, binary);
  std::vector<std::unique_ptr<RawClient>> cs;
  std::string out;
  for (int i = 0; i < s.conns; ++i) {
    cs.push_back(std::make_unique<RawClient>(srv->port()));
    out += normalise(cs.back()->info()) + "\n";
  }
  for (size_t n = 0; n < s.steps.size(); ++n) {
    auto& st = s.steps[n];
    out += "-- step " + std::to_string(n) + " on " + std::to_string(st.conn) + "\n";
    if (!cs[st.conn]->closed()) cs[st.conn]->send(st.data);
    std::this_thread::sleep_for(milliseconds(20));
    // The acting connection first, then the others, so async deliveries are collected.
    out += "[" + std::to_string(st.conn) + "] " + drain(*cs[st.conn]);
    for (int i = 0; i < s.conns; ++i)
      if (i != st.conn) out += "[" + std::to_string(i) + "] " + drain(*cs[i]);
  }
  return out;
}

std::string login(const std::string& u, const std::string& extra = "") {
  return "CONNECT {\"verbose\":false,\"user\":\"" + u + "\",\"pass\":\"" + u + "\"" + extra + "}\r\n";
}

const char* kAccounts = R"(
accounts {
  A {
    users [{user: a, password: a, permissions: {publish: {deny: "a.secret"}, subscribe: {allow: [">"], deny: ["a.hidden"]}}}]
    imports [
      {stream {account: B, subject: "ev.*"}, prefix: "b"}
      {service {account: B, subject: "svc.>"}, to: "call.>"}
    ]
  }
  B {
    users [{user: b, password: b, permissions: {subscribe: "svc.>", allow_responses: true}}]
    exports [{stream: "ev.*"}, {service: "svc.>"}]
  }
}
)";

std::vector<DiffScript> scripts() {
  return {
      {"Permissions",
       kAccounts,
       2,
       {{0, login("a") + "SUB > 1\r\n"},
        {0, "PUB a.secret 1\r\nx\r\nPUB a.open 1\r\ny\r\n"},
        {0, "SUB a.hidden 2\r\nSUB a.hidden q 3\r\nPUB a.hidden 1\r\nz\r\n"},
        {1, login("b") + "SUB other 1\r\nSUB svc.> 2\r\nPUB ev.1 1\r\ne\r\n"},
        {0, "PUB call.x.y inbox 1\r\nr\r\n"}}},
      {"ServiceReplyFlowsBack",
       kAccounts,
       2,
       {{1, login("b") + "SUB svc.> 1\r\n"},
        {0, login("a") + "SUB inbox.> 1\r\nPUB call.q inbox.1 3\r\nreq\r\n"}}},
      {"ImplicitNoAuthUser",
       "accounts { $SYS { users: [{user: sys, password: pass}] } }\n",
       3,
       {{0, "CONNECT {\"verbose\":false}\r\nSUB t 1\r\n"},
        {1, "CONNECT {\"verbose\":false,\"user\":\"sys\",\"pass\":\"pass\"}\r\nSUB t 1\r\nPUB t 1\r\ns\r\n"},
        {0, "PUB t 1\r\ng\r\n"},
        {2, "CONNECT {\"verbose\":false,\"user\":\"sys\",\"pass\":\"nope\"}\r\n"}}},
      {"NoAuthUserWithPermissions",
       "authorization { users [{user: a, password: a, permissions: {publish: \"ok\"}}] }\nno_auth_user: a\n",
       1,
       {{0, "CONNECT {\"verbose\":true}\r\nPUB ok 1\r\n1\r\nPUB no 1\r\n2\r\n"}}},
      {"TopDefaultPermissionsNotForAccountUsers",
       "authorization { default_permissions { publish: \"x\" }, users [{user: u, password: u}] }\n"
       "accounts { A { users [{user: a, password: a}] }, B { users [{user: b, password: b}], "
       "default_permissions { subscribe: { deny: \"y\" } } } }\n",
       3,
       {{0, login("a") + "PUB y 1\r\n1\r\n"},
        {1, login("u") + "PUB y 1\r\n1\r\nPUB x 1\r\n1\r\n"},
        {2, login("b") + "PUB y 1\r\n1\r\nSUB y 1\r\nSUB > 2\r\n"},
        {0, "PUB y 1\r\n1\r\n"}}},
      {"WildcardRemapping",
       "accounts {\n"
       " A { users [{user: a, password: a}], imports [{stream {account: B, subject: \"ev.*.*\"}, to: \"x.*.*\"}, "
       "{stream {account: B, subject: \"w.>\"}, to: \"y.>\"}, {service {account: B, subject: \"s.*\"}, to: \"c.*\"}] }\n"
       " B { users [{user: b, password: b}], exports [{stream: \"ev.*.*\"}, {stream: \"w.>\"}, {service: \"s.*\"}] }\n"
       "}\n",
       2,
       {{0, login("a") + "SUB > 1\r\n"},
        {1, login("b") + "SUB s.* 1\r\nPUB ev.1.2 1\r\nx\r\nPUB w.1.2.3 1\r\nx\r\nPUB ev.1 1\r\nn\r\n"},
        {0, "PUB c.9 in.1 1\r\nq\r\n"},
        {1, "PUB s.9 1\r\nd\r\n"}}},
      {"NoAuthUserRefusedAfterEarlyCommands",
       "accounts { A { users [{user: a, password: a}] } }\nauthorization { users [{user: g, password: g}] }\n"
       "no_auth_user: a\n",
       3,
       {{0, "CONNECT {\"verbose\":false}\r\nSUB t 1\r\n"},
        {1, "SUB t 1\r\nCONNECT {\"verbose\":false}\r\n"},
        {2, login("a") + "PUB t 1\r\na\r\n"}}},
      {"VerboseDeniedStillOpen",
       "authorization { users [{user: u, password: u, permissions: {publish: {allow: \"x.>\"}, subscribe: {deny: \"x.y\"}}}] }\n",
       1,
       {{0, login("u", ",\"verbose\":true") + "PUB y 0\r\n\r\nSUB x.y 1\r\nSUB x.* 2\r\nPUB x.y 1\r\n1\r\nPUB x.z 1\r\n2\r\n"}}},
  };
}

class AccountsDiff : public ::testing::TestWithParam<DiffScript> {};

TEST_P(AccountsDiff, MatchesReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference server not installed";
  const auto& s = GetParam();
  std::string ref = transcript(s, testing_harness::reference_binary());
  std::string ours = transcript(s, testing_harness::server_binary());
  EXPECT_EQ(ours, ref);
}

INSTANTIATE_TEST_SUITE_P(Scripts, AccountsDiff, ::testing::ValuesIn(scripts()),
                         [](const auto& info) { return info.param.name; });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
