#pragma once
// Which consumers move with their stream when the stream's peers change (a replica change, a
// move, STREAM.PEER.REMOVE, SERVER.REMOVE), and onto which peers: the meta leader puts the
// result into the stream's update entry, so every server applies both together. As the
// reference: on a replica change every replicated consumer takes the stream's new peers; on
// other peer changes one with the stream's replica count takes them too, and one with fewer
// keeps those of its peers the stream keeps and fills up from the stream's new ones. An R1
// durable (a plain local consumer here) takes the stream's new peers on a replica change
// that keeps its server (as the reference's durables); one whose server leaves the stream
// moves, R1 with its state, to the first of the stream's new peers that was a peer before
// (the one a scale-down to R1 keeps; 2.9.10 moves it there without its state), else to the
// first new one; otherwise it stays where it is. An R1
// ephemeral never moves (the meta state drops it when its server leaves the stream).
// A durable that goes from R1 to replicated gets a new group name (the reference keeps the
// name; ours must not meet the log its earlier replicated group left on the server that
// kept it at a scale-down to R1).
#include <map>
#include <string>
#include <vector>

#include "jetstream/cluster/assignment.h"

namespace nats::jetstream {

// The consumers of `cur` whose groups change when its peers become `new_peers` (by name,
// with their new groups; preferred cleared). Empty when none change.
std::map<std::string, ConsumerAssignment> consumers_following(const StreamAssignment& cur,
                                                              const std::vector<std::string>& new_peers,
                                                              bool replica_change);

}  // namespace nats::jetstream
