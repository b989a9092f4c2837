// Operator mode in a JetStream cluster, against a 3-server 2.9.10 cluster: an account JWT
// pushed after start (full resolver, the push crosses the routes) gets JetStream on every
// server, also on those none of its users connected to (they meet it in the meta log), so
// an R3 stream created through one server is hosted by all three. A later update without
// JetStream switches it off on every server (10039, the stream stops), one with it again
// brings the stream back with its message, and the meta leader's account info shows the
// new limits.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>
#include <vector>

#include "js_cluster_util.h"
#include "jwt_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace jsc;
using testing_harness::reference_binary;
using testing_harness::server_binary;

namespace {

// full: on past the re-enabled limits (2.9.10 diverges there, see the test).
// overlap: the "on" update is pushed while every server is still switching "off" (held by
// the test hook NATSCPP_TEST_JS_OFF_HOLD_MS, set by the caller).
std::vector<std::string> pushed_account_r3(const std::string& bin, bool full = true, bool overlap = false) {
  TempDir dir;
  jwt::KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys(),
               user = jwt::user_keys(), sys_user = jwt::user_keys();
  std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
  std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
  JsSupercluster sc(1, 3);
  for (size_t i = 0; i < sc.nodes.size(); ++i) {
    auto& n = sc.node(i);
    n.binary = bin;
    n.accounts = "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver { type: full, dir: \"" +
                 dir.path() + "/jwts" + std::to_string(i) + "\" }\nresolver_preload: {\n  " + sys.pub + ": \"" +
                 sys_jwt + "\"\n}\n";
  }
  // Without the gateway block (a full resolver does not sync over gateways).
  for (auto& n : sc.nodes) {
    std::string conf = n->config();
    n->proc = start_with_config(conf.substr(0, conf.find("gateway {")), {}, bin);
  }
  if (sc.agreed_leader(milliseconds(30000)).empty()) return {"<no meta leader>"};
  auto connect_as = [&](ConnPtr& nc, const jwt::KeyPair& u, const jwt::KeyPair& a, size_t node) {
    static int seq = 0;
    std::string creds = dir.write("u" + std::to_string(++seq) + ".creds",
                                  jwt::creds(jwt::sign(jwt::user_claims(u, "u"), a), u.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 2000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
    return connect_signed(nc, "nats://127.0.0.1:" + std::to_string(sc.node(node).proc->port()), o.p);
  };
  ConnPtr sys_nc;
  if (connect_as(sys_nc, sys_user, sys, 0) != NATS_OK) return {"<no system connection>"};
  json ac = jwt::account_claims(acc, "A");
  ac["nats"]["limits"]["mem_storage"] = -1;
  ac["nats"]["limits"]["disk_storage"] = -1;
  std::string token = jwt::sign(ac, op);
  // Pushed through server 0; every server stores it and answers (the push crosses the
  // routes). No user of the account connects to servers 1 and 2: they first meet the
  // account in the meta log's assignment.
  std::string inbox = "_INBOX.push";
  SubPtr answers;
  EXPECT_EQ(natsConnection_SubscribeSync(&answers.p, sys_nc.p, inbox.c_str()), NATS_OK);
  auto push = [&](const std::string& jwt) {
    natsConnection_PublishRequestString(sys_nc.p, "$SYS.REQ.CLAIMS.UPDATE", inbox.c_str(), jwt.c_str());
    int stored = 0;
    for (; stored < 3; ++stored) {
      MsgPtr m;
      if (natsSubscription_NextMsg(&m.p, answers.p, 3000) != NATS_OK) break;
    }
    return stored;
  };
  std::vector<std::string> out{"push answers: " + std::to_string(push(token))};
  ConnPtr nc;
  if (connect_as(nc, user, acc, 0) != NATS_OK) return {"<no user connection>"};
  json created;
  wait_for([&] {
    MsgPtr m;
    if (natsConnection_RequestString(&m.p, nc.p, "$JS.API.STREAM.CREATE.S",
                                     R"({"name":"S","subjects":["s.>"],"num_replicas":3})", 5000) != NATS_OK)
      return false;
    created = json::parse(m.data(), nullptr, false);
    return created.is_object() && !created.contains("error");
  }, milliseconds(20000));
  out.push_back("create: " + std::string(created.is_object() && created.contains("config") ? "ok" : created.dump()));
  // The three replicas, current: info until the followers report in.
  size_t current = 0;
  wait_for([&] {
    MsgPtr m;
    if (natsConnection_RequestString(&m.p, nc.p, "$JS.API.STREAM.INFO.S", "", 3000) != NATS_OK) return false;
    auto info = json::parse(m.data(), nullptr, false);
    if (!info.is_object() || !info.contains("cluster")) return false;
    current = info["cluster"].value("leader", "").empty() ? 0 : 1;
    for (auto& r : info["cluster"].value("replicas", json::array()))
      if (r.value("current", false)) ++current;
    return current == 3;
  }, milliseconds(20000));
  out.push_back("current replicas: " + std::to_string(current));
  auto ask = [&](const char* subj, const char* body = "") {
    MsgPtr m;
    natsStatus st = natsConnection_RequestString(&m.p, nc.p, subj, body, 2000);
    if (st == NATS_NO_RESPONDERS) return json("no responders");
    if (st != NATS_OK) return json("no answer");
    auto j = json::parse(m.data(), nullptr, false);
    return j.is_object() ? j : json(m.data());
  };
  auto err_code = [](const json& j) { return j.is_object() && j.contains("error") ? j["error"].value("err_code", 0) : 0; };
  auto seq_of = [](const json& j) { return j.is_object() ? j.value("seq", 0) : 0; };
  out.push_back("publish: seq " + std::to_string(seq_of(ask("s.x", "one"))));

  // JetStream off by a JWT update, on every server: 10039 from the meta leader, the stream
  // stops (its replicas' groups too).
  json off = jwt::account_claims(acc, "A");
  if (overlap) {
    // Not waiting for the answers: a server whose meta loop also reads the connection the
    // update came on answers only once its own switch (and its hold) is done.
    natsConnection_PublishString(sys_nc.p, "$SYS.REQ.CLAIMS.UPDATE", jwt::sign(off, op).c_str());
    out.push_back(std::string("push off: ") + (natsConnection_Flush(sys_nc.p) == NATS_OK ? "sent" : "not sent"));
  } else {
    out.push_back("push off answers: " + std::to_string(push(jwt::sign(off, op))));
  }
  json info;
  if (overlap) {
    // The switch is under way once the account's API no longer answers as enabled: the old
    // answerer went at its start, the 10039 one comes after the hold (a held server whose
    // loop also reads routes may answer late, or a request time out meanwhile).
    // A short timeout: a request stalled behind a held loop must count before the hold ends.
    wait_for([&] {
      MsgPtr m;
      if (natsConnection_RequestString(&m.p, nc.p, "$JS.API.INFO", "", 250) != NATS_OK) {
        info = json();
        return true;
      }
      info = json::parse(m.data(), nullptr, false);
      return !info.is_object() || err_code(info) != 0;
    }, milliseconds(10000));
    out.push_back(std::string("info while switching off: ") +
                  (!info.is_object() || err_code(info) != 0 ? "not enabled" : info.dump()));
  } else {
    wait_for([&] { return err_code(info = ask("$JS.API.INFO")) == 10039; }, milliseconds(10000));
    out.push_back("info when off: " + std::to_string(err_code(info)));
    json pub;
    wait_for([&] { return (pub = ask("s.x", "lost")) == "no responders"; }, milliseconds(10000));
    out.push_back("publish when off: " + pub.dump());
  }

  // On again, with a stream limit: the meta leader's account info shows it, and the stream is
  // back on its three servers with its message.
  ac["nats"]["limits"]["streams"] = 7;
  out.push_back("push on answers: " + std::to_string(push(jwt::sign(ac, op))));
  wait_for([&] {
    info = ask("$JS.API.INFO");
    return info.is_object() && info.contains("limits") && info["limits"].value("max_streams", 0) == 7;
  }, milliseconds(10000));
  out.push_back("max_streams: " + std::to_string(info.is_object() && info.contains("limits")
                                                     ? info["limits"].value("max_streams", 0) : 0));
  if (!full) return out;
  uint64_t msgs = 0;
  current = 0;
  wait_for([&] {
    auto si = ask("$JS.API.STREAM.INFO.S");
    if (!si.is_object() || !si.contains("cluster") || !si.contains("state")) return false;
    msgs = si["state"].value("messages", 0);
    current = si["cluster"].value("leader", "").empty() ? 0 : 1;
    for (auto& r : si["cluster"].value("replicas", json::array()))
      if (r.value("current", false)) ++current;
    return current == 3;
  }, milliseconds(20000));
  out.push_back("back: messages " + std::to_string(msgs) + ", current replicas " + std::to_string(current));
  json again;
  wait_for([&] { return (again = ask("s.x", "two")).is_object() && again.contains("seq"); }, milliseconds(10000));
  out.push_back("publish again: seq " + std::to_string(seq_of(again)));
  return out;
}

}  // namespace

TEST(JsClusterJwtAccount, PushedAccountHostsR3OnEveryServer) {
  auto ours = pushed_account_r3(server_binary());
  std::string o;
  for (auto& s : ours) o += s + "\n";
  EXPECT_EQ(o,
            "push answers: 3\ncreate: ok\ncurrent replicas: 3\npublish: seq 1\npush off answers: 3\n"
            "info when off: 10039\npublish when off: \"no responders\"\npush on answers: 3\nmax_streams: 7\n"
            "back: messages 1, current replicas 3\npublish again: seq 2\n");
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  // 2.9.10 matches up to the new limits. Its re-enabled account then has the stream with one
  // current replica and publishes unanswered (its EnableJetStream recovers the account's
  // streams from disk as if standalone): ours brings the R3 stream back instead.
  auto until_limits = [](const std::vector<std::string>& v) {
    std::string s;
    for (auto& l : v) {
      s += l + "\n";
      if (l.rfind("max_streams", 0) == 0) break;
    }
    return s;
  };
  EXPECT_EQ(until_limits(ours), until_limits(pushed_account_r3(reference_binary(), false)));
}

// An "on" update that arrives while the "off" before it is still stopping the account's
// streams (a slow disk or a loaded machine): it waits for the "off" to finish, then brings
// the R3 stream back on every server. Each server decided it from a half-done switch once
// (the account in neither state read as never seen): enabled, with its replica not started.
TEST(JsClusterJwtAccount, OnWhileSwitchingOffBringsR3Back) {
  ::setenv("NATSCPP_TEST_HOOKS", "1", 1);
  ::setenv("NATSCPP_TEST_JS_OFF_HOLD_MS", "2000", 1);
  auto ours = pushed_account_r3(server_binary(), true, true);
  ::unsetenv("NATSCPP_TEST_JS_OFF_HOLD_MS");
  std::string o;
  for (auto& s : ours) o += s + "\n";
  EXPECT_EQ(o,
            "push answers: 3\ncreate: ok\ncurrent replicas: 3\npublish: seq 1\npush off: sent\n"
            "info while switching off: not enabled\npush on answers: 3\nmax_streams: 7\n"
            "back: messages 1, current replicas 3\npublish again: seq 2\n");
}

}  // namespace NATS_TEST_FILE_ID
