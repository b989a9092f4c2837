// The debug lines a TCP client leaves in the log (-D), as 2.9.10 writes them:
// "<ip>:<port> - cid:<n> - Client connection created" and "... - Client connection closed: <reason>".
#include <gtest/gtest.h>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;

TEST(ClientLogLines, CreatedAndClosedAtDebugAsTheReference) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    testing_harness::ServerProcess srv({"-D"}, bin);
    srv.start();
    {
      RawClient c(srv.port());
      ASSERT_TRUE(c.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
      ASSERT_TRUE(c.expect_line("PONG")) << bin;
    }
    // The tag of the last "created" line (the first is start()'s probe): "127.0.0.1:<port> - cid:<n>".
    auto last_tag = [](const std::string& log) {
      size_t created = log.rfind(" - Client connection created");
      if (created == std::string::npos) return std::string();
      size_t start = log.rfind("127.0.0.1:", created);
      return start == std::string::npos ? std::string() : log.substr(start, created - start);
    };
    std::string tag = last_tag(srv.log());
    ASSERT_NE(tag.find(" - cid:"), std::string::npos) << bin << srv.log();
    const std::string closed = tag + " - Client connection closed: Client Closed";
    EXPECT_TRUE(wait_for([&] { return srv.log().find(closed) != std::string::npos; }, milliseconds(5000)))
        << bin << srv.log();
  }
}

}  // namespace NATS_TEST_FILE_ID
