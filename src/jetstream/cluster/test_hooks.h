#pragma once
// Test-only entry points into the replication layer, until the meta state machine places
// replicated assets (then the real path is STREAM.CREATE with num_replicas > 1). Enabled
// only when the environment has NATSCPP_TEST_HOOKS=1; otherwise nothing is subscribed.
//
//   `$SYS.TEST.JS.STREAM.START` (system account), body
//     {"account": "$G", "group": "S-R3F-abcdefgh", "servers": ["n1","n2","n3"], "config": {...}}
//   Every server named in "servers" starts its replica of the stream and answers {"ok":true}
//   (or {"error": "..."}).
#include <memory>

namespace nats {
class Server;
}

namespace nats::jetstream {

// Returns a handle that unsubscribes when destroyed (null when hooks are disabled).
std::shared_ptr<void> start_test_hooks(Server& server);

}  // namespace nats::jetstream
