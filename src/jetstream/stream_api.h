#pragma once
// The account and stream request handlers of `$JS.API`: INFO, STREAM.CREATE/UPDATE/INFO/
// DELETE/NAMES/LIST/PURGE, STREAM.MSG.GET/DELETE and DIRECT.GET, with the reference's
// request validation, response shapes and errors (jetstream_api.go).
namespace nats::jetstream {

class ApiRouter;
void register_stream_api(ApiRouter& router);

}  // namespace nats::jetstream
