// The R3 fail-over example (scripts/run-example-r3.sh, also `run-example.sh --r3`) as a test:
// the same script, on ports this test picked, with the binaries of this build. Injected: kill
// -9 of an R3 stream's leader in a 3x3 supercluster while a client in another cluster
// publishes asynchronously. Verified by the example's client: every acknowledged message
// stored exactly once at its acknowledged sequence, nothing else stored, a new leader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

// The first of 9 consecutive free ports, all in this shard's slice of the test port range (so
// no other shard can pick one of them), none of them in `taken` runs; 0 if none found.
int free_run_of_nine(const std::vector<int>& taken) {
  const auto slice = testing_harness::test_port_slice();
  for (int tries = 0; tries < 200; ++tries) {
    int base = testing_harness::free_port();
    if (base + 9 > slice.first + slice.size) continue;
    bool ok = true;
    for (int t : taken) ok = ok && (base + 9 <= t || base >= t + 9);
    for (int n = 1; ok && n < 9; ++n) ok = testing_harness::port_bindable(base + n);
    if (ok) return base;
  }
  return 0;
}

TEST(ExampleR3, SuperclusterLeaderKillWhilePublishingLosesNothing) {
  // Clients, routes, gateways and monitoring: four runs of nine ports.
  std::vector<int> bases;
  for (int i = 0; i < 4; ++i) {
    bases.push_back(free_run_of_nine(bases));
    ASSERT_NE(bases.back(), 0);
  }
  std::string bin_dir = testing_harness::server_binary();
  bin_dir = bin_dir.substr(0, bin_dir.rfind('/'));
  std::string cmd = "NATSCPP_SKIP_BUILD=1 NATSCPP_BIN_DIR=" + bin_dir + " PORT_BASE=" + std::to_string(bases[0]) +
                    " ROUTE_BASE=" + std::to_string(bases[1]) + " GATEWAY_BASE=" + std::to_string(bases[2]) +
                    " HTTP_BASE=" + std::to_string(bases[3]) + " R3_COUNT=1500 timeout 90 bash " +
                    std::string(NATS_SOURCE_DIR) + "/scripts/run-example-r3.sh";
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
