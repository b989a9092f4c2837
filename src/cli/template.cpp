#include "cli/template.h"

#include <chrono>
#include <ctime>
#include <random>
#include <regex>
#include <sstream>

namespace nats::cli {
namespace {

std::mt19937_64& rng() {
  static std::mt19937_64 r(std::random_device{}());
  return r;
}

std::string random_string(int lo, int hi) {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  if (lo > hi) std::swap(lo, hi);
  int n = lo == hi ? lo : lo + static_cast<int>(rng()() % static_cast<uint64_t>(hi - lo));
  std::string s;
  for (int i = 0; i < n; ++i) s += letters[rng()() % 62];
  return s;
}

std::string unique_id() {
  static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string s;
  for (int i = 0; i < 22; ++i) s += digits[rng()() % 62];
  return s;
}

}  // namespace

std::string expand_template(const std::string& body, int count, const std::string& request) {
  if (body.find("{{") == std::string::npos) return body;
  static const std::regex action(R"(\{\{-?\s*\.?([A-Za-z]+)((?:\s+-?\d+)*)\s*-?\}\})");
  auto now = std::chrono::system_clock::now();
  auto unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&tt, &tm);

  std::string out;
  auto begin = std::sregex_iterator(body.begin(), body.end(), action);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out += body.substr(last, m.position() - last);
    last = m.position() + m.length();
    std::string name = m[1];
    std::string val;
    if (name == "Count" || name == "Cnt") val = std::to_string(count);
    else if (name == "Unix") val = std::to_string(unix_ns / 1000000000LL);
    else if (name == "UnixNano") val = std::to_string(unix_ns);
    else if (name == "ID") val = unique_id();
    else if (name == "Request") val = request;
    else if (name == "TimeStamp") {
      char buf[64];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
      std::string s = buf;  // +0000 -> +00:00 as RFC3339
      if (s.size() > 2) s.insert(s.size() - 2, ":");
      if (s.size() >= 6 && s.substr(s.size() - 6) == "+00:00") s = s.substr(0, s.size() - 6) + "Z";
      val = s;
    } else if (name == "Time") {
      char buf[32];
      int h = tm.tm_hour % 12;
      std::snprintf(buf, sizeof buf, "%d:%02d%s", h == 0 ? 12 : h, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
      val = buf;
    } else if (name == "Random") {
      std::istringstream args(m[2]);
      int lo = 0, hi = 0;
      args >> lo >> hi;
      val = random_string(lo, hi);
    } else {
      val = m.str();
    }
    out += val;
  }
  out += body.substr(last);
  return out;
}

}  // namespace nats::cli
