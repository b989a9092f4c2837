// Reconnect: the server is stopped and a new one started on the same port; libnats must
// reconnect on its own and replay its subscriptions, which the new server must honour.
#include <gtest/gtest.h>

#include <atomic>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;

struct Events {
  std::atomic<int> disconnected{0};
  std::atomic<int> reconnected{0};
};

void on_disconnected(natsConnection*, void* c) { ++static_cast<Events*>(c)->disconnected; }
void on_reconnected(natsConnection*, void* c) { ++static_cast<Events*>(c)->reconnected; }

TEST(CoreReconnect, ClientReconnectsAfterRestartAndSubscriptionWorks) {
  auto first = std::make_unique<ServerProcess>();
  first->start();
  const int port = first->port();
  const std::string url = first->url();

  Events ev;
  OptsPtr o;
  natsOptions_SetURL(o.p, url.c_str());
  natsOptions_SetTimeout(o.p, 1000);
  natsOptions_SetAllowReconnect(o.p, true);
  natsOptions_SetMaxReconnect(o.p, 200);
  natsOptions_SetReconnectWait(o.p, 50);
  natsOptions_SetReconnectJitter(o.p, 0, 0);
  natsOptions_SetDisconnectedCB(o.p, on_disconnected, &ev);
  natsOptions_SetReconnectedCB(o.p, on_reconnected, &ev);
  ConnPtr nc;
  ASSERT_EQ(natsConnection_Connect(&nc.p, o.p), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "after.restart"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);

  first->stop();
  first.reset();
  ASSERT_TRUE(wait_for([&] { return ev.disconnected.load() > 0; }));

  ServerProcess second({}, testing_harness::server_binary(), port);
  second.start();
  ASSERT_TRUE(wait_for([&] { return ev.reconnected.load() > 0; }, milliseconds(5000)));
  ASSERT_EQ(natsConnection_FlushTimeout(nc.p, 2000), NATS_OK);

  // A fresh client publishes: only the replayed SUB on the new server can route it.
  ConnPtr pub;
  ASSERT_EQ(connect_url(pub, second.url()), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(pub.p, "after.restart", "back"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 3000), NATS_OK);
  EXPECT_EQ(m.data(), "back");

  // And the reconnected client can publish too.
  ASSERT_EQ(natsConnection_PublishString(nc.p, "after.restart", "mine"), NATS_OK);
  MsgPtr m2;
  ASSERT_EQ(natsSubscription_NextMsg(&m2.p, sub.p, 3000), NATS_OK);
  EXPECT_EQ(m2.data(), "mine");
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
