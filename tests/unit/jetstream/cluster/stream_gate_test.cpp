// StreamGate (jetstream/cluster/stream_gate.h): requests about a stream in a window are held
// and handed back at its end; a window opens only once the requests in flight on other
// threads have left, but never waits for one of its own thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "jetstream/cluster/stream_gate.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;
using namespace std::chrono;

TEST(StreamGate, RequestsInAWindowAreHeldAndHandedBack) {
  StreamGate g;
  const std::string k = "A S", other = "A T";
  int made = 0, ran = 0;
  auto replay = [&]() -> StreamGate::Replay {
    ++made;
    return [&] { ++ran; };
  };
  ASSERT_TRUE(g.enter(k, replay));
  g.leave(k);
  EXPECT_EQ(made, 0);
  g.begin(k);
  g.begin(k);  // nested
  EXPECT_FALSE(g.enter(k, replay));
  EXPECT_FALSE(g.enter(k, replay));
  ASSERT_TRUE(g.enter(other, replay));  // another stream goes on
  g.leave(other);
  EXPECT_TRUE(g.end(k).empty());  // the inner end
  EXPECT_FALSE(g.enter(k, replay));
  auto held = g.end(k);
  ASSERT_EQ(held.size(), 3u);
  for (auto& r : held) r();
  EXPECT_EQ(ran, 3);
  EXPECT_TRUE(g.enter(k, replay));
  g.leave(k);
}

TEST(StreamGate, WindowWaitsForRequestsOnOtherThreads) {
  StreamGate g;
  const std::string k = "A S";
  std::atomic<bool> inside{false}, done{false};
  std::thread reader([&] {
    bool in = g.enter(k, [] { return StreamGate::Replay([] {}); });
    EXPECT_TRUE(in);
    inside = true;
    std::this_thread::sleep_for(milliseconds(150));
    done = true;
    g.leave(k);
  });
  while (!inside) std::this_thread::yield();
  auto t0 = steady_clock::now();
  g.begin(k, 5000);
  EXPECT_TRUE(done.load());  // the reader left before the window opened
  EXPECT_LT(steady_clock::now() - t0, milliseconds(4000));
  g.end(k);
  reader.join();
}

TEST(StreamGate, WindowOpenedInsideARequestDoesNotWaitForIt) {
  StreamGate g;
  const std::string k = "A S";
  ASSERT_TRUE(g.enter(k, [] { return StreamGate::Replay([] {}); }));
  auto t0 = steady_clock::now();
  g.begin(k, 3000);
  EXPECT_LT(steady_clock::now() - t0, milliseconds(1000));
  EXPECT_TRUE(g.end(k).empty());
  g.leave(k);
}

}  // namespace NATS_TEST_FILE_ID
