#include "cli/format.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

namespace nats::cli {

std::string comma(int64_t v) {
  bool neg = v < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  std::string digits = std::to_string(u);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n && n % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return neg ? "-" + out : out;
}

std::string ibytes(uint64_t v) {
  static const char* sizes[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (v < 10) return std::to_string(v) + " B";
  int e = static_cast<int>(std::floor(std::log(static_cast<double>(v)) / std::log(1024.0)));
  double val = std::floor(static_cast<double>(v) / std::pow(1024.0, e) * 10 + 0.5) / 10;
  char buf[64];
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1f %s" : "%.0f %s", val, sizes[e]);
  return buf;
}

namespace {
// Formats v / 10^prec with trailing zeros removed, like Go's fmtFrac+fmtInt pair.
std::string frac(uint64_t v, int prec) {
  uint64_t p = 1;
  for (int i = 0; i < prec; ++i) p *= 10;
  std::string s = std::to_string(v / p);
  uint64_t f = v % p;
  if (f) {
    std::string fs = std::to_string(f);
    fs.insert(0, prec - fs.size(), '0');
    while (!fs.empty() && fs.back() == '0') fs.pop_back();
    s += "." + fs;
  }
  return s;
}
}  // namespace

std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  bool neg = ns < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-ns) : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000000000ULL) {
    if (u < 1000) out = std::to_string(u) + "ns";
    else if (u < 1000000) out = frac(u, 3) + "µs";
    else out = frac(u, 6) + "ms";
  } else {
    uint64_t secs_ns = u % 60000000000ULL;
    uint64_t mins = u / 60000000000ULL;
    out = frac(secs_ns, 9) + "s";
    if (mins) {
      uint64_t h = mins / 60;
      out = std::to_string(mins % 60) + "m" + out;
      if (h) out = std::to_string(h) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

std::string human_duration(int64_t ns) {
  if (ns == INT64_MAX) return "never";
  if (ns == 0) return "0s";
  int64_t tsecs = ns / 1000000000LL, tmins = tsecs / 60, thrs = tmins / 60, tdays = thrs / 24,
          tyrs = tdays / 365;
  char buf[96];
  if (tyrs > 0) {
    std::snprintf(buf, sizeof buf, "%lldy%lldd%lldh%lldm%llds", (long long)tyrs, (long long)(tdays % 365),
                  (long long)(thrs % 24), (long long)(tmins % 60), (long long)(tsecs % 60));
  } else if (tdays > 0) {
    std::snprintf(buf, sizeof buf, "%lldd%lldh%lldm%llds", (long long)tdays, (long long)(thrs % 24),
                  (long long)(tmins % 60), (long long)(tsecs % 60));
  } else if (thrs > 0) {
    std::snprintf(buf, sizeof buf, "%lldh%lldm%llds", (long long)thrs, (long long)(tmins % 60),
                  (long long)(tsecs % 60));
  } else if (tmins > 0) {
    std::snprintf(buf, sizeof buf, "%lldm%llds", (long long)tmins, (long long)(tsecs % 60));
  } else if (tsecs > 0) {
    std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(ns) / 1e9);
  } else if (ns / 1000000 > 0) {
    std::snprintf(buf, sizeof buf, "%lldms", (long long)(ns / 1000000));
  } else {
    return go_duration(ns);
  }
  return buf;
}

std::string log_prefix() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S ", &tm);
  return buf;
}

bool parse_duration(const std::string& in, int64_t& ns) {
  if (in.empty()) return false;
  size_t i = 0;
  double total = 0;
  bool any = false;
  while (i < in.size()) {
    size_t start = i;
    while (i < in.size() && (std::isdigit(static_cast<unsigned char>(in[i])) || in[i] == '.')) ++i;
    if (start == i) return false;
    double num = std::stod(in.substr(start, i - start));
    size_t us = i;
    while (i < in.size() && !std::isdigit(static_cast<unsigned char>(in[i])) && in[i] != '.') ++i;
    std::string unit = in.substr(us, i - us);
    double mult;
    if (unit.empty()) mult = any ? -1 : 1e9;  // a bare number is seconds
    else if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "µs") mult = 1e3;
    else if (unit == "ms") mult = 1e6;
    else if (unit == "s") mult = 1e9;
    else if (unit == "m") mult = 60e9;
    else if (unit == "h") mult = 3600e9;
    else if (unit == "d") mult = 86400e9;
    else if (unit == "w") mult = 7 * 86400e9;
    else if (unit == "y") mult = 365 * 86400e9;
    else return false;
    if (mult < 0) return false;
    total += num * mult;
    any = true;
  }
  ns = static_cast<int64_t>(total);
  return true;
}

bool parse_bytes(const std::string& raw, int64_t& out) {
  std::string s = raw;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  if (s.empty() || s[0] == '-') { out = -1; return true; }
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0) return false;
  int64_t num = std::stoll(s.substr(0, i));
  std::string suf = s.substr(i);
  for (auto& c : suf) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (suf.empty()) shift = 0;
  else if (suf == "K" || suf == "KB" || suf == "KIB") shift = 10;
  else if (suf == "M" || suf == "MB" || suf == "MIB") shift = 20;
  else if (suf == "G" || suf == "GB" || suf == "GIB") shift = 30;
  else if (suf == "T" || suf == "TB" || suf == "TIB") shift = 40;
  else return false;
  out = num << shift;
  return true;
}

int64_t parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t base = static_cast<int64_t>(timegm(&tm));
  size_t pos = s.find('T');
  pos = s.find_first_of(".Z+-", pos + 6);
  int64_t frac_ns = 0;
  if (pos != std::string::npos && s[pos] == '.') {
    size_t e = pos + 1;
    int digits = 0;
    while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) {
      if (digits < 9) { frac_ns = frac_ns * 10 + (s[e] - '0'); ++digits; }
      ++e;
    }
    while (digits++ < 9) frac_ns *= 10;
    pos = e;
  }
  int64_t offset = 0;
  if (pos != std::string::npos && pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    std::sscanf(s.c_str() + pos + 1, "%d:%d", &oh, &om);
    offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
  }
  return (base - offset) * 1000000000LL + frac_ns;
}

}  // namespace nats::cli
