#include "jetstream/headers.h"

#include <charconv>

namespace nats::jetstream {

std::optional<std::string_view> header_value(std::string_view headers, std::string_view key) {
  size_t pos = headers.find("\r\n");
  if (pos == std::string_view::npos) return std::nullopt;
  pos += 2;
  while (pos < headers.size()) {
    size_t end = headers.find("\r\n", pos);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view line = headers.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.substr(0, colon) != key) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }
  return std::nullopt;
}

std::optional<uint64_t> header_uint(std::string_view headers, std::string_view key) {
  auto v = header_value(headers, key);
  if (!v || v->empty()) return std::nullopt;
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) return std::nullopt;
  return out;
}

std::string build_headers(const std::vector<std::pair<std::string, std::string>>& entries, std::string_view status) {
  std::string h = "NATS/1.0";
  if (!status.empty()) {
    h += ' ';
    h += status;
  }
  h += "\r\n";
  for (const auto& [k, v] : entries) h += k + ": " + v + "\r\n";
  h += "\r\n";
  return h;
}

std::string append_headers(std::string_view headers, const std::vector<std::pair<std::string, std::string>>& entries) {
  if (headers.size() < 4 || headers.substr(headers.size() - 4) != "\r\n\r\n") return build_headers(entries);
  std::string h(headers.substr(0, headers.size() - 2));
  for (const auto& [k, v] : entries) h += k + ": " + v + "\r\n";
  h += "\r\n";
  return h;
}

}  // namespace nats::jetstream
