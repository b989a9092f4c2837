// Fuzz target: arbitrary bytes as a JetStream API request body, parsed as a stream config
// (then defaults and validation, then an update check against itself, its mirror/sources
// specs and origin checks) and as a consumer
// config (then defaults and validation against a stream), and as message headers. Any
// outcome is fine except a crash, a hang or an exception escaping: bad requests must become
// JSON errors with the reference's err_code.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "jetstream/consumer_config.h"
#include "jetstream/headers.h"
#include "jetstream/stream_config.h"
#include "jetstream/stream_republish.h"
#include "subject/subject.h"
#include "jetstream/stream_source.h"

using namespace nats::jetstream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);

  ApiError err;
  if (auto cfg = parse_stream_config(body, err)) {
    StreamConfig c = *cfg;
    if (check_stream_config(c, size % 2 == 0).empty()) {
      StreamConfig again = c;
      (void)check_stream_update(c, again, false);
      (void)c.to_json().dump();
      // A valid republish must build its transform and rewrite every stream subject it matches.
      if (auto rp = Republisher::from_config(c))
        for (const auto& subj : c.subjects)
          if (!nats::subject_has_wildcard(subj)) (void)rp->destination(subj);
      // Mirror/sources: the specs the sourcing runs, and the origin checks with every
      // origin name resolving to this config itself (cycles included).
      (void)source_specs(c);
      StreamConfig probe = c;
      (void)check_stream_origins(probe, [&c](const std::string&) { return std::optional<StreamConfig>(c); });
    }
  }
  std::string iname;
  uint64_t origin_seq = 0;
  (void)parse_stream_source_header(body, iname, origin_seq);

  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded()) {
    const nlohmann::json& config = j.is_object() && j.contains("config") ? j["config"] : j;
    ConsumerConfig cc;
    if (!parse_consumer_config(config, cc)) {
      apply_consumer_defaults(cc);
      StreamContext sc;
      sc.subjects = {"fuzz.>"};
      if (size % 3 == 0) sc.retention = RetentionPolicy::workqueue;
      if (!validate_consumer_config(cc, sc)) {
        ConsumerConfig other = cc;
        (void)check_consumer_update(cc, other);
        (void)consumer_config_json(cc).dump();
      }
    }
  }

  (void)header_value(body, "Nats-Msg-Id");
  (void)header_uint(body, "Nats-Expected-Last-Sequence");
  (void)parse_rfc3339_ns(body);
  return 0;
}
