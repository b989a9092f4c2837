#include "net/timer_wheel.h"

#include <algorithm>

namespace nats::net {

uint64_t TimerWheel::tick_of(Clock::time_point t) const {
  if (t <= start_) return 0;
  return static_cast<uint64_t>((t - start_) / kTick);
}

TimerWheel& TimerWheel::current() {
  thread_local TimerWheel wheel;
  return wheel;
}

void TimerWheel::schedule(std::weak_ptr<void> owner, Clock::duration after, Fn fn, uint64_t tag) {
  auto now = Clock::now();
  // An empty wheel has nothing between next_ and now to visit: start its count from now.
  if (count_ == 0) next_ = std::max(next_, tick_of(now));
  auto when = now + std::max(after, Clock::duration::zero());
  // Round up: the entry fires in the first tick that starts at or after `when`.
  uint64_t due = tick_of(when) + 1;
  if (due < next_) due = next_;
  size_t slot = due % kSlots;
  slots_[slot].push_back(Entry{std::move(owner), fn, tag, due});
  set_bit(slot);
  ++count_;
}

uint64_t TimerWheel::ticks_to_next_entry() const {
  for (uint64_t d = 0; d < kSlots; ++d) {
    size_t slot = (next_ + d) % kSlots;
    uint64_t word = bits_[slot / 64] >> (slot % 64);
    if (word == 0) {  // skip to the next word
      d += 63 - slot % 64;
      continue;
    }
    if (word & 1) return d;
  }
  return kSlots;
}

int TimerWheel::advance(Clock::time_point now) {
  uint64_t last = tick_of(now);  // ticks up to and including this one have started
  if (count_ > 0 && last >= next_) {
    // Each slot needs at most one visit however long the loop slept.
    if (last - next_ >= kSlots) next_ = last - kSlots + 1;
    for (; next_ <= last && count_ > 0; ++next_) {
      size_t slot = next_ % kSlots;
      if (!(bits_[slot / 64] >> (slot % 64) & 1)) continue;
      auto& entries = slots_[slot];
      // Keep what is due on a later turn; take the due ones out before running any (a
      // callback may arm a new timer in this very slot).
      firing_.clear();
      size_t keep = 0;
      for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].due <= last)
          firing_.push_back(std::move(entries[i]));
        else if (keep++ != i)  // never self-move: a moved-onto-itself weak_ptr ends up empty
          entries[keep - 1] = std::move(entries[i]);
      }
      entries.resize(keep);
      count_ -= firing_.size();
      if (entries.empty()) {
        clear_bit(slot);
        // A burst (a connect storm) can leave a large vector behind: give it back.
        if (entries.capacity() > 64) std::vector<Entry>().swap(entries);
      }
      std::vector<Entry> run;
      run.swap(firing_);
      for (auto& e : run)
        if (auto o = e.owner.lock()) e.fn(o.get(), e.tag);
      run.clear();
      if (firing_.capacity() < run.capacity()) firing_.swap(run);
    }
    if (next_ <= last) next_ = last + 1;
  }
  if (count_ == 0) return -1;
  auto next_time = start_ + kTick * static_cast<int64_t>(next_ + ticks_to_next_entry());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next_time - now).count();
  return static_cast<int>(std::max<int64_t>(ms, 0)) + 1;
}

}  // namespace nats::net
