#pragma once
// The account and stream request handlers of `$JS.API`: INFO, STREAM.CREATE/UPDATE/INFO/
// DELETE/NAMES/LIST/PURGE, STREAM.MSG.GET/DELETE and DIRECT.GET, with the reference's
// request validation, response shapes and errors (jetstream_api.go).
#include <optional>

#include <nlohmann/json.hpp>
#include <string_view>

namespace nats::jetstream {

class ApiRouter;
class Stream;
struct ApiRequest;
void register_stream_api(ApiRouter& router);

// Answers `req` with the info of `s` (config, created, state, cluster) as `type`
// ("stream_create_response"...), with did_create when given: what a replicated stream's
// leader answers once the meta log created or updated it.
void reply_stream_info(const ApiRequest& req, std::string_view type, Stream& s, std::optional<bool> did_create);

class JetStream;
// The stream's `cluster` block (null when not clustered): R1 is hosted and led by this
// server; a replicated stream asks its group. Shared with /jsz stream_detail.
nlohmann::ordered_json stream_cluster_json(JetStream& js, Stream& s);

}  // namespace nats::jetstream
