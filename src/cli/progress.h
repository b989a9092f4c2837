// Terminal progress bars for `nats bench`, in the shape natscli gets from uiprogress
// (elapsed time, a [===>---] bar, percent complete), one line per client, redrawn in place.
// Only used when stdout is a terminal, so piped output and tests never see escape codes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace nats::cli {

class ProgressBars {
 public:
  struct Bar {
    explicit Bar(int64_t t) : total(t) {}
    int64_t total;
    std::atomic<int64_t> current{0};
  };

  ProgressBars() = default;
  ~ProgressBars() { stop(); }
  ProgressBars(const ProgressBars&) = delete;
  ProgressBars& operator=(const ProgressBars&) = delete;

  // Bars must all be added before start(); the returned reference stays valid.
  Bar& add(int64_t total) { return bars_.emplace_back(total); }
  void start();
  // Draws the final state and stops redrawing; idempotent.
  void stop();

  // One rendered line: "<elapsed padded to 5> [====>-----] 42%". Exposed for tests.
  static std::string render_line(int64_t current, int64_t total, int64_t elapsed_ns, int width);
  // True when the given file descriptor is a terminal.
  static bool is_terminal(int fd);

 private:
  void draw(bool first);

  std::deque<Bar> bars_;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex draw_mu_;
  int width_ = 70;
};

}  // namespace nats::cli
