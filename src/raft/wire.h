// Our own compact binary encoding of RaftNode messages for the `$NRG.*` transport.
//
// This wire format is OURS: it does not interoperate with the Go server's NRG encoding
// (a mixed cluster of Go and C++ servers cannot share a Raft group). It is versioned so it
// can evolve:
//
//   u8 version (=1) | u8 kind | str from | str to | fields...
//   str    = uvarint length + bytes
//   kind 1 VoteRequest    : uvarint term, last_log_index, last_log_term; u8 pre_vote; u8 transfer
//   kind 2 VoteResponse   : uvarint term; u8 granted; u8 pre_vote
//   kind 3 AppendEntries  : uvarint term, prev_log_index, prev_log_term, leader_commit, count;
//                           count x (uvarint term, index; u8 type; str data)
//   kind 4 AppendResponse : uvarint term; u8 success; uvarint index
//   kind 5 InstallSnapshot: uvarint term, last_index, last_term; membership; uvarint offset;
//                           str data; u8 done
//   kind 6 SnapshotResponse: uvarint term, last_index, next_offset
//   kind 7 TimeoutNow     : uvarint term
//   membership = uvarint n, n x str voter; uvarint m, m x str learner
//                (also the data of a kConfig entry, and part of a persisted snapshot)
//
// uvarint is the LEB128 / protobuf varint. Decoding never trusts lengths: any truncation,
// overlong varint, unknown kind/version or trailing garbage yields nullopt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "raft/types.h"

namespace nats::raft::wire {

inline constexpr uint8_t kVersion = 1;

std::string encode(const Message& m);
std::optional<Message> decode(std::string_view buf);

// Persisted log records use the same entry encoding (raft/log_store.h).
void put_entry(std::string& out, const Entry& e);
// Reads one entry from `buf` at `pos`, advancing it; false on malformed input.
bool get_entry(std::string_view buf, size_t& pos, Entry& e);

// A kConfig entry's data.
std::string encode_membership(const Membership& m);
bool decode_membership(std::string_view buf, Membership& m);
void put_membership(std::string& out, const Membership& m);
bool get_membership(std::string_view buf, size_t& pos, Membership& m);

// A persisted snapshot (raft/log_store.h): uvarint index, term; membership; str data.
void put_snapshot(std::string& out, const Snapshot& s);
bool get_snapshot(std::string_view buf, size_t& pos, Snapshot& s);

void put_uvarint(std::string& out, uint64_t v);
bool get_uvarint(std::string_view buf, size_t& pos, uint64_t& v);
void put_str(std::string& out, std::string_view s);
bool get_str(std::string_view buf, size_t& pos, std::string& s);

}  // namespace nats::raft::wire
