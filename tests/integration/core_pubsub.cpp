// Core client protocol through the official C client: publish/subscribe, wildcards, queue
// groups, request/reply, headers, no-responders, echo, ordering. Each test starts its own
// server (ours, or the one named by NATS_TEST_SERVER_BIN).
#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;

class CorePubSub : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>();
    server_->start();
    ASSERT_EQ(connect_url(nc_, server_->url()), NATS_OK);
  }
  // Receives one message or fails with a clear reason.
  static std::string next(natsSubscription* sub, int64_t timeout_ms = 2000) {
    MsgPtr m;
    natsStatus s = natsSubscription_NextMsg(&m.p, sub, timeout_ms);
    if (s != NATS_OK) return "<" + std::string(natsStatus_GetText(s)) + ">";
    return m.subject() + ":" + m.data();
  }
  // True when nothing arrives within the window (used after a flush, so it is not racy).
  static bool nothing(natsSubscription* sub, int64_t window_ms = 100) {
    MsgPtr m;
    return natsSubscription_NextMsg(&m.p, sub, window_ms) == NATS_TIMEOUT;
  }

  std::unique_ptr<ServerProcess> server_;
  ConnPtr nc_;
};

TEST_F(CorePubSub, PublishSubscribeDeliversPayload) {
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc_.p, "greet.joe"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  ConnPtr pub;
  ASSERT_EQ(connect_url(pub, server_->url()), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(pub.p, "greet.joe", "hello"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(pub.p, "greet.sue", "not for joe"), NATS_OK);
  ASSERT_EQ(natsConnection_Publish(pub.p, "greet.joe", nullptr, 0), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  EXPECT_EQ(next(sub.p), "greet.joe:hello");
  EXPECT_EQ(next(sub.p), "greet.joe:");  // empty payload
  EXPECT_TRUE(nothing(sub.p));
}

TEST_F(CorePubSub, StarWildcardMatchesExactlyOneToken) {
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc_.p, "a.*.c"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  for (const char* s : {"a.b.c", "a.b", "a.b.c.d", "a.x.c", "b.b.c", "a..c.c"})
    natsConnection_PublishString(nc_.p, s, s);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  EXPECT_EQ(next(sub.p), "a.b.c:a.b.c");
  EXPECT_EQ(next(sub.p), "a.x.c:a.x.c");
  EXPECT_TRUE(nothing(sub.p));
}

TEST_F(CorePubSub, GreaterWildcardMatchesOneOrMoreTrailingTokens) {
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc_.p, "orders.>"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  for (const char* s : {"orders", "orders.new", "orders.eu.paid.x", "order.new", "x.orders.new"})
    natsConnection_PublishString(nc_.p, s, "m");
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  EXPECT_EQ(next(sub.p), "orders.new:m");
  EXPECT_EQ(next(sub.p), "orders.eu.paid.x:m");
  EXPECT_TRUE(nothing(sub.p));
}

TEST_F(CorePubSub, OverlappingSubscriptionsOnOneConnectionEachGetACopy) {
  SubPtr a, b, c;
  ASSERT_EQ(natsConnection_SubscribeSync(&a.p, nc_.p, "x.y"), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&b.p, nc_.p, "x.*"), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&c.p, nc_.p, ">"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(nc_.p, "x.y", "1"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  EXPECT_EQ(next(a.p), "x.y:1");
  EXPECT_EQ(next(b.p), "x.y:1");
  EXPECT_EQ(next(c.p), "x.y:1");
  EXPECT_TRUE(nothing(a.p, 50));
  EXPECT_TRUE(nothing(b.p, 50));
  EXPECT_TRUE(nothing(c.p, 50));
}

TEST_F(CorePubSub, QueueGroupDeliversEachMessageToOneMemberAndSpreadsLoad) {
  constexpr int kMembers = 3, kMsgs = 300;
  ConnPtr conns[kMembers];
  MsgCounter counters[kMembers];
  SubPtr subs[kMembers];
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_EQ(connect_url(conns[i], server_->url()), NATS_OK);
    ASSERT_EQ(natsConnection_QueueSubscribe(&subs[i].p, conns[i].p, "work", "workers",
                                            MsgCounter::on_msg, &counters[i]),
              NATS_OK);
    ASSERT_EQ(natsConnection_Flush(conns[i].p), NATS_OK);
  }
  // A plain subscriber on the same subject is not part of the group and sees everything.
  MsgCounter plain;
  SubPtr plain_sub;
  ASSERT_EQ(natsConnection_Subscribe(&plain_sub.p, nc_.p, "work", MsgCounter::on_msg, &plain), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);

  ConnPtr pub;
  ASSERT_EQ(connect_url(pub, server_->url()), NATS_OK);
  for (int i = 0; i < kMsgs; ++i) ASSERT_EQ(natsConnection_PublishString(pub.p, "work", "job"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);

  ASSERT_TRUE(plain.wait_count(kMsgs));
  ASSERT_TRUE(wait_for([&] {
    int t = 0;
    for (auto& c : counters) t += c.get();
    return t >= kMsgs;
  }));
  std::this_thread::sleep_for(milliseconds(100));  // a duplicate delivery would show up now
  int total = 0;
  for (int i = 0; i < kMembers; ++i) {
    total += counters[i].get();
    EXPECT_GT(counters[i].get(), kMsgs / 10) << "member " << i << " starved";
  }
  EXPECT_EQ(total, kMsgs);
  EXPECT_EQ(plain.get(), kMsgs);
}

TEST_F(CorePubSub, TwoQueueGroupsOnOneSubjectEachGetEveryMessage) {
  MsgCounter g1a, g1b, g2;
  SubPtr s1, s2, s3;
  ASSERT_EQ(natsConnection_QueueSubscribe(&s1.p, nc_.p, "jobs.*", "g1", MsgCounter::on_msg, &g1a), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&s2.p, nc_.p, "jobs.*", "g1", MsgCounter::on_msg, &g1b), NATS_OK);
  ASSERT_EQ(natsConnection_QueueSubscribe(&s3.p, nc_.p, "jobs.>", "g2", MsgCounter::on_msg, &g2), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  for (int i = 0; i < 50; ++i) natsConnection_PublishString(nc_.p, "jobs.a", "x");
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  ASSERT_TRUE(g2.wait_count(50));
  ASSERT_TRUE(wait_for([&] { return g1a.get() + g1b.get() >= 50; }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(g1a.get() + g1b.get(), 50);
  EXPECT_EQ(g2.get(), 50);
}

// Replies to every request on its subject with "re:" + payload.
void echo_responder(natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
  std::string body = "re:" + std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m));
  if (natsMsg_GetReply(m)) natsConnection_PublishString(nc, natsMsg_GetReply(m), body.c_str());
  natsMsg_Destroy(m);
}

TEST_F(CorePubSub, RequestReplyRoundTrip) {
  ConnPtr svc;
  ASSERT_EQ(connect_url(svc, server_->url()), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_Subscribe(&sub.p, svc.p, "svc.echo", echo_responder, nullptr), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(svc.p), NATS_OK);
  for (int i = 0; i < 20; ++i) {
    MsgPtr reply;
    std::string q = "q" + std::to_string(i);
    ASSERT_EQ(natsConnection_RequestString(&reply.p, nc_.p, "svc.echo", q.c_str(), 2000), NATS_OK) << i;
    EXPECT_EQ(reply.data(), "re:" + q);
  }
}

TEST_F(CorePubSub, PublishRequestCarriesReplySubject) {
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc_.p, "ask"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishRequestString(nc_.p, "ask", "my.inbox.1", "q"), NATS_OK);
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 2000), NATS_OK);
  ASSERT_NE(natsMsg_GetReply(m.p), nullptr);
  EXPECT_STREQ(natsMsg_GetReply(m.p), "my.inbox.1");
  EXPECT_EQ(m.data(), "q");
}

TEST_F(CorePubSub, HeadersArePreservedEndToEnd) {
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc_.p, "hdr"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  MsgPtr out;
  ASSERT_EQ(natsMsg_Create(&out.p, "hdr", nullptr, "body", 4), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(out.p, "X-Trace", "abc-123"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Add(out.p, "X-Multi", "one"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Add(out.p, "X-Multi", "two"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishMsg(nc_.p, out.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);

  MsgPtr in;
  ASSERT_EQ(natsSubscription_NextMsg(&in.p, sub.p, 2000), NATS_OK);
  EXPECT_EQ(in.data(), "body");
  const char* v = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(in.p, "X-Trace", &v), NATS_OK);
  EXPECT_STREQ(v, "abc-123");
  const char** vals = nullptr;
  int n = 0;
  ASSERT_EQ(natsMsgHeader_Values(in.p, "X-Multi", &vals, &n), NATS_OK);
  ASSERT_EQ(n, 2);
  EXPECT_STREQ(vals[0], "one");
  EXPECT_STREQ(vals[1], "two");
  free(vals);
}

TEST_F(CorePubSub, HeadersArriveAsHmsgOnTheWire) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB hdr.raw 7\r\nPING\r\n"));
  ASSERT_TRUE(raw.expect_line("PONG"));
  MsgPtr out;
  ASSERT_EQ(natsMsg_Create(&out.p, "hdr.raw", nullptr, "hi", 2), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(out.p, "K", "V"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishMsg(nc_.p, out.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  const std::string hdr = "NATS/1.0\r\nK: V\r\n\r\n";
  auto line = raw.read_line();
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "HMSG hdr.raw 7 " + std::to_string(hdr.size()) + " " + std::to_string(hdr.size() + 2));
  auto body = raw.read_exact(hdr.size() + 2 + 2);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, hdr + "hi\r\n");
}

TEST_F(CorePubSub, RequestWithoutRespondersFailsFastWithNoResponders) {
  auto t0 = Clock::now();
  MsgPtr reply;
  natsStatus s = natsConnection_RequestString(&reply.p, nc_.p, "nobody.home", "x", 5000);
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  EXPECT_EQ(s, NATS_NO_RESPONDERS) << natsStatus_GetText(s);
  EXPECT_LT(took.count(), 1000) << "no-responders must not wait for the timeout";
}

TEST_F(CorePubSub, NoEchoSuppressesOwnMessagesOnly) {
  OptsPtr o;
  natsOptions_SetNoEcho(o.p, true);
  natsOptions_SetAllowReconnect(o.p, false);
  ConnPtr quiet;
  ASSERT_EQ(connect_url(quiet, server_->url(), o.p), NATS_OK);
  SubPtr own, other;
  ASSERT_EQ(natsConnection_SubscribeSync(&own.p, quiet.p, "echo.t"), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&other.p, nc_.p, "echo.t"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(quiet.p), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(quiet.p, "echo.t", "from-quiet"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(quiet.p), NATS_OK);
  EXPECT_EQ(next(other.p), "echo.t:from-quiet");
  EXPECT_TRUE(nothing(own.p, 150));
  // Messages from others still reach the no-echo connection.
  ASSERT_EQ(natsConnection_PublishString(nc_.p, "echo.t", "from-other"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  EXPECT_EQ(next(own.p), "echo.t:from-other");
}

TEST_F(CorePubSub, EchoIsOnByDefault) {
  SubPtr own;
  ASSERT_EQ(natsConnection_SubscribeSync(&own.p, nc_.p, "echo.d"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(nc_.p, "echo.d", "me"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  EXPECT_EQ(next(own.p), "echo.d:me");
}

TEST_F(CorePubSub, TenThousandMessagesArriveInOrderWithoutLoss) {
  constexpr int kMsgs = 10000;
  ConnPtr sc;
  ASSERT_EQ(connect_url(sc, server_->url()), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, sc.p, "seq"), NATS_OK);
  ASSERT_EQ(natsSubscription_SetPendingLimits(sub.p, -1, -1), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(sc.p), NATS_OK);
  for (int i = 0; i < kMsgs; ++i) {
    std::string p = std::to_string(i);
    ASSERT_EQ(natsConnection_Publish(nc_.p, "seq", p.data(), static_cast<int>(p.size())), NATS_OK);
  }
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  for (int i = 0; i < kMsgs; ++i) {
    MsgPtr m;
    ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 3000), NATS_OK) << "lost at " << i;
    ASSERT_EQ(m.data(), std::to_string(i)) << "out of order";
  }
  EXPECT_TRUE(nothing(sub.p, 50));
  int64_t dropped = -1;
  ASSERT_EQ(natsSubscription_GetDropped(sub.p, &dropped), NATS_OK);
  EXPECT_EQ(dropped, 0);
}

TEST_F(CorePubSub, LibnatsSeesMaxPayloadFromInfo) {
  EXPECT_EQ(natsConnection_GetMaxPayload(nc_.p), 1024 * 1024);  // the default
}

TEST_F(CorePubSub, UnsubscribeStopsDelivery) {
  // The subscriber is raw so that only the server can be doing the filtering.
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nSUB u 1\r\nPING\r\n"));
  ASSERT_TRUE(raw.expect_line("PONG"));
  ASSERT_EQ(natsConnection_PublishString(nc_.p, "u", "1"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  EXPECT_EQ(raw.read_line(), "MSG u 1 1");
  EXPECT_EQ(raw.read_line(), "1");
  ASSERT_TRUE(raw.send("UNSUB 1\r\nPING\r\n"));
  ASSERT_EQ(raw.read_line(), "PONG");
  ASSERT_EQ(natsConnection_PublishString(nc_.p, "u", "2"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_.p), NATS_OK);
  ASSERT_TRUE(raw.send("PING\r\n"));
  EXPECT_EQ(raw.read_line(), "PONG") << "message delivered after UNSUB";
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
