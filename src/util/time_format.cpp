#include "util/time_format.h"

#include <cstdio>
#include <ctime>

namespace nats::util {

std::string rfc3339_nano(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) { frac += 1000000000; --secs; }
  tm tmv;
  gmtime_r(&secs, &tmv);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tmv);
  std::string out(buf, n);
  if (frac) {
    char f[16];
    snprintf(f, sizeof f, ".%09ld", frac);
    std::string fs(f);
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  out += 'Z';
  return out;
}

std::string uptime_string(std::chrono::nanoseconds d) {
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 0) s = 0;
  int64_t days = s / 86400, hours = (s / 3600) % 24, mins = (s / 60) % 60, secs = s % 60;
  std::string out;
  if (days) out += std::to_string(days) + "d";
  if (days || hours) out += std::to_string(hours) + "h";
  if (days || hours || mins) out += std::to_string(mins) + "m";
  out += std::to_string(secs) + "s";
  return out;
}

}  // namespace nats::util
