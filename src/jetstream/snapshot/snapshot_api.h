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
// with a reply subject is stored and acked with an empty message; the empty message ends
// the upload, and its reply subject gets the stream create answer (stream info) or the
// error. An upload idle for 5 s is abandoned (the reference's "stalled" restore). Clustered
// restores are refused (10062); clustered snapshots are taken by the stream leader (the
// cluster router sends stream requests there).
namespace nats::jetstream {

class ApiRouter;
class JetStream;

void register_snapshot_api(ApiRouter& router);
// At shutdown: ends the transfers of `js` and waits for their threads.
void stop_snapshot_transfers(JetStream& js);

}  // namespace nats::jetstream
