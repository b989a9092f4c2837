// Operator-mode expiries that pass while the server runs, as 2.9.10: an account JWT whose
// `exp` passes cuts the account's clients ("Account Authentication Expired", closed reason
// "Authentication Expired") and refuses new ones; an update moves the expiry (the timer is the
// account's, set again by each update); an activation token whose `exp` passes stops its import
// (a stream import delivers no more; a service import's requests go unanswered). An import's
// token given as a URL is not fetched by 2.9.10 (its jwt library decodes tokens inline only):
// the account JWT is invalid. Differential: the same expectations against both servers; the
// expiries are 1-2 s away, so each test takes 2-4 s (the URL one 0.3 s).
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "jwt_fixture.h"
#include "jwt_http_server.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;

class JwtLiveExpiry : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    http_port_ = testing_harness::free_port();
    srv_ = start_with_config(full_resolver_config(), {"-m", std::to_string(http_port_)}, GetParam());
    ASSERT_EQ(connect_user(sys_conn_, sys_, jwt::user_keys()), NATS_OK);
  }
  natsStatus connect_user(ConnPtr& c, const KeyPair& account, const KeyPair& user) {
    return JwtOperatorTest::connect_user(c, srv_->url(), account, user, 2000);
  }
  // A raw client logged in as a new user of `account` (on the test's server unless `port` is
  // given): the first answer to CONNECT + PING.
  std::string raw_login(RawClient& rc, const KeyPair& account, int port = 0) {
    if (!rc.connect(port ? port : srv_->port())) return "<no connection>";
    KeyPair u = jwt::user_keys();
    std::string nonce = json::parse(rc.info_json()).value("nonce", "");
    rc.send("CONNECT {\"verbose\":false,\"protocol\":1,\"jwt\":\"" + jwt::sign(jwt::user_claims(u, "u"), account) +
            "\",\"sig\":\"" + jwt::base64url(nats::nkey::sign(u.seed, nonce)) + "\"}\r\nPING\r\n");
    return rc.read_line(milliseconds(3000)).value_or("<none>");
  }
  // The next line from the server but its PINGs (2.9.10 pings a new client soon), answered.
  static std::string next_line(RawClient& rc, milliseconds timeout) {
    return rc.read_line_answering_pings(timeout).value_or("<none>");
  }
  json push(const std::string& account_jwt) {
    MsgPtr m;
    if (natsConnection_RequestString(&m.p, sys_conn_.p, "$SYS.REQ.CLAIMS.UPDATE", account_jwt.c_str(), 3000) != NATS_OK)
      return json();
    return json::parse(m.data(), nullptr, false);
  }
  std::string activation(const KeyPair& exporter, const std::string& importer, const std::string& subject,
                         const std::string& kind, int64_t expires = 0) {
    json c = {{"sub", importer},
              {"name", "act"},
              {"nats", {{"subject", subject}, {"kind", kind}, {"type", "activation"}, {"version", 2}}}};
    if (expires) c["exp"] = expires;
    return jwt::sign(c, exporter);
  }
  json import(const std::string& subject, const std::string& kind, const std::string& token) {
    return {{"name", subject}, {"subject", subject}, {"account", exp_.pub}, {"type", kind}, {"token", token}};
  }
  // Pushes the exporter (a token-required export of `kind` on "<prefix>.>") and the importer
  // with `imports`; connects a user of each.
  void push_pair(const std::string& kind, const std::string& prefix, const json& imports) {
    json ec = jwt::account_claims(exp_, "EXP");
    ec["nats"]["exports"] = json::array({{{"name", prefix}, {"subject", prefix + ".>"}, {"type", kind}, {"token_req", true}}});
    ASSERT_EQ(push(jwt::sign(ec, op_))["data"]["code"], 200);
    json ic = jwt::account_claims(acc_, "ACC");
    ic["nats"]["imports"] = imports;
    ASSERT_EQ(push(jwt::sign(ic, op_))["data"]["code"], 200);
    ASSERT_EQ(connect_user(importer_, acc_, jwt::user_keys()), NATS_OK);
    ASSERT_EQ(connect_user(exporter_, exp_, jwt::user_keys()), NATS_OK);
  }

  KeyPair acc_ = jwt::account_keys(), exp_ = jwt::account_keys();
  std::unique_ptr<testing_harness::ServerProcess> srv_;
  int http_port_ = 0;
  ConnPtr sys_conn_, importer_, exporter_;
};

// The account's clients are cut when its JWT expires, with the reference's error, closed
// reason (in /connz and the $SYS DISCONNECT event); a new user of the account is refused.
TEST_P(JwtLiveExpiry, ExpiredAccountCutsItsClientsAndRefusesNewOnes) {
  SubPtr events;
  ASSERT_EQ(natsConnection_SubscribeSync(&events.p, sys_conn_.p, ("$SYS.ACCOUNT." + acc_.pub + ".DISCONNECT").c_str()),
            NATS_OK);
  ASSERT_EQ(natsConnection_Flush(sys_conn_.p), NATS_OK);
  json claims = jwt::account_claims(acc_, "ACC");
  claims["exp"] = jwt::now_unix() + 2;
  ASSERT_EQ(push(jwt::sign(claims, op_))["data"]["code"], 200);
  RawClient rc;
  ASSERT_EQ(raw_login(rc, acc_), "PONG");
  uint64_t cid = json::parse(rc.info_json()).value("client_id", uint64_t(0));
  EXPECT_EQ(next_line(rc, milliseconds(4000)), "-ERR 'Account Authentication Expired'");
  EXPECT_TRUE(rc.wait_closed(milliseconds(2000)));

  MsgPtr ev;
  ASSERT_EQ(natsSubscription_NextMsg(&ev.p, events.p, 2000), NATS_OK);
  json e = json::parse(ev.data(), nullptr, false);
  EXPECT_EQ(e.value("reason", ""), "Authentication Expired") << ev.data();
  EXPECT_EQ(e["client"].value("acc", ""), acc_.pub) << ev.data();

  json connz = ctest::http_json(http_port_, "/connz?state=closed");
  std::string reason = "<not listed>";
  for (const auto& c : connz["connections"])
    if (c.value("cid", uint64_t(0)) == cid) reason = c.value("reason", "");
  EXPECT_EQ(reason, "Authentication Expired") << connz.dump();

  RawClient late;
  EXPECT_EQ(raw_login(late, acc_), "-ERR 'Authorization Violation'");
}

// An update moves the account's expiry for the clients already connected: one that removes it
// keeps them past the old time; one that sets a new one cuts them then.
TEST_P(JwtLiveExpiry, AccountUpdateMovesTheExpiry) {
  json claims = jwt::account_claims(acc_, "ACC");
  int64_t first = jwt::now_unix() + 2;
  claims["exp"] = first;
  ASSERT_EQ(push(jwt::sign(claims, op_))["data"]["code"], 200);
  RawClient rc;
  ASSERT_EQ(raw_login(rc, acc_), "PONG");
  claims.erase("exp");
  ASSERT_EQ(push(jwt::sign(claims, op_))["data"]["code"], 200);
  // Past the first expiry: a second after it (2.9.10's timer counts whole seconds from its
  // arming, so it would have fired before then).
  while (jwt::now_unix() <= first) std::this_thread::sleep_for(milliseconds(50));
  rc.send("PING\r\n");
  EXPECT_EQ(next_line(rc, milliseconds(2000)), "PONG");
  claims["exp"] = jwt::now_unix() + 1;
  ASSERT_EQ(push(jwt::sign(claims, op_))["data"]["code"], 200);
  EXPECT_EQ(next_line(rc, milliseconds(3000)), "-ERR 'Account Authentication Expired'");
}

// A stream import whose activation expires delivers no more; another import of the same
// export with a lasting token goes on.
TEST_P(JwtLiveExpiry, ExpiredActivationStopsStreamImport) {
  int64_t exp = jwt::now_unix() + 2;
  push_pair("stream", "priv",
            json::array({import("priv.x", "stream", activation(exp_, acc_.pub, "priv.x", "stream", exp)),
                         import("priv.ok", "stream", activation(exp_, acc_.pub, "priv.ok", "stream"))}));
  if (HasFatalFailure()) return;
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, importer_.p, "priv.>"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(importer_.p), NATS_OK);
  // One round: priv.x then priv.ok; whether priv.x came before priv.ok.
  auto round = [&]() -> std::optional<bool> {
    natsConnection_PublishString(exporter_.p, "priv.x", "x");
    natsConnection_PublishString(exporter_.p, "priv.ok", "ok");
    natsConnection_Flush(exporter_.p);
    bool got_x = false;
    for (;;) {
      MsgPtr m;
      if (natsSubscription_NextMsg(&m.p, sub.p, 2000) != NATS_OK) return std::nullopt;
      if (m.subject() == "priv.ok") return got_x;
      got_x = got_x || m.subject() == "priv.x";
    }
  };
  ASSERT_EQ(round(), std::optional<bool>(true));
  std::optional<bool> r;
  for (auto until = Clock::now() + milliseconds(5000); Clock::now() < until;) {
    r = round();
    if (r != std::optional<bool>(true)) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(r, std::optional<bool>(false));
  EXPECT_GE(jwt::now_unix(), exp);  // not before its time
  EXPECT_EQ(round(), std::optional<bool>(false));
  // Still listed, as invalid.
  json acc = ctest::http_json(http_port_, "/accountz?acc=" + acc_.pub);
  std::map<std::string, bool> invalid;
  for (const auto& i : acc["account_detail"]["imports"])
    if (i.value("account", "") == exp_.pub) invalid[i.value("subject", "")] = i.value("invalid", false);
  EXPECT_EQ(invalid, (std::map<std::string, bool>{{"priv.ok", false}, {"priv.x", true}})) << acc.dump();
}

// A service import whose activation expires no longer forwards requests; as 2.9.10 marks the
// import invalid and keeps its subscription, a request times out (no "no responders").
TEST_P(JwtLiveExpiry, ExpiredActivationStopsServiceImport) {
  int64_t exp = jwt::now_unix() + 2;
  push_pair("service", "svc",
            json::array({import("svc.x", "service", activation(exp_, acc_.pub, "svc.x", "service", exp)),
                         import("svc.ok", "service", activation(exp_, acc_.pub, "svc.ok", "service"))}));
  if (HasFatalFailure()) return;
  auto respond = [](natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
    if (natsMsg_GetReply(m)) natsConnection_PublishString(nc, natsMsg_GetReply(m), "pong");
    natsMsg_Destroy(m);
  };
  SubPtr svc;
  ASSERT_EQ(natsConnection_Subscribe(&svc.p, exporter_.p, "svc.>", respond, nullptr), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(exporter_.p), NATS_OK);
  auto ask = [&](const char* subject) {
    MsgPtr m;
    return natsConnection_RequestString(&m.p, importer_.p, subject, "ping", 500);
  };
  ASSERT_EQ(ask("svc.x"), NATS_OK);
  natsStatus st = NATS_OK;
  for (auto until = Clock::now() + milliseconds(5000); Clock::now() < until && st == NATS_OK;) {
    st = ask("svc.x");
    if (st == NATS_OK) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(st, NATS_TIMEOUT) << natsStatus_GetText(st);
  EXPECT_GE(jwt::now_unix(), exp);
  EXPECT_EQ(ask("svc.ok"), NATS_OK);
}

// An import token that is a URL: 2.9.10 does not fetch it (its jwt library takes tokens
// inline only), so the importer's JWT is not a valid account JWT and its users are refused.
TEST_P(JwtLiveExpiry, ActivationTokenUrlIsNotFetched) {
  itest::JwtHttpServer http;
  http.serve("act", activation(exp_, acc_.pub, "priv.x", "stream"));
  json ec = jwt::account_claims(exp_, "EXP");
  ec["nats"]["exports"] = json::array({{{"name", "priv"}, {"subject", "priv.>"}, {"type", "stream"}, {"token_req", true}}});
  ASSERT_EQ(push(jwt::sign(ec, op_))["data"]["code"], 200);
  json ic = jwt::account_claims(acc_, "ACC");
  ic["nats"]["imports"] = json::array({import("priv.x", "stream", http.base() + "act")});
  json r = push(jwt::sign(ic, op_));
  // The directory resolver refuses to store it, as the reference's claimValidate.
  EXPECT_EQ(r["error"].value("code", 0), 500) << r.dump();
  EXPECT_EQ(r["error"].value("description", ""),
            "jwt validation failed - validation errors: [import \"priv.x\" contains an invalid activation token]")
      << r.dump();
  // (Not stored: a user of it would wait for the resolver's lookup timeout to be refused.)
  // Preloaded (the MEMORY resolver stores it as is): its users are refused, nothing fetched.
  auto mem = start_with_config(operator_config() + "resolver: MEMORY\nresolver_preload: {\n" +
                                   preload_line(sys_, sys_jwt_) + preload_line(acc_, jwt::sign(ic, op_)) +
                                   preload_line(exp_, jwt::sign(ec, op_)) + "}\n",
                               {}, GetParam());
  RawClient on_mem;
  EXPECT_EQ(raw_login(on_mem, acc_, mem->port()), "-ERR 'Authorization Violation'");
  EXPECT_EQ(http.requests_for("act"), 0);
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtLiveExpiry,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
