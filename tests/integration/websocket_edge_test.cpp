// WebSocket details checked against the 2.9.10 reference with a raw client: the
// Nats-No-Masking request, frames kept to 4 KB for browsers (plain and compressed, Safari
// excepted), X-Forwarded-For (not in /connz), a connection in the middle of its upgrade
// (not a client yet), and websocket { advertise } gossiped in a cluster as the websocket
// clients' connect_urls.
#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "cluster_test_util.h"
#include "test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

// Large enough for the biggest message these tests send.
constexpr size_t kInflateCap = 256 * 1024;

// Letters from a fixed seed: barely compressible, so a compressed message stays large.
std::string noise(size_t n) {
  std::mt19937 rng(7);
  std::string s(n, 'a');
  for (auto& ch : s) ch = static_cast<char>('!' + rng() % 90);
  return s;
}

// Upgrades with `headers`, reads the INFO and says CONNECT/PING, answered with PONG.
// Returns the 101 answer's head (empty on failure).
std::string ws_connect(RawClient& c, int port, const std::string& headers, bool compressed = false) {
  if (!c.send(upgrade_request(port, headers))) return "";
  std::string head = read_head(c);
  if (head.find(" 101 ") == std::string::npos) return "";
  auto info = read_ws_frame(c, milliseconds(5000));
  if (!info) return "";
  if (!c.send(client_frame(0x82, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n"))) return "";
  std::string got;
  while (got.find("PONG\r\n") == std::string::npos) {
    auto f = read_ws_frame(c, milliseconds(5000));
    if (!f) return "";
    got += (compressed && f->rsv1) ? inflate_message(f->payload, kInflateCap) : f->payload;
  }
  return head;
}

// The frames of one delivered message, until `want` bytes of NATS protocol arrived.
std::vector<WsFrame> frames_for(RawClient& c, size_t want, bool compressed) {
  std::vector<WsFrame> out;
  size_t got = 0;
  std::string z;
  while (got < want) {
    auto f = read_ws_frame(c, milliseconds(5000));
    if (!f) break;
    out.push_back(*f);
    if (!compressed) {
      got += f->payload.size();
      continue;
    }
    z += f->payload;
    if (f->fin) {
      got += inflate_message(z, kInflateCap).size();
      z.clear();
    }
  }
  return out;
}

TEST(WebsocketEdge, NoMaskingHeaderAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port), {}, bin);
    RawClient c(ws_port, false);
    ASSERT_TRUE(c.send(upgrade_request(ws_port, "Nats-No-Masking: true\r\n")));
    std::string head = read_head(c);
    EXPECT_NE(head.find("\r\nNats-No-Masking: true\r\n"), std::string::npos) << bin << head;
    ASSERT_TRUE(read_ws_frame(c, milliseconds(5000))) << bin;
    // Unmasked frames are taken from this client.
    ASSERT_TRUE(c.send(client_frame(0x82, "CONNECT {\"verbose\":false}\r\nPING\r\n", false)));
    auto pong = read_ws_frame(c, milliseconds(5000));
    ASSERT_TRUE(pong) << bin;
    EXPECT_EQ(pong->payload, "PONG\r\n") << bin;
    // Any other value is not the request: no header back, and unmasked frames end it.
    RawClient d(ws_port, false);
    ASSERT_TRUE(d.send(upgrade_request(ws_port, "Nats-No-Masking: yes\r\n")));
    head = read_head(d);
    EXPECT_EQ(head.find("Nats-No-Masking"), std::string::npos) << bin << head;
    ASSERT_TRUE(read_ws_frame(d, milliseconds(5000))) << bin;
    ASSERT_TRUE(d.send(client_frame(0x82, "PING\r\n", false)));
    EXPECT_TRUE(d.wait_closed(milliseconds(5000))) << bin;
  }
}

// A browser's messages come in frames of at most 4096 bytes; other clients get one frame.
TEST(WebsocketEdge, BrowserFramesAreLimitedTo4K) {
  const std::string big = noise(10000);
  const std::string msg = "MSG big 1 10000\r\n" + big + "\r\n";
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port), {}, bin);
    for (bool browser : {true, false}) {
      RawClient c(ws_port, false);
      std::string ua = browser ? "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\n" : "";
      ASSERT_FALSE(ws_connect(c, ws_port, ua).empty()) << bin;
      ASSERT_TRUE(c.send(client_frame(0x82, "SUB big 1\r\nPUB big 10000\r\n" + big + "\r\n")));
      auto frames = frames_for(c, msg.size(), false);
      std::string all;
      for (auto& f : frames) {
        all += f.payload;
        EXPECT_TRUE(f.fin) << bin;
        EXPECT_EQ(f.opcode, 2) << bin;
        if (browser) {
          EXPECT_LE(f.payload.size(), 4096u) << bin;
        }
      }
      EXPECT_EQ(all, msg) << bin << " browser " << browser;
      if (browser) EXPECT_GE(frames.size(), 3u) << bin;
      else EXPECT_EQ(frames.size(), 1u) << bin;
    }
  }
}

// Compressed for a browser: one message in 4096-byte fragments (RSV1 and the opcode on the
// first, continuations after, FIN on the last); Safari gets it whole.
TEST(WebsocketEdge, BrowserCompressedMessagesAreFragmentedExceptForSafari) {
  const std::string big = noise(20000);
  const std::string msg = "MSG big 1 20000\r\n" + big + "\r\n";
  const std::string deflate = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port, "  compression: true\n"), {}, bin);
    for (bool safari : {false, true}) {
      RawClient c(ws_port, false);
      std::string ua = safari ? "User-Agent: Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15\r\n"
                              : "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\r\n";
      ASSERT_FALSE(ws_connect(c, ws_port, ua + deflate, true).empty()) << bin;
      ASSERT_TRUE(c.send(client_frame(0x82, "SUB big 1\r\nPUB big 20000\r\n" + big + "\r\n")));
      auto frames = frames_for(c, msg.size(), true);
      ASSERT_FALSE(frames.empty()) << bin;
      std::string z;
      for (size_t i = 0; i < frames.size(); ++i) {
        z += frames[i].payload;
        EXPECT_EQ(frames[i].rsv1, i == 0) << bin << " frame " << i;
        EXPECT_EQ(frames[i].opcode, i == 0 ? 2 : 0) << bin << " frame " << i;
        EXPECT_EQ(frames[i].fin, i + 1 == frames.size()) << bin << " frame " << i;
        if (!safari) {
          EXPECT_LE(frames[i].payload.size(), 4096u) << bin;
        }
      }
      EXPECT_EQ(inflate_message(z, kInflateCap), msg) << bin << " safari " << safari;
      if (safari) EXPECT_EQ(frames.size(), 1u) << bin;
      else EXPECT_GE(frames.size(), 4u) << bin;
    }
  }
}

// X-Forwarded-For does not change what /connz shows (the reference only puts it in the
// connection's log prefix), and a connection still in its upgrade is not a client yet.
TEST(WebsocketEdge, ForwardedForAndMidUpgradeInMonitoring) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    int http_port = testing_harness::free_port();
    auto s = start_with_config("http_port: " + std::to_string(http_port) + "\n" + ws_config(ws_port), {}, bin);
    // The harness's start probe is a connection too: count from here.
    const int total0 = ctest::http_json(http_port, "/varz")["total_connections"].get<int>();
    RawClient half(ws_port, false);
    ASSERT_TRUE(half.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"));
    std::this_thread::sleep_for(milliseconds(200));
    auto connz = ctest::http_json(http_port, "/connz");
    EXPECT_EQ(connz["num_connections"], 0) << bin << connz.dump();
    auto varz = ctest::http_json(http_port, "/varz");
    EXPECT_EQ(varz["connections"], 0) << bin;
    EXPECT_EQ(varz["total_connections"], total0) << bin;

    RawClient c(ws_port, false);
    ASSERT_FALSE(ws_connect(c, ws_port, "X-Forwarded-For: 203.0.113.7\r\n").empty()) << bin;
    connz = ctest::http_json(http_port, "/connz");
    ASSERT_EQ(connz["num_connections"], 1) << bin << connz.dump();
    EXPECT_EQ(connz["connections"][0]["ip"], "127.0.0.1") << bin;
    varz = ctest::http_json(http_port, "/varz");
    EXPECT_EQ(varz["connections"], 1) << bin;
    EXPECT_EQ(varz["total_connections"], total0 + 1) << bin;
  }
}

// X-Forwarded-For shows in our debug log prefix, as the reference's "Client connection created".
TEST(WebsocketEdge, ForwardedForInTheLogPrefix) {
  int ws_port = testing_harness::free_port();
  auto s = start_with_config("debug: true\n" + ws_config(ws_port));
  RawClient c(ws_port, false);
  ASSERT_FALSE(ws_connect(c, ws_port, "X-Forwarded-For: 2001:db8::1\r\n").empty());
  EXPECT_TRUE(wait_for([&] { return s->log().find("[2001:db8::1]/127.0.0.1:") != std::string::npos; },
                       milliseconds(5000)))
      << s->log();
  RawClient d(ws_port, false);
  ASSERT_FALSE(ws_connect(d, ws_port, "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n").empty());
  EXPECT_TRUE(wait_for([&] { return s->log().find("- wid:") != std::string::npos; }, milliseconds(5000)));
  EXPECT_EQ(s->log().find("10.0.0.1"), std::string::npos);  // a list is not one IP: ignored
}

// websocket { advertise } travels in the route INFO; a websocket client of the other server
// gets both servers' websocket URLs as its connect_urls.
TEST(WebsocketEdge, AdvertiseReachesTheClusterWebsocketClients) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    ctest::Node a, b;
    int ws_a = testing_harness::free_port(), ws_b = testing_harness::free_port();
    ctest::configure_route_pair(a, b, bin);
    a.extra = ws_config(ws_a, "  advertise: \"ws.example.com:8443\"\n");
    b.extra = ws_config(ws_b);
    a.start();
    b.start();
    ASSERT_TRUE(wait_for([&] { return a.num_routes() == 1 && b.num_routes() == 1; }, milliseconds(10000))) << bin;
    RawClient c(ws_b, false);
    ASSERT_TRUE(c.send(upgrade_request(ws_b)));
    ASSERT_NE(read_head(c).find(" 101 "), std::string::npos) << bin;
    auto info = read_ws_frame(c, milliseconds(5000));
    ASSERT_TRUE(info) << bin;
    auto j = nlohmann::json::parse(info->payload.substr(5), nullptr, false);
    ASSERT_TRUE(j.is_object()) << bin << info->payload;
    std::vector<std::string> urls;
    if (j.contains("connect_urls"))
      for (auto& u : j["connect_urls"]) urls.push_back(u.get<std::string>());
    std::sort(urls.begin(), urls.end());
    std::vector<std::string> want{"127.0.0.1:" + std::to_string(ws_b), "ws.example.com:8443"};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(urls, want) << bin << " " << info->payload;
    EXPECT_FALSE(j.contains("ws_connect_urls")) << bin;
    // A TCP client of B still gets the TCP URLs only.
    RawClient t(b.proc->port());
    EXPECT_EQ(t.info().find("ws.example.com"), std::string::npos) << bin << t.info();
  }
}

// advertise is read as the reference's parseHostPort; a malformed one is refused at start.
TEST(WebsocketEdge, MalformedAdvertiseIsRefused) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    EXPECT_THROW(start_with_config(ws_config(ws_port, "  advertise: \"a:b:c\"\n"), {}, bin), std::runtime_error) << bin;
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
