// Config reload of the operator-mode settings around the account resolver (reload.go's
// "accountresolver" case and the fields it refuses): MEMORY and URL resolvers replace each
// other or take another URL (new lookups use the new one; going to MEMORY, an account its
// preloads lack is deleted and its clients cut), a FULL resolver takes new preloads, and the
// operator and system account are refused with 2.9.10's texts. Against our server and the
// reference; where they differ (a FULL resolver's settings) each one's answer is checked.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "jwt_http_server.h"
#include "jwt_test_util.h"
#include "reload_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

class ReloadResolver : public ReloadServerTest {
 protected:
  void SetUp() override {
    ReloadServerTest::SetUp();
    if (IsSkipped()) return;
    op_file_ = dir_.write("op.jwt", jwt::sign(jwt::operator_claims(op_, sys_.pub), op_) + "\n");
    sys_jwt_ = jwt::sign(jwt::account_claims(sys_, "SYS"), op_);
  }
  void start(const std::string& text) { ReloadServerTest::start(text, "reload.conf", false); }
  // The operator-mode head of a config: operator, system account and `resolver`.
  std::string head(const std::string& resolver, const std::string& op_file = "") {
    return "operator: \"" + (op_file.empty() ? op_file_ : op_file) + "\"\nsystem_account: " + sys_.pub +
           "\nresolver: " + resolver + "\n";
  }
  std::string preloads(const std::vector<std::pair<std::string, std::string>>& more) {
    std::string out = "resolver_preload: {\n  " + sys_.pub + ": \"" + sys_jwt_ + "\"\n";
    for (const auto& [k, v] : more) out += "  " + k + ": \"" + v + "\"\n";
    return out + "}\n";
  }
  // CONNECT with a user JWT signed by `account`, the nonce signed by the user: the answer.
  std::string login(RawClient& raw, const KeyPair& account) {
    KeyPair user = jwt::user_keys();
    if (!raw.connected() && !raw.connect(srv_->port())) return "<no connection>";
    std::string nonce = nlohmann::json::parse(raw.info_json()).value("nonce", "");
    std::string ujwt = jwt::sign(jwt::user_claims(user, "u"), account);
    raw.send("CONNECT {\"verbose\":false,\"protocol\":1,\"jwt\":\"" + ujwt + "\",\"sig\":\"" +
             jwt::base64url(nats::nkey::sign(user.seed, nonce)) + "\"}\r\nPING\r\n");
    return raw.read_line(milliseconds(3000)).value_or("<none>");
  }
  static std::string ping(RawClient& c) {
    c.send("PING\r\n");
    return c.read_line(milliseconds(3000)).value_or("<none>");
  }
  KeyPair op_ = jwt::operator_keys(), sys_ = jwt::account_keys();
  std::string op_file_, sys_jwt_;
};

// MEMORY to URL, URL to another URL, and back to MEMORY (2.9.10's configureResolver installs
// the new resolver): accounts in use stay, new ones are looked up with the new resolver;
// back on MEMORY an account its preloads lack is deleted and its client cut.
TEST_P(ReloadResolver, MemoryAndUrlReplaceEachOther) {
  KeyPair a = jwt::account_keys(), b = jwt::account_keys(), c = jwt::account_keys();
  const std::string a_jwt = jwt::sign(jwt::account_claims(a, "A"), op_);
  JwtHttpServer one, two;
  one.serve(sys_.pub, sys_jwt_);
  one.serve(b.pub, jwt::sign(jwt::account_claims(b, "B"), op_));
  two.serve(sys_.pub, sys_jwt_);
  two.serve(c.pub, jwt::sign(jwt::account_claims(c, "C"), op_));
  const std::string memory = head("MEMORY") + preloads({{a.pub, a_jwt}});
  start(memory);
  RawClient ca, cb;
  ASSERT_EQ(login(ca, a), "PONG");
  EXPECT_EQ(login(cb, b), "-ERR 'Authorization Violation'");

  ASSERT_EQ(reload(head("URL(" + one.base() + ")")), "") << srv_->log();
  EXPECT_EQ(ping(ca), "PONG");
  RawClient cb2, cc;
  EXPECT_EQ(login(cb2, b), "PONG") << srv_->log();
  EXPECT_EQ(login(cc, c), "-ERR 'Authorization Violation'");
  const int c_asked_of_one = one.requests_for(c.pub);

  ASSERT_EQ(reload(head("URL(" + two.base() + ")")), "") << srv_->log();
  RawClient cc2;
  EXPECT_EQ(login(cc2, c), "PONG") << srv_->log();
  EXPECT_EQ(ping(cb2), "PONG");
  EXPECT_EQ(one.requests_for(c.pub), c_asked_of_one);

  ASSERT_EQ(reload(memory), "") << srv_->log();
  EXPECT_EQ(cb2.read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'Authorization Violation'");
  EXPECT_TRUE(cb2.wait_closed(milliseconds(3000)));
  EXPECT_EQ(cc2.read_line(milliseconds(3000)).value_or("<none>"), "-ERR 'Authorization Violation'");
  EXPECT_EQ(ping(ca), "PONG");
  RawClient cb3;
  EXPECT_EQ(login(cb3, b), "-ERR 'Authorization Violation'");
}

// A FULL resolver: other preloads are stored (an account new there resolves); a new
// directory is refused here, where 2.9.10 takes it but swaps in a resolver it never starts
// (pushed updates and the other servers' lookups stay with the old directory).
TEST_P(ReloadResolver, FullResolverPreloadsAndSettings) {
  KeyPair a = jwt::account_keys();
  const std::string full = "{ type: full, dir: \"" + dir_.path() + "/jwt\" }";
  start(head(full) + preloads({}));
  ASSERT_EQ(reload(head(full) + preloads({{a.pub, jwt::sign(jwt::account_claims(a, "A"), op_)}})), "") << srv_->log();
  RawClient ca;
  EXPECT_EQ(login(ca, a), "PONG") << srv_->log();

  const std::string other = "{ type: full, dir: \"" + dir_.path() + "/jwt2\" }";
  std::string answer = reload(head(other) + preloads({}));
  if (ours())
    EXPECT_EQ(answer, "config reload not supported for AccountResolver: old=FULL(dir=" + dir_.path() +
                          "/jwt, allow_delete=false, interval=1m0s, limit=0, timeout=1.9s), new=FULL(dir=" +
                          dir_.path() + "/jwt2, allow_delete=false, interval=1m0s, limit=0, timeout=1.9s) (a "
                          "directory resolver's settings change with a restart only)");
  else
    EXPECT_EQ(answer, "");
  EXPECT_EQ(ping(ca), "PONG");
}

// The operator and the system account are refused with 2.9.10's texts (also a system account
// other than the operator JWT's, which only start-up checks); the running config stays.
TEST_P(ReloadResolver, OperatorAndSystemAccountRefused) {
  KeyPair a = jwt::account_keys(), op2 = jwt::operator_keys();
  const std::string memory = head("MEMORY") + preloads({{a.pub, jwt::sign(jwt::account_claims(a, "A"), op_)}});
  start(memory);
  std::string with_a_as_system = memory;
  with_a_as_system.replace(with_a_as_system.find("system_account: " + sys_.pub), 16 + sys_.pub.size(),
                           "system_account: " + a.pub);
  EXPECT_EQ(reload(with_a_as_system), "config reload not supported for SystemAccount: old=" + sys_.pub + ", new=" + a.pub);
  std::string op2_file = dir_.write("op2.jwt", jwt::sign(jwt::operator_claims(op2), op2) + "\n");
  std::string other_op = head("MEMORY", op2_file) + preloads({});
  EXPECT_EQ(reload(other_op), "config reload not supported for TrustedOperators: old=[{");
  // Each operator's claims, JSON-indented in Go's field order.
  const std::string log = srv_->log();
  EXPECT_NE(log.find("  \"iss\": \"" + op_.pub + "\",\n  \"name\": \"test-operator\",\n  \"sub\": \"" + op_.pub +
                     "\",\n  \"nats\": {\n    \"system_account\": \"" + sys_.pub +
                     "\",\n    \"type\": \"operator\",\n    \"version\": 2\n  }\n}], new=[{\n"),
            std::string::npos)
      << log;
  RawClient ca;
  EXPECT_EQ(login(ca, a), "PONG");
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadResolver,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
