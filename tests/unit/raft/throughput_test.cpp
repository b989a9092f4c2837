// The leader's cost per proposal when many small proposals arrive in bursts: how many
// messages and how much CPU per committed entry (printed; the assertions only bound message
// counts, which are deterministic, never time).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "raft/raft_node.h"
#include "simulator.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::raft::NATS_TEST_FILE_ID {
namespace {

using sim::NetConfig;
using sim::Simulator;

// Proposes kBursts bursts of kBurst entries (one burst per tick) and waits until all three
// nodes applied them. Returns messages per proposal.
double run_bursts(const char* label, NetConfig net, size_t batch) {
  Simulator s(3, 44, net);
  s.set_append_batch(batch);
  s.run(60);
  EXPECT_GE(s.leader(), 0);
  const int kBursts = 200, kBurst = 100;
  std::vector<std::string> burst;
  for (int i = 0; i < kBurst; ++i) burst.push_back("m" + std::to_string(i));
  uint64_t sent_before = s.messages_sent();
  size_t applied_before = s.applied(s.leader()).size();
  auto start = std::chrono::steady_clock::now();
  size_t accepted = 0;
  for (int b = 0; b < kBursts; ++b) {
    accepted += s.propose_burst(burst);
    s.run_tick();
  }
  auto caught_up = [&] {
    for (int i = 0; i < 3; ++i)
      if (s.applied(i).size() < applied_before + accepted) return false;
    return true;
  };
  int extra = 0;
  for (; extra < 5000 && !caught_up(); ++extra) s.run_tick();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(accepted, static_cast<size_t>(kBursts * kBurst));
  EXPECT_TRUE(caught_up()) << label;
  double msgs = static_cast<double>(s.messages_sent() - sent_before) / static_cast<double>(accepted);
  std::printf("raft throughput (%s): %zu proposals in bursts of %d over %d+%d ticks, 3 nodes: %.3f messages and "
              "%.2f us (whole simulated cluster) per proposal\n",
              label, accepted, kBurst, kBursts, extra, msgs, secs * 1e6 / static_cast<double>(accepted));
  for (const auto& v : s.violations) ADD_FAILURE() << v;
  return msgs;
}

TEST(RaftThroughput, BurstsOfSmallProposalsShareAppends) {
  // In-order delivery (one TCP route between two servers): appends batch a burst, pipelining
  // keeps them flowing, and no rejection forces a resend.
  EXPECT_LT(run_bursts("fifo links, 64/append", NetConfig{0, 1, 3, 0, true}, 64), 0.2);
  // Reordering (delays 1-3 ticks): later appends overtake earlier ones and are rejected; the
  // leader must fall back to probing once, not resend per rejection.
  EXPECT_LT(run_bursts("reordering, 64/append", NetConfig{0, 1, 3, 0}, 64), 2.0);
  EXPECT_LT(run_bursts("reordering, 8/append", NetConfig{0, 1, 3, 0}, 8), 4.0);
}

TEST(RaftThroughput, LeaderWorkPerProposal) {
  // The leader alone, acks fed by hand: the CPU cost of propose + drain + ack + commit per
  // entry, without any simulator overhead.
  Config c;
  c.id = "A";
  c.peers = {"A", "B", "C"};
  RaftNode a(c);
  a.campaign_now();
  a.step(Message{"B", "A", VoteResponse{1, true, true}});
  a.step(Message{"B", "A", VoteResponse{1, true, false}});
  ASSERT_EQ(a.role(), Role::kLeader);
  a.get_output();
  for (const char* p : {"B", "C"}) a.step(Message{p, "A", AppendResponse{1, true, a.last_index()}});
  a.get_output();
  const int kBursts = 2000, kBurst = 100;
  size_t messages = 0, committed = 0;
  auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < kBursts; ++b) {
    for (int i = 0; i < kBurst; ++i) a.propose("payload-of-a-small-message");
    Output out = a.get_output();
    messages += out.messages.size();
    for (const char* p : {"B", "C"}) a.step(Message{p, "A", AppendResponse{1, true, a.last_index()}});
    out = a.get_output();
    messages += out.messages.size();
    committed += out.committed.size();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(committed, static_cast<size_t>(kBursts * kBurst));
  std::printf("raft leader: %d proposals in bursts of %d, 2 followers: %.0f ns and %.3f messages per proposal\n",
              kBursts * kBurst, kBurst, secs * 1e9 / (kBursts * kBurst),
              static_cast<double>(messages) / (kBursts * kBurst));
  EXPECT_LE(messages, static_cast<size_t>(kBursts) * 2 * 2);  // two appends of 64 per follower per burst
}

}  // namespace
}  // namespace nats::raft::NATS_TEST_FILE_ID
