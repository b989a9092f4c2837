// Protocol details that libnats hides, driven over a raw socket: UNSUB with a max, verbose
// acknowledgements, pedantic subject checks, the defaults before/without CONNECT fields.
#include <gtest/gtest.h>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;

class CoreProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>();
    server_->start();
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CoreProtocol, InfoIsTheFirstLineAndDescribesTheServer) {
  RawClient raw(server_->port());
  ASSERT_EQ(raw.info().rfind("INFO {", 0), 0u) << raw.info();
  for (const char* key : {"\"server_id\":", "\"version\":", "\"proto\":1", "\"headers\":true",
                          "\"max_payload\":1048576", "\"client_id\":", "\"port\":" })
    EXPECT_NE(raw.info().find(key), std::string::npos) << key << " missing in " << raw.info();
  EXPECT_NE(raw.info().find("\"port\":" + std::to_string(server_->port())), std::string::npos);
}

TEST_F(CoreProtocol, UnsubWithMaxDeliversExactlyThatMany) {
  RawClient sub(server_->port());
  ASSERT_TRUE(sub.send("CONNECT {\"verbose\":false}\r\nSUB x 1\r\nUNSUB 1 3\r\nPING\r\n"));
  ASSERT_EQ(sub.read_line(), "PONG");
  RawClient pub(server_->port());
  std::string burst = "CONNECT {\"verbose\":false}\r\n";
  for (int i = 0; i < 6; ++i) burst += "PUB x 1\r\n" + std::to_string(i) + "\r\n";
  ASSERT_TRUE(pub.send(burst + "PING\r\n"));
  ASSERT_EQ(pub.read_line(), "PONG");
  ASSERT_TRUE(sub.send("PING\r\n"));
  std::string all = sub.read_until_suffix("PONG\r\n", milliseconds(2000));
  EXPECT_EQ(all, "MSG x 1 1\r\n0\r\nMSG x 1 1\r\n1\r\nMSG x 1 1\r\n2\r\nPONG\r\n");
}

TEST_F(CoreProtocol, UnsubWithMaxBelowAlreadyDeliveredRemovesAtOnce) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false}\r\nSUB x 1\r\nPUB x 1\r\na\r\nPUB x 1\r\nb\r\n"
                     "UNSUB 1 1\r\nPUB x 1\r\nc\r\nPING\r\n"));
  std::string all = c.read_until_suffix("PONG\r\n", milliseconds(2000));
  EXPECT_EQ(all, "MSG x 1 1\r\na\r\nMSG x 1 1\r\nb\r\nPONG\r\n");
}

TEST_F(CoreProtocol, VerboseAcknowledgesEveryOperation) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":true}\r\nSUB v 1\r\nPUB v 2\r\nok\r\nUNSUB 1\r\nPING\r\n"));
  std::string all = c.read_until_suffix("PONG\r\n", milliseconds(2000));
  EXPECT_EQ(all, "+OK\r\n+OK\r\n+OK\r\nMSG v 1 2\r\nok\r\n+OK\r\nPONG\r\n");
}

TEST_F(CoreProtocol, VerboseOffSendsNoAcks) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false}\r\nSUB v 1\r\nPUB v 2\r\nok\r\nUNSUB 1\r\nPING\r\n"));
  std::string all = c.read_until_suffix("PONG\r\n", milliseconds(2000));
  EXPECT_EQ(all, "MSG v 1 2\r\nok\r\nPONG\r\n");
}

TEST_F(CoreProtocol, VerboseIsOnUnlessConnectTurnsItOff) {
  // A CONNECT without a "verbose" field (and no CONNECT at all) leaves the default: verbose.
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {}\r\nSUB d 1\r\nPING\r\n"));
  EXPECT_EQ(c.read_until_suffix("PONG\r\n", milliseconds(2000)), "+OK\r\n+OK\r\nPONG\r\n");
  RawClient n(server_->port());
  ASSERT_TRUE(n.send("SUB d 1\r\nPING\r\n"));
  EXPECT_EQ(n.read_until_suffix("PONG\r\n", milliseconds(2000)), "+OK\r\nPONG\r\n");
}

TEST_F(CoreProtocol, PedanticRejectsWildcardPublishSubject) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB a.* 2\r\nhi\r\nPING\r\n"));
  std::string seen;
  ASSERT_TRUE(c.expect_line("-ERR 'Invalid Publish Subject'", milliseconds(2000), &seen)) << seen;
  // The error is not fatal.
  EXPECT_TRUE(c.expect_line("PONG"));
  ASSERT_TRUE(c.send("PING\r\n"));
  EXPECT_EQ(c.read_line(), "PONG");
}

TEST_F(CoreProtocol, InvalidSubscribeSubjectIsRejectedButNotFatal) {
  for (const char* conn : {"{\"verbose\":false,\"pedantic\":true}", "{\"verbose\":false,\"pedantic\":false}"}) {
    RawClient c(server_->port());
    ASSERT_TRUE(c.send("CONNECT " + std::string(conn) + "\r\nSUB a..b 1\r\nSUB foo. 2\r\nSUB x 3\r\nPUB x 1\r\n!\r\nPING\r\n"));
    std::string all = c.read_until_suffix("PONG\r\n", milliseconds(2000));
    EXPECT_EQ(all, "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nMSG x 3 1\r\n!\r\nPONG\r\n") << conn;
  }
}

TEST_F(CoreProtocol, NonPedanticWildcardPublishIsDeliveredLiterally) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB a.* 1\r\nPUB a.* 2\r\nhi\r\nPING\r\n"));
  EXPECT_EQ(c.read_until_suffix("PONG\r\n", milliseconds(2000)), "MSG a.* 1 2\r\nhi\r\nPONG\r\n");
}

TEST_F(CoreProtocol, QueueSubscriptionOnTheWireAndDuplicateSidIgnored) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false}\r\nSUB q.t grp 5\r\nSUB q.t 6\r\nSUB q.t 6\r\nPUB q.t r.1 3\r\nabc\r\nPING\r\n"));
  std::string all = c.read_until_suffix("PONG\r\n", milliseconds(2000));
  // One copy to the queue sub and one to sid 6 (the duplicate SUB does not add a second).
  EXPECT_NE(all.find("MSG q.t 5 r.1 3\r\nabc\r\n"), std::string::npos) << all;
  EXPECT_NE(all.find("MSG q.t 6 r.1 3\r\nabc\r\n"), std::string::npos) << all;
  EXPECT_EQ(all.size(), std::string("MSG q.t 5 r.1 3\r\nabc\r\nMSG q.t 6 r.1 3\r\nabc\r\nPONG\r\n").size()) << all;
}

TEST_F(CoreProtocol, NoRespondersStatusForRawRequest) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                     "SUB inbox.1 1\r\nPUB nobody inbox.1 2\r\nhi\r\nPING\r\n"));
  EXPECT_EQ(c.read_until_suffix("PONG\r\n", milliseconds(2000)),
            "HMSG inbox.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\n");
}

TEST_F(CoreProtocol, NoRespondersWithoutHeadersIsRefused) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false,\"no_responders\":true}\r\nPING\r\n"));
  EXPECT_EQ(c.read_line(), "-ERR 'no responders requires headers support'");
  EXPECT_TRUE(c.wait_closed(milliseconds(2000)));
}

TEST_F(CoreProtocol, UnknownOperationIsFatal) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("CONNECT {\"verbose\":false}\r\nFOO\r\nPING\r\n"));
  EXPECT_EQ(c.read_line(), "-ERR 'Unknown Protocol Operation'");
  EXPECT_TRUE(c.wait_closed(milliseconds(2000)));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
