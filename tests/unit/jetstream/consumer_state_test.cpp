#include <gtest/gtest.h>

#include "jetstream/consumer_state.h"
#include "jetstream/store/memory_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

namespace {
constexpr int64_t kSec = 1'000'000'000;

ConsumerConfig cfg_with(AckPolicy ack, std::string filter = "") {
  ConsumerConfig c;
  c.durable_name = "D";
  c.ack_policy = ack;
  c.filter_subject = std::move(filter);
  apply_consumer_defaults(c);
  return c;
}

void fill(MemoryStore& ms, int n, const char* subj = "s.a") {
  for (int i = 0; i < n; ++i) ms.store_msg(subj, "", "m" + std::to_string(i));
}
}  // namespace

TEST(ConsumerState, DeliversInOrderAndCountsPending) {
  MemoryStore ms;
  fill(ms, 5);
  ConsumerState cs(cfg_with(AckPolicy::explicit_ack), ms);
  cs.init_start(0);
  EXPECT_EQ(cs.num_pending(), 5u);
  for (uint64_t i = 1; i <= 5; ++i) {
    auto d = cs.next(0);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->msg.seq, i);
    EXPECT_EQ(d->cseq, i);
    EXPECT_EQ(d->dc, 1u);
    EXPECT_EQ(d->pending, 5 - i);
  }
  EXPECT_FALSE(cs.next(0));
  EXPECT_EQ(cs.num_ack_pending(), 5u);
  EXPECT_EQ(cs.delivered_sseq(), 5u);
  EXPECT_EQ(cs.num_pending(), 0u);
  ms.store_msg("s.a", "", "late");
  cs.on_new_message(6, "s.a");
  EXPECT_EQ(cs.num_pending(), 1u);
}

TEST(ConsumerState, ExplicitAckMovesFloor) {
  MemoryStore ms;
  fill(ms, 3);
  ConsumerState cs(cfg_with(AckPolicy::explicit_ack), ms);
  cs.init_start(0);
  for (int i = 0; i < 3; ++i) cs.next(0);
  EXPECT_TRUE(cs.ack(2, 2));
  EXPECT_EQ(cs.ack_floor_sseq(), 0u);  // 1 still pending
  EXPECT_FALSE(cs.ack(2, 2));          // duplicate
  EXPECT_TRUE(cs.ack(1, 1));
  EXPECT_EQ(cs.ack_floor_sseq(), 2u);
  EXPECT_EQ(cs.ack_floor_cseq(), 2u);
  EXPECT_TRUE(cs.ack(3, 3));
  EXPECT_EQ(cs.ack_floor_sseq(), 3u);
  EXPECT_EQ(cs.num_ack_pending(), 0u);
}

TEST(ConsumerState, AckAllAcksEverythingBelow) {
  MemoryStore ms;
  fill(ms, 4);
  ConsumerState cs(cfg_with(AckPolicy::all), ms);
  cs.init_start(0);
  for (int i = 0; i < 4; ++i) cs.next(0);
  EXPECT_TRUE(cs.ack(3, 3));
  EXPECT_EQ(cs.num_ack_pending(), 1u);
  EXPECT_EQ(cs.ack_floor_sseq(), 3u);
  EXPECT_FALSE(cs.ack(2, 2));
}

TEST(ConsumerState, AckNoneAdvancesFloorOnDelivery) {
  MemoryStore ms;
  fill(ms, 2);
  ConsumerState cs(cfg_with(AckPolicy::none), ms);
  cs.init_start(0);
  cs.next(0);
  cs.next(0);
  EXPECT_EQ(cs.num_ack_pending(), 0u);
  EXPECT_EQ(cs.ack_floor_sseq(), 2u);
  EXPECT_EQ(cs.ack_floor_cseq(), 2u);
}

TEST(ConsumerState, RedeliveryAfterAckWaitWithNewConsumerSeq) {
  MemoryStore ms;
  fill(ms, 2);
  auto c = cfg_with(AckPolicy::explicit_ack);
  c.ack_wait_ns = 2 * kSec;
  ConsumerState cs(c, ms);
  cs.init_start(0);
  cs.next(0);
  cs.next(0);
  EXPECT_EQ(cs.check_ack_deadlines(1 * kSec), 2 * kSec);
  EXPECT_FALSE(cs.has_redeliveries());
  cs.ack(2, 2);
  cs.check_ack_deadlines(3 * kSec);
  auto d = cs.next(3 * kSec);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->msg.seq, 1u);
  EXPECT_EQ(d->dc, 2u);
  EXPECT_EQ(d->cseq, 3u);
  EXPECT_EQ(cs.num_redelivered(), 1u);
  EXPECT_FALSE(cs.next(3 * kSec));
  EXPECT_TRUE(cs.ack(1, 3));
  EXPECT_EQ(cs.num_redelivered(), 0u);
  EXPECT_EQ(cs.ack_floor_sseq(), 2u);
}

TEST(ConsumerState, NakImmediateAndDelayed) {
  MemoryStore ms;
  fill(ms, 2);
  ConsumerState cs(cfg_with(AckPolicy::explicit_ack), ms);
  cs.init_start(0);
  cs.next(0);
  cs.next(0);
  cs.nak(1, 1, 0, 0);
  auto d = cs.next(0);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->msg.seq, 1u);
  EXPECT_EQ(d->dc, 2u);
  cs.nak(2, 2, 5 * kSec, 0);
  EXPECT_EQ(cs.check_ack_deadlines(1 * kSec), 5 * kSec);
  EXPECT_FALSE(cs.next(1 * kSec));
  cs.check_ack_deadlines(5 * kSec);
  d = cs.next(5 * kSec);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->msg.seq, 2u);
}

TEST(ConsumerState, BackoffAndMaxDeliver) {
  MemoryStore ms;
  fill(ms, 1);
  auto c = cfg_with(AckPolicy::explicit_ack);
  c.backoff_ns = {1 * kSec, 4 * kSec};
  c.max_deliver = 3;
  apply_consumer_defaults(c);
  ConsumerState cs(c, ms);
  cs.init_start(0);
  cs.next(0);
  EXPECT_EQ(cs.check_ack_deadlines(0), 1 * kSec);
  cs.check_ack_deadlines(1 * kSec);
  auto d = cs.next(1 * kSec);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dc, 2u);
  EXPECT_EQ(cs.check_ack_deadlines(1 * kSec), 5 * kSec);  // second backoff value
  cs.check_ack_deadlines(5 * kSec);
  d = cs.next(5 * kSec);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dc, 3u);
  // max_deliver reached: the next delivery attempt drops it from pending (its redelivery
  // count stays) and reports it once, as the reference's getNextMsg.
  cs.check_ack_deadlines(100 * kSec);
  EXPECT_FALSE(cs.next(100 * kSec));
  EXPECT_EQ(cs.num_ack_pending(), 0u);
  EXPECT_EQ(cs.num_redelivered(), 1u);
  auto exceeded = cs.take_exceeded();
  ASSERT_EQ(exceeded.size(), 1u);
  EXPECT_EQ(exceeded[0], std::make_pair(uint64_t{1}, uint64_t{3}));
  EXPECT_TRUE(cs.take_exceeded().empty());
}

TEST(ConsumerState, MaxAckPendingPausesNewDeliveries) {
  MemoryStore ms;
  fill(ms, 5);
  auto c = cfg_with(AckPolicy::explicit_ack);
  c.max_ack_pending = 2;
  ConsumerState cs(c, ms);
  cs.init_start(0);
  EXPECT_TRUE(cs.next(0));
  EXPECT_TRUE(cs.next(0));
  EXPECT_FALSE(cs.next(0));
  cs.ack(1, 1);
  auto d = cs.next(0);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->msg.seq, 3u);
}

TEST(ConsumerState, FilterAndDeliverPolicies) {
  MemoryStore ms;
  ms.store_msg("s.a", "", "1");
  ms.store_msg("s.b", "", "2");
  ms.store_msg("s.a", "", "3");
  ms.store_msg("s.b", "", "4");
  {
    ConsumerState cs(cfg_with(AckPolicy::none, "s.b"), ms);
    cs.init_start(0);
    EXPECT_EQ(cs.num_pending(), 2u);
    EXPECT_EQ(cs.next(0)->msg.seq, 2u);
    EXPECT_EQ(cs.next(0)->msg.seq, 4u);
    EXPECT_FALSE(cs.next(0));
  }
  {
    auto c = cfg_with(AckPolicy::none);
    c.deliver_policy = DeliverPolicy::last;
    ConsumerState cs(c, ms);
    cs.init_start(0);
    EXPECT_EQ(cs.next(0)->msg.seq, 4u);
  }
  {
    auto c = cfg_with(AckPolicy::none);
    c.deliver_policy = DeliverPolicy::new_msgs;
    ConsumerState cs(c, ms);
    cs.init_start(0);
    EXPECT_EQ(cs.delivered_sseq(), 4u);
    EXPECT_FALSE(cs.next(0));
  }
  {
    auto c = cfg_with(AckPolicy::none);
    c.deliver_policy = DeliverPolicy::by_start_sequence;
    c.opt_start_seq = 3;
    ConsumerState cs(c, ms);
    cs.init_start(0);
    EXPECT_EQ(cs.num_pending(), 2u);
    EXPECT_EQ(cs.next(0)->msg.seq, 3u);
  }
  {
    auto c = cfg_with(AckPolicy::none, "s.*");
    c.deliver_policy = DeliverPolicy::last_per_subject;
    ConsumerState cs(c, ms);
    cs.init_start(0);
    EXPECT_EQ(cs.num_pending(), 2u);
    EXPECT_EQ(cs.next(0)->msg.seq, 3u);
    EXPECT_EQ(cs.next(0)->msg.seq, 4u);
    EXPECT_FALSE(cs.next(0));
  }
}

TEST(ConsumerState, NeedsAckForInterestRetention) {
  MemoryStore ms;
  fill(ms, 3);
  ConsumerState cs(cfg_with(AckPolicy::explicit_ack), ms);
  cs.init_start(0);
  cs.next(0);
  cs.next(0);
  EXPECT_TRUE(cs.needs_ack(1, "s.a"));
  EXPECT_TRUE(cs.needs_ack(3, "s.a"));  // not delivered yet
  cs.ack(1, 1);
  EXPECT_FALSE(cs.needs_ack(1, "s.a"));
  ConsumerState other(cfg_with(AckPolicy::explicit_ack, "s.b"), ms);
  other.init_start(0);
  EXPECT_FALSE(other.needs_ack(2, "s.a"));
}

TEST(ConsumerState, SnapshotRestoreAndPurge) {
  MemoryStore ms;
  fill(ms, 4);
  ConsumerState cs(cfg_with(AckPolicy::explicit_ack), ms);
  cs.init_start(0);
  cs.next(0);
  cs.next(0);
  cs.ack(1, 1);
  ConsumerState back(cfg_with(AckPolicy::explicit_ack), ms);
  back.restore(cs.snapshot());
  EXPECT_EQ(back.delivered_sseq(), 2u);
  EXPECT_EQ(back.ack_floor_sseq(), 1u);
  EXPECT_EQ(back.num_ack_pending(), 1u);
  EXPECT_EQ(back.next(0)->msg.seq, 3u);
  ms.purge();
  back.on_purged(5);
  EXPECT_EQ(back.num_ack_pending(), 0u);
  EXPECT_EQ(back.num_pending(), 0u);
  EXPECT_EQ(back.ack_floor_sseq(), 4u);
}

TEST(ConsumerState, StartPositionsWithoutMatchesAsReference) {
  // 2.9.10: a filter with no match starts at the stream's first sequence, and the ack floor
  // is 0/0 until the first ack whatever the start.
  MemoryStore ms;
  fill(ms, 3, "s.a");
  for (auto dp : {DeliverPolicy::all, DeliverPolicy::last}) {
    auto c = cfg_with(AckPolicy::explicit_ack, "s.b");
    c.deliver_policy = dp;
    ConsumerState cs(c, ms);
    cs.init_start(0);
    EXPECT_EQ(cs.delivered_sseq(), 0u);
    EXPECT_EQ(cs.num_pending(), 0u);
  }
  auto c = cfg_with(AckPolicy::explicit_ack);
  c.deliver_policy = DeliverPolicy::new_msgs;
  ConsumerState cs(c, ms);
  cs.init_start(0);
  EXPECT_EQ(cs.delivered_sseq(), 3u);
  EXPECT_EQ(cs.ack_floor_sseq(), 0u);
}

}  // namespace NATS_TEST_FILE_ID
