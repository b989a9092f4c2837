#pragma once
// Consumer configuration as the `$JS.API.CONSUMER.*` JSON carries it: parsing, the
// reference's defaults (setConsumerConfigDefaults), validation with its err_codes
// (checkConsumerCfg), the update rules, and rendering back to JSON in the field order and
// omitempty shape the 2.9 server uses. Pure: no server, no stream object.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jetstream/api/errors.h"
#include "jetstream/stream_config.h"

namespace nats::jetstream {

enum class DeliverPolicy { all, last, new_msgs, by_start_sequence, by_start_time, last_per_subject };
enum class AckPolicy { none, all, explicit_ack };
enum class ReplayPolicy { instant, original };

// An API error as the reference returns it: {"code","err_code","description"}.
using ConsumerApiError = ApiError;

// Reference constants (consumer.go / jetstream_api.go, 2.9).
inline constexpr int64_t kAckWaitDefaultNs = 30'000'000'000;
inline constexpr int kMaxAckPendingDefault = 1000;
inline constexpr int kWaitQueueDefaultMax = 512;
inline constexpr int64_t kEphemeralInactiveDefaultNs = 5'000'000'000;
inline constexpr size_t kMaxDescriptionLen = 4096;
inline constexpr size_t kMaxNameLen = 255;

struct ConsumerConfig {
  std::string durable_name;
  std::string name;
  std::string description;
  DeliverPolicy deliver_policy = DeliverPolicy::all;
  uint64_t opt_start_seq = 0;
  std::optional<int64_t> opt_start_time_ns;  // unix ns
  std::string opt_start_time_text;           // as given, echoed back
  AckPolicy ack_policy = AckPolicy::none;
  int64_t ack_wait_ns = 0;
  int64_t max_deliver = 0;
  std::vector<int64_t> backoff_ns;
  std::string filter_subject;
  ReplayPolicy replay_policy = ReplayPolicy::instant;
  uint64_t rate_limit_bps = 0;
  std::string sample_freq;
  int64_t max_waiting = 0;
  int64_t max_ack_pending = 0;
  bool flow_control = false;
  bool headers_only = false;
  int64_t max_batch = 0;
  int64_t max_expires_ns = 0;
  int64_t max_bytes = 0;
  std::string deliver_subject;
  std::string deliver_group;
  int64_t idle_heartbeat_ns = 0;
  int64_t inactive_threshold_ns = 0;
  int64_t num_replicas = 0;
  bool mem_storage = false;
  bool direct = false;

  bool is_durable() const { return !durable_name.empty(); }
  bool is_push() const { return !deliver_subject.empty(); }
  bool is_pull() const { return deliver_subject.empty(); }
  // The consumer's name: durable name, else name (may be empty for an unnamed ephemeral).
  const std::string& effective_name() const { return durable_name.empty() ? name : durable_name; }
};

// What validation needs from the parent stream.
struct StreamContext {
  RetentionPolicy retention = RetentionPolicy::limits;
  int64_t replicas = 1;
  std::vector<std::string> subjects;
  int64_t account_max_ack_pending = -1;  // the account's JetStream max_ack_pending (-1: none)
};

const char* to_string(DeliverPolicy p);
const char* to_string(AckPolicy p);
const char* to_string(ReplayPolicy p);

// Parses the "config" object. Unknown enum strings or wrong types give the reference's
// invalid-JSON error (10025) the way Go's unmarshal failures surface.
std::optional<ConsumerApiError> parse_consumer_config(const nlohmann::json& j, ConsumerConfig& out);
// Reference setConsumerConfigDefaults.
// account_max_ack_pending: the account's limit, lowering the default of 1000 (reference's
// setConsumerConfigDefaults).
void apply_consumer_defaults(ConsumerConfig& cfg, int64_t account_max_ack_pending = -1);
// Reference checkConsumerCfg (the parts that apply to a single server).
std::optional<ConsumerApiError> validate_consumer_config(const ConsumerConfig& cfg, const StreamContext& stream);
// Reference stream.checkConsumerConfigUpdate: which fields may change on an existing consumer.
std::optional<ConsumerApiError> check_consumer_update(const ConsumerConfig& old_cfg, const ConsumerConfig& new_cfg);
nlohmann::ordered_json consumer_config_json(const ConsumerConfig& cfg);
// Is `name` valid for a durable/consumer name (no '.', '*', '>', path separators, whitespace)?
bool is_valid_consumer_name(std::string_view name);
// RFC 3339 (with optional fraction and zone offset) to unix nanoseconds.
std::optional<int64_t> parse_rfc3339_ns(std::string_view s);

// The reference's fixed errors, as ConsumerApiError values.
namespace cerr {
ConsumerApiError invalid_json(const std::string& detail);
ConsumerApiError bad_request();
ConsumerApiError stream_not_found();
ConsumerApiError consumer_not_found();
ConsumerApiError consumer_name_exist();
ConsumerApiError consumer_exists_active();
ConsumerApiError create(const std::string& detail);          // 10012, code 500
ConsumerApiError stream_invalid_config(const std::string& detail);  // 10052, code 500
ConsumerApiError invalid_policy(const std::string& detail);  // 10094
ConsumerApiError wq_multiple_unfiltered();
ConsumerApiError wq_not_unique();
ConsumerApiError wq_not_deliver_all();
ConsumerApiError wq_requires_explicit_ack();
ConsumerApiError max_consumers();
ConsumerApiError stream_mismatch();
ConsumerApiError ephemeral_with_durable_in_subject();
ConsumerApiError ephemeral_with_durable_name();
ConsumerApiError durable_name_not_in_subject();
ConsumerApiError durable_name_not_match_subject();
ConsumerApiError durable_name_not_set();
ConsumerApiError filter_subject_mismatch();
ConsumerApiError bad_durable_name();
ConsumerApiError name_too_long();
ConsumerApiError not_empty_request();
ConsumerApiError filter_not_subset();
ConsumerApiError replicas_not_supported();
}  // namespace cerr

}  // namespace nats::jetstream
