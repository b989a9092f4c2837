// Limits for websocket clients, as for TCP clients and as 2.9.10 applies them: a PUB past
// max_payload gets `-ERR 'Maximum Payload Violation'` in a binary frame, then a close frame
// with status 1009 and the close reason, then the connection ends (error log line with the
// sizes, /connz closed reason); a websocket subscriber that does not read is cut as a slow
// consumer (the log line has the X-Forwarded-For address in front of the socket's, once;
// /varz slow_consumers and the /connz closed reason). Raw sockets, both servers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using ctest::http_json;

// The log line that contains `what` (empty: none yet).
std::string wsl_line_with(const std::string& log, const std::string& what) {
  size_t at = log.find(what);
  if (at == std::string::npos) return "";
  size_t start = log.rfind('\n', at);
  size_t end = log.find('\n', at);
  return log.substr(start == std::string::npos ? 0 : start + 1,
                    end == std::string::npos ? std::string::npos : end - start - 1);
}

// The reason of the closed connection `cid` in /connz?state=closed (empty: not listed yet).
std::string wsl_closed_reason(int http_port, int64_t cid) {
  auto j = http_json(http_port, "/connz?state=closed");
  if (!j.contains("connections") || !j["connections"].is_array()) return "";
  for (auto& c : j["connections"])
    if (c.value("cid", int64_t{-1}) == cid) return c.value("reason", "");
  return "";
}

// Opens a websocket client (with an X-Forwarded-For header) and returns its client_id.
int64_t wsl_open(RawClient& c, int ws_port) {
  if (!c.send(upgrade_request(ws_port, "X-Forwarded-For: 10.1.2.3\r\n"))) return -1;
  if (read_head(c).find(" 101 ") == std::string::npos) return -1;
  auto info = read_ws_frame(c, milliseconds(5000));
  if (!info || info->payload.rfind("INFO ", 0) != 0) return -1;
  auto j = nlohmann::json::parse(info->payload.substr(5), nullptr, false);
  return j.is_object() ? j.value("client_id", int64_t{-1}) : -1;
}

TEST(WebsocketLimits, MaxPayloadErrorThenCloseFrame) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port(), http = testing_harness::free_port();
    auto s = start_with_config("max_payload: 1024\nhttp_port: " + std::to_string(http) + "\n" + ws_config(ws_port),
                               {}, bin);
    RawClient c(ws_port, false);
    int64_t cid = wsl_open(c, ws_port);
    ASSERT_GT(cid, 0) << bin;
    ASSERT_TRUE(c.send(client_frame(0x82, "CONNECT {\"verbose\":false}\r\nPING\r\n")));
    auto pong = read_ws_frame(c, milliseconds(5000));
    ASSERT_TRUE(pong) << bin;
    EXPECT_EQ(pong->payload, "PONG\r\n") << bin;
    // The control line alone is enough: the server refuses before reading the payload.
    ASSERT_TRUE(c.send(client_frame(0x82, "PUB foo 2000\r\n")));
    auto err = read_ws_frame(c, milliseconds(5000));
    ASSERT_TRUE(err) << bin;
    EXPECT_EQ(err->opcode, 2) << bin;
    EXPECT_EQ(err->payload, "-ERR 'Maximum Payload Violation'\r\n") << bin;
    auto close = read_ws_frame(c, milliseconds(5000));
    ASSERT_TRUE(close) << bin;
    EXPECT_EQ(close->opcode, 8) << bin;
    EXPECT_EQ(close->payload, std::string("\x03\xf1", 2) + "Maximum Message Payload Exceeded") << bin;
    EXPECT_TRUE(c.wait_closed(milliseconds(5000))) << bin;

    std::string line;
    EXPECT_TRUE(wait_for([&] { return !(line = wsl_line_with(s->log(), "maximum payload exceeded")).empty(); },
                         milliseconds(5000)))
        << bin << s->log();
    EXPECT_NE(line.find("[ERR]"), std::string::npos) << bin << line;
    EXPECT_NE(line.find(" - wid:" + std::to_string(cid) + " - maximum payload exceeded: 2000 vs 1024"),
              std::string::npos)
        << bin << line;
    std::string reason;
    EXPECT_TRUE(wait_for([&] { return !(reason = wsl_closed_reason(http, cid)).empty(); }, milliseconds(5000)))
        << bin;
    EXPECT_EQ(reason, "Maximum Message Payload Exceeded") << bin;
  }
}

TEST(WebsocketLimits, NonReadingSubscriberIsCutAsSlowConsumer) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port(), http = testing_harness::free_port();
    auto s = start_with_config("max_pending: 1MB\nwrite_deadline: \"500ms\"\nhttp_port: " + std::to_string(http) +
                                   "\n" + ws_config(ws_port),
                               {"-D"}, bin);
    // The stuck subscriber: a small receive window and it never reads.
    RawClient stuck;
    stuck.set_rcvbuf(4096);
    stuck.connect(ws_port, false);
    ASSERT_TRUE(stuck.connected());
    int64_t cid = wsl_open(stuck, ws_port);
    ASSERT_GT(cid, 0) << bin;
    ASSERT_TRUE(stuck.send(client_frame(0x82, "CONNECT {\"verbose\":false}\r\nSUB slow 1\r\nPING\r\n")));
    auto pong = read_ws_frame(stuck, milliseconds(5000));
    ASSERT_TRUE(pong && pong->payload == "PONG\r\n") << bin;

    ConnPtr pub;
    ASSERT_EQ(connect_url(pub, s->url()), NATS_OK);
    std::string payload(8000, 'x');
    // Publish until the server reports the cut (bounded: 16 MB at most, far past the socket buffers).
    auto slow_count = [&] { return http_json(http, "/varz").value("slow_consumers", 0); };
    for (int i = 0; i < 2000 && slow_count() == 0; ++i) {
      for (int k = 0; k < 10; ++k)
        natsConnection_Publish(pub.p, "slow", payload.data(), static_cast<int>(payload.size()));
      natsConnection_FlushTimeout(pub.p, 5000);
      if (i % 50 == 49) std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_TRUE(wait_for([&] { return slow_count() == 1; }, milliseconds(10000))) << bin << s->log();
    std::string reason;
    EXPECT_TRUE(wait_for([&] { return !(reason = wsl_closed_reason(http, cid)).empty(); }, milliseconds(5000)))
        << bin;
    EXPECT_EQ(reason.rfind("Slow Consumer (", 0), 0u) << bin << " " << reason;

    // One log line: "<xff>/<ip>:<port> - wid:<cid> - Slow Consumer Detected: ...", the address once.
    std::string line = wsl_line_with(s->log(), "Slow Consumer Detected");
    const std::string tag = "] 10.1.2.3/127.0.0.1:";
    EXPECT_NE(line.find(tag), std::string::npos) << bin << line;
    EXPECT_NE(line.find(" - wid:" + std::to_string(cid) + " - Slow Consumer Detected: "), std::string::npos)
        << bin << line;
    EXPECT_EQ(line.find("127.0.0.1", line.find(tag) + tag.size()), std::string::npos) << bin << line;
    // A write deadline shows as a Go duration, as the reference prints it.
    if (line.find("WriteDeadline") != std::string::npos) {
      EXPECT_NE(line.find("WriteDeadline of 500ms exceeded"), std::string::npos) << bin << line;
    }
    // And the close, at debug level, with the same prefix.
    std::string closed;
    EXPECT_TRUE(wait_for([&] { return !(closed = wsl_line_with(s->log(), "Client connection closed: Slow")).empty(); },
                         milliseconds(5000)))
        << bin << s->log();
    EXPECT_NE(closed.find("10.1.2.3/127.0.0.1:"), std::string::npos) << bin << closed;
    EXPECT_EQ(natsConnection_Status(pub.p), NATS_CONN_STATUS_CONNECTED) << bin;
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
