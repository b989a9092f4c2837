#pragma once
// JetStream advisories and metrics on `$JS.EVENT.>`, published in the account that owns the
// stream (or made the API request), with the reference 2.9.10's subjects and JSON shapes
// (jetstream_events.go): every object starts with the TypedEvent fields type, id, timestamp,
// and `domain` is present only when the server has a JetStream domain.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nats {
class Server;
class Account;
}  // namespace nats

namespace nats::jetstream {

struct ApiRequest;

// `$JS.EVENT.ADVISORY.API` (JSAPIAudit) after an API answer: the request subject, its body
// and the answer as strings.
void send_api_audit(const ApiRequest& req, std::string_view response);

// `$JS.EVENT.ADVISORY.STREAM.{CREATED,DELETED,UPDATED}.<stream>` (stream_action).
enum class AdvisoryAction { create, remove, modify };
// template_owner: the template that made the stream (2.9.10 names it in the created and
// deleted advisories, "template", omitted when empty).
void send_stream_action(Server& srv, Account& acc, const std::string& stream, AdvisoryAction action,
                        const std::string& template_owner = {});
// `$JS.EVENT.ADVISORY.CONSUMER.{CREATED,DELETED}.<stream>.<consumer>` (consumer_action).
void send_consumer_action(Server& srv, Account& acc, const std::string& stream, const std::string& consumer,
                          AdvisoryAction action);

// The requester as 2.9.10's advisories name it (its ClientInfo as the JetStream API import
// fills it in): account, rtt when known, the server it is connected to and, clustered, that
// server's cluster. From a request (send_api_audit's), or from the parts a cluster keeps.
nlohmann::ordered_json client_info(const ApiRequest& req);
nlohmann::ordered_json client_info(const std::string& account, int64_t rtt_ns, const std::string& server,
                                   const std::string& cluster);

// Snapshot and restore (jetstream_events.go JSSnapshotCreateAdvisory...):
//   `$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.<stream>`  {stream, state, client}
//   `$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.<stream>` {stream, start, end, client}
//   `$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE.<stream>`   {stream, client}
//   `$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.<stream>` {stream, start, end, bytes, client}
void send_snapshot_create(Server& srv, Account& acc, const std::string& stream, const nlohmann::ordered_json& state,
                          const nlohmann::ordered_json& client);
void send_snapshot_complete(Server& srv, Account& acc, const std::string& stream, int64_t start_ns, int64_t end_ns,
                            const nlohmann::ordered_json& client);
void send_restore_create(Server& srv, Account& acc, const std::string& stream, const nlohmann::ordered_json& client);
void send_restore_complete(Server& srv, Account& acc, const std::string& stream, int64_t start_ns, int64_t end_ns,
                           int64_t bytes, const nlohmann::ordered_json& client);

// Per-message consumer events. `kind` picks the subject and type:
//   nak        `$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.<s>.<c>`       (consumer_seq, stream_seq, deliveries)
//   terminated `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.<s>.<c>`  (consumer_seq, stream_seq, deliveries)
//   max_deliver `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<s>.<c>` (stream_seq, deliveries)
//   ack        `$JS.EVENT.METRIC.CONSUMER.ACK.<s>.<c>`               (consumer_seq, stream_seq, ack_time, deliveries)
enum class ConsumerEvent { nak, terminated, max_deliver, ack };
struct ConsumerEventInfo {
  uint64_t cseq = 0, sseq = 0, deliveries = 0;
  int64_t ack_time_ns = 0;  // ack: time from delivery to ack
};
void send_consumer_event(Server& srv, Account& acc, const std::string& stream, const std::string& consumer,
                         ConsumerEvent kind, const ConsumerEventInfo& info);

// The consumer's sample_freq ("50%" or "50") as a percentage; 0: no sampling.
int sample_percent(std::string_view sample_freq);
// Whether this ack is sampled, as the reference's shouldSample (>= 100: always).
bool should_sample(int percent);

}  // namespace nats::jetstream
