#pragma once
// `$JS.API.STREAM.SNAPSHOT.<stream>` and `$JS.API.STREAM.RESTORE.<stream>` as 2.9.10 answers
// them (jetstream_api.go jsStreamSnapshotRequest / jsStreamRestoreRequest):
//
// Snapshot: the answer carries the stream's config and state; then a worker thread builds
// the archive (snapshot_archive.h) and sends it to the request's deliver_subject in chunks
// (chunk_size, default 128 KiB), each with the reply subject
// `$JS.SNAPSHOT.ACK.<stream>.<nuid>.<chunk size>.<chunk index>`. Acks on it shrink the bytes
// in flight; past an 8 MiB window the sender waits up to 10 ms for one (and stops when the
// deliver subject lost its interest). An empty message without reply ends the stream. One
// snapshot per stream at a time; memory streams are refused ("no impl"), as the reference.
//
// Restore: the answer names `$JS.SNAPSHOT.RESTORE.<stream>.<nuid>`; each chunk sent there
// with a reply subject is appended to a staging file (<store_root>/.snap-staging/js-restore-*,
// as the reference; never held in memory) and acked with an empty message; the empty message ends
// the upload, and its reply subject gets the stream create answer (stream info) or the
// error. An upload idle for 5 s is abandoned (the reference's "stalled" restore). In a
// cluster the meta leader places the stream and the server chosen to receive the upload runs
// it (cluster/stream_restore.cpp); clustered snapshots are taken by the stream leader (the
// cluster router sends stream requests there). Advisories: SNAPSHOT_CREATE/COMPLETE and
// RESTORE_CREATE/COMPLETE as the reference (advisories.h).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jetstream/api/errors.h"
#include "jetstream/stream_config.h"

namespace nats::jetstream {

class ApiRouter;
class JetStream;
class Stream;
struct JsAccount;
using StreamPtr = std::shared_ptr<Stream>;

void register_snapshot_api(ApiRouter& router);
// At shutdown: ends the transfers of `js` and waits for their threads.
void stop_snapshot_transfers(JetStream& js);

// A STREAM.RESTORE request's stream config (`config`, named after the subject when it has no
// name), checked as a create; null with `e` (the answer's error) otherwise.
std::optional<StreamConfig> parse_restore_request(std::string_view payload, const std::string& name, bool clustered,
                                                  ApiError& e);

// Where restore uploads are staged, under the store root (2.9.10's snapStagingDir); removed at
// start, as the reference does.
inline constexpr const char* kRestoreStagingDir = ".snap-staging";

// The reference's RestoreStream: creates the archive's stream here (it must be the one
// named, and not exist) with the archive's messages and consumers (plain local ones).
// `upload`: the staged archive's file; its message blocks are extracted next to it
// (`<upload>.blocks/`, removed after) and stored one at a time.
StreamPtr restore_stream(JetStream& js, JsAccount& jsa, const StreamConfig& cfg, const std::string& upload,
                         ApiError& err);

// What a restore does with the upload (on the transfer's thread): install creates the stream
// from the staged archive's file (null with err when it cannot); failed runs when the upload
// could not be staged, failed or stalled, or install failed (the clustered restore gives the
// assignment up then).
struct RestoreHooks {
  std::function<StreamPtr(const std::string& upload, ApiError& err)> install;
  std::function<void()> failed;
};
// Opens `$JS.SNAPSHOT.RESTORE.<stream>.<nuid>` for the upload, sends the RESTORE_CREATE
// advisory, gives `answer` the stream_restore_response naming it, and receives the chunks
// on a transfer thread; the final chunk's reply gets the stream create answer, after the
// RESTORE_COMPLETE advisory. `client`: the requester (advisories.h client_info).
void start_stream_restore(JetStream& js, JsAccount& jsa, const StreamConfig& cfg, const nlohmann::ordered_json& client,
                          RestoreHooks hooks, const std::function<void(const nlohmann::ordered_json&)>& answer);

}  // namespace nats::jetstream
