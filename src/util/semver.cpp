#include "util/semver.h"

#include <cctype>

namespace nats::util {

namespace {
// Go's strconv.Atoi on the matched digits (possibly none).
std::string atoi_component(std::string_view d, int& out) {
  if (d.empty()) return "strconv.Atoi: parsing \"\": invalid syntax";
  if (d.size() > 18) return "strconv.Atoi: parsing \"" + std::string(d) + "\": value out of range";
  long long v = 0;
  for (char c : d) v = v * 10 + (c - '0');
  if (v > 2147483647LL) return "strconv.Atoi: parsing \"" + std::string(d) + "\": value out of range";
  out = static_cast<int>(v);
  return "";
}

std::string_view take_digits(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
  std::string_view d = s.substr(0, n);
  s.remove_prefix(n);
  return d;
}
}  // namespace

std::string parse_semver(std::string_view s, SemVer& out) {
  // The reference's regexp `\Av?([0-9]+)\.?([0-9]+)?\.?([0-9]+)?`: every later part may match
  // empty, so taking each greedily in turn gives the same groups.
  if (!s.empty() && s.front() == 'v') s.remove_prefix(1);
  std::string_view maj = take_digits(s);
  if (maj.empty()) return "invalid semver";
  if (!s.empty() && s.front() == '.') s.remove_prefix(1);
  std::string_view min = take_digits(s);
  if (!s.empty() && s.front() == '.') s.remove_prefix(1);
  std::string_view pat = take_digits(s);
  SemVer v;
  if (auto e = atoi_component(maj, v.major); !e.empty()) return e;
  if (auto e = atoi_component(min, v.minor); !e.empty()) return e;
  if (auto e = atoi_component(pat, v.patch); !e.empty()) return e;
  out = v;
  return "";
}

bool version_at_least(std::string_view version, const SemVer& m) {
  SemVer v;
  if (!parse_semver(version, v).empty()) return false;
  if (v.major != m.major) return v.major > m.major;
  if (v.minor != m.minor) return v.minor > m.minor;
  return v.patch >= m.patch;
}

}  // namespace nats::util
