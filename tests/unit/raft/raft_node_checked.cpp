// The Raft core compiled once more into unit_raft with assertions on, even in Release builds:
// the simulator then also trips the core's internal invariants (asserts), not only the safety
// properties it checks from outside. These definitions take precedence over natscore's copy,
// whose object file the linker then never pulls from the archive.
#undef NDEBUG
#include "../../../src/raft/raft_membership.cpp"
#include "../../../src/raft/raft_node.cpp"
#include "../../../src/raft/raft_replication.cpp"
