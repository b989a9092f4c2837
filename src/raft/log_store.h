// Durable state of one Raft node in a directory: term and vote (`term_vote.dat`), the log
// (`log.dat`), the latest snapshot (`snapshot.dat`) and the bootstrap membership (`peers.json`). The formats are ours (see
// raft/wire.h: we do not interoperate with the Go NRG), so the names differ from the
// reference's (tav.idx, peers.idx, msgs/) and a store dir the Go server used is not misread.
//
// Every write returns only after fsync, which is what RaftNode's output contract requires
// (votes and acks promise the writes before them).
//   term_vote.dat, peers.json, snapshot.dat: replaced atomically (write tmp, fsync, rename,
//            fsync dir), so a crash leaves the old or the new file, never a mix.
//   snapshot.dat: u32 fnv1a(payload) | payload, payload = wire::put_snapshot.
//   log.dat: records `u32 len | u32 fnv1a(payload) | payload`, payload = wire::put_entry.
//            A torn or corrupt tail (crash mid-append) is cut off at load; a follower that
//            must overwrite an uncommitted suffix truncates the file at that record. The first
//            record may be above index 1: after a snapshot the prefix it covers is dropped
//            (by rewriting the kept suffix to a new file and renaming it over). A crash
//            between saving a snapshot and dropping the prefix is repaired at load: records
//            the snapshot covers are dropped, and a log that disagrees with the snapshot's
//            term at its index is dropped whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raft/raft_node.h"
#include "raft/types.h"

namespace nats::raft {

struct PeerState {
  int cluster_size = 0;
  std::vector<NodeId> peers;  // the whole voting membership, this node included
  // A node added to a running group: no bootstrap membership (peers empty); it learns the
  // membership from the leader's log or snapshot.
  bool joining = false;
};

class LogStore {
 public:
  // Creates `dir` (and parents) if needed. Throws std::runtime_error on I/O errors, as do
  // the methods below.
  explicit LogStore(std::string dir);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  const std::string& dir() const { return dir_; }
  // Log appends without fdatasync (the page cache holds them; a process crash keeps them, a
  // machine crash may not). Replicated streams use it unless sync_always is set, as the
  // reference's stream logs are not synced per write either. Term, vote and peers are still
  // synced.
  void set_sync_appends(bool sync) { sync_appends_ = sync; }

  PersistedState load();
  void save_hard_state(const HardState& hs);
  // Replaces the stored log from entries.front().index on (entries must be contiguous and
  // front().index <= last stored index + 1).
  void append(const std::vector<Entry>& entries);
  // Output::snapshot: replaces the stored snapshot, then drops the log entries it covers (or
  // the whole log when discard_log).
  void save_snapshot(const Snapshot& s, bool discard_log);
  // Step 1 of RaftNode's output contract, in its order: hard state, snapshot, entries.
  void persist(const Output& out);

  std::optional<PeerState> load_peers() const;
  void save_peers(const PeerState& ps);

 private:
  void write_atomic(const std::string& name, const std::string& data);
  // Keeps only the records from file offset `from` on, in a new file renamed over the log.
  void rewrite_log_from(uint64_t from);
  void truncate_log(uint64_t size);
  std::string dir_;
  int log_fd_ = -1;
  Index first_ = 1;                // index of the first record (the one after the snapshot)
  std::vector<uint64_t> offsets_;  // offsets_[i]: file offset of the record of index first_ + i
  uint64_t end_ = 0;               // file size after the last good record
  bool sync_appends_ = true;
};

}  // namespace nats::raft
