// The set-up shared by the differential operator-mode JWT tests (auth_jwt_resolver,
// auth_jwt_resolver_lookup, auth_jwt_resolver_cluster, auth_jwt_resolver_expiry,
// auth_jwt_live_imports, auth_jwt_live_expiry, auth_jwt_url_resolver, route_import_interest): each runs against our server and the reference 2.9.10 (the test
// parameter is the server binary) under a fresh operator whose system account is signed and
// ready to preload or serve. What each test configures beyond that stays in its own file.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "both_servers_test.h"
#include "jwt_test_util.h"
#include "test_util.h"

namespace itest {

class JwtOperatorTest : public BothServersTest {
 protected:
  using KeyPair = jwt::KeyPair;

  // Skips the reference's run when it is not installed; derived SetUp()s return when
  // IsSkipped() after calling this.
  void SetUp() override {
    BothServersTest::SetUp();
    if (IsSkipped()) return;
    dir_ = std::make_unique<testing_harness::TempDir>();
    op_file_ = dir_->write("op.jwt", jwt::sign(jwt::operator_claims(op_, sys_.pub), op_));
    sys_jwt_ = jwt::sign(jwt::account_claims(sys_, "SYS"), op_);
  }

  // The config lines naming the operator and its system account.
  std::string operator_config() const {
    return "operator: \"" + op_file_ + "\"\nsystem_account: " + sys_.pub + "\n";
  }
  // A directory resolver's dir for server `i`, inside the test's temp dir.
  std::string jwt_dir(int i) const { return dir_->path() + "/jwts" + std::to_string(i); }
  // The config of one server with the FULL directory resolver (`options` added to its block,
  // e.g. ", allow_delete: true") and the system account preloaded.
  std::string full_resolver_config(const std::string& options = "") const {
    return operator_config() + "resolver { type: full, dir: \"" + jwt_dir(0) + "\"" + options +
           " }\nresolver_preload: {\n" + preload_line(sys_, sys_jwt_) + "}\n";
  }
  // One "<key>: <jwt>" line of resolver_preload.
  static std::string preload_line(const KeyPair& acc, const std::string& token) {
    return "  " + acc.pub + ": \"" + token + "\"\n";
  }
  static std::string listen(int port) { return "127.0.0.1:" + std::to_string(port); }
  // The cluster block of server `i` of two (0 or 1), routed to the other one.
  static std::string route_block(int i, const int (&ports)[2]) {
    return "cluster {\n  name: c1\n  listen: \"" + listen(ports[i]) + "\"\n  routes: [\"nats-route://" +
           listen(ports[1 - i]) + "\"]\n}\n";
  }

  // An account exporting the stream feed.>, and one importing it from `exporter_pub`.
  static nlohmann::json feed_exporter(const KeyPair& acc, const std::string& name) {
    nlohmann::json c = jwt::account_claims(acc, name);
    c["nats"]["exports"] = nlohmann::json::array({{{"name", "feed"}, {"subject", "feed.>"}, {"type", "stream"}}});
    return c;
  }
  static nlohmann::json feed_importer(const KeyPair& acc, const std::string& name, const std::string& exporter_pub) {
    nlohmann::json c = jwt::account_claims(acc, name);
    c["nats"]["imports"] = nlohmann::json::array(
        {{{"name", "feed"}, {"subject", "feed.>"}, {"account", exporter_pub}, {"type", "stream"}}});
    return c;
  }

  // Connects `user` of `account` with a creds file (no reconnects); the user JWT issued at
  // `issued_at` when given (Unix seconds), else now.
  natsStatus connect_user(ConnPtr& c, const std::string& url, const KeyPair& account, const KeyPair& user,
                          int timeout_ms = 5000, int64_t issued_at = 0) {
    std::string ujwt = jwt::sign(jwt::user_claims(user, "u"), account, issued_at);
    std::string file = dir_->write("u" + std::to_string(++creds_seq_) + ".creds", jwt::creds(ujwt, user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, timeout_ms);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, file.c_str(), nullptr);
    return connect_signed(c, url, o.p);
  }

  // Publishes a request and collects the answers that arrive within `wait` (stops early once
  // `want` arrived).
  std::vector<std::string> gather(natsConnection* nc, const std::string& subject, const std::string& payload,
                                  size_t want, milliseconds wait = milliseconds(3000)) {
    std::string inbox = "_INBOX.gather." + std::to_string(++inbox_seq_);
    SubPtr sub;
    std::vector<std::string> out;
    if (natsConnection_SubscribeSync(&sub.p, nc, inbox.c_str()) != NATS_OK) return out;
    natsConnection_PublishRequestString(nc, subject.c_str(), inbox.c_str(), payload.c_str());
    auto deadline = Clock::now() + wait;
    while (out.size() < want && Clock::now() < deadline) {
      MsgPtr m;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (natsSubscription_NextMsg(&m.p, sub.p, std::max<int64_t>(left, 1)) != NATS_OK) break;
      out.push_back(m.data());
    }
    return out;
  }
  // Both servers of two answer a STATSZ ping (on a system account connection `nc`): the route
  // or gateway is up and the $SYS interest has crossed it.
  bool cluster_formed(natsConnection* nc) {
    return wait_for([&] { return gather(nc, "$SYS.REQ.SERVER.PING", "", 2, milliseconds(500)).size() == 2; },
                    milliseconds(10000));
  }

  KeyPair op_ = jwt::operator_keys(), sys_ = jwt::account_keys();
  std::unique_ptr<testing_harness::TempDir> dir_;
  std::string op_file_, sys_jwt_;

 private:
  int creds_seq_ = 0, inbox_seq_ = 0;
};

}  // namespace itest
