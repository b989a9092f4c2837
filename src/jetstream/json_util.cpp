#include "jetstream/json_util.h"

#include <openssl/evp.h>

#include <chrono>
#include <ctime>
#include <limits>
#include <vector>

#include "util/time_format.h"

namespace nats::jetstream {

std::string format_time(int64_t unix_ns) {
  if (unix_ns == 0) return "0001-01-01T00:00:00Z";
  return util::rfc3339_nano(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(unix_ns))));
}

int64_t parse_time(std::string_view s) {
  if (s.size() < 20) return 0;
  std::tm tm{};
  std::string head(s.substr(0, 19));
  if (!strptime(head.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  int64_t secs = timegm(&tm);
  size_t i = 19;
  int64_t frac = 0;
  int digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
  }
  while (digits < 9) {
    frac *= 10;
    ++digits;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-') && i + 5 < s.size() + 0) {
    int sign = s[i] == '+' ? 1 : -1;
    int hh = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    int mm = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
    secs -= sign * (hh * 3600 + mm * 60);
  }
  // Times outside what int64 nanoseconds hold (years before 1678 or after 2262) saturate.
  constexpr int64_t kMaxSecs = std::numeric_limits<int64_t>::max() / 1000000000LL - 1;
  if (secs > kMaxSecs) return kMaxSecs * 1000000000LL;
  if (secs < -kMaxSecs) return -kMaxSecs * 1000000000LL;
  return secs * 1000000000LL + frac;
}

std::string base64_encode(std::string_view in) {
  if (in.empty()) return {};
  std::vector<unsigned char> out(4 * ((in.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  return std::string(reinterpret_cast<char*>(out.data()), static_cast<size_t>(n));
}

std::string go_json_escape(std::string s) {
  if (s.find_first_of("<>&") == std::string::npos) return s;
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

}  // namespace nats::jetstream
