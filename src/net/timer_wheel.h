// Coarse per-loop timers for the timers every connection keeps armed (the ping/stale
// timer): a hashed timing wheel of kSlots slots of kTick each. An armed timer is one 40-byte
// entry in its slot's vector: no map node, no std::function, O(1) to arm, and a loop with
// many quiet connections wakes only for the slots that hold entries. There is no cancel: the
// owner ignores a firing it no longer wants (it keeps a generation and passes it as the tag),
// and an owner that is gone is skipped (entries hold weak pointers).
//
// One wheel per event-loop thread (current()), advanced by EventLoop::run; loop thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace nats::net {

class TimerWheel {
 public:
  using Clock = std::chrono::steady_clock;
  // Called on the loop thread with the owner (kept alive for the call) and the tag.
  using Fn = void (*)(void* owner, uint64_t tag);
  // Timers fire up to one tick late, never early.
  static constexpr Clock::duration kTick = std::chrono::milliseconds(50);
  static constexpr size_t kSlots = 1024;  // one turn = 51.2 s; later timers wait for their turn

  explicit TimerWheel(Clock::time_point start = Clock::now()) : start_(start) {}

  // The calling thread's wheel (an event loop's thread).
  static TimerWheel& current();

  void schedule(std::weak_ptr<void> owner, Clock::duration after, Fn fn, uint64_t tag);
  // Fires everything due by `now`. Returns the ms until the next slot that holds entries,
  // or -1 when the wheel is empty.
  int advance(Clock::time_point now);
  size_t size() const { return count_; }

 private:
  struct Entry {
    std::weak_ptr<void> owner;
    Fn fn;
    uint64_t tag;
    uint64_t due;  // tick number
  };
  uint64_t tick_of(Clock::time_point t) const;
  void set_bit(size_t slot) { bits_[slot / 64] |= uint64_t{1} << (slot % 64); }
  void clear_bit(size_t slot) { bits_[slot / 64] &= ~(uint64_t{1} << (slot % 64)); }
  // Ticks from next_ to the first slot holding entries (count_ > 0).
  uint64_t ticks_to_next_entry() const;

  Clock::time_point start_;
  uint64_t next_ = 0;  // the first tick not processed yet
  size_t count_ = 0;
  std::array<std::vector<Entry>, kSlots> slots_;
  std::array<uint64_t, kSlots / 64> bits_{};  // which slots hold entries
  std::vector<Entry> firing_;                 // reused by advance()
};

}  // namespace nats::net
