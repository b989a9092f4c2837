// The R3 fail-over example (scripts/run-example-r3.sh, also `run-example.sh --r3`) as a test:
// the same script, on ports this test picked, with the binaries of this build. Injected: kill
// -9 of an R3 stream's leader in a 3x3 supercluster while a client in another cluster
// publishes asynchronously. Verified by the example's client: every acknowledged message
// stored exactly once at its acknowledged sequence, nothing else stored, a new leader.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "harness.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

// A base whose 36 ports (clients, routes +2000, gateways +3000, monitoring +4000) are free.
int free_port_base() {
  for (int tries = 0; tries < 200; ++tries) {
    int base = 20000 + (testing_harness::free_port() - 20000) % 4000;
    bool all = true;
    for (int off : {0, 2000, 3000, 4000})
      for (int n = 0; all && n < 9; ++n) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        a.sin_port = htons(static_cast<uint16_t>(base + off + n));
        all = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
      }
    if (all) return base;
  }
  return 0;
}

TEST(ExampleR3, SuperclusterLeaderKillWhilePublishingLosesNothing) {
  int base = free_port_base();
  ASSERT_NE(base, 0);
  std::string bin_dir = testing_harness::server_binary();
  bin_dir = bin_dir.substr(0, bin_dir.rfind('/'));
  std::string cmd = "NATSCPP_SKIP_BUILD=1 NATSCPP_BIN_DIR=" + bin_dir + " PORT_BASE=" + std::to_string(base) +
                    " R3_COUNT=1500 timeout 90 bash " + std::string(NATS_SOURCE_DIR) + "/scripts/run-example-r3.sh";
  auto r = testing_harness::run_command(cmd);
  std::printf("%s\n", r.output.c_str());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("injected: kill -9 of the stream leader"), std::string::npos);
  EXPECT_NE(r.output.find("acknowledged: 1500 of 1500"), std::string::npos);
  EXPECT_NE(r.output.find("verified: no lost"), std::string::npos);
  EXPECT_NE(r.output.find("verified: no duplicates"), std::string::npos);
  EXPECT_NE(r.output.find("RESULT: OK"), std::string::npos);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
