#pragma once
// Stream and consumer assignments: what the meta group's log carries. The meta leader decides
// where an asset lives (its Raft group: name, peers, storage, cluster) and proposes an entry;
// every server applies the committed entries in order, and the servers named in a group's
// peers host the asset. The encoding is ours (one op byte + JSON): the meta group does not
// interoperate with Go servers, but the field names follow the reference's (jetstream_cluster.go
// streamAssignment / consumerAssignment / raftGroup) so the JSON reads familiar.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jetstream/consumer_config.h"
#include "jetstream/stream_config.h"

namespace nats::jetstream {

// The Raft group an asset runs in. For R1 the group has one peer and no Raft node runs: the
// peer hosts a plain local stream/consumer and is its leader.
struct RaftGroupSpec {
  std::string name;                // "S-R<n><F|M>-<8 chars>" / "C-R<n><F|M>-<8 chars>"
  std::vector<std::string> peers;  // node ids: util::hash_name(server name), 8 chars
  std::string storage = "file";    // "file" | "memory"
  std::string cluster;             // the cluster every peer belongs to
  std::string preferred;           // node id suggested as first leader (may be empty)

  bool has_peer(std::string_view node_id) const;
  int replicas() const { return static_cast<int>(peers.size()); }
  nlohmann::json to_json() const;
  static std::optional<RaftGroupSpec> from_json(const nlohmann::json& j);
  bool operator==(const RaftGroupSpec& o) const = default;
};

// Who asked (the reference's ClientInfo, the parts placement and replies need).
struct RequestOrigin {
  std::string account;
  std::string server;   // server name the request came in on (the requester's server)
  std::string cluster;  // that server's cluster: the default placement cluster
  std::string reply;    // reply subject of the API request ("" when nobody waits)
  // Wall-clock time the leader proposed the entry. A server replays old entries on restart;
  // it answers `reply` only for entries proposed after it started (the reference does not
  // answer while recovering).
  int64_t proposed_ns = 0;
  // The API request itself (subject after "$JS.API." and body): the servers hosting the asset
  // run it through their local handlers after the entry applies, which creates, updates or
  // deletes the local asset and gives the client the same answer a single server gives.
  std::string api;
  std::string body;
  // The requester's rtt (with `server` and `cluster`, what the hosts' API audit names).
  int64_t rtt_ns = 0;
  bool operator==(const RequestOrigin& o) const = default;
};

struct ConsumerAssignment {
  std::string account;
  std::string stream;
  std::string name;
  ConsumerConfig config;
  int64_t created_ns = 0;
  RaftGroupSpec group;
  RequestOrigin origin;
  // CONSUMER.DURABLE.CREATE vs CONSUMER.CREATE (the subject form decides some answers).
  std::string api_subject;
};

struct StreamAssignment {
  std::string account;
  StreamConfig config;
  int64_t created_ns = 0;
  RaftGroupSpec group;
  RequestOrigin origin;
  // Consumers by name. In the log they come as their own entries; in a snapshot of the meta
  // state they are nested here. In an update_stream entry: the consumers whose groups change
  // with the stream's peers (only their `group` is taken).
  std::map<std::string, ConsumerAssignment> consumers;

  const std::string& name() const { return config.name; }
};

// The operations of the meta log.
enum class MetaOp : uint8_t {
  assign_stream = 1,   // a new stream (StreamAssignment, no consumers)
  update_stream = 2,   // new config and/or group for an existing stream (and its consumers' groups)
  remove_stream = 3,   // the stream and all its consumers go
  assign_consumer = 4, // a new consumer, or a new config for an existing one
  remove_consumer = 5,
  remove_peer = 6,      // `$JS.API.SERVER.REMOVE`: the server (node id in MetaEntry::peer) leaves
};

struct MetaEntry {
  MetaOp op = MetaOp::assign_stream;
  std::optional<StreamAssignment> stream;      // assign/update/remove_stream (remove: account+name)
  std::optional<ConsumerAssignment> consumer;  // assign/remove_consumer (remove: account+stream+name)
  std::string peer;                            // remove_peer: the node id
};

// Entry data for MetaGroup::propose(): one op byte, then the JSON of the assignment.
std::string encode_meta_entry(const MetaEntry& e);
// Null on garbage (an unknown op or JSON that does not decode): the applier logs and skips.
std::optional<MetaEntry> decode_meta_entry(std::string_view data);

// JSON forms (also used by the meta state snapshot).
nlohmann::json stream_assignment_json(const StreamAssignment& sa, bool with_consumers);
std::optional<StreamAssignment> stream_assignment_from_json(const nlohmann::json& j);
nlohmann::json consumer_assignment_json(const ConsumerAssignment& ca);
std::optional<ConsumerAssignment> consumer_assignment_from_json(const nlohmann::json& j);

// The reference's group names: "<prefix>-R<replicas><F|M>-<id>", id 8 chars chosen by the
// leader (random, stored in the entry so apply stays deterministic).
std::string group_name(char prefix, int replicas, StorageType storage, std::string_view id);
// A fresh random 8-char id for group_name.
std::string random_group_id();

}  // namespace nats::jetstream
