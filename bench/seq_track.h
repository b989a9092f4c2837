// Integrity checking shared by every workload: each published payload carries its sequence
// number in its first 8 bytes; each subscriber keeps a bitmap of what it saw, so losses,
// duplicates and reordering are counted exactly, also across the members of a queue group.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "workload.h"

namespace nats::bench {

// Sent before measuring when interest must first travel between servers; never counted.
constexpr uint64_t kProbeSeq = ~uint64_t{0};

inline void put_seq(char* p, uint64_t s) { std::memcpy(p, &s, sizeof s); }
inline uint64_t get_seq(const char* p) {
  uint64_t s;
  std::memcpy(&s, p, sizeof s);
  return s;
}

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// One subscriber's record. on_payload runs on that subscriber's thread only; the counters the
// publisher and the main thread watch while it runs are atomics.
class SubTracker {
 public:
  SubTracker(uint64_t n, size_t payload) : seen_(n, 0), n_(n), payload_(payload) {}

  void on_payload(const char* p, size_t len) {
    if (len < 8) {
      ++bad_;
      received_.fetch_add(1, std::memory_order_release);
      return;
    }
    uint64_t s = get_seq(p);
    if (s == kProbeSeq) {
      saw_probe_.store(true, std::memory_order_release);
      return;
    }
    if (len != payload_ || s >= n_) {
      ++bad_;
    } else if (seen_[s]) {
      ++dup_;
    } else {
      seen_[s] = 1;
      if (have_max_ && s < max_) ++reordered_;
    }
    if (s < n_ && (!have_max_ || s > max_)) {
      max_ = s;
      have_max_ = true;
    }
    received_.fetch_add(1, std::memory_order_release);
  }
  // Time of the latest message; callers stamp once per read batch to keep clock reads off
  // the per-message path.
  void stamp() { last_ns_.store(now_ns(), std::memory_order_release); }

  uint64_t received() const { return received_.load(std::memory_order_acquire); }
  bool saw_probe() const { return saw_probe_.load(std::memory_order_acquire); }
  int64_t last_ns() const { return last_ns_.load(std::memory_order_acquire); }

  // Only after the subscriber has stopped:
  const std::vector<uint8_t>& seen() const { return seen_; }
  uint64_t dup() const { return dup_; }
  uint64_t reordered() const { return reordered_; }
  uint64_t bad() const { return bad_; }

 private:
  std::vector<uint8_t> seen_;
  uint64_t n_;
  size_t payload_;
  uint64_t max_ = 0;
  bool have_max_ = false;
  uint64_t dup_ = 0, reordered_ = 0, bad_ = 0;
  std::atomic<uint64_t> received_{0};
  std::atomic<bool> saw_probe_{false};
  std::atomic<int64_t> last_ns_{0};
};

using Trackers = std::vector<std::unique_ptr<SubTracker>>;

// How far the subscribers have got: every subscriber gets every message, except in a queue
// group, where the members share them.
inline uint64_t delivery_progress(const Trackers& t, bool queue) {
  uint64_t acc = queue ? 0 : ~uint64_t{0};
  for (auto& s : t) acc = queue ? acc + s->received() : std::min(acc, s->received());
  return acc;
}

// Publisher-side flow control: stay at most `window` messages ahead of the subscribers, so the
// measure is sustained throughput, not how much a server buffers before cutting a slow consumer.
inline void wait_window(const Trackers& t, bool queue, uint64_t sent, uint64_t window, Deadline dl) {
  while (sent > delivery_progress(t, queue) + window) {
    if (dl.expired()) throw BenchError("timed out: subscribers stopped receiving");
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

enum class Delivery { kComplete, kStalled, kTimedOut };

inline std::string delivery_error(Delivery d, const Trackers& t, bool queue, uint64_t n) {
  if (d == Delivery::kComplete) return {};
  return std::string(d == Delivery::kStalled ? "delivery stalled" : "run timed out") + " with " +
         std::to_string(delivery_progress(t, queue)) + " of " + std::to_string(n) + " delivered";
}

// Waits until every message has arrived, or until delivery has stalled for `idle` (messages
// lost), or the deadline.
inline Delivery wait_delivered(const Trackers& t, bool queue, uint64_t n, Deadline dl,
                           std::chrono::milliseconds idle = std::chrono::milliseconds(500)) {
  uint64_t last = ~uint64_t{0};
  auto changed = Clock::now();
  for (;;) {
    uint64_t p = delivery_progress(t, queue);
    if (p >= n) return Delivery::kComplete;
    if (p != last) {
      last = p;
      changed = Clock::now();
    } else if (Clock::now() - changed > idle) {
      return Delivery::kStalled;
    }
    if (dl.expired()) return Delivery::kTimedOut;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// Waits until every subscriber saw a probe (interest has reached the publisher's server).
template <class SendProbe>
void wait_probes(const Trackers& t, SendProbe&& send_probe, Deadline dl) {
  for (;;) {
    bool all = true;
    for (auto& s : t) all = all && s->saw_probe();
    if (all) return;
    if (dl.expired()) throw BenchError("timed out waiting for interest to propagate");
    send_probe();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Fills the integrity counters and the delivery figures of `r` from stopped subscribers;
// returns when the last message arrived (now_ns() scale), 0 if none did.
inline int64_t summarize(const Trackers& t, bool queue, uint64_t n, size_t payload, WorkloadResult& r) {
  r.delivered = 0;
  int64_t last = 0;
  for (auto& s : t) {
    r.delivered += s->received();
    r.duplicated += s->dup();
    r.reordered += s->reordered();
    r.bad_payload += s->bad();
    last = std::max(last, s->last_ns());
  }
  r.payload_bytes = r.delivered * payload;
  if (queue) {
    // Members share one stream: a sequence is lost if no member saw it, duplicated if several did.
    for (uint64_t i = 0; i < n; ++i) {
      unsigned c = 0;
      for (auto& s : t) c += s->seen()[i];
      if (c == 0) ++r.lost;
      if (c > 1) r.duplicated += c - 1;
    }
  } else {
    for (auto& s : t) {
      uint64_t uniq = 0;
      for (uint8_t b : s->seen()) uniq += b;
      r.lost += n - uniq;
    }
  }
  return last;
}

}  // namespace nats::bench
