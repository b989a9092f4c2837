// The log prefix of a websocket client is "<ip>:<port> - wid:<n>" (a TCP client's is
// "cid:"), as 2.9.10 writes it, e.g. on an authentication error; a failed upgrade (not a
// client yet) names only the remote address.
#include <gtest/gtest.h>

#include "test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

// The log line that contains `what` (empty: none yet).
std::string wlp_line_with(const std::string& log, const std::string& what) {
  size_t at = log.find(what);
  if (at == std::string::npos) return "";
  size_t start = log.rfind('\n', at);
  size_t end = log.find('\n', at);
  return log.substr(start == std::string::npos ? 0 : start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
}

TEST(WebsocketLogPrefix, WebsocketClientsAreWidAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config("authorization { user: u, password: p }\n" + ws_config(ws_port), {}, bin);
    RawClient c(ws_port, false);
    ASSERT_TRUE(c.send(upgrade_request(ws_port)));
    ASSERT_NE(read_head(c).find(" 101 "), std::string::npos) << bin;
    ASSERT_TRUE(read_ws_frame(c, milliseconds(5000))) << bin;
    ASSERT_TRUE(c.send(client_frame(0x82, "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"wrong\"}\r\nPING\r\n")));
    std::string line;
    EXPECT_TRUE(wait_for([&] { return !(line = wlp_line_with(s->log(), "authentication error")).empty(); },
                         milliseconds(5000)))
        << bin << s->log();
    EXPECT_NE(line.find("127.0.0.1:"), std::string::npos) << bin << line;
    EXPECT_NE(line.find(" - wid:"), std::string::npos) << bin << line;
    EXPECT_EQ(line.find("cid:"), std::string::npos) << bin << line;
    // A TCP client's failure stays "cid:".
    RawClient t(s->port());
    ASSERT_TRUE(t.send("CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"wrong\"}\r\nPING\r\n"));
    EXPECT_TRUE(wait_for([&] { return s->log().find(" - cid:") != std::string::npos; }, milliseconds(5000)))
        << bin << s->log();
  }
}

TEST(WebsocketLogPrefix, FailedUpgradeNamesTheAddressOnly) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port), {}, bin);
    RawClient c(ws_port, false);
    // No Sec-WebSocket-Key: refused.
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n"));
    std::string line;
    EXPECT_TRUE(wait_for([&] { return !(line = wlp_line_with(s->log(), "websocket handshake error")).empty(); },
                         milliseconds(5000)))
        << bin << s->log();
    EXPECT_NE(line.find("127.0.0.1:"), std::string::npos) << bin << line;
    EXPECT_EQ(line.find("wid:"), std::string::npos) << bin << line;
    EXPECT_EQ(line.find("cid:"), std::string::npos) << bin << line;
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
