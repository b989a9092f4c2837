#pragma once
// The consumer half of `$JS.API`: CONSUMER.CREATE (ephemeral, and the 2.9 named form
// CONSUMER.CREATE.<stream>.<name>[.<filter>]), CONSUMER.DURABLE.CREATE, CONSUMER.INFO,
// CONSUMER.DELETE, CONSUMER.NAMES and CONSUMER.LIST, with the reference's checks and
// errors; and the start-up restore of durable consumers from a stream's directory.
// JetStream picks this header up with __has_include (see api/api_router.h).
#include <string>

#include "jetstream/api/api_router.h"
#include "jetstream/consumer.h"
#include "jetstream/stream.h"

namespace nats::jetstream {

class JetStream;

void register_consumer_api(ApiRouter& router);
void restore_consumers(JetStream& js, const StreamPtr& stream);

// Creates (or updates, for an existing name) a consumer on `stream` as CONSUMER.CREATE does,
// after the subject/body checks. Returns null with `err` set on failure.
ConsumerPtr add_consumer(Server& server, const StreamPtr& stream, ConsumerConfig cfg, ApiError& err);
// Removes it from the stream and stops it (deleting its files).
bool delete_consumer(const StreamPtr& stream, const std::string& name);
ConsumerPtr lookup_consumer(const StreamPtr& stream, const std::string& name);
// ConsumerInfo as the API answers it; in a cluster with its `cluster` block.
nlohmann::ordered_json consumer_info_json(JetStream& js, const ConsumerPtr& c);

}  // namespace nats::jetstream
