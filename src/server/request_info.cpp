#include "server/request_info.h"

#include <nlohmann/json.hpp>

namespace nats {

namespace {
// Calls fn(key, value, whole_line) for each "Key: Value\r\n" line after the status line.
template <typename Fn>
void each_header_line(std::string_view headers, Fn&& fn) {
  size_t pos = headers.find("\r\n");
  if (pos == std::string_view::npos) return;
  pos += 2;
  while (pos < headers.size()) {
    size_t end = headers.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) return;  // the blank line ends the block
    std::string_view line = headers.substr(pos, end - pos);
    size_t colon = line.find(':');
    std::string_view key = colon == std::string_view::npos ? line : line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    fn(key, value, headers.substr(pos, end + 2 - pos));
    pos = end + 2;
  }
}
}  // namespace

std::string with_request_info(std::string_view headers, const RequestInfo& info) {
  nlohmann::ordered_json j;
  j["acc"] = info.account;
  if (info.rtt_ns > 0) j["rtt"] = info.rtt_ns;
  j["server"] = info.server;
  if (!info.cluster.empty()) j["cluster"] = info.cluster;
  std::string out;
  size_t first = headers.find("\r\n");
  if (headers.empty() || first == std::string_view::npos) {
    out = "NATS/1.0\r\n";
  } else {
    out.assign(headers.substr(0, first + 2));
    each_header_line(headers, [&](std::string_view key, std::string_view, std::string_view line) {
      if (key != kRequestInfoHdr) out.append(line);
    });
  }
  out.append(kRequestInfoHdr).append(": ").append(j.dump()).append("\r\n\r\n");
  return out;
}

std::optional<RequestInfo> read_request_info(std::string_view headers) {
  std::optional<RequestInfo> out;
  each_header_line(headers, [&](std::string_view key, std::string_view value, std::string_view) {
    if (out || key != kRequestInfoHdr) return;
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (!j.is_object()) return;
    RequestInfo ri;
    auto str = [&](const char* k) {
      auto it = j.find(k);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    ri.account = str("acc");
    ri.server = str("server");
    ri.cluster = str("cluster");
    if (auto it = j.find("rtt"); it != j.end() && it->is_number_integer()) ri.rtt_ns = it->get<int64_t>();
    out = std::move(ri);
  });
  return out;
}

}  // namespace nats
