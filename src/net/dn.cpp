#include "net/dn.h"

#include <strings.h>

namespace nats::net {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool attr_equal(const DnAttribute& a, const DnAttribute& b) {
  return a.type.size() == b.type.size() && strncasecmp(a.type.data(), b.type.data(), a.type.size()) == 0 &&
         a.value == b.value;
}

// Every attribute of `attrs` is in `r`.
bool has_all(const Rdn& r, const Rdn& attrs) {
  for (const auto& a : attrs) {
    bool found = false;
    for (const auto& mine : r)
      if (attr_equal(mine, a)) {
        found = true;
        break;
      }
    if (!found) return false;
  }
  return true;
}

bool rdn_equal(const Rdn& a, const Rdn& b) { return a.size() == b.size() && has_all(a, b) && has_all(b, a); }

}  // namespace

std::optional<Dn> parse_dn(std::string_view str) {
  Dn dn;
  Rdn rdn;
  DnAttribute attr;
  std::string buf;
  bool escaping = false;
  size_t trailing_spaces = 0;  // unescaped spaces at the end of buf, dropped from a value
  auto take = [&] {
    std::string s = buf.substr(0, buf.size() - trailing_spaces);
    buf.clear();
    trailing_spaces = 0;
    return s;
  };
  for (size_t i = 0; i < str.size(); ++i) {
    char c = str[i];
    if (escaping) {
      trailing_spaces = 0;
      escaping = false;
      if (std::string_view(" \"#+,;<=>\\").find(c) != std::string_view::npos) {
        buf += c;
        continue;
      }
      if (i + 1 == str.size()) return std::nullopt;  // "got corrupted escaped character"
      int hi = hex_digit(c), lo = hex_digit(str[i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      buf += static_cast<char>(hi * 16 + lo);
      ++i;
    } else if (c == '\\') {
      trailing_spaces = 0;
      escaping = true;
    } else if (c == '=') {
      attr.type = take();
      if (i + 1 < str.size() && str[i + 1] == '#') return std::nullopt;  // BER encoding
    } else if (c == ',' || c == '+') {
      if (attr.type.empty()) return std::nullopt;  // incomplete type, value pair
      attr.value = take();
      rdn.push_back(std::move(attr));
      attr = DnAttribute{};
      if (c == ',') {
        dn.push_back(std::move(rdn));
        rdn.clear();
      }
    } else if (c == ' ' && buf.empty()) {
      continue;
    } else {
      trailing_spaces = c == ' ' ? trailing_spaces + 1 : 0;
      buf += c;
    }
  }
  if (!buf.empty()) {
    if (attr.type.empty()) return std::nullopt;
    attr.value = take();
    rdn.push_back(std::move(attr));
    dn.push_back(std::move(rdn));
  }
  return dn;
}

bool dn_equal(const Dn& a, const Dn& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!rdn_equal(a[i], b[i])) return false;
  return true;
}

bool dn_rdns_match(const Dn& a, const Dn& b) {
  if (a.size() != b.size()) return false;
  for (const auto& ra : a) {
    bool found = false;
    for (const auto& rb : b)
      if (rdn_equal(ra, rb)) {
        found = true;
        break;
      }
    if (!found) return false;
  }
  return true;
}

}  // namespace nats::net
