// The directory account resolver (resolver { type: full, dir, allow_delete }): account JWTs
// pushed, looked up, listed and deleted over $SYS.REQ.CLAIMS.* by a system account user, and
// an update applied to live connections. Run against our server and the reference 2.9.10
// with the same expectations.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "jwt_fixture.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;

class JwtDirResolver : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    srv_ = start_with_config(full_resolver_config(", allow_delete: true"), {}, GetParam());
    ASSERT_EQ(connect_user(sys_conn_, sys_, sys_user_), NATS_OK);
  }
  natsStatus connect_user(ConnPtr& c, const KeyPair& account, const KeyPair& user, int64_t issued_at = 0) {
    return JwtOperatorTest::connect_user(c, srv_->url(), account, user, 2000, issued_at);
  }
  // A request from the system user; the reply's payload (empty on timeout).
  std::string request(const std::string& subject, const std::string& payload) {
    MsgPtr m;
    if (natsConnection_RequestString(&m.p, sys_conn_.p, subject.c_str(), payload.c_str(), 3000) != NATS_OK) return "";
    return m.data();
  }
  json request_json(const std::string& subject, const std::string& payload) {
    auto r = request(subject, payload);
    auto j = json::parse(r, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r;
    EXPECT_TRUE(j.contains("server")) << r;
    return j;
  }
  std::string account_jwt(const std::function<void(json&)>& edit = {}) {
    json c = jwt::account_claims(acc_, "A");
    if (edit) edit(c);
    return jwt::sign(c, op_);
  }
  KeyPair sys_user_ = jwt::user_keys(), acc_ = jwt::account_keys(), user_ = jwt::user_keys();
  std::unique_ptr<testing_harness::ServerProcess> srv_;
  ConnPtr sys_conn_;
};

TEST_P(JwtDirResolver, PushLookupListAndUse) {
  ConnPtr early;
  EXPECT_EQ(connect_user(early, acc_, user_), NATS_CONNECTION_AUTH_FAILED);  // not pushed yet
  std::string token = account_jwt();
  json r = request_json("$SYS.REQ.CLAIMS.UPDATE", token);
  EXPECT_EQ(r["data"], json({{"account", acc_.pub}, {"code", 200}, {"message", "jwt updated"}})) << r.dump();
  EXPECT_EQ(request("$SYS.REQ.ACCOUNT." + acc_.pub + ".CLAIMS.LOOKUP", ""), token);
  json list = request_json("$SYS.REQ.CLAIMS.LIST", "");
  ASSERT_TRUE(list["data"].is_array()) << list.dump();
  std::vector<std::string> ids = list["data"];
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want{acc_.pub, sys_.pub};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids, want);
  ConnPtr c;
  EXPECT_EQ(connect_user(c, acc_, user_), NATS_OK);
  // The account's own subject must name the JWT's account.
  KeyPair other = jwt::account_keys();
  json bad = request_json("$SYS.REQ.ACCOUNT." + other.pub + ".CLAIMS.UPDATE", token);
  EXPECT_EQ(bad["error"], json({{"account", other.pub}, {"code", 500},
                                {"description", "jwt update resulted in error - subject does not match jwt content"}}))
      << bad.dump();
  json garbage = request_json("$SYS.REQ.CLAIMS.UPDATE", "not a jwt");
  EXPECT_EQ(garbage["error"]["code"], 500) << garbage.dump();
  EXPECT_EQ(garbage["error"]["account"], "n/a") << garbage.dump();
}

TEST_P(JwtDirResolver, UpdateRevokesALiveUser) {
  ASSERT_EQ(request_json("$SYS.REQ.ACCOUNT." + acc_.pub + ".CLAIMS.UPDATE", account_jwt())["data"]["code"], 200);
  KeyPair keep = jwt::user_keys();
  RawClient probe(srv_->port());  // a raw client sees the -ERR text
  std::string nonce = json::parse(probe.info_json()).value("nonce", "");
  std::string ujwt = jwt::sign(jwt::user_claims(user_, "u"), acc_, jwt::now_unix() - 60);
  probe.send("CONNECT {\"verbose\":false,\"protocol\":1,\"jwt\":\"" + ujwt + "\",\"sig\":\"" +
             jwt::base64url(nats::nkey::sign(user_.seed, nonce)) + "\"}\r\nPING\r\n");
  ASSERT_EQ(probe.read_line(milliseconds(3000)).value_or(""), "PONG");
  ConnPtr kept;
  ASSERT_EQ(connect_user(kept, acc_, keep), NATS_OK);
  std::string revoking = account_jwt([&](json& c) { c["nats"]["revocations"] = {{user_.pub, jwt::now_unix()}}; });
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", revoking)["data"]["code"], 200);
  EXPECT_EQ(probe.read_line_answering_pings(milliseconds(3000)).value_or("<none>"), "-ERR 'User Authentication Revoked'");
  EXPECT_TRUE(probe.wait_closed(milliseconds(3000)));
  EXPECT_EQ(natsConnection_Flush(kept.p), NATS_OK);  // another user of the account stays
}

// "*" revokes every user issued up to its time; a user issued later connects.
TEST_P(JwtDirResolver, WildcardRevocationCutsEveryEarlierUser) {
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", account_jwt())["data"]["code"], 200);
  ConnPtr one, two;
  KeyPair other = jwt::user_keys();
  ASSERT_EQ(connect_user(one, acc_, user_, jwt::now_unix() - 60), NATS_OK);
  ASSERT_EQ(connect_user(two, acc_, other, jwt::now_unix() - 60), NATS_OK);
  std::string revoking = account_jwt([&](json& c) { c["nats"]["revocations"] = {{"*", jwt::now_unix() - 10}}; });
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", revoking)["data"]["code"], 200);
  EXPECT_TRUE(wait_for([&] { return natsConnection_IsClosed(one.p) && natsConnection_IsClosed(two.p); },
                       milliseconds(5000)));
  ConnPtr old_again, fresh;
  EXPECT_NE(connect_user(old_again, acc_, user_, jwt::now_unix() - 60), NATS_OK);
  EXPECT_EQ(connect_user(fresh, acc_, user_), NATS_OK);
}

// An update that drops a signing key cuts the users it signed; the account's own users stay.
TEST_P(JwtDirResolver, RemovedSigningKeyCutsItsUsers) {
  KeyPair sk = jwt::account_keys();
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", account_jwt([&](json& c) {
              c["nats"]["signing_keys"] = json::array({sk.pub});
            }))["data"]["code"],
            200);
  KeyPair by_key = jwt::user_keys();
  json uc = jwt::user_claims(by_key, "k");
  uc["nats"]["issuer_account"] = acc_.pub;
  std::string file = dir_->write("sk.creds", jwt::creds(jwt::sign(uc, sk), by_key.seed));
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 2000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetUserCredentialsFromFiles(o.p, file.c_str(), nullptr);
  ConnPtr signed_by_key, own;
  ASSERT_EQ(connect_signed(signed_by_key, srv_->url(), o.p), NATS_OK);
  ASSERT_EQ(connect_user(own, acc_, user_), NATS_OK);
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", account_jwt())["data"]["code"], 200);
  EXPECT_TRUE(wait_for([&] { return natsConnection_IsClosed(signed_by_key.p); }, milliseconds(5000)));
  EXPECT_EQ(natsConnection_Flush(own.p), NATS_OK);
}

TEST_P(JwtDirResolver, DeleteNeedsTheOperatorAndCutsTheAccount) {
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", account_jwt())["data"]["code"], 200);
  RawClient probe(srv_->port());
  std::string nonce = json::parse(probe.info_json()).value("nonce", "");
  probe.send("CONNECT {\"verbose\":false,\"protocol\":1,\"jwt\":\"" + jwt::sign(jwt::user_claims(user_, "u"), acc_) +
             "\",\"sig\":\"" + jwt::base64url(nats::nkey::sign(user_.seed, nonce)) + "\"}\r\nPING\r\n");
  ASSERT_EQ(probe.read_line(milliseconds(3000)).value_or(""), "PONG");
  json del = {{"sub", op_.pub}, {"nats", {{"accounts", json::array({acc_.pub})}, {"type", "generic"}, {"version", 2}}}};
  // Signed by someone else than the operator: refused.
  KeyPair stranger = jwt::operator_keys();
  json bad_del = del;
  bad_del["sub"] = stranger.pub;
  json refused = request_json("$SYS.REQ.CLAIMS.DELETE", jwt::sign(bad_del, stranger));
  EXPECT_EQ(refused["error"]["description"], "delete accounts request by " + stranger.pub + " failed - not trusted")
      << refused.dump();
  json ok = request_json("$SYS.REQ.CLAIMS.DELETE", jwt::sign(del, op_));
  EXPECT_EQ(ok["data"], json({{"code", 200}, {"message", "deleted 1 accounts"}})) << ok.dump();
  EXPECT_EQ(probe.read_line_answering_pings(milliseconds(3000)).value_or("<none>"), "-ERR 'Account Authentication Expired'");
  ConnPtr after;
  EXPECT_NE(connect_user(after, acc_, user_), NATS_OK);
}

// Lower limits in an update apply to connected clients (the reference's applyAccountLimits
// on every update): a client with as many subscriptions as the new limit, or more, is cut;
// one under it stays, and the new payload limit applies to what it publishes next.
TEST_P(JwtDirResolver, LowerSubsAndPayloadLimitsApplyToConnectedClients) {
  json claims = jwt::account_claims(acc_, "A");
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", jwt::sign(claims, op_))["data"]["code"], 200);
  auto raw_connect = [&](RawClient& c) {
    if (!c.connect(srv_->port())) return false;
    std::string nonce = json::parse(c.info_json()).value("nonce", "");
    KeyPair u = jwt::user_keys();
    c.send("CONNECT {\"verbose\":false,\"protocol\":1,\"jwt\":\"" + jwt::sign(jwt::user_claims(u, "u"), acc_) +
           "\",\"sig\":\"" + jwt::base64url(nats::nkey::sign(u.seed, nonce)) + "\"}\r\nPING\r\n");
    return c.read_line(milliseconds(3000)).value_or("") == "PONG";
  };
  RawClient two, one;
  ASSERT_TRUE(raw_connect(two));
  ASSERT_TRUE(raw_connect(one));
  two.send("SUB a 1\r\nSUB b 2\r\nPING\r\n");
  ASSERT_EQ(two.read_line(milliseconds(3000)).value_or(""), "PONG");
  one.send("SUB a 1\r\nPING\r\n");
  ASSERT_EQ(one.read_line(milliseconds(3000)).value_or(""), "PONG");
  claims["nats"]["limits"]["subs"] = 2;
  claims["nats"]["limits"]["payload"] = 16;
  ASSERT_EQ(request_json("$SYS.REQ.CLAIMS.UPDATE", jwt::sign(claims, op_))["data"]["code"], 200);
  EXPECT_EQ(two.read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'maximum subscriptions exceeded'");
  EXPECT_TRUE(two.wait_closed(milliseconds(3000)));
  one.send("PING\r\n");
  EXPECT_EQ(one.read_line(milliseconds(3000)).value_or("<none>"), "PONG");
  one.send("PUB a 32\r\n" + std::string(32, 'x') + "\r\n");
  EXPECT_EQ(one.read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'Maximum Payload Violation'");
}

INSTANTIATE_TEST_SUITE_P(Servers, JwtDirResolver,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
