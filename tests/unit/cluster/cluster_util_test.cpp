// Peer URL parsing and the advertised client URLs used by routes and gateways.
#include <gtest/gtest.h>

#include "cluster/cluster_util.h"
#include "cluster/gateway_manager.h"
#include "cluster/route.h"
#include "util/ids.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::cluster;

TEST(ClusterUtil, ParsesRouteUrls) {
  auto u = parse_peer_url("nats-route://127.0.0.1:6222");
  ASSERT_TRUE(u.ok);
  EXPECT_EQ(u.scheme, "nats-route");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6222);
  EXPECT_EQ(u.host_port(), "127.0.0.1:6222");

  u = parse_peer_url("nats://ruser:rpass@host.example:7222/");
  ASSERT_TRUE(u.ok);
  EXPECT_EQ(u.user, "ruser");
  EXPECT_EQ(u.pass, "rpass");
  EXPECT_EQ(u.host, "host.example");
  EXPECT_EQ(u.port, 7222);

  u = parse_peer_url("[::1]:4248");
  ASSERT_TRUE(u.ok);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.host_port(), "[::1]:4248");
}

TEST(ClusterUtil, RejectsBadUrls) {
  EXPECT_FALSE(parse_peer_url("nats-route://hostonly").ok);
  EXPECT_FALSE(parse_peer_url("nats-route://h:notaport").ok);
  EXPECT_FALSE(parse_peer_url("nats-route://h:99999").ok);
  EXPECT_FALSE(parse_peer_url("nats-route://:6222").ok);
  EXPECT_FALSE(parse_peer_url("").ok);
}

TEST(ClusterUtil, AdvertisesTheListenHost) {
  auto v = advertised_urls("127.0.0.1", 4222);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "127.0.0.1:4222");
  // All interfaces: never empty, never loopback-only unless nothing else exists.
  EXPECT_FALSE(advertised_urls("0.0.0.0", 4222).empty());
}

TEST(ClusterUtil, GatewayReplyHashesMatchTheReference) {
  // Observed on nats-server 2.9.10: gateway "ga" -> xjbZUq, server ID -> F0dqMe.
  EXPECT_EQ(nats::util::hash_name("ga", 6), "xjbZUq");
  EXPECT_EQ(nats::util::hash_name("NAM7S2JKDUS4DJO2F6OXEVL2ADFF4V7ZXRGUPCCEYAW6JPD2C3F5XSGB", 6), "F0dqMe");
  EXPECT_TRUE(GatewayManager::is_gateway_reply("_GR_.xjbZUq.F0dqMe._INBOX.x"));
  EXPECT_FALSE(GatewayManager::is_gateway_reply("_GR_.short"));
  EXPECT_EQ(GatewayManager::strip_reply("_GR_.xjbZUq.F0dqMe._INBOX.x"), "_INBOX.x");
}

TEST(ClusterUtil, ParsesRouteInfo) {
  RouteInfo ri;
  ASSERT_TRUE(parse_route_info(
      R"({"server_id":"NABC","server_name":"s","cluster":"c1","port":6222,"connect_urls":["1.2.3.4:4222"],"ip":"nats-route://1.2.3.4:6222/"})",
      ri));
  EXPECT_EQ(ri.id, "NABC");
  EXPECT_EQ(ri.cluster, "c1");
  EXPECT_EQ(ri.port, 6222);
  ASSERT_EQ(ri.connect_urls.size(), 1u);
  EXPECT_EQ(ri.ip, "nats-route://1.2.3.4:6222/");
  EXPECT_FALSE(parse_route_info("{}", ri));
  EXPECT_FALSE(parse_route_info("not json", ri));
}

// websocket { advertise } as the reference's parseHostPort + net.JoinHostPort read it.
TEST(ClusterUtil, AdvertiseHostPort) {
  EXPECT_EQ(advertise_host_port("ws.example.com:8443", 80), "ws.example.com:8443");
  EXPECT_EQ(advertise_host_port("ws.example.com", 8080), "ws.example.com:8080");
  EXPECT_EQ(advertise_host_port("h:0", 8080), "h:8080");
  EXPECT_EQ(advertise_host_port("h:-1", 8080), "h:8080");
  EXPECT_EQ(advertise_host_port("[::1]:9", 8080), "[::1]:9");
  EXPECT_EQ(advertise_host_port("[::1]", 8080), "[::1]:8080");
  EXPECT_EQ(advertise_host_port("a:b:c", 8080), "");
  EXPECT_EQ(advertise_host_port("h:x", 8080), "");
  EXPECT_EQ(advertise_host_port("", 8080), "");
}

}  // namespace NATS_TEST_FILE_ID
