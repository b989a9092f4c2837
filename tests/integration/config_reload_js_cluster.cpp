// Config reload of JetStream settings in a 3-server cluster (each server reloads its own
// config, as an operator would), against a 2.9.10 cluster where both agree: an account's
// JetStream limits and `jetstream: enabled` apply on every server (the next stream is
// allowed, the account gets the API and R3 streams placed afterwards), the server-wide
// limits and store directory are refused with the reference's texts, and JetStream turned
// off on one server leaves the cluster to the others. Where 2.9.10 is broken, ours only:
// JetStream turned on again in a cluster is refused (2.9.10 starts a meta group of its own),
// and a config account removed by reload stops its streams, standalone and clustered (2.9.10
// leaves them running on the old account object, unreachable, and in a cluster the account
// added again never stores again); added again, the account gets them back.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <map>
#include <string>
#include <vector>

#include "js_cluster_util.h"
#include "reload_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace jsc;
using testing_harness::ServerProcess;

namespace {

json ask(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subj.c_str(), body.c_str(), 3000) != NATS_OK) return "no answer";
  auto j = json::parse(m.data(), nullptr, false);
  if (!j.is_object()) return m.data();
  if (j.contains("error")) return j["error"].value("err_code", -1);
  return j;
}

// STREAM.CREATE of an R3 stream `name` on subject `name`: true when made, else the error code.
json create_r3(natsConnection* nc, const std::string& name) {
  json cfg = {{"name", name}, {"subjects", {name}}, {"num_replicas", 3}, {"storage", "file"}};
  json r = ask(nc, "$JS.API.STREAM.CREATE." + name, cfg.dump());
  return r.is_object() ? json(r.value("did_create", false)) : r;
}

// `ask` again until `done` holds for its answer or `wait` passed: the last answer.
template <class Ask, class Done>
json retry(Ask ask, Done done, milliseconds wait) {
  json r;
  wait_for([&] {
    r = ask();
    return done(r);
  }, wait);
  return r;
}
template <class Ask>
json retry_until(Ask ask, const json& want, milliseconds wait) {
  return retry(ask, [&](const json& r) { return r == want; }, wait);
}

// The first create may meet a meta group still electing (no answer, 10008): retried.
json create_r3_settled(natsConnection* nc, const std::string& name) {
  return retry([&] { return create_r3(nc, name); }, [](const json& r) { return !(r == "no answer" || r == 10008); },
               milliseconds(15000));
}

// A published message's ack: its sequence, or the answer.
json pub_seq(natsConnection* nc, const std::string& subject) {
  json r = ask(nc, subject, "m");
  return r.is_object() && r.contains("seq") ? r["seq"] : r;
}

std::string accounts_block(int a_streams, bool b_js, bool with_c) {
  std::string s = "accounts: {\n  $SYS: {users: [{user: sys, password: pass}]}\n"
                  "  A: {users: [{user: a, password: pw}], jetstream: {max_mem: 1M, max_file: 10M, max_streams: " +
                  std::to_string(a_streams) + "}}\n  B: {users: [{user: b, password: pw}]" +
                  (b_js ? ", jetstream: enabled" : "") + "}\n";
  if (with_c) s += "  C: {users: [{user: c, password: pw}], jetstream: enabled}\n";
  return s + "}\n";
}

// Three servers started from config files the test rewrites (without the gateway block).
struct ReloadCluster {
  JsSupercluster sc{1, 3};
  TempDir dir;
  std::vector<std::string> confs;
  explicit ReloadCluster(const std::string& bin, const std::string& accounts) {
    for (size_t i = 0; i < 3; ++i) {
      auto& n = sc.node(i);
      n.binary = bin;
      n.accounts = accounts;
      confs.push_back(dir.write("n" + std::to_string(i) + ".conf", text(i)));
      n.proc = std::make_unique<ServerProcess>(std::vector<std::string>{"-c", confs[i]}, bin);
      n.proc->start();
    }
  }
  std::string text(size_t i) {
    std::string c = sc.node(i).config();
    return c.substr(0, c.find("gateway {"));
  }
  std::string reload(size_t i) { return reload_config(*sc.node(i).proc, confs[i], text(i)); }
  // Every server reloads: the outcomes joined ("" each when applied).
  std::string reload_all(const std::string& accounts) {
    std::string out;
    for (size_t i = 0; i < 3; ++i) {
      sc.node(i).accounts = accounts;
      out += "[" + reload(i) + "]";
    }
    return out;
  }
  natsStatus connect(ConnPtr& nc, const std::string& user, size_t i) {
    return connect_url(nc, "nats://" + user + ":pw@127.0.0.1:" + std::to_string(sc.node(i).proc->port()));
  }
};

// The answers of `scenario`'s steps against our server, each checked against `want`; then,
// where the reference is installed, against 2.9.10, whose answers must be ours but at the
// steps of `reference_differs` (step: 2.9.10's answer there).
void expect_steps(std::vector<json> (*scenario)(const std::string&), const std::vector<json>& want,
                  const std::map<size_t, json>& reference_differs = {}) {
  auto ours = scenario(testing_harness::server_binary());
  ASSERT_EQ(ours.size(), want.size()) << ours[0].dump();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(ours[i], want[i]) << "step " << i;
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = scenario(testing_harness::reference_binary());
  ASSERT_EQ(ours.size(), ref.size()) << ref[0].dump();
  for (size_t i = 0; i < ours.size(); ++i) {
    auto differs = reference_differs.find(i);
    EXPECT_EQ(ref[i], differs == reference_differs.end() ? ours[i] : differs->second) << "step " << i;
  }
}

std::vector<json> account_changes(const std::string& bin) {
  ReloadCluster rc(bin, accounts_block(1, false, false));
  if (rc.sc.agreed_leader(milliseconds(20000)).empty()) return {"<no meta leader>"};
  ConnPtr a, b;
  if (rc.connect(a, "a", 1) != NATS_OK || rc.connect(b, "b", 2) != NATS_OK) return {"<no connection>"};
  std::vector<json> out;
  out.push_back(create_r3_settled(a.p, "SA"));
  out.push_back(create_r3(a.p, "SA2"));                      // 10027: one stream allowed
  out.push_back(ask(b.p, "$JS.API.INFO"));                     // 10039
  out.push_back(rc.reload_all(accounts_block(2, true, false)));  // every server's own reload
  out.push_back(create_r3(a.p, "SA2"));
  // B's API answers once the reloads' subscriptions reached the leader.
  out.push_back(retry([&] { return create_r3(b.p, "SB"); }, [](const json& r) { return r != 10039 && r != "no answer"; },
                      milliseconds(5000)));
  out.push_back(pub_seq(b.p, "SB"));
  auto current_replicas = [&] {
    json info = ask(b.p, "$JS.API.STREAM.INFO.SB");
    if (!info.is_object() || !info.contains("cluster")) return json();
    int current = 0;
    for (auto& r : info["cluster"].value("replicas", json::array())) current += r.value("current", false) ? 1 : 0;
    return json(current);
  };
  // Placed on all three: two current replicas besides the leader.
  out.push_back(retry_until(current_replicas, 2, milliseconds(5000)));
  // Server-wide limits and the store directory of a running JetStream: refused, as standalone.
  rc.sc.node(0).js_extra = "max_file_store: 1G";
  out.push_back(rc.reload(0));
  rc.sc.node(0).js_extra = "";
  std::string moved = rc.text(0);
  moved.replace(moved.find("store_dir: \"") + 12, 0, rc.dir.path() + "/elsewhere");
  out.push_back(reload_config(*rc.sc.node(0).proc, rc.confs[0], moved));
  // B's `jetstream: enabled` removed again: its API answers 10039 on every server.
  out.push_back(rc.reload_all(accounts_block(2, false, false)));
  out.push_back(retry_until([&] { return ask(b.p, "$JS.API.STREAM.INFO.SB"); }, 10039, milliseconds(5000)));
  return out;
}

TEST(ReloadJsCluster, AccountLimitsAndEnabledApplyOnEveryServer) {
  expect_steps(account_changes, {true, 10027, 10039, "[][][]", true, true, 1, 2,
                                 "config reload not supported for jetstream dynamic max memory and store",
                                 "config reload not supported for jetstream storage directory", "[][][]", 10039});
}

// JetStream off on one server by its reload: it leaves the meta group (the others elect
// among themselves), its INFO drops "jetstream", and its clients still reach the stream
// through the others. Turned on again: refused by ours (2.9.10 accepts it, and starts a
// meta group of its own beside the cluster's).
std::vector<json> one_server_off(const std::string& bin) {
  ReloadCluster rc(bin, accounts_block(2, false, false));
  if (rc.sc.agreed_leader(milliseconds(20000)).empty()) return {"<no meta leader>"};
  ConnPtr a;
  if (rc.connect(a, "a", 2) != NATS_OK) return {"<no connection>"};
  std::vector<json> out;
  out.push_back(create_r3_settled(a.p, "SA"));
  out.push_back(pub_seq(a.p, "SA"));
  // The stream led by another server (2.9.10 takes an election timeout, up to ~8 s, to replace
  // a leader that stopped with JetStream; that is not what this test is about).
  wait_for([&] {
    json info = ask(a.p, "$JS.API.STREAM.INFO.SA");
    std::string leader = info.is_object() && info.contains("cluster") ? info["cluster"].value("leader", "") : "";
    if (leader == "n3") ask(a.p, "$JS.API.STREAM.LEADER.STEPDOWN.SA");
    return !leader.empty() && leader != "n3";
  }, milliseconds(8000));
  rc.sc.node(2).js_extra = "enabled: false";
  out.push_back(rc.reload(2));
  out.push_back(wait_for([&] { return rc.sc.node(2).jsz().value("disabled", false); }, milliseconds(5000)));
  RawClient c(rc.sc.node(2).proc->port());
  out.push_back(c.info().find("\"jetstream\":true") != std::string::npos);
  std::string leader = rc.sc.agreed_leader(milliseconds(10000), {2});
  out.push_back(!leader.empty() && leader != "n3");
  // Stored once the stream's leader is one of the others.
  out.push_back(retry_until([&] { return pub_seq(a.p, "SA"); }, 2, milliseconds(8000)));
  rc.sc.node(2).js_extra = "";
  out.push_back(rc.reload(2));
  return out;
}

TEST(ReloadJsCluster, JetStreamTurnedOffOnOneServer) {
  expect_steps(one_server_off,
               {true, 1, "", true, false, true, 2,
                "config reload not supported for JetStream turned on in a cluster (restart the server)"},
               {{7, ""}});  // accepted by 2.9.10 (see above)
}

// A config account added by every server's reload, in turn: its API answers through every
// server (the meta leader's interest reaches the servers that added it after the leader did)
// and an R3 stream is placed. Removed by every server's reload: the stream stops everywhere
// (/jsz counts no stream); added again, the stream is back with its message, answers through
// every server and stores the next.
TEST(ReloadJsCluster, AddedAndRemovedAccountStreams) {
  ReloadCluster rc(testing_harness::server_binary(), accounts_block(1, false, false));
  ASSERT_FALSE(rc.sc.agreed_leader(milliseconds(20000)).empty());
  EXPECT_EQ(rc.reload_all(accounts_block(1, false, true)), "[][][]");
  ConnPtr c;
  ASSERT_EQ(rc.connect(c, "c", 2), NATS_OK);
  ASSERT_EQ(create_r3_settled(c.p, "SC"), true);
  ASSERT_EQ(pub_seq(c.p, "SC"), 1);
  c.reset();
  EXPECT_EQ(rc.reload_all(accounts_block(1, false, false)), "[][][]");
  for (size_t i = 0; i < 3; ++i)
    EXPECT_TRUE(wait_for([&] { return rc.sc.node(i).jsz().value("streams", -1) == 0; }, milliseconds(5000)))
        << "server " << i << ": " << rc.sc.node(i).jsz().dump();
  EXPECT_EQ(rc.reload_all(accounts_block(1, false, true)), "[][][]");
  for (size_t i = 0; i < 3; ++i) {
    c.reset();
    ASSERT_EQ(rc.connect(c, "c", i), NATS_OK);
    json info;
    EXPECT_TRUE(wait_for([&] {
      info = ask(c.p, "$JS.API.STREAM.INFO.SC");
      return info.is_object() && info["state"].value("messages", 0) == 1;
    }, milliseconds(5000))) << "server " << i << ": " << info.dump();
  }
  EXPECT_EQ(retry_until([&] { return pub_seq(c.p, "SC"); }, 2, milliseconds(8000)), 2);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_TRUE(wait_for([&] { return rc.sc.node(i).jsz().value("messages", -1) == 2; }, milliseconds(5000)))
        << "server " << i << ": " << rc.sc.node(i).jsz().dump();
}

// The same on one server: /jsz no longer counts the removed account or its stream (2.9.10
// still does, the stream running on the old account); added again, both servers restore the
// stream from its files and store the next message.
std::vector<json> removed_standalone(const std::string& bin) {
  TempDir dir;
  int http = testing_harness::free_port();
  auto conf = [&](bool with_c) {
    return "jetstream {store_dir: \"" + dir.path() + "/js\"}\n" + accounts_block(1, false, with_c);
  };
  std::string path = dir.write("s.conf", conf(true));
  ServerProcess srv({"-c", path, "-m", std::to_string(http)}, bin);
  srv.start();
  std::vector<json> out;
  ConnPtr c;
  if (connect_url(c, "nats://c:pw@127.0.0.1:" + std::to_string(srv.port())) != NATS_OK) return {"<no connection>"};
  json cfg = {{"name", "SC"}, {"subjects", {"SC"}}};
  json made = ask(c.p, "$JS.API.STREAM.CREATE.SC", cfg.dump());
  out.push_back(made.is_object() && made.contains("config"));
  out.push_back(pub_seq(c.p, "SC"));
  c.reset();
  out.push_back(reload_config(srv, path, conf(false)));
  json jsz = http_json(http, "/jsz");
  out.push_back(json{jsz.value("accounts", -1), jsz.value("streams", -1)});
  out.push_back(reload_config(srv, path, conf(true)));
  if (connect_url(c, "nats://c:pw@127.0.0.1:" + std::to_string(srv.port())) != NATS_OK) return {"<no connection>"};
  out.push_back(pub_seq(c.p, "SC"));
  json info = ask(c.p, "$JS.API.STREAM.INFO.SC");
  out.push_back(info.is_object() ? json(info["state"].value("messages", -1)) : info);
  return out;
}

TEST(ReloadJsCluster, RemovedAccountStopsItsStreamsStandalone) {
  // Step 3, /jsz's accounts and streams: A only, no stream; 2.9.10 still counts the removed
  // account and its stream.
  expect_steps(removed_standalone, {true, 1, "", json::array({1, 0}), "", 2, 2}, {{3, json::array({2, 1})}});
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
