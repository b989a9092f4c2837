// Config reload of the settings 2.9.10 reloads beyond limits, users and TLS (reload.go's
// authTimeoutOption, pidFileOption, portsFileDirOption, clientAdvertiseOption, tagsOption and
// accountsOption: accounts added or removed, an account's limits, mappings and JetStream
// limits, top-level mappings, the noauthuser case and, in operator mode, MEMORY resolver
// preloads): each changed while clients are connected, checking who stays and who is cut with
// which error, against our server and the reference with the same expectations.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "jwt_test_util.h"
#include "reload_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

class ReloadSettings : public ReloadServerTest {
 protected:
  static std::string login(RawClient& c, const std::string& user) {
    c.send("CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"" + user + "\",\"pass\":\"pw\"}\r\nPING\r\n");
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
  // As login, without credentials when `user` is empty.
  static std::string login_as(RawClient& c, const std::string& user) {
    if (!user.empty()) return login(c, user);
    c.send("CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n");
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
  std::string login_new(RawClient& c, const std::string& user) {
    if (!c.connect(srv_->port())) return "<no connection>";
    return login_as(c, user);
  }
  // A request over `c` (subscribed to _INBOX.r with sid 99 by the caller): the reply's payload.
  static std::string request(RawClient& c, const std::string& subject, const std::string& body) {
    c.send("PUB " + subject + " _INBOX.r " + std::to_string(body.size()) + "\r\n" + body + "\r\n");
    auto head = c.read_line(milliseconds(3000));
    if (!head || head->rfind("MSG _INBOX.r 99 ", 0) != 0) return "<" + head.value_or("none") + ">";
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
  static int error_code(const std::string& reply) {
    auto j = nlohmann::json::parse(reply, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return 0;
    return j["error"].value("err_code", -1);
  }
  // The next `n` lines from `c` (3 s each, "" for one that did not come), joined by " | ".
  static std::string next_lines(RawClient& c, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += (i ? " | " : "") + c.read_line(milliseconds(3000)).value_or("");
    return out;
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
  EXPECT_EQ(next_lines(a, 2), "MSG news 1 2 | hi");
  EXPECT_EQ(ping(a), "PONG");
}

// 2.9.10 deletes the account and closes the clients whose user is gone (ClientClosed: no -ERR,
// just the close); the other account's clients keep their subscriptions.
TEST_P(ReloadSettings, RemovedAccountsClientsAreCutOthersStay) {
  std::string a = "  A: {users: [{user: a, password: pw}]}\n";
  start("accounts {\n" + a + "  B: {users: [{user: b, password: pw}, {user: b2, password: pw}]}\n}\n");
  RawClient ca(srv_->port()), cb(srv_->port()), cb2(srv_->port());
  ASSERT_EQ(login(ca, "a"), "PONG");
  ASSERT_EQ(login(cb, "b"), "PONG");
  ASSERT_EQ(login(cb2, "b2"), "PONG");
  ca.send("SUB x 1\r\nPING\r\n");
  ASSERT_EQ(ca.read_line(milliseconds(3000)).value_or(""), "PONG");

  ASSERT_EQ(reload("accounts {\n" + a + "}\n"), "") << srv_->log();
  EXPECT_TRUE(cb.wait_closed(milliseconds(3000)));
  EXPECT_TRUE(cb2.wait_closed(milliseconds(3000)));
  EXPECT_EQ(cb.read_line(milliseconds(200)).value_or("<none>"), "<none>");
  ca.send("PUB x 2\r\nhi\r\nPING\r\n");
  EXPECT_EQ(next_lines(ca, 3), "MSG x 1 2 | hi | PONG");
  RawClient again;
  EXPECT_EQ(login_new(again, "b"), "-ERR 'Authorization Violation'");
}

// An account's own `nkey` (2.9.10 keeps it in the account and uses it nowhere else): the new
// one is taken, and the account's clients stay.
TEST_P(ReloadSettings, AccountNkeyChangedKeepsItsClients) {
  auto conf = [](const std::string& key) {
    return "accounts {\n  A: {nkey: " + key + ", users: [{user: a, password: pw}]}\n}\n";
  };
  start(conf(jwt::account_keys().pub));
  RawClient ca(srv_->port());
  ASSERT_EQ(login(ca, "a"), "PONG");
  ca.send("SUB x 1\r\nPING\r\n");
  ASSERT_EQ(ca.read_line(milliseconds(3000)).value_or(""), "PONG");

  ASSERT_EQ(reload(conf(jwt::account_keys().pub)), "") << srv_->log();
  ca.send("PUB x 2\r\nhi\r\nPING\r\n");
  EXPECT_EQ(next_lines(ca, 3), "MSG x 1 2 | hi | PONG");
  RawClient again;
  EXPECT_EQ(login_new(again, "a"), "PONG");
}

// Mappings inside an account and at the top level apply to the next publish; a lower account
// max_connections counts the connected clients (one here) and refuses a client over it.
TEST_P(ReloadSettings, AccountLimitsAndMappingsApplyAtOnce) {
  auto conf = [](const std::string& dest, int max_conns, const std::string& top_dest) {
    return "accounts {\n  A: {\n    users: [{user: a1, password: pw}, {user: a2, password: pw}, {user: a3, password: pw}]\n"
           "    limits: {max_connections: " + std::to_string(max_conns) + "}\n"
           "    mappings: {\"in.x\": \"" + dest + "\"}\n  }\n}\n"
           "authorization {users: [{user: g, password: pw}]}\n"
           "mappings: {\"g.in\": \"" + top_dest + "\"}\n";
  };
  start(conf("out.1", 5, "g.1"));
  RawClient a1(srv_->port()), g(srv_->port());
  ASSERT_EQ(login(a1, "a1"), "PONG");
  ASSERT_EQ(login(g, "g"), "PONG");
  a1.send("SUB out.* 1\r\nPUB in.x 1\r\nw\r\nPING\r\n");
  ASSERT_EQ(next_lines(a1, 3), "MSG out.1 1 1 | w | PONG");
  g.send("SUB g.* 1\r\nPUB g.in 1\r\nz\r\nPING\r\n");
  ASSERT_EQ(next_lines(g, 3), "MSG g.1 1 1 | z | PONG");

  ASSERT_EQ(reload(conf("out.2", 2, "g.2")), "") << srv_->log();
  RawClient a2;
  ASSERT_EQ(login_new(a2, "a2"), "PONG");
  a2.send("PUB in.x 1\r\ny\r\nPING\r\n");
  EXPECT_EQ(a2.read_line(milliseconds(3000)).value_or(""), "PONG");
  EXPECT_EQ(next_lines(a1, 2), "MSG out.2 1 1 | y");
  g.send("PUB g.in 1\r\nz\r\nPING\r\n");
  EXPECT_EQ(next_lines(g, 3), "MSG g.2 1 1 | z | PONG");
  RawClient a3;
  EXPECT_EQ(login_new(a3, "a3"), "-ERR 'maximum account active connections exceeded'");
  EXPECT_EQ(ping(a1), "PONG");
  EXPECT_EQ(ping(a2), "PONG");
}

// An account max_connections lowered below the connected clients: ours closes the excess
// (the oldest) with the reference's error and keeps `limit` clients. Not run against 2.9.10,
// which keeps limit-1 (each client re-registers into an account already counting all of
// them: with 3 connected and a new limit of 2 it closes 2, and at a limit just reached any
// reload of the accounts closes one).
TEST_P(ReloadSettings, LowerAccountMaxConnectionsClosesTheExcess) {
  if (GetParam() != testing_harness::server_binary()) GTEST_SKIP() << "2.9.10 keeps limit-1 (see above)";
  auto conf = [](int n) {
    return "accounts {\n  A: {users: [{user: a, password: pw}], limits: {max_connections: " + std::to_string(n) + "}}\n}\n";
  };
  start(conf(5));
  RawClient c[3];
  for (auto& x : c) ASSERT_EQ(login_new(x, "a"), "PONG");
  ASSERT_EQ(reload(conf(2)), "") << srv_->log();
  EXPECT_EQ(c[0].read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'maximum account active connections exceeded'");
  EXPECT_TRUE(c[0].wait_closed(milliseconds(3000)));
  EXPECT_EQ(ping(c[1]), "PONG");
  EXPECT_EQ(ping(c[2]), "PONG");
}

// JetStream inside an account: a higher max_streams allows the next stream at once, and
// `jetstream: enabled` added to an account turns its JetStream on; clients stay connected.
TEST_P(ReloadSettings, AccountJetStreamLimitsAndEnabled) {
  auto conf = [&](int max_streams, bool b_enabled) {
    return "jetstream {store_dir: \"" + dir_.path() + "/js\"}\naccounts {\n"
           "  A: {users: [{user: a, password: pw}], jetstream: {max_mem: 1M, max_file: 1M, max_streams: " +
           std::to_string(max_streams) + ", max_consumers: 4}}\n"
           "  B: {users: [{user: b, password: pw}]" + (b_enabled ? ", jetstream: enabled" : "") + "}\n}\n";
  };
  start(conf(1, false));
  RawClient a(srv_->port()), b(srv_->port());
  ASSERT_EQ(login(a, "a"), "PONG");
  ASSERT_EQ(login(b, "b"), "PONG");
  for (auto* c : {&a, &b}) {
    c->send("SUB _INBOX.r 99\r\nPING\r\n");
    ASSERT_EQ(c->read_line(milliseconds(3000)).value_or(""), "PONG");
  }
  auto stream = [](const std::string& name) {
    return "{\"name\":\"" + name + "\",\"subjects\":[\"" + name + ".>\"],\"storage\":\"memory\",\"max_bytes\":1024}";
  };
  ASSERT_EQ(error_code(request(a, "$JS.API.STREAM.CREATE.S1", stream("S1"))), 0);
  EXPECT_EQ(error_code(request(a, "$JS.API.STREAM.CREATE.S2", stream("S2"))), 10027);  // max streams
  EXPECT_EQ(error_code(request(b, "$JS.API.INFO", "")), 10039);                       // not enabled

  ASSERT_EQ(reload(conf(2, true)), "") << srv_->log();
  EXPECT_EQ(error_code(request(a, "$JS.API.STREAM.CREATE.S2", stream("S2"))), 0);
  EXPECT_EQ(error_code(request(a, "$JS.API.STREAM.CREATE.S3", stream("S3"))), 10027);
  EXPECT_EQ(error_code(request(b, "$JS.API.INFO", "")), 0);
  EXPECT_EQ(ping(a), "PONG");
}

// no_auth_user may go together with its user: a client that came in as it is closed as a
// removed user (no -ERR), the others stay. Dropping only the
// no_auth_user setting is refused with the reference's message.
TEST_P(ReloadSettings, NoAuthUserRemovedWithItsUser) {
  auto conf = [](bool guest_user, bool no_auth) {
    return std::string("accounts {\n  A: {users: [{user: a, password: pw}") +
           (guest_user ? ", {user: guest, password: pw}" : "") + "]}\n}\n" + (no_auth ? "no_auth_user: guest\n" : "");
  };
  start(conf(true, true));
  RawClient anon(srv_->port()), a(srv_->port());
  ASSERT_EQ(login_as(anon, ""), "PONG");
  ASSERT_EQ(login(a, "a"), "PONG");
  EXPECT_EQ(reload(conf(true, false)), "config reload not supported for NoAuthUser: old=guest, new=");
  EXPECT_EQ(ping(anon), "PONG");

  ASSERT_EQ(reload(conf(false, false)), "") << srv_->log();
  // 2.9.10 took the no_auth_user's name as the client's: closed as a removed user, no -ERR.
  EXPECT_TRUE(anon.wait_closed(milliseconds(3000)));
  EXPECT_EQ(anon.read_line(milliseconds(200)).value_or("<none>"), "<none>");
  EXPECT_EQ(ping(a), "PONG");
  RawClient again;
  EXPECT_EQ(login_new(again, ""), "-ERR 'Authorization Violation'");
}

// Operator mode, MEMORY resolver: a reload with other resolver_preload JWTs. 2.9.10 builds a
// new resolver from the preloads and walks its accounts: one whose JWT is gone is deleted and
// its clients fail the new authorization check, one whose JWT changed is updated (here: at
// most one connection, the one connected stays), a new one resolves on first use.
TEST_P(ReloadSettings, MemoryResolverPreloadsChanged) {
  using itest::jwt::KeyPair;
  KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), a = jwt::account_keys(), b = jwt::account_keys(),
          c = jwt::account_keys(), ua = jwt::user_keys(), ub = jwt::user_keys(), uc = jwt::user_keys();
  std::string op_file = dir_.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op) + "\n");
  std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op), a_jwt = jwt::sign(jwt::account_claims(a, "A"), op, jwt::now_unix() - 60),
              b_jwt = jwt::sign(jwt::account_claims(b, "B"), op), c_jwt = jwt::sign(jwt::account_claims(c, "C"), op);
  nlohmann::json a2 = jwt::account_claims(a, "A");
  a2["nats"]["limits"]["conn"] = 1;
  std::string a2_jwt = jwt::sign(a2, op);
  auto conf = [&](const std::vector<std::pair<std::string, std::string>>& preload) {
    std::string out = "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub +
                      "\nresolver: MEMORY\nresolver_preload: {\n  " + sys.pub + ": \"" + sys_jwt + "\"\n";
    for (const auto& [k, v] : preload) out += "  " + k + ": \"" + v + "\"\n";
    return out + "}\n";
  };
  // CONNECT with a user JWT signed by `account`, the nonce signed by the user: the answer.
  auto login_jwt = [&](RawClient& raw, const KeyPair& user, const KeyPair& account) {
    if (!raw.connected() && !raw.connect(srv_->port())) return std::string("<no connection>");
    std::string nonce = nlohmann::json::parse(raw.info_json()).value("nonce", "");
    std::string ujwt = jwt::sign(jwt::user_claims(user, "u"), account);
    raw.send("CONNECT {\"verbose\":false,\"protocol\":1,\"jwt\":\"" + ujwt + "\",\"sig\":\"" +
             jwt::base64url(nats::nkey::sign(user.seed, nonce)) + "\"}\r\nPING\r\n");
    return raw.read_line(milliseconds(3000)).value_or("<none>");
  };
  start(conf({{a.pub, a_jwt}, {b.pub, b_jwt}}));
  RawClient ca, cb, early_c;
  ASSERT_EQ(login_jwt(ca, ua, a), "PONG");
  ASSERT_EQ(login_jwt(cb, ub, b), "PONG");
  EXPECT_EQ(login_jwt(early_c, uc, c), "-ERR 'Authorization Violation'");

  ASSERT_EQ(reload(conf({{a.pub, a2_jwt}, {c.pub, c_jwt}})), "") << srv_->log();
  EXPECT_EQ(cb.read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'Authorization Violation'");
  EXPECT_TRUE(cb.wait_closed(milliseconds(3000)));
  EXPECT_EQ(ping(ca), "PONG");
  RawClient ca2, cc, cb2;
  EXPECT_EQ(login_jwt(ca2, ua, a), "-ERR 'maximum account active connections exceeded'") << srv_->log();
  EXPECT_EQ(login_jwt(cc, uc, c), "PONG");
  EXPECT_EQ(login_jwt(cb2, ub, b), "-ERR 'Authorization Violation'");
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadSettings,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
