#pragma once
// A stream's configuration as the reference's StreamConfig (stream.go): JSON in and out with
// the same field names, order and omitempty rules, the defaults the reference fills in
// (setStreamConfigDefaults) and its validation (checkStreamCfg) with the same errors.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jetstream/api/errors.h"

namespace nats::jetstream {

enum class RetentionPolicy { limits, interest, workqueue };
enum class StorageType { file, memory };
enum class Discard { old_msgs, new_msgs };

const char* to_string(RetentionPolicy r);  // "limits" | "interest" | "workqueue"
const char* to_string(StorageType s);      // "file" | "memory"
const char* to_string(Discard d);          // "old" | "new"

inline constexpr int64_t kDefaultDuplicateWindowNs = 120LL * 1000 * 1000 * 1000;  // 2m

struct StreamConfig {
  std::string name;
  std::string description;
  std::vector<std::string> subjects;
  RetentionPolicy retention = RetentionPolicy::limits;
  int64_t max_consumers = -1;
  int64_t max_msgs = -1;
  int64_t max_bytes = -1;
  int64_t max_age_ns = 0;
  int64_t max_msgs_per_subject = -1;
  int32_t max_msg_size = -1;
  Discard discard = Discard::old_msgs;
  StorageType storage = StorageType::file;
  int num_replicas = 1;
  bool no_ack = false;
  std::string template_owner;
  int64_t duplicate_window_ns = 0;
  // Kept as given (mirrors/sources/republish are not implemented; placement is informational).
  nlohmann::ordered_json placement, mirror, sources, republish;
  bool sealed = false;
  bool deny_delete = false;
  bool deny_purge = false;
  bool allow_rollup_hdrs = false;
  bool allow_direct = false;
  bool mirror_direct = false;
  bool discard_new_per_subject = false;

  // The reference's JSON (json tags and omitempty of StreamConfig in 2.9).
  nlohmann::ordered_json to_json() const;
  bool operator==(const StreamConfig& o) const { return to_json() == o.to_json(); }
};

// Parses a request body. Unknown fields are ignored (as Go's json.Unmarshal). On a decode
// error returns nullopt and sets `error` to the reference's JSInvalidJSONErr.
std::optional<StreamConfig> parse_stream_config_json(const nlohmann::ordered_json& j, ApiError& error);
std::optional<StreamConfig> parse_stream_config(std::string_view body, ApiError& error);

// A create of a stream that is already sealed: the reference's 10052 answer (empty if not).
ApiError sealed_at_create_error(const StreamConfig& cfg);
// Fills defaults (setStreamConfigDefaults) and validates (checkStreamCfg); returns the
// error the reference answers with, or an empty ApiError. `clustered`: replicas > 1 allowed.
ApiError check_stream_config(StreamConfig& cfg, bool clustered);

// What STREAM.UPDATE may change (stream.go checkStreamUpdate / validateStreamUpdate).
ApiError check_stream_update(const StreamConfig& old_cfg, StreamConfig& new_cfg, bool clustered);

// Mirror/sources entries rewritten to the reference's StreamSource fields, and the
// external prefix checks (checkStreamCfg); part of check_stream_config.
ApiError normalize_stream_sources(StreamConfig& cfg);
// The checks against the origin streams this account has (nullopt: no such stream):
// max_msg_size, filter overlap, cycles; a mirror inherits the origin's allow_direct as
// mirror_direct. Create and update call it where they can see the other streams.
using StreamConfigLookup = std::function<std::optional<StreamConfig>(const std::string&)>;
ApiError check_stream_origins(StreamConfig& cfg, const StreamConfigLookup& lookup);

// Valid stream/consumer name: non-empty, no '.', '*', '>', whitespace or path separators.
bool is_valid_name(std::string_view name);

}  // namespace nats::jetstream
