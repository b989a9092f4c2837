// Server-enforced limits: max_payload, slow consumers, max_connections, max_subscriptions and
// stale-connection detection. The exact -ERR texts are those of the reference server.
#include <gtest/gtest.h>

#include <atomic>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

TEST(CoreLimits, MaxPayloadIsAnnouncedAndEnforcedClientSide) {
  auto srv = start_with_config("max_payload: 1024\n");
  RawClient raw(srv->port());
  EXPECT_NE(raw.info().find("\"max_payload\":1024"), std::string::npos) << raw.info();

  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv->url()), NATS_OK);
  EXPECT_EQ(natsConnection_GetMaxPayload(nc.p), 1024);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "big"), NATS_OK);
  std::string at_limit(1024, 'a'), over(1025, 'b');
  EXPECT_EQ(natsConnection_Publish(nc.p, "big", at_limit.data(), 1024), NATS_OK);
  EXPECT_EQ(natsConnection_Publish(nc.p, "big", over.data(), 1025), NATS_MAX_PAYLOAD);
  ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 2000), NATS_OK);
  EXPECT_EQ(m.data(), at_limit);
  MsgPtr none;
  EXPECT_EQ(natsSubscription_NextMsg(&none.p, sub.p, 100), NATS_TIMEOUT);
}

TEST(CoreLimits, RawPublishOverMaxPayloadGetsErrorAndIsClosed) {
  auto srv = start_with_config("max_payload: 1024\n");
  RawClient raw(srv->port());
  // The size in the control line alone is enough: the server rejects before the payload, so
  // only the header is sent (sending the body could turn the close into a reset).
  ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPUB foo 1025\r\n"));
  EXPECT_EQ(raw.read_line(), "-ERR 'Maximum Payload Violation'");
  EXPECT_TRUE(raw.wait_closed(milliseconds(2000)));

  // Exactly at the limit is fine.
  RawClient ok(srv->port());
  ASSERT_TRUE(ok.send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo 1024\r\n" +
                      std::string(1024, 'x') + "\r\nPING\r\n"));
  EXPECT_EQ(ok.read_line(), "MSG foo 1 1024");
  EXPECT_EQ(ok.read_exact(1026), std::string(1024, 'x') + "\r\n");
  EXPECT_EQ(ok.read_line(), "PONG");
}

TEST(CoreLimits, SlowConsumerIsCutWhileHealthySubscriberGetsEverything) {
  // With a tiny max_pending the reference throttles the publisher for seconds instead of
  // cutting quickly, so the cut here comes from the write deadline; max_pending still bounds
  // what is buffered for the stuck client.
  auto srv = start_with_config("max_payload: 8192\nmax_pending: 1MB\nwrite_deadline: \"200ms\"\n");

  // The stuck subscriber: a small receive window and it never reads.
  RawClient stuck;
  stuck.set_rcvbuf(4096);
  stuck.connect(srv->port());
  ASSERT_TRUE(stuck.connected());
  ASSERT_TRUE(stuck.send("CONNECT {\"verbose\":false}\r\nSUB slow 1\r\nPING\r\n"));
  ASSERT_TRUE(stuck.expect_line("PONG"));

  ConnPtr good;
  ASSERT_EQ(connect_url(good, srv->url()), NATS_OK);
  MsgCounter received;
  SubPtr gsub;
  ASSERT_EQ(natsConnection_Subscribe(&gsub.p, good.p, "slow", MsgCounter::on_msg, &received), NATS_OK);
  ASSERT_EQ(natsSubscription_SetPendingLimits(gsub.p, -1, -1), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(good.p), NATS_OK);

  ConnPtr pub;
  ASSERT_EQ(connect_url(pub, srv->url()), NATS_OK);
  constexpr int kMsgs = 2000;  // 16 MB: far more than the kernel buffers of the stuck socket
  std::string payload(8000, 'x');
  for (int i = 0; i < kMsgs; ++i)
    ASSERT_EQ(natsConnection_Publish(pub.p, "slow", payload.data(), static_cast<int>(payload.size())), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(pub.p, 10000), NATS_OK);

  EXPECT_TRUE(received.wait_count(kMsgs, milliseconds(10000))) << "healthy subscriber got " << received.get();
  EXPECT_EQ(natsConnection_Status(good.p), NATS_CONN_STATUS_CONNECTED);

  // The stuck client was cut: draining its socket ends in EOF, having seen only part of the data.
  EXPECT_TRUE(stuck.wait_closed(milliseconds(10000)));
  std::string got = stuck.buffered();
  size_t msgs = 0;
  for (size_t p = got.find("MSG slow 1 8000\r\n"); p != std::string::npos; p = got.find("MSG slow 1 8000\r\n", p + 1)) ++msgs;
  EXPECT_LT(msgs, static_cast<size_t>(kMsgs));
}

TEST(CoreLimits, MaxConnectionsRefusesTheNextClient) {
  auto srv = start_with_config("max_connections: 2\n");
  ConnPtr a, b, c;
  ASSERT_EQ(connect_url(a, srv->url()), NATS_OK);
  ASSERT_EQ(connect_url(b, srv->url()), NATS_OK);
  EXPECT_NE(connect_url(c, srv->url()), NATS_OK);

  // On the wire: the INFO still arrives, then the error, then the close.
  RawClient raw(srv->port());
  EXPECT_EQ(raw.info().rfind("INFO ", 0), 0u) << raw.info();
  EXPECT_EQ(raw.read_line(), "-ERR 'maximum connections exceeded'");
  EXPECT_TRUE(raw.wait_closed(milliseconds(2000)));

  // A freed slot can be reused.
  a.reset();
  ASSERT_TRUE(wait_for([&] {
    ConnPtr d;
    return connect_url(d, srv->url()) == NATS_OK;
  }));
}

TEST(CoreLimits, MaxSubscriptionsRejectsTheExtraSubButKeepsTheConnection) {
  auto srv = start_with_config("max_subscriptions: 2\n");
  RawClient raw(srv->port());
  ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n"));
  EXPECT_EQ(raw.read_line(), "-ERR 'maximum subscriptions exceeded'");
  EXPECT_EQ(raw.read_line(), "PONG");
  // The rejected subscription has no interest; the accepted ones work.
  ASSERT_TRUE(raw.send("PUB c 1\r\nx\r\nPUB a 1\r\ny\r\nPING\r\n"));
  EXPECT_EQ(raw.read_line(), "MSG a 1 1");
  EXPECT_EQ(raw.read_line(), "y");
  EXPECT_EQ(raw.read_line(), "PONG");

  // libnats surfaces the same -ERR (and then closes on its own: client behaviour, not checked).
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv->url()), NATS_OK);
  SubPtr s1, s2, s3;
  ASSERT_EQ(natsConnection_SubscribeSync(&s1.p, nc.p, "x"), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&s2.p, nc.p, "y"), NATS_OK);
  natsConnection_SubscribeSync(&s3.p, nc.p, "z");
  natsConnection_Flush(nc.p);
  EXPECT_TRUE(wait_for([&] {
    const char* err = nullptr;
    natsConnection_GetLastError(nc.p, &err);
    return err && std::string(err).find("maximum subscriptions exceeded") != std::string::npos;
  }, milliseconds(2000)));
}

TEST(CoreLimits, StaleConnectionIsClosedWhenPingsGoUnanswered) {
  auto srv = start_with_config("ping_interval: \"1s\"\nping_max: 1\n");
  RawClient mute(srv->port()), polite(srv->port());
  ASSERT_TRUE(mute.send("CONNECT {\"verbose\":false}\r\n"));
  ASSERT_TRUE(polite.send("CONNECT {\"verbose\":false}\r\n"));

  // The polite client answers every PING; the mute one never does.
  std::vector<std::string> mute_lines;
  auto start = Clock::now();
  // Runs past the point where the mute one is cut (about 2 s: PING at 1 s, unanswered at 2 s).
  auto elapsed = [&] { return Clock::now() - start; };
  while ((elapsed() < milliseconds(2500) || !mute.closed()) && elapsed() < milliseconds(5000)) {
    if (auto l = polite.read_line(milliseconds(10)); l && *l == "PING") {
      ASSERT_TRUE(polite.send("PONG\r\n"));
    }
    if (!mute.closed()) {
      if (auto l = mute.read_line(milliseconds(10))) mute_lines.push_back(*l);
    }
  }
  ASSERT_GE(mute_lines.size(), 2u);
  EXPECT_EQ(mute_lines.front(), "PING");
  EXPECT_EQ(mute_lines.back(), "-ERR 'Stale Connection'");
  EXPECT_TRUE(mute.wait_closed(milliseconds(1000)));

  ASSERT_TRUE(polite.send("PING\r\n"));
  std::string skipped;
  EXPECT_TRUE(polite.expect_line("PONG", milliseconds(1000), &skipped));
  EXPECT_EQ(skipped.find("-ERR"), std::string::npos) << skipped;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
