// A solicited leaf connection that drops is redialled after leafnodes { reconnect } (1 s by
// default), as 2.9.10's reConnectToRemoteLeafNode, not at once. A plain listener in the test
// plays the hub: it accepts each dial and closes it at once; the time from that close to the
// next dial is the leaf's wait (load can only make it longer, so a lower bound is robust).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

// A loopback listener on a free port that closes what it accepts.
struct DroppingHub {
  int port = testing_harness::free_port();
  int fd = -1;
  bool listen() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 8) == 0;
  }
  // Accepts the next dial within `timeout` and closes it; false if none came.
  bool accept_and_drop(milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) return false;
    ::close(c);
    return true;
  }
  ~DroppingHub() {
    if (fd >= 0) ::close(fd);
  }
};

// Starts a leaf (binary) soliciting a dropping hub; returns the waits between a drop and the
// next dial, `drops` of them.
std::vector<milliseconds> redial_waits(const std::string& binary, const std::string& leaf_opts, int drops,
                                       std::string& log) {
  DroppingHub hub;
  EXPECT_TRUE(hub.listen());
  Node leaf;
  leaf.name = "leaf";
  leaf.binary = binary;
  leaf.extra = "leafnodes { " + leaf_opts + " remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(hub.port) +
               "\" } ] }";
  leaf.start();
  std::vector<milliseconds> waits;
  if (!hub.accept_and_drop(milliseconds(10000))) return waits;
  for (int i = 0; i < drops; ++i) {
    auto dropped = Clock::now();
    if (!hub.accept_and_drop(milliseconds(15000))) break;
    waits.push_back(std::chrono::duration_cast<milliseconds>(Clock::now() - dropped));
  }
  log = leaf.proc->log();
  return waits;
}

void expect_waits_at_least(const std::string& binary, const std::string& leaf_opts, int drops, milliseconds least) {
  std::string log;
  auto waits = redial_waits(binary, leaf_opts, drops, log);
  ASSERT_EQ(waits.size(), static_cast<size_t>(drops)) << log;
  // A little under the interval: the clocks of the test and of the leaf start apart.
  for (auto w : waits) EXPECT_GE(w.count(), least.count() - 150) << log;
}

}  // namespace

TEST(LeafRedial, OurLeafWaitsOneSecondByDefaultBeforeRedialling) {
  expect_waits_at_least(testing_harness::server_binary(), "", 2, milliseconds(1000));
}

TEST(LeafRedial, TheReferenceLeafWaitsOneSecondByDefaultToo) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  expect_waits_at_least(testing_harness::reference_binary(), "", 2, milliseconds(1000));
}

TEST(LeafRedial, OurLeafWaitsTheConfiguredReconnectInterval) {
  expect_waits_at_least(testing_harness::server_binary(), "reconnect: 2,", 1, milliseconds(2000));
}

}  // namespace NATS_TEST_FILE_ID
