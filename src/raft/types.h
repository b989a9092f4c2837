// Raft value types: log entries, the messages peers exchange, and the durable state a node
// must persist. Message kinds mirror the reference's NRG concepts (vote request/response,
// append entries/response); the wire encoding is a separate concern and not defined here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nats::raft {

// Peer IDs are opaque strings (the reference uses 8-character name hashes).
using NodeId = std::string;
using Term = uint64_t;
using Index = uint64_t;  // log indexes start at 1; 0 means "before the first entry"

enum class EntryType : uint8_t {
  kNormal,  // a client proposal
  kNoop,    // appended by a new leader so entries of earlier terms can commit (paper §5.4.2)
  kConfig,  // a membership change; data = wire::encode_membership(). In effect once appended
            // (thesis §4.1), whether committed or not.
};

// Who takes part in a group. Voters elect and form quorums; learners only receive the log
// (a server being added starts as one and is promoted by the leader once it has caught up).
struct Membership {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  bool is_voter(const NodeId& id) const;
  bool is_learner(const NodeId& id) const;
  bool contains(const NodeId& id) const { return is_voter(id) || is_learner(id); }
  bool operator==(const Membership&) const = default;
};

// A state-machine snapshot covering every entry up to `index` (whose term was `term`), and the
// membership in effect at that index. `data` is opaque to Raft: the owner's state machine.
struct Snapshot {
  Index index = 0;
  Term term = 0;
  Membership membership;
  std::string data;
  bool operator==(const Snapshot&) const = default;
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;
  bool operator==(const Entry&) const = default;
};

// RequestVote. With pre_vote set it is the thesis's Pre-Vote (§9.6): `term` is the term the
// sender WOULD campaign in; neither side changes its term or vote because of it.
struct VoteRequest {
  Term term = 0;
  Index last_log_index = 0;
  Term last_log_term = 0;
  bool pre_vote = false;
  // Sent by the target of a leadership transfer (TimeoutNow): voters grant it even while they
  // believe the current leader is alive, since that leader asked for it (thesis §3.10).
  bool transfer = false;
  bool operator==(const VoteRequest&) const = default;
};

struct VoteResponse {
  Term term = 0;  // granted pre-vote: the request's term; otherwise the responder's term
  bool granted = false;
  bool pre_vote = false;
  bool operator==(const VoteResponse&) const = default;
};

// AppendEntries; with no entries it is a heartbeat.
struct AppendEntries {
  Term term = 0;
  Index prev_log_index = 0;
  Term prev_log_term = 0;
  std::vector<Entry> entries;
  Index leader_commit = 0;
  bool operator==(const AppendEntries&) const = default;
};

struct AppendResponse {
  Term term = 0;
  bool success = false;
  // success: the last index known to match the leader (prev_log_index + entries.size()).
  // failure: a hint; the leader retries from hint + 1.
  Index index = 0;
  bool operator==(const AppendResponse&) const = default;
};

// One chunk of the leader's snapshot, for a follower that needs entries the leader no longer
// has. Chunks go one at a time (each acknowledged by a SnapshotResponse); the last one has
// `done` set and is answered by an AppendResponse{success, last_index}.
struct InstallSnapshot {
  Term term = 0;
  Index last_index = 0;  // the snapshot's index and term
  Term last_term = 0;
  Membership membership;
  uint64_t offset = 0;  // of `data` within the whole snapshot blob
  std::string data;
  bool done = false;
  bool operator==(const InstallSnapshot&) const = default;
};

struct SnapshotResponse {
  Term term = 0;
  Index last_index = 0;      // which snapshot this answers
  uint64_t next_offset = 0;  // the follower expects the chunk at this offset next
  bool operator==(const SnapshotResponse&) const = default;
};

// The leader of `term` asks a caught-up follower to start an election at once (thesis §3.10).
struct TimeoutNow {
  Term term = 0;
  bool operator==(const TimeoutNow&) const = default;
};

using Payload = std::variant<VoteRequest, VoteResponse, AppendEntries, AppendResponse, InstallSnapshot,
                             SnapshotResponse, TimeoutNow>;

struct Message {
  NodeId from;
  NodeId to;
  Payload payload;
  bool operator==(const Message&) const = default;
};

// The durable part of a node besides its log (paper Figure 2, "persistent state").
struct HardState {
  Term term = 0;
  NodeId voted_for;  // empty: no vote cast in `term`
  bool operator==(const HardState&) const = default;
};

// Everything a node needs to restart: what it persisted before crashing.
struct PersistedState {
  HardState hard_state;
  std::optional<Snapshot> snapshot;
  std::vector<Entry> log;  // log[i].index == i + 1 + (snapshot ? snapshot->index : 0)
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };

const char* role_name(Role r);

}  // namespace nats::raft
