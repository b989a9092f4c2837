#pragma once
// Test-only subjects for the replication fault tests. Enabled only when the environment has
// NATSCPP_TEST_HOOKS=1 (which also makes stream logs compact every 200 entries); otherwise
// nothing is subscribed.
//
//   `$SYS.TEST.JS.STREAM.STATUS`, body {"account": "$G", "stream": "ORDERS", "ids": true}
//   Every replica answers with its role, leader, store state, catching_up, Raft log position
//   (raft {snapshot_index, last_index, commit}) and (ids) stored Nats-Msg-Ids.
//   `$SYS.TEST.NRG.BLOCK`, body {"server": "s1", "peers": ["s2","s3"]}
//   Server s1 drops all Raft traffic from and to those servers (a partition of the Raft
//   transport only); an empty list heals it.
//   `$SYS.TEST.JS.CATCHUP.PAUSE`, body {"server": "s1", "paused": true}
//   Server s1's stream leaders leave catch-up requests unanswered until unpaused.
#include <memory>

namespace nats {
class Server;
}

namespace nats::jetstream {

// Returns a handle that unsubscribes when destroyed (null when hooks are disabled).
std::shared_ptr<void> start_test_hooks(Server& server);

}  // namespace nats::jetstream
