#pragma once
// The consumer half of `$JS.API`: CONSUMER.CREATE (ephemeral, and the 2.9 named form
// CONSUMER.CREATE.<stream>.<name>[.<filter>]), CONSUMER.DURABLE.CREATE, CONSUMER.INFO,
// CONSUMER.DELETE, CONSUMER.NAMES and CONSUMER.LIST, with the reference's checks and
// errors; and the start-up restore of durable consumers from a stream's directory.
// JetStream picks this header up with __has_include (see api/api_router.h).
#include <cstdint>
#include <string>
#include <vector>

#include "jetstream/api/api_router.h"
#include "jetstream/consumer.h"
#include "jetstream/stream.h"

namespace nats::jetstream {

class JetStream;

void register_consumer_api(ApiRouter& router);
void restore_consumers(JetStream& js, const StreamPtr& stream);
// Starts a consumer found on disk or in a restored snapshot: its config and name as saved,
// its state when known (else from its deliver policy).
ConsumerPtr restore_consumer(JetStream& js, const StreamPtr& stream, ConsumerConfig cfg, const std::string& name,
                             int64_t created_ns, const ConsumerSnapshot* state);

// Creates (or updates, for an existing name) a consumer on `stream` as CONSUMER.CREATE does,
// after the subject/body checks. Returns null with `err` set on failure.
// `assigned`: the name for a consumer without one (clustered ephemerals, see ApiRequest).
ConsumerPtr add_consumer(Server& server, const StreamPtr& stream, ConsumerConfig cfg, ApiError& err,
                         std::string_view assigned = {});
// An ephemeral found inactive: removed here; in a cluster (unless a mirror's or source's
// direct consumer) its removal goes through the meta log as a CONSUMER.DELETE without reply.
void remove_inactive_consumer(const ConsumerPtr& c);
// CONSUMER.NAMES/LIST errors: with the (empty) paging fields, as the reference's answer.
void reply_consumer_paged_error(const ApiRequest& req, const char* type, const ApiError& e);
// CONSUMER.NAMES' answer: `names` (sorted) from `offset`, at most `limit`, with the paging
// fields; the same whether the consumers are known locally or from the meta log.
void reply_consumer_names(const ApiRequest& req, const std::vector<std::string>& names, uint64_t offset,
                          uint64_t limit);
// Removes it from the stream and stops it (deleting its files).
bool delete_consumer(const StreamPtr& stream, const std::string& name);
ConsumerPtr lookup_consumer(const StreamPtr& stream, const std::string& name);
// ConsumerInfo as the API answers it; in a cluster with its `cluster` block.
// initial: the info as created (Consumer::take_initial_info), for a create response.
nlohmann::ordered_json consumer_info_json(JetStream& js, const ConsumerPtr& c, bool initial = false);

}  // namespace nats::jetstream
