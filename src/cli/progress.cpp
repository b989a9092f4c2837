#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace nats::cli {

bool ProgressBars::is_terminal(int fd) { return ::isatty(fd) == 1; }

std::string ProgressBars::render_line(int64_t current, int64_t total, int64_t elapsed_ns, int width) {
  if (total <= 0) total = 1;
  current = std::clamp<int64_t>(current, 0, total);
  // Elapsed as whole seconds ("3s", "1m5s"), as uiprogress's PrependElapsed.
  int64_t secs = elapsed_ns / 1000000000LL;
  std::string elapsed = secs >= 60 ? std::to_string(secs / 60) + "m" + std::to_string(secs % 60) + "s"
                                   : std::to_string(secs) + "s";
  if (elapsed.size() < 5) elapsed.resize(5, ' ');
  int inner = std::max(2, width - 2);
  int filled = static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * inner);
  std::string bar = "[";
  for (int i = 0; i < inner; ++i) bar += i < filled ? '=' : (i == filled && current < total ? '>' : '-');
  bar += "]";
  char pct[16];
  std::snprintf(pct, sizeof pct, "%3.f%%", 100.0 * static_cast<double>(current) / static_cast<double>(total));
  return elapsed + " " + bar + " " + pct;
}

void ProgressBars::start() {
  if (running_.exchange(true)) return;
  start_ = std::chrono::steady_clock::now();
  // natscli sizes the bar to the terminal, leaving room for the elapsed time and percent.
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40) width_ = std::min<int>(ws.ws_col - 20, 100);
  draw(true);
  thread_ = std::thread([this] {
    while (running_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (running_) draw(false);
    }
  });
}

void ProgressBars::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
  draw(false);
  std::fflush(stdout);
}

void ProgressBars::draw(bool first) {
  std::lock_guard<std::mutex> l(draw_mu_);
  if (bars_.empty()) return;
  int64_t elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
  std::string out;
  if (!first) out += "\x1b[" + std::to_string(bars_.size()) + "A";  // back to the first bar's line
  for (auto& b : bars_) out += "\x1b[2K" + render_line(b.current.load(), b.total, elapsed, width_) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace nats::cli
