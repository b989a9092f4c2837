// Two servers that dial each other at the same moment end up with two route connections, and
// each closes one as a duplicate. When each end keeps the connection the other dialled, both
// connections die and, unless the kept route inherits the redial of the dialled duplicate
// (2.9.10's route.retry), neither end dials again: the two servers stay apart for good. This
// was seen as a 3-server cluster whose meta group never agreed on a leader (1 start in 50).
// Here the test plays the other server: it is the configured route of the server under test,
// accepts its dial, and also dials it; the dialled duplicate is closed, then the kept route
// is dropped; the server must dial the test again.
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

// A loopback listener on a free port, standing in for the other server's route port.
struct PeerListener {
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
  // The next dial within `timeout`, or -1.
  int accept_within(milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
    return ::accept(fd, nullptr, nullptr);
  }
  ~PeerListener() {
    if (fd >= 0) ::close(fd);
  }
};

// The INFO line of the fake peer's handshake (what the dialled side sends).
std::string info_line_of(const std::string& handshake) { return handshake.substr(handshake.find("INFO ")); }

void kept_route_redials_after_crossed_duplicate(const std::string& binary) {
  PeerListener peer;
  ASSERT_TRUE(peer.listen());
  Node n;
  n.binary = binary;
  n.cluster = "c1";
  n.cluster_port = testing_harness::free_port();
  n.routes = {"nats-route://127.0.0.1:" + std::to_string(peer.port)};
  n.start();
  // The server's dial of its configured route.
  RawClient dialled;
  int fd = peer.accept_within(milliseconds(10000));
  ASSERT_GE(fd, 0) << "no route dial\n" << n.proc->log();
  dialled.adopt(fd);
  // The peer's own dial reaches the server first and is registered.
  RawClient inbound(n.cluster_port);
  ASSERT_TRUE(inbound.connected());
  inbound.send(fake_route_handshake("c1"));
  ASSERT_TRUE(wait_for([&] { return n.num_routes() == 1; }, milliseconds(5000))) << n.proc->log();
  // Then the server's dial is answered: the same server ID, so it is closed as a duplicate.
  dialled.send(info_line_of(fake_route_handshake("c1")));
  ASSERT_TRUE(dialled.wait_closed(milliseconds(5000))) << n.proc->log();
  EXPECT_EQ(n.num_routes(), 1);
  // The peer drops the route the server kept (the other end kept the opposite one): the
  // server must dial its configured route again (after about a second, as 2.9.10).
  inbound.close();
  int again = peer.accept_within(milliseconds(8000));
  EXPECT_GE(again, 0) << "the server never dialled again: the two servers stay apart\n" << n.proc->log();
  if (again >= 0) ::close(again);
}

TEST(ClusterRouteDuplicate, KeptRouteRedialsWhenTheCrossedDuplicateWasDialled) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    kept_route_redials_after_crossed_duplicate(bin);
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
