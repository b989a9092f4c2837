// The parser's hot-path promises: no heap allocation for messages that arrive whole, and
// none for split ones once the buffers have grown; plus a rough cost figure (printed, not
// asserted, since the machine is shared).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <ctime>

#include "proto/parser.h"

namespace {
std::atomic<size_t> g_allocs{0};
}

// Counting replacements for the global allocator (this test binary only).
void* operator new(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::proto::NATS_TEST_FILE_ID {
namespace {

struct Sink : ParserHandlerBase {
  size_t msgs = 0;
  size_t bytes = 0;
  void on_pub(std::string_view s, std::string_view, std::string_view p) {
    ++msgs;
    bytes += s.size() + p.size();
  }
  void on_hpub(std::string_view s, std::string_view, std::string_view h, std::string_view p) {
    ++msgs;
    bytes += s.size() + h.size() + p.size();
  }
  void on_sub(std::string_view, std::string_view, std::string_view) { ++msgs; }
};

double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

std::string pubs(size_t n, size_t payload) {
  std::string one = "PUB bench.subject.x " + std::to_string(payload) + "\r\n" +
                    std::string(payload, 'p') + "\r\n";
  std::string out;
  out.reserve(one.size() * n);
  for (size_t i = 0; i < n; ++i) out += one;
  return out;
}

TEST(ParserPerf, NoAllocationsForWholeMessages) {
  Sink s;
  Parser<Sink> p(Kind::Client);
  p.set_headers(true);
  const std::string in = pubs(1000, 16) + "SUB a 1\r\nHPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n";
  const size_t before = g_allocs.load();
  ASSERT_TRUE(p.parse(in.data(), in.size(), s).ok());
  EXPECT_EQ(g_allocs.load() - before, 0u);
  EXPECT_EQ(s.msgs, 1002u);
}

TEST(ParserPerf, NoAllocationsForSplitMessagesAfterWarmup) {
  Sink s;
  Parser<Sink> p(Kind::Client);
  const std::string in = pubs(2000, 1000);
  auto run = [&] {
    for (size_t off = 0; off < in.size(); off += 4093) {
      const size_t n = std::min<size_t>(4093, in.size() - off);
      ASSERT_TRUE(p.parse(in.data() + off, n, s).ok());
    }
  };
  run();  // grows the parser's buffers
  const size_t before = g_allocs.load();
  run();
  EXPECT_EQ(g_allocs.load() - before, 0u);
  EXPECT_EQ(s.msgs, 4000u);
}

TEST(ParserPerf, PrintCostOf16BytePubs) {
  Sink s;
  Parser<Sink> p(Kind::Client);
  const size_t n = 200000;
  const std::string in = pubs(n, 16);
  // Feed in 64 KiB reads, as a connection would.
  // Thread CPU time rather than wall time: the machine is shared with builds.
  const double c0 = cpu_ns();
  const auto t0 = std::chrono::steady_clock::now();
  for (int rep = 0; rep < 5; ++rep) {
    for (size_t off = 0; off < in.size(); off += 65536) {
      const size_t len = std::min<size_t>(65536, in.size() - off);
      ASSERT_TRUE(p.parse(in.data() + off, len, s).ok());
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double ns = (cpu_ns() - c0) / (5.0 * n);
  const double wall = std::chrono::duration<double, std::nano>(t1 - t0).count() / (5.0 * n);
  std::printf("[ parser ] 16-byte PUB: %.1f ns/msg CPU (%.1f wall), %.2f M msgs/s\n", ns, wall,
              1e3 / ns);
  EXPECT_EQ(s.msgs, 5 * n);
}

}  // namespace
}  // namespace nats::proto::NATS_TEST_FILE_ID
