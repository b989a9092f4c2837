// Small shared vocabulary of the benchmark runner: clock, deadlines, errors.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace nats::bench {

using Clock = std::chrono::steady_clock;

// Every blocking loop in the runner takes a Deadline, so a server that hangs or dies can
// never keep the run going: the loop notices and throws BenchError.
class Deadline {
 public:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline in(std::chrono::milliseconds d) { return Deadline(Clock::now() + d); }
  bool expired() const { return Clock::now() >= at_; }
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace nats::bench
