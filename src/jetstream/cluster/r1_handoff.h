#pragma once
// An R1 durable whose server leaves its stream's peers (the stream scaled down to R1 keeps its
// leader; a peer removed or moved away) moves to a server the stream keeps, with its ack
// state (consumer_follow.h puts it there in the stream's update entry). Both servers apply
// that entry: the old host stops the durable and keeps its final state in memory (no ack is
// taken after that); the new host asks the old one for it over `$NRG.CH.<old host id>`
// (retrying until the old host has applied the entry) and starts the durable from it. The
// new host persists it as any durable, so its own restart finds it. When the old host does
// not answer within kAdoptTimeout (it is down), the durable starts afresh from its deliver
// policy, as an R1 consumer whose server is lost. While a durable is being adopted its new
// host leaves CONSUMER.INFO unanswered (clients retry) rather than say "not found".
#include <chrono>
#include <memory>
#include <string>

namespace nats::jetstream {

class JetStream;
class Stream;
struct ConsumerAssignment;

namespace r1_handoff {

constexpr auto kAdoptTimeout = std::chrono::seconds(10);

// The old host: stops the durable `name` of `stream` (deleting its files) and keeps its
// state for the new host (for a minute).
void release(JetStream& js, const std::shared_ptr<Stream>& stream, const std::string& name);
// The new host: fetches the state from `from_id`'s server and starts the durable of `ca`
// on the local stream (unless it already runs here, as after a restart).
void adopt(JetStream& js, const ConsumerAssignment& ca, const std::string& from_id);
// True while adopt() waits for the state of that durable.
bool adopting(JetStream& js, const std::string& account, const std::string& stream, const std::string& name);

}  // namespace r1_handoff
}  // namespace nats::jetstream
