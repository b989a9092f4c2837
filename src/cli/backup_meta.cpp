#include "cli/backup_meta.h"

#include <initializer_list>
#include <string_view>

namespace nats::cli {

// A named namespace (not an anonymous one): the CLI is unity-built, and these short names
// must not meet another file's.
namespace jsm_encoding {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// How a jsm.go struct field encodes (its Go type, as far as encoding goes).
enum class Kind {
  scalar,   // string, number or bool: passed through; `zero` when missing
  pointer,  // *Struct: omitted when missing or null (with omitempty), else its struct
  slice,    // []T: null when missing without omitempty
  map,      // map[string]T: keys sorted (nlohmann's json already sorts them)
};

struct Field;
using Struct = std::initializer_list<Field>;

struct Field {
  const char* name;
  bool omitempty;
  Kind kind = Kind::scalar;
  json zero = 0;                  // a scalar's Go zero value as encoded
  const Struct* fields = nullptr;  // a pointer's or a slice element's struct (null: plain values)
};

// Go's omitempty: false, 0, "", nil pointer, empty slice or map.
bool empty_value(const json& v) {
  if (v.is_null()) return true;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number()) return v == 0;
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return v.empty();
  return false;
}

ojson encode(const json& in, const Struct& fields);

ojson encode_value(const json& v, const Field& f) {
  if (f.fields && v.is_object()) return encode(v, *f.fields);
  if (f.fields && v.is_array()) {
    ojson a = ojson::array();
    for (const auto& e : v) a.push_back(e.is_object() ? encode(e, *f.fields) : ojson(nullptr));
    return a;
  }
  return ojson::parse(v.dump());
}

ojson encode(const json& in, const Struct& fields) {
  ojson out = ojson::object();
  for (const Field& f : fields) {
    auto it = in.is_object() ? in.find(f.name) : in.end();
    const bool missing = it == in.end() || it->is_null();
    if (f.omitempty && (missing || empty_value(*it))) continue;
    if (missing) {
      out[f.name] = f.kind == Kind::scalar ? ojson::parse(f.zero.dump()) : ojson(nullptr);
      continue;
    }
    out[f.name] = encode_value(*it, f);
  }
  return out;
}

// jsm.go v0.0.35 api/streams.go, in field order.
const Struct kExternal = {{"api", false, Kind::scalar, ""}, {"deliver", false, Kind::scalar, ""}};
const Struct kSource = {
    {"name", false, Kind::scalar, ""},
    {"opt_start_seq", true},
    {"opt_start_time", true, Kind::pointer},
    {"filter_subject", true},
    {"external", true, Kind::pointer, 0, &kExternal},
};
const Struct kPlacement = {{"cluster", false, Kind::scalar, ""}, {"tags", true, Kind::slice}};
const Struct kRePublish = {{"src", true}, {"dest", false, Kind::scalar, ""}, {"headers_only", true}};
const Struct kConfig = {
    {"name", false, Kind::scalar, ""},
    {"description", true},
    {"subjects", true, Kind::slice},
    {"retention", false, Kind::scalar, "limits"},
    {"max_consumers", false},
    {"max_msgs_per_subject", false},
    {"max_msgs", false},
    {"max_bytes", false},
    {"max_age", false},
    {"max_msg_size", true},
    {"storage", false, Kind::scalar, "file"},
    {"discard", false, Kind::scalar, "old"},
    {"num_replicas", false},
    {"no_ack", true},
    {"template_owner", true},
    {"duplicate_window", true},
    {"placement", true, Kind::pointer, 0, &kPlacement},
    {"mirror", true, Kind::pointer, 0, &kSource},
    {"sources", true, Kind::slice, 0, &kSource},
    {"republish", true, Kind::pointer, 0, &kRePublish},
    {"sealed", false, Kind::scalar, false},
    {"deny_delete", false, Kind::scalar, false},
    {"deny_purge", false, Kind::scalar, false},
    {"allow_rollup_hdrs", false, Kind::scalar, false},
    {"allow_direct", false, Kind::scalar, false},
    {"mirror_direct", false, Kind::scalar, false},
    {"discard_new_per_subject", true},
};
const Struct kLost = {{"msgs", false, Kind::slice}, {"bytes", false}};
const Struct kState = {
    {"messages", false},
    {"bytes", false},
    {"first_seq", false},
    {"first_ts", false, Kind::scalar, "0001-01-01T00:00:00Z"},
    {"last_seq", false},
    {"last_ts", false, Kind::scalar, "0001-01-01T00:00:00Z"},
    {"num_deleted", true},
    {"deleted", true, Kind::slice},
    {"num_subjects", true},
    {"subjects", true, Kind::map},
    {"lost", true, Kind::pointer, 0, &kLost},
    {"consumer_count", false},
};

// Go's encoding/json escapes these inside strings (HTML safety); they occur nowhere else in
// JSON text, so replacing them in the whole text is exact.
std::string go_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xe2' && i + 2 < s.size() && s[i + 1] == '\x80' && (s[i + 2] == '\xa8' || s[i + 2] == '\xa9')) {
      out += s[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace jsm_encoding

std::string backup_meta_json(const nlohmann::json& config, const nlohmann::json& state) {
  namespace je = jsm_encoding;
  je::ojson meta = je::ojson::object();  // a Go map: keys sorted, "config" < "state"
  meta["config"] = je::encode(config, je::kConfig);
  meta["state"] = je::encode(state, je::kState);
  return je::go_escape(meta.dump(2, ' ', false, je::ojson::error_handler_t::replace));
}

}  // namespace nats::cli
