#include "jetstream/stream_config.h"
#include "jetstream/stream_republish.h"

#include <set>

#include "jetstream/consumer_config.h"  // kMaxNameLen, kMaxDescriptionLen (shared with consumers)
#include "jetstream/json_util.h"
#include "subject/subject.h"

namespace nats::jetstream {

namespace {

constexpr int kMaxReplicas = 5;              // StreamMaxReplicas
constexpr int64_t k100ms = 100LL * 1000 * 1000;

// Go's json.Unmarshal into a typed struct: a wrong JSON type is a decode error; null leaves
// the field alone. These throw std::invalid_argument on a mismatch.
struct Decoder {
  const nlohmann::ordered_json& j;
  const nlohmann::ordered_json* get(const char* key) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void str(const char* key, std::string& out) const {
    if (auto* v = get(key)) {
      if (!v->is_string()) throw std::invalid_argument(key);
      out = v->get<std::string>();
    }
  }
  template <typename T>
  void integer(const char* key, T& out) const {
    if (auto* v = get(key)) {
      if (!v->is_number_integer()) throw std::invalid_argument(key);
      if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        throw std::invalid_argument(key);
      int64_t x = v->get<int64_t>();
      if (x < static_cast<int64_t>(std::numeric_limits<T>::min()) || x > static_cast<int64_t>(std::numeric_limits<T>::max()))
        throw std::invalid_argument(key);
      out = static_cast<T>(x);
    }
  }
  void boolean(const char* key, bool& out) const {
    if (auto* v = get(key)) {
      if (!v->is_boolean()) throw std::invalid_argument(key);
      out = v->get<bool>();
    }
  }
  void object(const char* key, nlohmann::ordered_json& out) const {
    if (auto* v = get(key)) {
      if (!v->is_object()) throw std::invalid_argument(key);
      out = *v;
    }
  }
  void array(const char* key, nlohmann::ordered_json& out) const {
    if (auto* v = get(key)) {
      if (!v->is_array()) throw std::invalid_argument(key);
      out = *v;
    }
  }
};

// One StreamSource as Go decodes it: typed fields; throws on a mismatch.
void check_source_entry(const nlohmann::ordered_json& j) {
  if (!j.is_object()) throw std::invalid_argument("source");
  Decoder d{j};
  std::string s;
  d.str("name", s);
  d.str("filter_subject", s);
  int64_t seq = 0;
  d.integer("opt_start_seq", seq);
  if (seq < 0) throw std::invalid_argument("opt_start_seq");
  std::string t;
  d.str("opt_start_time", t);
  if (!t.empty() && parse_time(t) == 0) throw std::invalid_argument("opt_start_time");
  nlohmann::ordered_json ext;
  d.object("external", ext);
  if (ext.is_object()) {
    Decoder e{ext};
    e.str("api", s);
    e.str("deliver", s);
  }
}

}  // namespace

const char* to_string(RetentionPolicy r) {
  switch (r) {
    case RetentionPolicy::limits: return "limits";
    case RetentionPolicy::interest: return "interest";
    case RetentionPolicy::workqueue: return "workqueue";
  }
  return "limits";
}
const char* to_string(StorageType s) { return s == StorageType::memory ? "memory" : "file"; }
const char* to_string(Discard d) { return d == Discard::new_msgs ? "new" : "old"; }

nlohmann::ordered_json StreamConfig::to_json() const {
  // Field order and omitempty as the 2.9.10 StreamConfig struct.
  nlohmann::ordered_json j;
  j["name"] = name;
  if (!description.empty()) j["description"] = description;
  if (!subjects.empty()) j["subjects"] = subjects;
  j["retention"] = to_string(retention);
  j["max_consumers"] = max_consumers;
  j["max_msgs"] = max_msgs;
  j["max_bytes"] = max_bytes;
  j["max_age"] = max_age_ns;
  j["max_msgs_per_subject"] = max_msgs_per_subject;
  if (max_msg_size != 0) j["max_msg_size"] = max_msg_size;
  j["discard"] = to_string(discard);
  j["storage"] = to_string(storage);
  j["num_replicas"] = num_replicas;
  if (no_ack) j["no_ack"] = true;
  if (!template_owner.empty()) j["template_owner"] = template_owner;
  if (duplicate_window_ns != 0) j["duplicate_window"] = duplicate_window_ns;
  if (!placement.is_null()) j["placement"] = placement;
  if (!mirror.is_null()) j["mirror"] = mirror;
  if (!sources.is_null() && !sources.empty()) j["sources"] = sources;
  if (!republish.is_null()) j["republish"] = republish;
  j["allow_direct"] = allow_direct;
  j["mirror_direct"] = mirror_direct;
  if (discard_new_per_subject) j["discard_new_per_subject"] = true;
  j["sealed"] = sealed;
  j["deny_delete"] = deny_delete;
  j["deny_purge"] = deny_purge;
  j["allow_rollup_hdrs"] = allow_rollup_hdrs;
  return j;
}

std::optional<StreamConfig> parse_stream_config_json(const nlohmann::ordered_json& j, ApiError& error) {
  error = api_error(err::InvalidJSON);
  error.description = "invalid JSON";  // 2.9 renders the description without the detail
  if (!j.is_object()) return std::nullopt;
  StreamConfig c;
  try {
    Decoder d{j};
    d.str("name", c.name);
    d.str("description", c.description);
    if (auto* v = d.get("subjects")) {
      if (!v->is_array()) return std::nullopt;
      for (const auto& s : *v) {
        if (!s.is_string()) return std::nullopt;
        c.subjects.push_back(s.get<std::string>());
      }
    }
    std::string ret, storage, discard;
    d.str("retention", ret);
    if (ret == "limits" || ret.empty()) c.retention = RetentionPolicy::limits;
    else if (ret == "interest") c.retention = RetentionPolicy::interest;
    else if (ret == "workqueue") c.retention = RetentionPolicy::workqueue;
    else return std::nullopt;
    d.str("storage", storage);
    if (storage == "file" || storage.empty()) c.storage = StorageType::file;
    else if (storage == "memory") c.storage = StorageType::memory;
    else return std::nullopt;
    d.str("discard", discard);
    if (discard == "old" || discard.empty()) c.discard = Discard::old_msgs;
    else if (discard == "new") c.discard = Discard::new_msgs;
    else return std::nullopt;
    c.max_consumers = 0;
    c.max_msgs = 0;
    c.max_bytes = 0;
    c.max_msgs_per_subject = 0;
    c.max_msg_size = 0;
    c.num_replicas = 0;
    d.integer("max_consumers", c.max_consumers);
    d.integer("max_msgs", c.max_msgs);
    d.integer("max_bytes", c.max_bytes);
    d.integer("max_age", c.max_age_ns);
    d.integer("max_msgs_per_subject", c.max_msgs_per_subject);
    d.integer("max_msg_size", c.max_msg_size);
    d.integer("num_replicas", c.num_replicas);
    d.boolean("no_ack", c.no_ack);
    d.str("template_owner", c.template_owner);
    d.integer("duplicate_window", c.duplicate_window_ns);
    d.object("placement", c.placement);
    d.object("mirror", c.mirror);
    if (c.mirror.is_object()) check_source_entry(c.mirror);
    d.array("sources", c.sources);
    if (c.sources.is_array())
      for (const auto& src : c.sources) check_source_entry(src);
    d.object("republish", c.republish);
    if (!normalize_republish_json(c.republish)) return std::nullopt;
    d.boolean("sealed", c.sealed);
    d.boolean("deny_delete", c.deny_delete);
    d.boolean("deny_purge", c.deny_purge);
    d.boolean("allow_rollup_hdrs", c.allow_rollup_hdrs);
    d.boolean("allow_direct", c.allow_direct);
    d.boolean("mirror_direct", c.mirror_direct);
    d.boolean("discard_new_per_subject", c.discard_new_per_subject);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  error = {};
  return c;
}

std::optional<StreamConfig> parse_stream_config(std::string_view body, ApiError& error) {
  auto j = nlohmann::ordered_json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    error = api_error(err::InvalidJSON);
    error.description = "invalid JSON";
    return std::nullopt;
  }
  return parse_stream_config_json(j, error);
}

bool is_valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    if (ch == '.' || ch == '*' || ch == '>' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
        ch == '\f' || ch == '/' || ch == '\\')
      return false;
  }
  return true;
}

ApiError sealed_at_create_error(const StreamConfig& cfg) {
  // The reference refuses a sealed create right after the name checks (a name with a path
  // separator is told that first), before any other validation.
  if (!cfg.sealed || cfg.name.find_first_of("/\\") != std::string::npos) return {};
  return api_error(err::StreamInvalidConfig, "stream configuration for create can not be sealed");
}

ApiError check_stream_config(StreamConfig& cfg, bool clustered) {
  auto invalid = [](std::string_view why) { return api_error(err::StreamInvalidConfig, why); };
  if (!is_valid_name(cfg.name)) {
    if (cfg.name.find_first_of("/\\") != std::string::npos) return api_error(err::StreamNameContainsPathSeparators);
    return invalid("stream name is required and can not contain '.', '*', '>'");
  }
  if (cfg.name.size() > kMaxNameLen) return invalid("stream name is too long, maximum allowed is 255");
  if (cfg.description.size() > kMaxDescriptionLen)
    return invalid("stream description is too long, maximum allowed is 4096");
  if (cfg.num_replicas == 0) cfg.num_replicas = 1;
  if (cfg.num_replicas > kMaxReplicas) return invalid("maximum replicas is 5");
  if (cfg.num_replicas < 0) return api_error(err::ReplicasCountCannotBeNegative);
  if (cfg.max_msgs == 0) cfg.max_msgs = -1;
  if (cfg.max_msgs_per_subject == 0) cfg.max_msgs_per_subject = -1;
  if (cfg.max_bytes == 0) cfg.max_bytes = -1;
  if (cfg.max_msg_size == 0) cfg.max_msg_size = -1;
  if (cfg.max_consumers == 0) cfg.max_consumers = -1;
  if (cfg.duplicate_window_ns == 0 && cfg.mirror.is_null()) {
    cfg.duplicate_window_ns = (cfg.max_age_ns != 0 && cfg.max_age_ns < kDefaultDuplicateWindowNs)
                                  ? cfg.max_age_ns
                                  : kDefaultDuplicateWindowNs;
  }
  if (cfg.max_age_ns > 0 && cfg.max_age_ns < k100ms) return invalid("max age needs to be >= 100ms");
  if (cfg.duplicate_window_ns < 0) return invalid("duplicates window can not be negative");
  if (cfg.max_age_ns != 0 && cfg.duplicate_window_ns > cfg.max_age_ns)
    return invalid("duplicates window can not be larger then max age");
  if (cfg.duplicate_window_ns > 0 && cfg.duplicate_window_ns < k100ms)
    return invalid("duplicates window needs to be >= 100ms");
  if (cfg.deny_purge && cfg.allow_rollup_hdrs) return invalid("roll-ups require the purge permission");
  if (cfg.discard_new_per_subject) {
    if (cfg.discard != Discard::new_msgs)
      return invalid("discard new per subject requires discard new policy to be set");
    if (cfg.max_msgs_per_subject <= 0) return invalid("discard new per subject requires max msgs per subject > 0");
  }
  if (!cfg.mirror.is_null()) {
    if (!cfg.subjects.empty()) return api_error(err::MirrorWithSubjects);
    if (!cfg.sources.is_null() && !cfg.sources.empty()) return api_error(err::MirrorWithSources);
  }
  if (auto e = normalize_stream_sources(cfg); !e.empty()) return e;
  bool has_sources = !cfg.sources.is_null() && !cfg.sources.empty();
  if (cfg.subjects.empty()) {
    if (cfg.mirror.is_null() && !has_sources) cfg.subjects.push_back(cfg.name);
  } else {
    std::set<std::string> seen;
    for (const auto& s : cfg.subjects) {
      if (!seen.insert(s).second) return invalid("duplicate subjects detected");
      if (subject_is_subset_match(s, "$JS.API.>")) return invalid("subjects overlap with jetstream api");
      if (!is_valid_subject(s)) return invalid("invalid subject");
    }
  }
  if (cfg.subjects.empty() && !has_sources && cfg.mirror.is_null())
    return invalid("stream needs at least one configured subject or be a source/mirror");
  for (const auto& a : cfg.subjects) {
    for (const auto& b : cfg.subjects) {
      if (a != b && subjects_collide(a, b)) return invalid("subject \"" + a + "\" overlaps with \"" + b + "\"");
    }
  }
  if (!cfg.republish.is_null()) {
    if (auto why = check_republish(cfg.republish, cfg.subjects); !why.empty()) return invalid(why);
  }
  if (cfg.num_replicas > 1 && !clustered) return api_error(err::StreamReplicasNotSupported);
  return {};
}

ApiError check_stream_update(const StreamConfig& old_cfg, StreamConfig& cfg, bool clustered) {
  if (auto e = check_stream_config(cfg, clustered); !e.empty()) return e;
  auto invalid = [](std::string_view why) { return api_error(err::StreamInvalidConfig, why); };
  if (cfg.name != old_cfg.name) return invalid("stream configuration name must match original");
  if (cfg.max_consumers != old_cfg.max_consumers)
    return invalid("stream configuration update can not change MaxConsumers");
  if (cfg.storage != old_cfg.storage) return invalid("stream configuration update can not change storage type");
  if (cfg.retention != old_cfg.retention)
    return invalid("stream configuration update can not change retention policy");
  if (!old_cfg.template_owner.empty())
    return invalid("stream configuration update not allowed on template owned stream");
  if (!cfg.template_owner.empty()) return invalid("stream configuration update can not be owned by a template");
  if (!cfg.sealed && old_cfg.sealed) return invalid("stream configuration update can not unseal a sealed stream");
  if (!cfg.deny_delete && old_cfg.deny_delete)
    return invalid("stream configuration update can not cancel deny message deletes");
  if (!cfg.deny_purge && old_cfg.deny_purge) return invalid("stream configuration update can not cancel deny purge");
  if (cfg.mirror != old_cfg.mirror) return api_error(err::StreamMirrorNotUpdatable);
  if (cfg.republish != old_cfg.republish) return invalid("stream configuration update can not change RePublish");
  if (cfg.sealed) {
    cfg.max_age_ns = 0;
    cfg.discard = Discard::new_msgs;
    cfg.deny_delete = cfg.deny_purge = true;
    cfg.allow_rollup_hdrs = false;
  }
  if (cfg.num_replicas != old_cfg.num_replicas && !clustered) return api_error(err::StreamReplicasNotUpdatable);
  return {};
}

}  // namespace nats::jetstream
