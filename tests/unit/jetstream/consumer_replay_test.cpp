// A replicated consumer's follower replays what its leader did (record_delivery, ack, term,
// set_deadline, set_start): it must reach the leader's state, so a new leader resumes from
// it (cluster/consumer_group.h).
#include <gtest/gtest.h>

#include "jetstream/consumer_state.h"
#include "jetstream/store/memory_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

namespace {
constexpr int64_t kSec = 1'000'000'000;

ConsumerConfig explicit_cfg() {
  ConsumerConfig c;
  c.durable_name = "D";
  c.ack_policy = AckPolicy::explicit_ack;
  c.ack_wait_ns = 2 * kSec;
  apply_consumer_defaults(c);
  return c;
}

void expect_same(const ConsumerSnapshot& a, const ConsumerSnapshot& b) {
  EXPECT_EQ(a.delivered_cseq, b.delivered_cseq);
  EXPECT_EQ(a.delivered_sseq, b.delivered_sseq);
  EXPECT_EQ(a.ack_floor_cseq, b.ack_floor_cseq);
  EXPECT_EQ(a.ack_floor_sseq, b.ack_floor_sseq);
  ASSERT_EQ(a.pending.size(), b.pending.size());
  for (auto& [seq, p] : a.pending) {
    ASSERT_TRUE(b.pending.count(seq)) << seq;
    EXPECT_EQ(p.cseq, b.pending.at(seq).cseq) << seq;
    EXPECT_EQ(p.deadline, b.pending.at(seq).deadline) << seq;
  }
  EXPECT_EQ(a.redelivered, b.redelivered);
}
}  // namespace

TEST(ConsumerReplay, FollowerReachesTheLeadersState) {
  MemoryStore ms;
  for (int i = 0; i < 6; ++i) ms.store_msg("s.a", "", "m");
  ConsumerState leader(explicit_cfg(), ms), follower(explicit_cfg(), ms);
  leader.init_start(0);
  follower.set_start(leader.delivered_sseq() + 1);
  for (int64_t t = 1; t <= 5; ++t) {
    auto d = leader.next(t);
    ASSERT_TRUE(d);
    follower.record_delivery(d->msg.seq, d->cseq, d->dc, t);
  }
  leader.ack(1, 1);
  follower.ack(1, 1);
  leader.term(3, 3);
  follower.term(3, 3);
  leader.nak(2, 2, kSec, 10);
  follower.set_deadline(2, 10 + kSec);
  // 4's ack deadline passes: redelivered with delivery count 2.
  leader.check_ack_deadlines(5 * kSec);
  bool seen4 = false;
  while (auto d = leader.next(5 * kSec)) {
    follower.record_delivery(d->msg.seq, d->cseq, d->dc, 5 * kSec);
    if (d->msg.seq == 4) seen4 = d->dc == 2;
  }
  EXPECT_TRUE(seen4);
  expect_same(leader.snapshot(), follower.snapshot());
  EXPECT_EQ(follower.ack_floor_sseq(), 1u);
  EXPECT_EQ(follower.delivery_count(4), 2u);

  // A new leader restored from the follower continues after the last delivery.
  ConsumerState next(explicit_cfg(), ms);
  next.restore(follower.snapshot());
  ms.store_msg("s.a", "", "late");
  auto d = next.next(6 * kSec);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->msg.seq, 7u);
}

TEST(ConsumerReplay, StartIsKeptOnlyBeforeTheFirstDeliveryAndOldEntriesAreSkipped) {
  MemoryStore ms;
  for (int i = 0; i < 4; ++i) ms.store_msg("s.a", "", "m");
  ConsumerState st(explicit_cfg(), ms);
  st.set_start(3);  // e.g. deliver_policy new, chosen by the first leader
  EXPECT_EQ(st.delivered_sseq(), 2u);
  st.record_delivery(3, 1, 1, 0);
  st.set_start(1);  // a second start after a delivery changes nothing
  EXPECT_EQ(st.delivered_sseq(), 3u);
  st.ack(3, 1);
  EXPECT_EQ(st.ack_floor_cseq(), 1u);
  st.record_delivery(3, 1, 1, 0);  // replayed below the ack floor: ignored
  EXPECT_EQ(st.num_ack_pending(), 0u);
}

}  // namespace NATS_TEST_FILE_ID
