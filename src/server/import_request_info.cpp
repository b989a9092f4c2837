#include "server/import_request_info.h"

#include <nlohmann/json.hpp>

#include "cluster/leaf.h"
#include "server/connection.h"
#include "server/current_reader.h"
#include "server/service_latency.h"

namespace nats {

namespace {

constexpr std::string_view kKey = "Nats-Request-Info";

thread_local const ImportHop* current_hop = nullptr;

// The header's value as the reference's getHeader finds it: the first "Nats-Request-Info"
// (exact case) at the start of a line and followed by ':', leading spaces skipped. nullopt
// when there is none.
std::optional<std::string_view> header_value(std::string_view headers) {
  size_t at = headers.find(kKey);
  if (at == std::string_view::npos || at < 2 || headers[at - 1] != '\n' || headers[at - 2] != '\r') return std::nullopt;
  size_t i = at + kKey.size();
  if (i >= headers.size() || headers[i] != ':') return std::nullopt;
  ++i;
  while (i < headers.size() && headers[i] == ' ') ++i;
  size_t end = headers.find("\r\n", i);
  return headers.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
}

// The header as Go decodes it into a ClientInfo: a JSON object whose known fields have their
// types (a mismatch fails the whole decode). Null when it does not decode.
nlohmann::ordered_json decode_client_info(std::string_view value) {
  auto j = nlohmann::ordered_json::parse(value, nullptr, false);
  if (!j.is_object()) return nullptr;
  for (const char* k : {"start", "host", "acc", "svc", "user", "name", "lang", "ver", "server", "cluster", "stop",
                        "jwt", "issuer_key", "name_tag", "kind", "client_type", "client_id"})
    if (auto it = j.find(k); it != j.end() && !it->is_string() && !it->is_null()) return nullptr;
  for (const char* k : {"id", "rtt"})
    if (auto it = j.find(k); it != j.end() && !it->is_number_integer() && !it->is_null()) return nullptr;
  for (const char* k : {"alts", "tags"}) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_array()) return nullptr;
    for (const auto& e : *it)
      if (!e.is_string()) return nullptr;
  }
  // Go's zero values are left out again when it encodes (omitempty); acc always is there.
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = *it;
    bool empty = v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
                 (v.is_number_integer() && v.get<int64_t>() == 0) || (v.is_array() && v.empty());
    if (!empty || it.key() == "acc") out[it.key()] = v.is_null() ? nlohmann::ordered_json("") : v;
  }
  if (!out.contains("acc")) out["acc"] = "";
  return out;
}

// `headers` with Nats-Request-Info set to `value`: the first such line the request had is
// dropped and the new one goes last, as the reference's setHeader.
std::string set_header(std::string_view headers, const std::string& value) {
  std::string out;
  size_t first = headers.find("\r\n");
  if (headers.empty() || first == std::string_view::npos) {
    out = "NATS/1.0\r\n";
  } else {
    // Up to the blank line that ends the block (its last "\r\n\r\n").
    std::string_view body = headers;
    if (body.size() >= 4 && body.substr(body.size() - 4) == "\r\n\r\n") body.remove_suffix(2);
    size_t at = body.find(kKey);
    if (at != std::string_view::npos && at >= 1 && body[at - 1] == '\n' && at + kKey.size() < body.size() &&
        body[at + kKey.size()] == ':') {
      size_t end = body.find("\r\n", at);
      if (end != std::string_view::npos) {
        out.append(body.substr(0, at)).append(body.substr(end + 2));
      } else {
        out.append(body);
      }
    } else {
      out.append(body);
    }
  }
  out.append(kKey).append(": ").append(value).append("\r\n\r\n");
  return out;
}

}  // namespace

ImportHopScope::ImportHopScope(const ImportHop* hop) : prev_(current_hop) { current_hop = hop; }
ImportHopScope::~ImportHopScope() { current_hop = prev_; }

std::optional<std::string> import_request_headers(Server& srv, std::string_view headers, bool share,
                                                  bool system_import, const std::string& account) {
  Connection* c = current_reader_connection();
  if (!c) return std::nullopt;  // the server's own request
  const ImportHop* prev = current_hop;
  // Along a chain, what the first import decided about sharing holds.
  const bool shared = prev ? prev->share : share;
  nlohmann::ordered_json ci;
  if (prev && !headers.empty()) {
    auto v = header_value(headers);
    if (!v) return std::nullopt;
    ci = decode_client_info(*v);
    if (ci.is_null()) return std::nullopt;
    ci["svc"] = account;
    if (!shared && (share || system_import)) add_server_info(srv, c, ci);
  } else if (c->kind() != ConnKind::Leaf || !header_value(headers).value_or("").size()) {
    ci = client_info(srv, c, shared);
    if (!ci.is_null() && !shared && system_import) add_server_info(srv, c, ci);
  } else if (share || system_import) {
    // Set by the other side of the leaf connection: replaced only to say more.
    ci = client_info(srv, c, share);
    if (!ci.is_null() && !share && system_import) add_server_info(srv, c, ci);
  }
  if (ci.is_null()) return std::nullopt;
  return set_header(headers, ordered_client_info(ci).dump());
}

}  // namespace nats
