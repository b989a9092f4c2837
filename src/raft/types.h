// Raft value types: log entries, the messages peers exchange, and the durable state a node
// must persist. Message kinds mirror the reference's NRG concepts (vote request/response,
// append entries/response); the wire encoding is a separate concern and not defined here.
#pragma once

#include <cstdint>
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
};

struct VoteResponse {
  Term term = 0;  // granted pre-vote: the request's term; otherwise the responder's term
  bool granted = false;
  bool pre_vote = false;
};

// AppendEntries; with no entries it is a heartbeat.
struct AppendEntries {
  Term term = 0;
  Index prev_log_index = 0;
  Term prev_log_term = 0;
  std::vector<Entry> entries;
  Index leader_commit = 0;
};

struct AppendResponse {
  Term term = 0;
  bool success = false;
  // success: the last index known to match the leader (prev_log_index + entries.size()).
  // failure: a hint; the leader retries from hint + 1.
  Index index = 0;
};

using Payload = std::variant<VoteRequest, VoteResponse, AppendEntries, AppendResponse>;

struct Message {
  NodeId from;
  NodeId to;
  Payload payload;
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
  std::vector<Entry> log;  // log[i].index == i + 1
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };

const char* role_name(Role r);

}  // namespace nats::raft
