#include "util/process_stats.h"

#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace nats::util {

int64_t resident_memory_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int num_cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

double cpu_percent() {
  static std::mutex mu;
  static double last_cpu = 0;
  static auto last_wall = std::chrono::steady_clock::time_point{};
  std::lock_guard lk(mu);
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  auto now = std::chrono::steady_clock::now();
  double pct = 0;
  if (last_wall.time_since_epoch().count() != 0) {
    double wall = std::chrono::duration<double>(now - last_wall).count();
    if (wall > 0) pct = (cpu - last_cpu) / wall * 100.0;
  }
  last_cpu = cpu;
  last_wall = now;
  return static_cast<int64_t>(pct * 100) / 100.0;
}

}  // namespace nats::util
