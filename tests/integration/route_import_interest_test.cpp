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
#include "jwt_fixture.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using itest::jwt::KeyPair;
using json = nlohmann::json;
using testing_harness::ServerProcess;

class RouteImportInterest : public JwtOperatorTest {
 protected:
  void SetUp() override {
    JwtOperatorTest::SetUp();
    if (IsSkipped()) return;
    exp_jwt_ = jwt::sign(feed_exporter(exp_, "EXP"), op_);
    imp_jwt_ = jwt::sign(feed_importer(imp_, "IMP", exp_.pub), op_);
    for (auto& p : cluster_ports_) p = testing_harness::free_port();
    for (auto& p : http_ports_) p = testing_harness::free_port();
  }
  // Server `i` (0: A, 1: B), FULL resolver in its own dir, routed to the other one. A has the
  // JWTs of both accounts, B only the exporter's (the pack sync is two minutes away).
  std::unique_ptr<ServerProcess> start(int i) {
    std::string preload = preload_line(sys_, sys_jwt_) + preload_line(exp_, exp_jwt_);
    if (i == 0) preload += preload_line(imp_, imp_jwt_);
    std::string conf = "server_name: " + std::string(i == 0 ? "A" : "B") + "\nhttp: \"" + listen(http_ports_[i]) +
                       "\"\n" + operator_config() + "resolver { type: full, dir: \"" + jwt_dir(i) +
                       "\" }\nresolver_preload: {\n" + preload + "}\n" + route_block(i, cluster_ports_);
    return start_with_config(conf, {}, GetParam());
  }
  natsStatus connect_user(ConnPtr& c, const std::string& url, const KeyPair& account) {
    return JwtOperatorTest::connect_user(c, url, account, jwt::user_keys());
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
  // interest from A in feed.x. Retried, since a $SYS message of B's may fall in between
  // (2.9.10 sends a burst of them after a connect: 3 quick tries all met one once in CI).
  bool feed_stays_on_b(natsConnection* pub, MsgCounter& seq) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(milliseconds(100));
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

  KeyPair exp_ = jwt::account_keys(), imp_ = jwt::account_keys();
  std::string exp_jwt_, imp_jwt_;
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
  const std::string accounts =
      "accounts {\n  EXP: { users: [{user: e, password: pw}], exports: [{stream: \"feed.>\"}] }\n"
      "  IMP: { users: [{user: i, password: pw}], imports: [{stream: {account: EXP, subject: \"feed.>\"}}] }\n}\n";
  std::unique_ptr<ServerProcess> srv[2];
  for (int i = 0; i < 2; ++i)
    srv[i] = start_with_config(accounts + route_block(i, cluster_ports_), {}, GetParam());
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
