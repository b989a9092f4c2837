// Nats-Request-Info: added to a JetStream API request's headers (replacing one the client
// sent, keeping its other headers) and read back on the answering server.
#include "server/request_info.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

RequestInfo sample_info() {
  RequestInfo ri;
  ri.account = "A";
  ri.rtt_ns = 1234;
  ri.server = "n1";
  ri.cluster = "east";
  return ri;
}

TEST(RequestInfo, AddedToNoHeaders) {
  std::string h = with_request_info("", sample_info());
  EXPECT_EQ(h, "NATS/1.0\r\nNats-Request-Info: {\"acc\":\"A\",\"rtt\":1234,\"server\":\"n1\",\"cluster\":\"east\"}\r\n\r\n");
  auto back = read_request_info(h);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->account, "A");
  EXPECT_EQ(back->rtt_ns, 1234);
  EXPECT_EQ(back->server, "n1");
  EXPECT_EQ(back->cluster, "east");
}

TEST(RequestInfo, ReplacesTheClientsOwnAndKeepsTheRest) {
  std::string h = with_request_info(
      "NATS/1.0\r\nA: 1\r\nNats-Request-Info: {\"acc\":\"forged\",\"server\":\"x\"}\r\nB: 2\r\n\r\n", sample_info());
  EXPECT_EQ(h.find("forged"), std::string::npos) << h;
  EXPECT_EQ(h.rfind("NATS/1.0\r\nA: 1\r\nB: 2\r\nNats-Request-Info: ", 0), 0u) << h;
  ASSERT_TRUE(read_request_info(h));
  EXPECT_EQ(read_request_info(h)->server, "n1");
}

TEST(RequestInfo, MissingOrMalformedReadsAsNone) {
  EXPECT_FALSE(read_request_info(""));
  EXPECT_FALSE(read_request_info("NATS/1.0\r\nA: 1\r\n\r\n"));
  EXPECT_FALSE(read_request_info("NATS/1.0\r\nNats-Request-Info: {not json\r\n\r\n"));
  EXPECT_FALSE(read_request_info("NATS/1.0\r\nNats-Request-Info: [1]\r\n\r\n"));
  EXPECT_FALSE(read_request_info("garbage"));
  // No rtt and no cluster: left out.
  RequestInfo bare;
  bare.account = "B";
  bare.server = "s";
  EXPECT_EQ(with_request_info("", bare), "NATS/1.0\r\nNats-Request-Info: {\"acc\":\"B\",\"server\":\"s\"}\r\n\r\n");
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
