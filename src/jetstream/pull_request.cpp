#include "jetstream/pull_request.h"

#include <cctype>
#include <limits>

#include <nlohmann/json.hpp>

#include "config/duration.h"

namespace nats::jetstream {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// The JSON kind as Go's UnmarshalTypeError names it: a number into an integer field shows
// its text ("number 1.5"), into any other field just "number".
std::string go_kind(const nlohmann::json& v, bool int_field) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return int_field ? "number " + v.dump() : "number";
}

std::string type_error(const nlohmann::json& v, std::string_view field, std::string_view go_type) {
  return "json: cannot unmarshal " + go_kind(v, go_type != "bool") + " into Go struct field JSApiConsumerGetNextRequest." +
         std::string(field) + " of type " + std::string(go_type);
}

// An int64 field; nullopt (and `err` set once) when the value does not fit, as Go's decoder.
bool read_int(const nlohmann::json& v, std::string_view field, std::string_view go_type, int64_t& out,
              std::optional<std::string>& err) {
  if (v.is_null()) return true;  // Go leaves the field alone
  if (v.is_number_integer() &&
      (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    out = v.get<int64_t>();
    return true;
  }
  if (!err) err = type_error(v, field, go_type);
  return false;
}

}  // namespace

std::optional<std::string> parse_pull_request(std::string_view body, PullRequestBody& out) {
  out = PullRequestBody{};
  std::string_view req = trim(body);
  if (req.empty()) return std::nullopt;
  if (req.front() != '{') {
    // A bare batch size; anything else asks for one message, as Go's Atoi failing does.
    int64_t n = 0;
    bool neg = false;
    size_t i = 0;
    if (i < req.size() && (req[i] == '+' || req[i] == '-')) neg = req[i++] == '-';
    bool ok = i < req.size();
    for (; i < req.size() && ok; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(req[i])) || n > (std::numeric_limits<int64_t>::max() - 9) / 10)
        ok = false;
      else
        n = n * 10 + (req[i] - '0');
    }
    out.batch = ok ? (neg ? -n : n) : 1;
    return std::nullopt;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(req);
  } catch (const nlohmann::json::parse_error& e) {
    // Go's scanner texts for the two common cases.
    if (e.byte >= req.size()) return std::string("unexpected end of JSON input");
    size_t at = e.byte > 0 ? e.byte - 1 : 0;
    return "invalid character '" + std::string(1, req[at]) + "' looking for beginning of value";
  }
  out.batch = 0;
  std::optional<std::string> err;
  for (auto& [key, v] : j.items()) {
    if (iequals(key, "batch")) read_int(v, "batch", "int", out.batch, err);
    else if (iequals(key, "expires")) read_int(v, "expires", "time.Duration", out.expires_ns, err);
    else if (iequals(key, "max_bytes")) read_int(v, "max_bytes", "int", out.max_bytes, err);
    else if (iequals(key, "idle_heartbeat")) read_int(v, "idle_heartbeat", "time.Duration", out.hb_ns, err);
    else if (iequals(key, "no_wait")) {
      if (v.is_boolean()) out.no_wait = v.get<bool>();
      else if (!v.is_null() && !err) err = type_error(v, "no_wait", "bool");
    }
  }
  if (err) return err;
  if (out.hb_ns > 0 && out.hb_ns * 2 > out.expires_ns) return std::string("heartbeat value too large");
  return std::nullopt;
}

std::optional<int64_t> parse_nak_delay(std::string_view arg) {
  arg = trim(arg);
  if (arg.empty()) return std::nullopt;
  if (arg.front() == '{') {
    auto j = nlohmann::json::parse(arg, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    int64_t delay = 0;
    for (auto& [key, v] : j.items()) {
      if (!iequals(key, "delay") || v.is_null()) continue;
      if (!v.is_number_integer() ||
          (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
        return std::nullopt;  // Go's decoder fails: a plain nak
      delay = v.get<int64_t>();
    }
    return delay;
  }
  auto d = config::parse_go_duration(arg);
  if (!d) return std::nullopt;
  return d->count();
}

}  // namespace nats::jetstream
