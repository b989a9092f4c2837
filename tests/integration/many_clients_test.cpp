// Many clients on one server: thousands of plain connections, each with ten subscriptions.
// Resident memory per connection is measured for our server and the reference 2.9.10 in the
// same run (memory, not speed: it does not depend on machine load), and every connection
// must still get a message published to all of them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using Clock = std::chrono::steady_clock;
using testing_harness::ServerProcess;

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Raises the open-file limit as far as the hard limit allows; returns the soft limit.
rlim_t raise_fd_limit(rlim_t want) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

// No socket timeouts: the reads below poll, or wait for the INFO a server sends at once.
int dial(int port) { return itest::dial_loopback(port, 0); }

// Reads from every fd until each has seen `token` (or the deadline); returns how many did.
size_t await_all(const std::vector<int>& fds, const std::string& token, std::chrono::seconds limit) {
  std::vector<std::string> seen(fds.size());
  std::vector<bool> done(fds.size(), false);
  size_t count = 0;
  auto deadline = Clock::now() + limit;
  std::vector<pollfd> pfds;
  std::vector<size_t> index;
  char buf[8192];
  while (count < fds.size() && Clock::now() < deadline) {
    pfds.clear();
    index.clear();
    for (size_t i = 0; i < fds.size(); ++i)
      if (!done[i]) {
        pfds.push_back({fds[i], POLLIN, 0});
        index.push_back(i);
      }
    if (::poll(pfds.data(), pfds.size(), 200) <= 0) continue;
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t i = index[k];
      ssize_t n = ::read(fds[i], buf, sizeof buf);
      if (n <= 0) { done[i] = true; continue; }
      seen[i].append(buf, static_cast<size_t>(n));
      if (seen[i].find(token) != std::string::npos) {
        done[i] = true;
        ++count;
        seen[i].clear();
      } else if (seen[i].size() > 4096) {
        seen[i].erase(0, seen[i].size() - 64);  // keep a tail for a token split across reads
      }
    }
  }
  return count;
}

struct Measured {
  double kb_per_conn = 0;
  size_t connected = 0, ponged = 0, delivered = 0;
};

// n clients, each: CONNECT, 9 subscriptions of its own and one shared one, PING. Then one
// message on the shared subject must reach all of them.
Measured measure(const std::string& binary, size_t n) {
  ServerProcess srv({}, binary);
  srv.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long base = rss_kb(srv.pid());
  std::vector<int> fds;
  Measured m;
  for (size_t i = 0; i < n; ++i) {
    int fd = dial(srv.port());
    if (fd < 0) break;
    // As real clients do: wait for INFO before CONNECT.
    char info[4096];
    if (::read(fd, info, sizeof info) <= 0) { ::close(fd); break; }
    std::string hello = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
    for (int j = 0; j < 9; ++j) hello += "SUB fleet." + std::to_string(i) + "." + std::to_string(j) + " " + std::to_string(j) + "\r\n";
    hello += "SUB fleet.all 9\r\nPING\r\n";
    if (::write(fd, hello.data(), hello.size()) != static_cast<ssize_t>(hello.size())) { ::close(fd); break; }
    fds.push_back(fd);
  }
  m.connected = fds.size();
  m.ponged = await_all(fds, "PONG\r\n", std::chrono::seconds(60));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long after = rss_kb(srv.pid());
  m.kb_per_conn = m.connected ? static_cast<double>(after - base) / static_cast<double>(m.connected) : 0;
  int pub = dial(srv.port());
  std::string msg = "CONNECT {\"verbose\":false}\r\nPUB fleet.all 5\r\nhello\r\nPING\r\n";
  if (pub >= 0 && ::write(pub, msg.data(), msg.size()) == static_cast<ssize_t>(msg.size()))
    m.delivered = await_all(fds, "MSG fleet.all 9 5\r\nhello\r\n", std::chrono::seconds(60));
  if (pub >= 0) ::close(pub);
  for (int fd : fds) ::close(fd);
  return m;
}

}  // namespace

TEST(ManyClients, MemoryPerConnectionBelowTheReferenceAndEveryoneGetsTheMessage) {
  constexpr size_t kWanted = 5000;  // the suite-sized scale (about 10 s for both servers)
  // Each connection costs this process one descriptor and the server one.
  rlim_t limit = raise_fd_limit(kWanted + 512);
  size_t n = limit > 600 ? std::min<size_t>(kWanted, limit - 512) : 0;
  if (n < 1000) GTEST_SKIP() << "open-file limit " << limit << " is too low for this test";
  Measured ours = measure(testing_harness::server_binary(), n);
  EXPECT_EQ(ours.connected, n);
  EXPECT_EQ(ours.ponged, n);
  EXPECT_EQ(ours.delivered, n);
  std::printf("[ many clients ] %zu connections x 10 subscriptions: ours %.2f KB per connection\n", n, ours.kb_per_conn);
  if (!testing_harness::reference_available()) return;
  Measured ref = measure(testing_harness::reference_binary(), n);
  ASSERT_EQ(ref.ponged, n);
  std::printf("[ many clients ] reference %.2f KB per connection: ratio %.2fx\n", ref.kb_per_conn,
              ours.kb_per_conn / ref.kb_per_conn);
  // Measured 0.38x at 3,000 and 4,000 connections (the target is 0.5x); the bound leaves room
  // for allocator noise but fails if a connection goes back to holding a full chunk.
  EXPECT_LT(ours.kb_per_conn, 0.6 * ref.kb_per_conn);
}

}  // namespace NATS_TEST_FILE_ID
