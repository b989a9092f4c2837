// Operator mode (decentralized auth): an operator JWT, account JWTs preloaded into the MEMORY
// resolver, users with creds files. Every test runs against our server and the reference
// nats-server 2.9.10 with the same expectations (differential), so refusals and their texts
// are the reference's. The tests mint every key and JWT themselves (jwt_test_util.h).
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;

// One operator with a system account and three accounts: A (a signing key, a scoped signing
// key, a revocation, imports from B), B (public stream and service exports) and C (tight
// limits: 1 connection, 1 subscription, 8-byte payloads).
struct World {
  KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), a = jwt::account_keys(), b = jwt::account_keys(),
          c = jwt::account_keys(), a_signer = jwt::account_keys(), a_scoped = jwt::account_keys(),
          revoked = jwt::user_keys();
  std::string op_jwt, sys_jwt, a_jwt, b_jwt, c_jwt;

  World() {
    op_jwt = jwt::sign(jwt::operator_claims(op, sys.pub), op);
    sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
    json ac = jwt::account_claims(a, "A");
    ac["nats"]["signing_keys"] = json::array(
        {a_signer.pub, {{"kind", "user_scope"}, {"key", a_scoped.pub}, {"role", "limited"},
                        {"template", {{"pub", {{"allow", json::array({"scoped.>"})}}}, {"sub", json::object()},
                                      {"subs", -1}, {"data", -1}, {"payload", -1}}}}});
    ac["nats"]["revocations"] = {{revoked.pub, jwt::now_unix()}};
    ac["nats"]["imports"] = json::array({{{"name", "feed"}, {"subject", "feed.>"}, {"account", b.pub}, {"type", "stream"}},
                                         {{"name", "echo"}, {"subject", "svc.echo"}, {"account", b.pub}, {"type", "service"}}});
    a_jwt = jwt::sign(ac, op);
    json bc = jwt::account_claims(b, "B");
    bc["nats"]["exports"] = json::array({{{"name", "feed"}, {"subject", "feed.>"}, {"type", "stream"}},
                                         {{"name", "svc"}, {"subject", "svc.>"}, {"type", "service"}}});
    b_jwt = jwt::sign(bc, op);
    json cc = jwt::account_claims(c, "C");
    cc["nats"]["limits"]["conn"] = 1;
    cc["nats"]["limits"]["subs"] = 1;
    cc["nats"]["limits"]["payload"] = 8;
    c_jwt = jwt::sign(cc, op);
  }

  std::string config(const std::string& op_file) const {
    return "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver: MEMORY\nresolver_preload: {\n  " +
           sys.pub + ": \"" + sys_jwt + "\"\n  " + a.pub + ": \"" + a_jwt + "\"\n  " + b.pub + ": \"" + b_jwt + "\"\n  " +
           c.pub + ": \"" + c_jwt + "\"\n}\n";
  }
};

// A user of `account` signed by `signer` (the account itself or one of its signing keys);
// `edit` adjusts the claims.
std::string user_jwt(const KeyPair& user, const KeyPair& account, const KeyPair& signer,
                     const std::function<void(json&)>& edit = {}, int64_t issued_at = 0) {
  json uc = jwt::user_claims(user, "u");
  if (signer.pub != account.pub) uc["nats"]["issuer_account"] = account.pub;
  if (edit) edit(uc);
  return jwt::sign(uc, signer, issued_at);
}

class JwtAuth : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
    dir_ = std::make_unique<testing_harness::TempDir>();
    std::string op_file = dir_->write("op.jwt", w_.op_jwt + "\n");
    srv_ = start_with_config(w_.config(op_file), {}, GetParam());
  }
  std::string creds_file(const std::string& ujwt, const KeyPair& user) {
    static int n = 0;
    return dir_->write("u" + std::to_string(++n) + ".creds", jwt::creds(ujwt, user.seed));
  }
  natsStatus connect_creds(ConnPtr& c, const std::string& ujwt, const KeyPair& user) {
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 2000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, creds_file(ujwt, user).c_str(), nullptr);
    return connect_signed(c, srv_->url(), o.p);
  }
  // CONNECT with the JWT (signing the nonce with `signer_seed` unless empty), then PING:
  // the first answer line.
  std::string answer(RawClient& raw, const std::string& ujwt, const std::string& signer_seed) {
    std::string nonce = nlohmann::json::parse(raw.info_json()).value("nonce", "");
    std::string fields = ",\"jwt\":\"" + ujwt + "\"";
    if (!signer_seed.empty()) fields += ",\"sig\":\"" + jwt::base64url(nats::nkey::sign(signer_seed, nonce)) + "\"";
    raw.send("CONNECT {\"verbose\":false,\"protocol\":1" + fields + "}\r\nPING\r\n");
    return raw.read_line(milliseconds(3000)).value_or("<none>");
  }
  std::string answer_for(const std::string& ujwt, const std::string& seed) {
    RawClient raw(srv_->port());
    return answer(raw, ujwt, seed);
  }
  World w_;
  std::unique_ptr<testing_harness::TempDir> dir_;
  std::unique_ptr<testing_harness::ServerProcess> srv_;
};

TEST_P(JwtAuth, InfoAsksForAuthWithANonce) {
  RawClient raw(srv_->port());
  auto j = nlohmann::json::parse(raw.info_json());
  EXPECT_TRUE(j.value("auth_required", false)) << raw.info();
  EXPECT_FALSE(j.value("nonce", "").empty()) << raw.info();
}

TEST_P(JwtAuth, CredsUsersLandInTheirAccounts) {
  KeyPair ua = jwt::user_keys(), ub = jwt::user_keys();
  ConnPtr a, a2, b;
  ASSERT_EQ(connect_creds(a, user_jwt(ua, w_.a, w_.a), ua), NATS_OK);
  ASSERT_EQ(connect_creds(a2, user_jwt(ua, w_.a, w_.a), ua), NATS_OK);
  ASSERT_EQ(connect_creds(b, user_jwt(ub, w_.b, w_.b), ub), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, a.p, "acc.>"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(a.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(b.p, "acc.x", "from-b"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(b.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(a2.p, "acc.x", "from-a"), NATS_OK);
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 2000), NATS_OK);
  EXPECT_EQ(m.data(), "from-a");
  MsgPtr none;
  EXPECT_EQ(natsSubscription_NextMsg(&none.p, sub.p, 200), NATS_TIMEOUT);
}

TEST_P(JwtAuth, SigningKeysSignUsers) {
  KeyPair u = jwt::user_keys();
  EXPECT_EQ(answer_for(user_jwt(u, w_.a, w_.a_signer), u.seed), "PONG");
  // A key the account does not list.
  KeyPair stranger = jwt::account_keys();
  EXPECT_EQ(answer_for(user_jwt(u, w_.a, stranger), u.seed), "-ERR 'Authorization Violation'");
  // Signed by an account the resolver does not have.
  EXPECT_EQ(answer_for(user_jwt(u, stranger, stranger), u.seed), "-ERR 'Authorization Violation'");
}

TEST_P(JwtAuth, ScopedSigningKeyImposesItsTemplate) {
  KeyPair u = jwt::user_keys();
  RawClient raw(srv_->port());
  // Scoped users carry no permissions or limits of their own (as nsc mints them).
  auto bare = [](json& c) { c["nats"] = {{"issuer_account", c["nats"]["issuer_account"]}, {"type", "user"}, {"version", 2}}; };
  ASSERT_EQ(answer(raw, user_jwt(u, w_.a, w_.a_scoped, bare), u.seed), "PONG");
  raw.send("PUB scoped.ok 1\r\nx\r\nPUB other 1\r\nx\r\nPING\r\n");
  EXPECT_EQ(raw.read_line(milliseconds(2000)).value_or(""), "-ERR 'Permissions Violation for Publish to \"other\"'");
  EXPECT_EQ(raw.read_line(milliseconds(2000)).value_or(""), "PONG");
  // A scoped user may not carry its own permissions.
  auto own = user_jwt(u, w_.a, w_.a_scoped, [&](json& c) {
    bare(c);
    c["nats"]["pub"] = {{"allow", json::array({">"})}};
  });
  EXPECT_EQ(answer_for(own, u.seed), "-ERR 'Authorization Violation'");
}

TEST_P(JwtAuth, RefusalsAreAuthorizationViolations) {
  KeyPair u = jwt::user_keys(), other = jwt::user_keys();
  std::string good = user_jwt(u, w_.a, w_.a);
  EXPECT_EQ(answer_for(good, u.seed), "PONG");
  EXPECT_EQ(answer_for(good, other.seed), "-ERR 'Authorization Violation'");  // nonce signed by another key
  EXPECT_EQ(answer_for(good, ""), "-ERR 'Authorization Violation'");          // no signature
  {
    RawClient raw(srv_->port());  // no JWT at all
    raw.send("CONNECT {\"verbose\":false}\r\nPING\r\n");
    EXPECT_EQ(raw.read_line(milliseconds(3000)).value_or(""), "-ERR 'Authorization Violation'");
  }
  std::string expired = user_jwt(u, w_.a, w_.a, [](json& c) { c["exp"] = jwt::now_unix() - 10; });
  EXPECT_EQ(answer_for(expired, u.seed), "-ERR 'Authorization Violation'");
  std::string not_yet = user_jwt(u, w_.a, w_.a, [](json& c) { c["nbf"] = jwt::now_unix() + 3600; });
  EXPECT_EQ(answer_for(not_yet, u.seed), "-ERR 'Authorization Violation'");
  // Revoked: issued before the account's revocation of this key.
  std::string revoked = user_jwt(w_.revoked, w_.a, w_.a, {}, jwt::now_unix() - 3600);
  EXPECT_EQ(answer_for(revoked, w_.revoked.seed), "-ERR 'Authorization Violation'");
  // Tampered: the claims changed after signing.
  std::string tampered = good;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_EQ(answer_for(tampered, u.seed), "-ERR 'Authorization Violation'");
  std::string websocket_only = user_jwt(u, w_.a, w_.a, [](json& c) {
    c["nats"]["allowed_connection_types"] = json::array({"WEBSOCKET"});
  });
  EXPECT_EQ(answer_for(websocket_only, u.seed), "-ERR 'Authorization Violation'");
  std::string elsewhere = user_jwt(u, w_.a, w_.a, [](json& c) { c["nats"]["src"] = json::array({"10.1.2.0/24"}); });
  EXPECT_EQ(answer_for(elsewhere, u.seed), "-ERR 'Authorization Violation'");
  std::string loopback = user_jwt(u, w_.a, w_.a, [](json& c) { c["nats"]["src"] = json::array({"127.0.0.0/8"}); });
  EXPECT_EQ(answer_for(loopback, u.seed), "PONG");
}

TEST_P(JwtAuth, BearerTokensNeedNoSignature) {
  KeyPair u = jwt::user_keys();
  std::string bearer = user_jwt(u, w_.a, w_.a, [](json& c) { c["nats"]["bearer_token"] = true; });
  EXPECT_EQ(answer_for(bearer, ""), "PONG");
}

TEST_P(JwtAuth, PermissionsComeFromTheUserJwt) {
  KeyPair u = jwt::user_keys();
  std::string ujwt = user_jwt(u, w_.a, w_.a, [](json& c) {
    c["nats"]["pub"] = {{"allow", json::array({"ok.>"})}};
    c["nats"]["sub"] = {{"deny", json::array({"secret.>"})}};
  });
  RawClient raw(srv_->port());
  ASSERT_EQ(answer(raw, ujwt, u.seed), "PONG");
  raw.send("PUB ok.1 1\r\nx\r\nPUB no.1 1\r\nx\r\nSUB secret.x 1\r\nPING\r\n");
  EXPECT_EQ(raw.read_line(milliseconds(2000)).value_or(""), "-ERR 'Permissions Violation for Publish to \"no.1\"'");
  EXPECT_EQ(raw.read_line(milliseconds(2000)).value_or(""),
            "-ERR 'Permissions Violation for Subscription to \"secret.x\"'");
  EXPECT_EQ(raw.read_line(milliseconds(2000)).value_or(""), "PONG");
}

TEST_P(JwtAuth, ExpiringUserIsDisconnected) {
  KeyPair u = jwt::user_keys();
  std::string ujwt = user_jwt(u, w_.a, w_.a, [](json& c) { c["exp"] = jwt::now_unix() + 2; });
  RawClient raw(srv_->port());
  ASSERT_EQ(answer(raw, ujwt, u.seed), "PONG");
  EXPECT_EQ(raw.read_line_answering_pings(milliseconds(6000)).value_or("<none>"), "-ERR 'User Authentication Expired'");
  EXPECT_TRUE(raw.wait_closed(milliseconds(2000)));
}

TEST_P(JwtAuth, AccountLimitsFromTheAccountJwt) {
  KeyPair u = jwt::user_keys();
  std::string ujwt = user_jwt(u, w_.c, w_.c);
  RawClient first(srv_->port());
  ASSERT_EQ(answer(first, ujwt, u.seed), "PONG");
  // The first PONG is followed by an INFO with the account's lower max_payload.
  auto info = first.read_line(milliseconds(2000)).value_or("");
  ASSERT_EQ(info.rfind("INFO ", 0), 0u) << info;
  EXPECT_EQ(nlohmann::json::parse(info.substr(5)).value("max_payload", 0), 8);
  EXPECT_EQ(answer_for(ujwt, u.seed), "-ERR 'maximum account active connections exceeded'");
  first.send("SUB a 1\r\nSUB b 2\r\nPING\r\n");
  EXPECT_EQ(first.read_line(milliseconds(2000)).value_or(""), "-ERR 'maximum subscriptions exceeded'");
  EXPECT_EQ(first.read_line(milliseconds(2000)).value_or(""), "PONG");
  first.send("PUB a 9\r\n123456789\r\n");
  EXPECT_EQ(first.read_line(milliseconds(2000)).value_or(""), "-ERR 'Maximum Payload Violation'");
}

// A user JWT's subs limit of 0 allows no subscription (-1 is unlimited): the reference's
// applyAccountLimits finds such a client at its limit already and cuts it at connect.
TEST_P(JwtAuth, UserSubsLimitOfZeroAllowsNone) {
  KeyPair u = jwt::user_keys();
  std::string ujwt = user_jwt(u, w_.a, w_.a, [](json& c) { c["nats"]["subs"] = 0; });
  RawClient raw(srv_->port());
  std::string first = answer(raw, ujwt, u.seed);
  // The reference sends the error from another goroutine: the PONG may come first.
  std::vector<std::string> lines{first};
  while (auto l = raw.read_line(milliseconds(500))) lines.push_back(*l);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "-ERR 'maximum subscriptions exceeded'"), lines.end())
      << testing::PrintToString(lines);
}

// A user JWT's `times` in UTC: a window around now admits the user, one later today does not
// (the reference's "Authorization Violation").
TEST_P(JwtAuth, UserConnectTimes) {
  std::time_t now = std::time(nullptr);
  int sec = static_cast<int>(now % 86400);
  if (sec < 180 || sec > 86400 - 180) GTEST_SKIP() << "too close to midnight UTC";
  auto hms = [](int s) {
    s = ((s % 86400) + 86400) % 86400;
    char b[16];
    std::snprintf(b, sizeof b, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    return std::string(b);
  };
  auto with_times = [&](int from, int to) {
    return [=](json& c) {
      c["nats"]["times"] = json::array({{{"start", hms(from)}, {"end", hms(to)}}});
      c["nats"]["times_location"] = "UTC";
    };
  };
  KeyPair u = jwt::user_keys();
  EXPECT_EQ(answer_for(user_jwt(u, w_.a, w_.a, with_times(sec - 60, sec + 60)), u.seed), "PONG");
  EXPECT_EQ(answer_for(user_jwt(u, w_.a, w_.a, with_times(sec + 3600, sec + 7200)), u.seed),
            "-ERR 'Authorization Violation'");
  EXPECT_EQ(answer_for(user_jwt(u, w_.a, w_.a, with_times(sec - 7200, sec - 3600)), u.seed),
            "-ERR 'Authorization Violation'");
}

TEST_P(JwtAuth, ImportsAndExportsFromTheAccountJwts) {
  KeyPair ua = jwt::user_keys(), ub = jwt::user_keys();
  ConnPtr a, b;
  ASSERT_EQ(connect_creds(a, user_jwt(ua, w_.a, w_.a), ua), NATS_OK);
  ASSERT_EQ(connect_creds(b, user_jwt(ub, w_.b, w_.b), ub), NATS_OK);
  SubPtr feed, svc;
  ASSERT_EQ(natsConnection_SubscribeSync(&feed.p, a.p, "feed.>"), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&svc.p, b.p, "svc.echo"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(a.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(b.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(b.p, "feed.news", "hello"), NATS_OK);
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, feed.p, 2000), NATS_OK);
  EXPECT_EQ(m.subject(), "feed.news");
  // A's request reaches B's service; B's reply comes back.
  std::thread responder([&] {
    MsgPtr req;
    if (natsSubscription_NextMsg(&req.p, svc.p, 3000) == NATS_OK)
      natsConnection_PublishString(b.p, natsMsg_GetReply(req.p), "pong");
  });
  MsgPtr reply;
  EXPECT_EQ(natsConnection_RequestString(&reply.p, a.p, "svc.echo", "ping", 3000), NATS_OK);
  responder.join();
  if (reply.p) {
    EXPECT_EQ(reply.data(), "pong");
  }
}

// With the MEMORY resolver a system user may push an updated JWT of a known account
// ($SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE): it applies at once; unknown accounts are skipped.
TEST_P(JwtAuth, MemoryResolverTakesUpdatesOfKnownAccounts) {
  KeyPair sys_user = jwt::user_keys(), u = jwt::user_keys();
  ConnPtr sys;
  ASSERT_EQ(connect_creds(sys, user_jwt(sys_user, w_.sys, w_.sys), sys_user), NATS_OK);
  RawClient victim(srv_->port());
  ASSERT_EQ(answer(victim, user_jwt(u, w_.b, w_.b, {}, jwt::now_unix() - 60), u.seed), "PONG");
  auto request = [&](const std::string& subject, const std::string& body) {
    MsgPtr m;
    EXPECT_EQ(natsConnection_RequestString(&m.p, sys.p, subject.c_str(), body.c_str(), 3000), NATS_OK) << subject;
    return m.p ? nlohmann::json::parse(m.data(), nullptr, false) : json();
  };
  json bc = jwt::account_claims(w_.b, "B");
  bc["nats"]["exports"] = json::array({{{"name", "feed"}, {"subject", "feed.>"}, {"type", "stream"}},
                                       {{"name", "svc"}, {"subject", "svc.>"}, {"type", "service"}}});
  bc["nats"]["revocations"] = {{u.pub, jwt::now_unix()}};
  json r = request("$SYS.REQ.ACCOUNT." + w_.b.pub + ".CLAIMS.UPDATE", jwt::sign(bc, w_.op));
  EXPECT_EQ(r["data"], json({{"account", w_.b.pub}, {"code", 200}, {"message", "jwt updated"}})) << r.dump();
  EXPECT_EQ(victim.read_line_answering_pings(milliseconds(3000)).value_or("<none>"), "-ERR 'User Authentication Revoked'");
  KeyPair unknown = jwt::account_keys();
  json skipped = request("$SYS.REQ.ACCOUNT." + unknown.pub + ".CLAIMS.UPDATE",
                         jwt::sign(jwt::account_claims(unknown, "X"), w_.op));
  EXPECT_EQ(skipped["data"], json({{"account", unknown.pub}, {"code", 200}, {"message", "jwt update skipped"}}))
      << skipped.dump();
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtAuth,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

// Config checks of operator mode: both servers refuse with the same message.
TEST(JwtConfig, OperatorModeConfigErrors) {
  World w;
  testing_harness::TempDir d;
  std::string op = d.write("op.jwt", w.op_jwt);
  // Without a resolver the reference falls back to a URL resolver at the operator's (here
  // empty) account server URL and fails fetching from it; this server has no URL resolver.
  {
    std::string file = d.write("nores.conf", "operator: \"" + op + "\"\n");
    auto r = testing_harness::run_command("timeout 10 " + testing_harness::server_binary() + " -p -1 -c " + file + " 2>&1");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("operators require an account resolver to be configured"), std::string::npos) << r.output;
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {w.config(op) + "accounts { X {} }\n", "operators do not allow Accounts to be configured directly"},
      {w.config(op) + "authorization { users: [ {user: a, password: b} ] }\n",
       "operators do not allow users to be configured directly"},
      {"operator: \"" + d.path() + "/missing.jwt\"\nresolver: MEMORY\n", "error parsing operator JWT: open "},
      {"operator: \"" + op + "\"\nresolver: MEMORY\nresolver_preload: { " + w.a.pub + ": \"eyJ0eXAiOiJKV1QifQ\" }\n",
       "invalid account JWT"},
      {"operator: \"" + op + "\"\nresolver: MEMORY\nsystem_account: " + w.a.pub + "\n",
       "system_account in config and operator JWT must be identical"},
  };
  int n = 0;
  for (const auto& [conf, want] : cases) {
    std::string file = d.write("c" + std::to_string(++n) + ".conf", conf);
    for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
      if (bin != testing_harness::server_binary() && !testing_harness::reference_available()) continue;
      auto r = testing_harness::run_command("timeout 10 " + bin + " -p -1 -c " + file + " 2>&1");
      EXPECT_NE(r.status, 0) << bin << "\n" << conf;
      EXPECT_NE(r.output.find(want), std::string::npos) << bin << ": " << r.output;
    }
  }
}

#ifdef NATS_CLI_BIN
// `nats --creds <file>`: the tool authenticates with a creds file.
TEST(JwtCli, PublishesWithACredsFile) {
  World w;
  testing_harness::TempDir d;
  auto srv = start_with_config(w.config(d.write("op.jwt", w.op_jwt)));
  KeyPair u = jwt::user_keys(), stranger = jwt::account_keys();
  std::string good = d.write("good.creds", jwt::creds(user_jwt(u, w.a, w.a), u.seed));
  std::string bad = d.write("bad.creds", jwt::creds(user_jwt(u, stranger, stranger), u.seed));
  const std::string cli = std::string("env -u NATS_URL -u NATS_CREDS -u NATS_CONTEXT HOME=") + d.path() +
                          " XDG_CONFIG_HOME=" + d.path() + " " + NATS_CLI_BIN + " --server " + srv->url();
  auto ok = testing_harness::run_command(cli + " --creds " + good + " pub jwt.cli hello");
  EXPECT_EQ(ok.status, 0) << ok.output;
  auto refused = testing_harness::run_command(cli + " --creds " + bad + " pub jwt.cli hello");
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("Authorization Violation"), std::string::npos) << refused.output;
}
#endif

}  // namespace

}  // namespace NATS_TEST_FILE_ID
