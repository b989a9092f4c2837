#pragma once
// The content of a stream snapshot in 2.9.10's layout (server/filestore.go streamSnapshot),
// built from a running stream and read back for a restore:
//   meta.inf, meta.sum          the stream's FileStreamInfo ({"created", config fields...})
//   msgs/<n>.idx, msgs/<n>.blk  per block: the index (counts, first/last, deleted sequences)
//                               and the message records
//   obs/<name>/meta.inf, meta.sum, o.dat   per consumer: FileConsumerInfo and its state in
//                               the reference's binary encoding (encodeConsumerState)
// all in a tar inside an S2 stream. Records, indexes and checksums are the reference's
// (HighwayHash-64, util/highwayhash.h: record hashes keyed by sha256("<stream>-<block>"), the
// index's last-record checksum, meta.sum files), so snapshots move both ways between 2.9.10
// and us. Reading checks every record's hash as 2.9.10 does (see parse_block).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jetstream/consumer_state.h"
#include "jetstream/store/message_store.h"

namespace nats::jetstream {

class Stream;

struct ArchivedConsumer {
  std::string name;
  int64_t created_ns = 0;
  nlohmann::json config;  // the consumer config fields (FileConsumerInfo without created/name)
  ConsumerSnapshot state;
  bool has_state = false;
};

struct ArchivedStream {
  nlohmann::ordered_json config;  // the stream config fields of meta.inf
  int64_t created_ns = 0;
  std::vector<StoredMsg> msgs;  // live messages, ascending
  uint64_t first_seq = 0;       // the stream's first and last sequence (gaps are deleted ones)
  uint64_t last_seq = 0;
  int64_t last_ts = 0;
  std::vector<ArchivedConsumer> consumers;
};

// The S2-framed tar of `stream` (its messages now; consumers unless !include_consumers),
// built piece by piece so that a large stream is never held whole: each next() gives the
// following part of the archive (the meta files, then one message block of up to
// kSnapshotBlockBytes, ..., then the consumers and the end), empty once the archive is
// complete. Messages stored after the builder was made are not in it.
class SnapshotBuilder {
 public:
  static constexpr size_t kSnapshotBlockBytes = 4 * 1024 * 1024;
  SnapshotBuilder(Stream& stream, bool include_consumers);
  std::string next();
  bool done() const { return stage_ == Stage::done; }

 private:
  enum class Stage { meta, blocks, consumers, done };
  std::string framed(std::string tar_part);
  void add_block();

  Stream& stream_;
  bool include_consumers_;
  int64_t now_;
  Stage stage_ = Stage::meta;
  StoreState st_;
  uint64_t next_seq_ = 0;      // where the next block's messages start
  uint64_t block_ = 0;         // blocks written
  bool any_msg_ = false;       // a block with messages was written
  std::optional<StoredMsg> ahead_;  // loaded, not yet in a block
  struct TarWriterHolder;
  std::shared_ptr<TarWriterHolder> tar_;
};

// The whole archive at once (SnapshotBuilder's parts together).
std::string build_snapshot(Stream& stream, bool include_consumers);

// Reads a snapshot (S2-framed tar) into `out`; false with `err` on bad data.
bool read_snapshot(std::string_view data, ArchivedStream& out, std::string& err);

// A snapshot read one tar entry at a time (stage_snapshot), as 2.9.10's restore extracts the
// archive to a directory before it opens the stream: the stream's and the consumers' files
// are kept (small), each message block goes to <dir>/<n>.blk (kept in memory when dir is
// empty). A restore then holds one block at a time (2.9.10's blocks are at most 8 MiB, or one
// larger message), however large the stream.
struct StagedSnapshot {
  nlohmann::ordered_json config;  // as ArchivedStream's
  int64_t created_ns = 0;
  std::vector<ArchivedConsumer> consumers;
  std::string dir;
  std::map<uint64_t, std::string> indexes;  // block number -> its .idx file
  std::map<uint64_t, std::string> blocks;   // block number -> its .blk file (empty when in dir)
};
// Reads the S2-framed tar that `framed` gives (it fills up to n bytes, fewer only at its end);
// false with `err` on bad data, a block that cannot be written, or a bad consumer.
bool stage_snapshot(const std::function<size_t(char*, size_t)>& framed, const std::string& dir, StagedSnapshot& out,
                    std::string& err);
// The staged messages block by block in ascending block order: `fn` gets each block's live
// messages, ascending (a restore stores them). Then `last_seq`/`last_ts` are the stream's
// last sequence (deleted messages at the end count) and its time, `first_seq` its first.
struct ArchiveSeqs {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int64_t last_ts = 0;
};
bool for_each_block(const StagedSnapshot& s, const std::function<void(std::vector<StoredMsg>&)>& fn, ArchiveSeqs& seqs,
                    std::string& err);

// The reference's consumer state encoding (store.go encodeConsumerState, version 2) and its
// decoding; pending delivery times keep whole seconds, as there. ack_wait_ns sets restored
// pending deadlines (delivery time + ack wait).
std::string encode_consumer_state(const ConsumerSnapshot& s, int64_t now_ns);
bool decode_consumer_state(std::string_view buf, ConsumerSnapshot& s, int64_t ack_wait_ns);

}  // namespace nats::jetstream
