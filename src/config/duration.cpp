#include "config/duration.h"

#include <cmath>
#include <cstdint>

namespace nats::config {

namespace {
std::optional<Duration> fail(std::string* error, const std::string& msg) {
  if (error) *error = msg;
  return std::nullopt;
}
}  // namespace

std::optional<Duration> parse_go_duration(std::string_view s, std::string* error) {
  const std::string quoted = "\"" + std::string(s) + "\"";
  std::string_view rest = s;
  bool neg = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return Duration{0};
  if (rest.empty()) return fail(error, "time: invalid duration " + quoted);
  long double total = 0;
  while (!rest.empty()) {
    // Number: digits, optional fraction.
    size_t i = 0;
    long double value = 0;
    bool any = false;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      value = value * 10 + (rest[i] - '0');
      ++i;
      any = true;
    }
    if (i < rest.size() && rest[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        value += (rest[i] - '0') * scale;
        scale /= 10;
        ++i;
        any = true;
      }
    }
    if (!any) return fail(error, "time: invalid duration " + quoted);
    size_t u = i;
    while (u < rest.size() && !(rest[u] >= '0' && rest[u] <= '9') && rest[u] != '.') ++u;
    std::string_view unit = rest.substr(i, u - i);
    if (unit.empty()) return fail(error, "time: missing unit in duration " + quoted);
    long double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3L;
    else if (unit == "ms") mult = 1e6L;
    else if (unit == "s") mult = 1e9L;
    else if (unit == "m") mult = 60e9L;
    else if (unit == "h") mult = 3600e9L;
    else
      return fail(error, "time: unknown unit \"" + std::string(unit) + "\" in duration " + quoted);
    total += value * mult;
    if (total > 9.2e18L) return fail(error, "time: invalid duration " + quoted);
    rest.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(std::llround(static_cast<double>(total)));
  return Duration{neg ? -ns : ns};
}

std::string format_go_duration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto frac = [](uint64_t v, uint64_t unit) {
    std::string s = std::to_string(v / unit);
    uint64_t r = v % unit;
    if (r) {
      std::string f = std::to_string(r);
      f = std::string(std::to_string(unit).size() - 1 - f.size(), '0') + f;
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000) + "\xC2\xB5s";
  if (u < 1000000000) return sign + frac(u, 1000000) + "ms";
  uint64_t secs_ns = u % 60000000000ULL;
  uint64_t mins = u / 60000000000ULL;
  std::string out = frac(secs_ns, 1000000000ULL) + "s";
  if (mins > 0) {
    out = std::to_string(mins % 60) + "m" + out;
    if (mins >= 60) out = std::to_string(mins / 60) + "h" + out;
  }
  return sign + out;
}

}  // namespace nats::config
