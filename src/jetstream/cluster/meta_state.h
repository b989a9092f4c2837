#pragma once
// The replicated state of the meta group: which streams and consumers exist in the whole
// supercluster and where each one is placed. Every server applies the same committed entries
// in the same order and so holds the same state; nothing here looks at the clock, the
// network or the local disk. Not thread-safe: the cluster controller guards it.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "jetstream/api/errors.h"
#include "jetstream/cluster/assignment.h"

namespace nats::jetstream {

// What one applied entry did, for the asset manager (create/update/delete local assets) and
// for whoever answers the request.
struct MetaChange {
  MetaOp op = MetaOp::assign_stream;
  ApiError rejected;  // non-empty: the entry changed nothing (e.g. the stream is gone)
  // Streams: the assignment before (update/remove) and after (assign/update).
  std::optional<StreamAssignment> stream_before, stream_after;
  // Consumers: before (update of an existing one / remove) and after (assign).
  std::optional<ConsumerAssignment> consumer_before, consumer_after;
};

class MetaState {
 public:
  MetaChange apply(const MetaEntry& e);

  const StreamAssignment* stream(const std::string& account, const std::string& name) const;
  const ConsumerAssignment* consumer(const std::string& account, const std::string& stream,
                                     const std::string& name) const;
  // Streams of one account, by name.
  std::vector<StreamAssignment> streams(const std::string& account) const;
  std::vector<std::string> accounts() const;
  // Streams and consumers per node id (placement spreads over the least loaded servers).
  std::map<std::string, int> assets_per_peer() const;
  size_t stream_count() const;
  // Servers taken out of the meta group (`$JS.API.SERVER.REMOVE`), by node id.
  const std::set<std::string>& removed_peers() const { return removed_; }

  // The whole state as one blob (for Raft snapshots of the meta group) and back:
  // {"streams": [stream assignments with their consumers], "removed": [node ids]}. restore
  // replaces the state; false (state unchanged) on a blob that does not decode.
  std::string snapshot() const;
  bool restore(std::string_view blob);

 private:
  StreamAssignment* find(const std::string& account, const std::string& name);
  // account -> stream name -> assignment (consumers nested).
  std::map<std::string, std::map<std::string, StreamAssignment>> accounts_;
  std::set<std::string> removed_;
};

}  // namespace nats::jetstream
