// Stream imports in a cluster with the FULL directory resolver, as 2.9.10 wires them: the
// interest a server announces to its routes for an import is that of its local subscribers in
// the importing account (the reference's shadow subscriptions), made only when such a
// subscriber exists; an importer registered without a subscriber announces nothing. A message
// published in the exporting account on a server that never loaded the importer then still
// reaches the importer's subscriber on the other server. Run against our server and 2.9.10
// with the same expectations.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;
using testing_harness::ServerProcess;

class RouteImportInterest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
    dir_ = std::make_unique<testing_harness::TempDir>();
    op_file_ = dir_->write("op.jwt", jwt::sign(jwt::operator_claims(op_, sys_.pub), op_));
    json exporter = jwt::account_claims(exp_, "EXP");
    exporter["nats"]["exports"] = json::array({{{"name", "feed"}, {"subject", "feed.>"}, {"type", "stream"}}});
    json importer = jwt::account_claims(imp_, "IMP");
    importer["nats"]["imports"] =
        json::array({{{"name", "feed"}, {"subject", "feed.>"}, {"account", exp_.pub}, {"type", "stream"}}});
    exp_jwt_ = jwt::sign(exporter, op_);
    imp_jwt_ = jwt::sign(importer, op_);
    for (auto& p : cluster_ports_) p = testing_harness::free_port();
    for (auto& p : http_ports_) p = testing_harness::free_port();
  }
  // Server `i` (0: A, 1: B), FULL resolver in its own dir, routed to the other one. A has the
  // JWTs of both accounts, B only the exporter's (the pack sync is two minutes away).
  std::unique_ptr<ServerProcess> start(int i) {
    auto listen = [](int port) { return "127.0.0.1:" + std::to_string(port); };
    std::string preload = "  " + sys_.pub + ": \"" + jwt::sign(jwt::account_claims(sys_, "SYS"), op_) + "\"\n  " +
                          exp_.pub + ": \"" + exp_jwt_ + "\"\n";
    if (i == 0) preload += "  " + imp_.pub + ": \"" + imp_jwt_ + "\"\n";
    std::string conf = "server_name: " + std::string(i == 0 ? "A" : "B") + "\nhttp: \"" + listen(http_ports_[i]) +
                       "\"\noperator: \"" + op_file_ + "\"\nsystem_account: " + sys_.pub +
                       "\nresolver { type: full, dir: \"" + jwt_dir(i) + "\" }\nresolver_preload: {\n" + preload +
                       "}\ncluster {\n  name: c1\n  listen: \"" + listen(cluster_ports_[i]) +
                       "\"\n  routes: [\"nats-route://" + listen(cluster_ports_[1 - i]) + "\"]\n}\n";
    return start_with_config(conf, {}, GetParam());
  }
  std::string jwt_dir(int i) const { return dir_->path() + "/jwts" + std::to_string(i); }
  natsStatus connect_user(ConnPtr& c, const std::string& url, const KeyPair& account) {
    static int n = 0;
    KeyPair user = jwt::user_keys();
    std::string ujwt = jwt::sign(jwt::user_claims(user, "u"), account);
    std::string file = dir_->write("u" + std::to_string(++n) + ".creds", jwt::creds(ujwt, user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 5000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, file.c_str(), nullptr);
    return connect_signed(c, url, o.p);
  }
  // Messages B sent over its routes.
  int64_t out_msgs_of_b() {
    int64_t n = 0;
    auto j = ctest::http_json(http_ports_[1], "/routez");
    for (const auto& r : j.value("routes", json::array())) n += r.value("out_msgs", int64_t(0));
    return n;
  }
  // Publishes feed.x then seq.x on `pub` (B, exporter) and waits for `seq` (A's exporter
  // subscriber of seq.x) to count it: true when only seq.x crossed the route, i.e. B has no
  // interest from A in feed.x. Retried, since a $SYS message of B's may fall in between.
  bool feed_stays_on_b(natsConnection* pub, MsgCounter& seq) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      int64_t before = out_msgs_of_b();
      int want = seq.get() + 1;
      natsConnection_PublishString(pub, "feed.x", "f");
      natsConnection_PublishString(pub, "seq.x", "s");
      natsConnection_Flush(pub);
      if (!seq.wait_count(want, milliseconds(3000))) return false;
      if (out_msgs_of_b() - before == 1) return true;
    }
    return false;
  }

  KeyPair op_ = jwt::operator_keys(), sys_ = jwt::account_keys(), exp_ = jwt::account_keys(),
          imp_ = jwt::account_keys();
  std::unique_ptr<testing_harness::TempDir> dir_;
  std::string op_file_, exp_jwt_, imp_jwt_;
  int cluster_ports_[2] = {0, 0}, http_ports_[2] = {0, 0};
};

TEST_P(RouteImportInterest, ImporterUnknownToThePublishingServerGetsTheStream) {
  auto a = start(0), b = start(1);
  // The importer registered on A (a user of it connected), and an exporter's subscriber of
  // seq.x on A, whose messages from B mark what crossed the route before them.
  ConnPtr imp_conn, exp_conn, pub;
  ASSERT_EQ(connect_user(imp_conn, a->url(), imp_), NATS_OK) << a->log();
  ASSERT_EQ(connect_user(exp_conn, a->url(), exp_), NATS_OK) << a->log();
  MsgCounter seq;
  SubPtr seq_sub;
  ASSERT_EQ(natsConnection_Subscribe(&seq_sub.p, exp_conn.p, "seq.x", MsgCounter::on_msg, &seq), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(exp_conn.p), NATS_OK);
  ASSERT_EQ(connect_user(pub, b->url(), exp_), NATS_OK) << b->log();
  ASSERT_TRUE(wait_for([&] {
    natsConnection_PublishString(pub.p, "seq.x", "s");
    natsConnection_Flush(pub.p);
    return seq.wait_count(1, milliseconds(200));
  }, milliseconds(10000))) << a->log() << b->log();
  // No subscriber of the import on A: A announces no interest in the exported stream.
  EXPECT_TRUE(feed_stays_on_b(pub.p, seq));

  // A subscriber of the import on A: B, which never loaded the importer, sends it the stream.
  MsgCounter got;
  SubPtr s;
  ASSERT_EQ(natsConnection_Subscribe(&s.p, imp_conn.p, "feed.x", MsgCounter::on_msg, &got), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(imp_conn.p), NATS_OK);
  EXPECT_TRUE(wait_for([&] {
    natsConnection_PublishString(pub.p, "feed.x", "hi");
    natsConnection_Flush(pub.p);
    return got.wait_count(1, milliseconds(200));
  }, milliseconds(5000))) << b->log();
  EXPECT_FALSE(std::filesystem::exists(jwt_dir(1) + "/" + imp_.pub + ".jwt"));

  // The subscriber gone, so is the interest.
  ASSERT_EQ(natsSubscription_Unsubscribe(s.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(imp_conn.p), NATS_OK);
  EXPECT_TRUE(wait_for([&] { return feed_stays_on_b(pub.p, seq); }, milliseconds(5000)));
}

// Config accounts on two routed servers, plain and queue subscribers of a stream import on
// both: each message published in the exporter reaches every plain subscriber once and its
// queue group once (the import runs on each server for its own plain subscribers, and the
// publishing server serves the queue group).
TEST_P(RouteImportInterest, PlainAndQueueSubscribersOnBothServersGetEachMessageOnce) {
  auto listen = [](int port) { return "127.0.0.1:" + std::to_string(port); };
  const std::string accounts =
      "accounts {\n  EXP: { users: [{user: e, password: pw}], exports: [{stream: \"feed.>\"}] }\n"
      "  IMP: { users: [{user: i, password: pw}], imports: [{stream: {account: EXP, subject: \"feed.>\"}}] }\n}\n";
  std::unique_ptr<ServerProcess> srv[2];
  for (int i = 0; i < 2; ++i)
    srv[i] = start_with_config(accounts + "cluster {\n  name: c1\n  listen: \"" + listen(cluster_ports_[i]) +
                                   "\"\n  routes: [\"nats-route://" + listen(cluster_ports_[1 - i]) + "\"]\n}\n",
                               {}, GetParam());
  auto user_url = [&](int i, const char* user) {
    return "nats://" + std::string(user) + ":pw@127.0.0.1:" + std::to_string(srv[i]->port());
  };
  ConnPtr ia, ib, pub;
  ASSERT_EQ(connect_url(ia, user_url(0, "i")), NATS_OK) << srv[0]->log();
  ASSERT_EQ(connect_url(ib, user_url(1, "i")), NATS_OK) << srv[1]->log();
  ASSERT_EQ(connect_url(pub, user_url(1, "e")), NATS_OK);
  MsgCounter pa, pb, qa, qb;
  for (auto* c : {&pa, &pb, &qa, &qb}) c->keep_payloads = true;
  SubPtr spa, spb, sqa, sqb;
  ASSERT_EQ(natsConnection_Subscribe(&spa.p, ia.p, "feed.>", MsgCounter::on_msg, &pa), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&sqa.p, ia.p, "feed.>", "q", MsgCounter::on_msg, &qa), NATS_OK);
  ASSERT_EQ(natsConnection_Subscribe(&spb.p, ib.p, "feed.>", MsgCounter::on_msg, &pb), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&sqb.p, ib.p, "feed.>", "q", MsgCounter::on_msg, &qb), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(ia.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(ib.p), NATS_OK);
  // Until A's plain subscriber hears B's messages, the interest is still crossing the route.
  ASSERT_TRUE(wait_for([&] {
    natsConnection_PublishString(pub.p, "feed.warm", "w");
    natsConnection_Flush(pub.p);
    return pa.wait_count(1, milliseconds(200));
  }, milliseconds(10000))) << srv[0]->log() << srv[1]->log();
  // The test's messages ("m"; the warm-up's are "w"), counted at each subscriber.
  auto ms = [](MsgCounter& c) {
    std::lock_guard<std::mutex> g(c.mu);
    return static_cast<int>(std::count(c.payloads.begin(), c.payloads.end(), "m"));
  };
  const int n = 20;
  for (int k = 0; k < n; ++k) natsConnection_PublishString(pub.p, "feed.x", "m");
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  EXPECT_TRUE(wait_for([&] { return ms(pa) >= n && ms(pb) >= n && ms(qa) + ms(qb) >= n; }, milliseconds(3000)));
  // A round trip through both servers: anything doubled would have arrived by now.
  ASSERT_EQ(natsConnection_Flush(ia.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  EXPECT_EQ(ms(pa), n);
  EXPECT_EQ(ms(pb), n);
  EXPECT_EQ(ms(qa) + ms(qb), n) << ms(qa) << " + " << ms(qb);

  // B's queue member gone: the group's only member, on A, gets what is published on B.
  ASSERT_EQ(natsSubscription_Unsubscribe(sqb.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(ib.p), NATS_OK);
  auto zs = [](MsgCounter& c) {
    std::lock_guard<std::mutex> g(c.mu);
    return static_cast<int>(std::count(c.payloads.begin(), c.payloads.end(), "z"));
  };
  for (int k = 0; k < 5; ++k) natsConnection_PublishString(pub.p, "feed.y", "z");
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  EXPECT_TRUE(wait_for([&] { return zs(qa) == 5 && zs(pa) == 5; }, milliseconds(3000)))
      << zs(qa) << " " << zs(pa);
}

INSTANTIATE_TEST_SUITE_P(Servers, RouteImportInterest,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
