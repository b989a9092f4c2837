#include "net/timer_wheel.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using nats::net::TimerWheel;
using namespace std::chrono_literals;

struct WheelRecorder {
  std::vector<uint64_t> fired;
  std::function<void(uint64_t)> also;
  static void fire(void* owner, uint64_t tag) {
    auto* r = static_cast<WheelRecorder*>(owner);
    r->fired.push_back(tag);
    if (r->also) r->also(tag);
  }
};

// Arms `r` on `w` with the recorder's callback.
void arm_recorder(TimerWheel& w, const std::shared_ptr<WheelRecorder>& r, TimerWheel::Clock::duration after, uint64_t tag) {
  w.schedule(std::weak_ptr<void>(r), after, &WheelRecorder::fire, tag);
}

TEST(TimerWheel, FiresOnlyWhenDueAndNeverEarly) {
  auto t0 = TimerWheel::Clock::now();
  TimerWheel w(t0);
  auto r = std::make_shared<WheelRecorder>();
  arm_recorder(w, r, 200ms, 7);
  EXPECT_EQ(w.size(), 1u);
  // Well before: nothing, and the wheel asks to be woken later (not now).
  EXPECT_GT(w.advance(t0 + 10ms), 0);
  EXPECT_TRUE(r->fired.empty());
  // The wake-up it asks for is no earlier than the due time measured from schedule().
  EXPECT_EQ(w.advance(TimerWheel::Clock::now() + 400ms), -1);
  ASSERT_EQ(r->fired.size(), 1u);
  EXPECT_EQ(r->fired[0], 7u);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, GoneTargetsAreSkipped) {
  TimerWheel w;
  auto r = std::make_shared<WheelRecorder>();
  std::weak_ptr<WheelRecorder> weak = r;
  arm_recorder(w, r, 0ms, 1);
  r.reset();
  EXPECT_EQ(w.advance(TimerWheel::Clock::now() + 1s), -1);
  EXPECT_TRUE(weak.expired());
}

TEST(TimerWheel, TimersBeyondOneTurnWaitForTheirTurn) {
  auto t0 = TimerWheel::Clock::now();
  TimerWheel w(t0);
  auto r = std::make_shared<WheelRecorder>();
  auto turn = TimerWheel::kTick * static_cast<int>(TimerWheel::kSlots);
  arm_recorder(w, r, turn + 2s, 3);
  // One turn later the entry's slot comes round, but it is not due yet.
  w.advance(t0 + turn + 500ms);
  EXPECT_TRUE(r->fired.empty());
  EXPECT_EQ(w.size(), 1u);
  w.advance(t0 + turn + 5s);
  EXPECT_EQ(r->fired.size(), 1u);
}

TEST(TimerWheel, CallbackMayRearmAndManyEntriesAllFire) {
  auto t0 = TimerWheel::Clock::now();
  TimerWheel w(t0);
  std::vector<std::shared_ptr<WheelRecorder>> rs;
  for (int i = 0; i < 5000; ++i) {
    rs.push_back(std::make_shared<WheelRecorder>());
    arm_recorder(w, rs.back(), std::chrono::milliseconds(i % 3000), static_cast<uint64_t>(i));
  }
  // The first one re-arms itself once from its callback.
  TimerWheel* wp = &w;
  std::weak_ptr<WheelRecorder> first = rs[0];  // weak: no cycle through `also`
  rs[0]->also = [wp, first](uint64_t tag) {
    if (tag == 0) arm_recorder(*wp, first.lock(), 10s, 99);
  };
  // A long sleep: one advance visits every slot once.
  w.advance(TimerWheel::Clock::now() + 4s);
  for (int i = 0; i < 5000; ++i) ASSERT_GE(rs[i]->fired.size(), 1u) << i;
  EXPECT_EQ(w.size(), 1u);  // the re-armed one
  EXPECT_EQ(w.advance(TimerWheel::Clock::now() + 20s), -1);
  EXPECT_EQ(rs[0]->fired.back(), 99u);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
