#include <gtest/gtest.h>

#include "jetstream/store/memory_store.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

namespace {
struct ManualClock {
  int64_t now = 1'000'000'000'000;
  StoreClock fn() { return [this] { return now; }; }
};
constexpr int64_t kSec = 1'000'000'000;
}  // namespace

TEST(MemoryStore, SizeAccountingMatchesReference) {
  EXPECT_EQ(store_msg_size(3, 0, 5), 24u);
  MemoryStore ms;
  ms.store_msg("foo", "", "hello");
  ms.store_msg("foo.bar", "NATS/1.0\r\n\r\n", "");
  auto st = ms.state();
  EXPECT_EQ(st.bytes, 24u + (7 + 12 + 16));
}

TEST(MemoryStore, StoreAndLoad) {
  ManualClock clk;
  MemoryStore ms({}, clk.fn());
  auto r1 = ms.store_msg("a", "h", "p1");
  ASSERT_EQ(r1.err, StoreErr::ok);
  EXPECT_EQ(r1.seq, 1u);
  EXPECT_EQ(r1.ts, clk.now);
  clk.now += 5;
  auto r2 = ms.store_msg("b", "", "p2");
  EXPECT_EQ(r2.seq, 2u);
  EXPECT_EQ(r2.ts, clk.now);
  // A stalled clock still yields increasing timestamps.
  auto r3 = ms.store_msg("b", "", "p3");
  EXPECT_EQ(r3.ts, clk.now + 1);

  StoredMsg m;
  ASSERT_EQ(ms.load_msg(1, m), StoreErr::ok);
  EXPECT_EQ(m.subject, "a");
  EXPECT_EQ(m.headers, "h");
  EXPECT_EQ(m.payload, "p1");
  EXPECT_EQ(m.seq, 1u);
  EXPECT_EQ(ms.load_msg(4, m), StoreErr::eof);
  EXPECT_EQ(ms.load_msg(0, m), StoreErr::not_found);

  auto st = ms.state();
  EXPECT_EQ(st.msgs, 3u);
  EXPECT_EQ(st.first_seq, 1u);
  EXPECT_EQ(st.last_seq, 3u);
  EXPECT_EQ(st.first_ts, r1.ts);
  EXPECT_EQ(st.last_ts, r3.ts);
  EXPECT_EQ(st.num_subjects, 2u);
  EXPECT_EQ(st.num_deleted, 0u);
}

TEST(MemoryStore, LoadNextAndLast) {
  MemoryStore ms;
  ms.store_msg("orders.new", "", "1");   // 1
  ms.store_msg("orders.paid", "", "2");  // 2
  ms.store_msg("users.x", "", "3");      // 3
  ms.store_msg("orders.new", "", "4");   // 4
  StoredMsg m;
  ASSERT_EQ(ms.load_next_msg("orders.*", 2, m), StoreErr::ok);
  EXPECT_EQ(m.seq, 2u);
  ASSERT_EQ(ms.load_next_msg("users.>", 1, m), StoreErr::ok);
  EXPECT_EQ(m.seq, 3u);
  ASSERT_EQ(ms.load_next_msg("orders.new", 2, m), StoreErr::ok);
  EXPECT_EQ(m.seq, 4u);
  ASSERT_EQ(ms.load_next_msg("", 0, m), StoreErr::ok);
  EXPECT_EQ(m.seq, 1u);
  EXPECT_EQ(ms.load_next_msg("users.>", 4, m), StoreErr::eof);
  EXPECT_EQ(ms.load_next_msg(">", 5, m), StoreErr::eof);

  ASSERT_EQ(ms.load_last_msg("orders.new", m), StoreErr::ok);
  EXPECT_EQ(m.seq, 4u);
  ASSERT_EQ(ms.load_last_msg("orders.paid", m), StoreErr::ok);
  EXPECT_EQ(m.seq, 2u);
  ASSERT_EQ(ms.load_last_msg("users.*", m), StoreErr::ok);
  EXPECT_EQ(m.seq, 3u);
  ASSERT_EQ(ms.load_last_msg("", m), StoreErr::ok);
  EXPECT_EQ(m.seq, 4u);
  EXPECT_EQ(ms.load_last_msg("nope", m), StoreErr::not_found);
}

TEST(MemoryStore, RemoveTracksDeletedAndFirst) {
  MemoryStore ms;
  for (int i = 0; i < 5; ++i) ms.store_msg("s", "", "x");
  EXPECT_EQ(ms.remove_msg(3), StoreErr::ok);
  EXPECT_EQ(ms.remove_msg(3), StoreErr::not_found);
  EXPECT_EQ(ms.remove_msg(9), StoreErr::eof);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 4u);
  EXPECT_EQ(st.num_deleted, 1u);
  EXPECT_EQ(st.deleted, std::vector<uint64_t>{3});
  EXPECT_EQ(ms.erase_msg(1), StoreErr::ok);
  ms.remove_msg(2);
  st = ms.state();
  EXPECT_EQ(st.first_seq, 4u);
  EXPECT_EQ(st.num_deleted, 0u);
  StoredMsg m;
  EXPECT_EQ(ms.load_msg(2, m), StoreErr::not_found);
  ms.remove_msg(4);
  ms.remove_msg(5);
  st = ms.state();
  EXPECT_EQ(st.msgs, 0u);
  EXPECT_EQ(st.bytes, 0u);
  EXPECT_EQ(st.first_seq, 6u);
  EXPECT_EQ(st.last_seq, 5u);
  EXPECT_EQ(st.first_ts, 0);
  EXPECT_EQ(ms.store_msg("s", "", "").seq, 6u);
}

TEST(MemoryStore, PurgeAll) {
  MemoryStore ms;
  for (int i = 0; i < 10; ++i) ms.store_msg("s", "", "x");
  EXPECT_EQ(ms.purge(), 10u);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 0u);
  EXPECT_EQ(st.first_seq, 11u);
  EXPECT_EQ(st.last_seq, 10u);
  EXPECT_EQ(ms.store_msg("s", "", "x").seq, 11u);
  EXPECT_EQ(ms.state().first_seq, 11u);
}

TEST(MemoryStore, PurgeKeepAndSeq) {
  MemoryStore ms;
  for (int i = 0; i < 10; ++i) ms.store_msg("s", "", "x");
  EXPECT_EQ(ms.purge("", 0, 3), 7u);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 3u);
  EXPECT_EQ(st.first_seq, 8u);
  EXPECT_EQ(ms.purge("", 0, 5), 0u);
  EXPECT_EQ(ms.purge("", 9), 1u);  // below seq 9
  EXPECT_EQ(ms.state().first_seq, 9u);
}

TEST(MemoryStore, PurgeSubject) {
  MemoryStore ms;
  for (int i = 0; i < 6; ++i) ms.store_msg(i % 2 ? "b" : "a", "", "x");  // a:1,3,5 b:2,4,6
  EXPECT_EQ(ms.purge("a", 0, 1), 2u);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 4u);
  EXPECT_EQ(st.first_seq, 2u);
  EXPECT_EQ(st.deleted, std::vector<uint64_t>{3});
  EXPECT_EQ(ms.purge("b", 5), 2u);  // 2 and 4, not 6
  auto ss = ms.subjects_state(">");
  ASSERT_EQ(ss.size(), 2u);
  EXPECT_EQ(ss["b"].msgs, 1u);
  EXPECT_EQ(ss["b"].first, 6u);
  EXPECT_EQ(ss["a"].first, 5u);
  EXPECT_EQ(ms.purge("*"), 2u);
  EXPECT_EQ(ms.state().msgs, 0u);
}

TEST(MemoryStore, Compact) {
  MemoryStore ms;
  for (int i = 0; i < 10; ++i) ms.store_msg("s", "", "x");
  EXPECT_EQ(ms.compact(5), 4u);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 6u);
  EXPECT_EQ(st.first_seq, 5u);
  EXPECT_EQ(st.last_seq, 10u);
  EXPECT_EQ(st.bytes, 6 * store_msg_size(1, 0, 1));
  // Past the end: stream restarts at that sequence.
  EXPECT_EQ(ms.compact(100), 6u);
  st = ms.state();
  EXPECT_EQ(st.first_seq, 100u);
  EXPECT_EQ(st.last_seq, 99u);
  EXPECT_EQ(ms.store_msg("s", "", "x").seq, 100u);
}

TEST(MemoryStore, SubjectsState) {
  MemoryStore ms;
  ms.store_msg("a.1", "", "");
  ms.store_msg("a.2", "", "");
  ms.store_msg("a.1", "", "");
  ms.store_msg("b.1", "", "");
  auto ss = ms.subjects_state("a.*");
  ASSERT_EQ(ss.size(), 2u);
  EXPECT_EQ(ss["a.1"].msgs, 2u);
  EXPECT_EQ(ss["a.1"].first, 1u);
  EXPECT_EQ(ss["a.1"].last, 3u);
  EXPECT_EQ(ss["a.2"].msgs, 1u);
  EXPECT_EQ(ms.subjects_state("").size(), 3u);
  EXPECT_EQ(ms.subjects_state("b.1").size(), 1u);
}

TEST(MemoryStore, MaxMsgsDiscardOld) {
  StoreLimits lim;
  lim.max_msgs = 3;
  MemoryStore ms(lim);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(ms.store_msg("s", "", "x").err, StoreErr::ok);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 3u);
  EXPECT_EQ(st.first_seq, 3u);
  EXPECT_EQ(st.last_seq, 5u);
}

TEST(MemoryStore, MaxMsgsDiscardNew) {
  StoreLimits lim;
  lim.max_msgs = 2;
  lim.discard = DiscardPolicy::new_msgs;
  MemoryStore ms(lim);
  ms.store_msg("s", "", "x");
  ms.store_msg("s", "", "x");
  auto r = ms.store_msg("s", "", "x");
  EXPECT_EQ(r.err, StoreErr::max_msgs);
  EXPECT_STREQ(store_err_text(r.err), "maximum messages exceeded");
  EXPECT_EQ(ms.state().last_seq, 2u);
  ms.remove_msg(1);
  EXPECT_EQ(ms.store_msg("s", "", "x").seq, 3u);
}

TEST(MemoryStore, MaxBytes) {
  StoreLimits lim;
  uint64_t one = store_msg_size(1, 0, 10);  // 27
  lim.max_bytes = one * 2 + 5;
  MemoryStore old_ms(lim);
  for (int i = 0; i < 4; ++i) old_ms.store_msg("s", "", "0123456789");
  auto st = old_ms.state();
  EXPECT_EQ(st.msgs, 2u);
  EXPECT_EQ(st.bytes, one * 2);
  EXPECT_EQ(st.first_seq, 3u);

  lim.discard = DiscardPolicy::new_msgs;
  MemoryStore new_ms(lim);
  new_ms.store_msg("s", "", "0123456789");
  new_ms.store_msg("s", "", "0123456789");
  auto r = new_ms.store_msg("s", "", "0123456789");
  EXPECT_EQ(r.err, StoreErr::max_bytes);
  EXPECT_STREQ(store_err_text(r.err), "maximum bytes exceeded");
  // Even the smallest message (17 bytes) would take it past 59.
  EXPECT_EQ(new_ms.store_msg("s", "", "").err, StoreErr::max_bytes);
  new_ms.remove_msg(1);
  EXPECT_EQ(new_ms.store_msg("s", "", "0123456789").seq, 3u);
}

TEST(MemoryStore, DiscardNewBytesRejectsAtExactLimit) {
  StoreLimits lim;
  lim.discard = DiscardPolicy::new_msgs;
  lim.max_bytes = store_msg_size(1, 0, 4) * 2;  // two 4-byte messages would fill it exactly
  MemoryStore ms(lim);
  EXPECT_EQ(ms.store_msg("s", "", "1234").err, StoreErr::ok);
  EXPECT_EQ(ms.store_msg("s", "", "1234").err, StoreErr::max_bytes);
  EXPECT_EQ(ms.store_msg("s", "", "123").err, StoreErr::ok);
}

TEST(MemoryStore, DiscardNewAtSubjectLimitReplaces) {
  StoreLimits lim;
  lim.discard = DiscardPolicy::new_msgs;
  lim.max_msgs = 2;
  lim.max_msgs_per_subject = 1;
  MemoryStore ms(lim);
  ms.store_msg("a", "", "1");
  ms.store_msg("b", "", "2");
  EXPECT_EQ(ms.store_msg("c", "", "3").err, StoreErr::max_msgs);
  // "a" is at its subject limit: the new one replaces the old, so it is accepted.
  auto r = ms.store_msg("a", "", "4");
  EXPECT_EQ(r.err, StoreErr::ok);
  EXPECT_EQ(r.seq, 3u);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 2u);
  EXPECT_EQ(st.first_seq, 2u);
}

TEST(MemoryStore, MaxMsgSize) {
  StoreLimits lim;
  lim.max_msg_size = 8;
  MemoryStore ms(lim);
  EXPECT_EQ(ms.store_msg("a.long.subject", "hdr", "12345").err, StoreErr::ok);
  auto r = ms.store_msg("s", "hdr", "123456");
  EXPECT_EQ(r.err, StoreErr::msg_too_large);
  EXPECT_STREQ(store_err_text(r.err), "message size exceeds maximum allowed");
  EXPECT_EQ(ms.state().msgs, 1u);
}

TEST(MemoryStore, MaxMsgsPerSubject) {
  StoreLimits lim;
  lim.max_msgs_per_subject = 2;
  MemoryStore ms(lim);
  for (int i = 0; i < 4; ++i) ms.store_msg("k.a", "", std::to_string(i));  // 1..4
  ms.store_msg("k.b", "", "b");                                             // 5
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 3u);
  EXPECT_EQ(st.first_seq, 3u);
  StoredMsg m;
  ASSERT_EQ(ms.load_last_msg("k.a", m), StoreErr::ok);
  EXPECT_EQ(m.payload, "3");
  auto ss = ms.subjects_state("k.a");
  EXPECT_EQ(ss["k.a"].msgs, 2u);
  EXPECT_EQ(ss["k.a"].first, 3u);

  lim.discard = DiscardPolicy::new_msgs;
  lim.discard_new_per_subject = true;
  MemoryStore ms2(lim);
  ms2.store_msg("x", "", "");
  ms2.store_msg("x", "", "");
  EXPECT_EQ(ms2.store_msg("x", "", "").err, StoreErr::max_msgs_per_subject);
  EXPECT_EQ(ms2.store_msg("y", "", "").seq, 3u);
}

TEST(MemoryStore, MaxAgeWithInjectedClock) {
  ManualClock clk;
  StoreLimits lim;
  lim.max_age_ns = 10 * kSec;
  MemoryStore ms(lim, clk.fn());
  ms.store_msg("s", "", "1");
  clk.now += 4 * kSec;
  ms.store_msg("s", "", "2");
  clk.now += 4 * kSec;
  ms.store_msg("s", "", "3");
  EXPECT_EQ(ms.state().msgs, 3u);
  clk.now += 3 * kSec;  // msg 1 is 11s old
  ms.expire_msgs();
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 2u);
  EXPECT_EQ(st.first_seq, 2u);
  clk.now += 20 * kSec;
  ms.expire_msgs();
  st = ms.state();
  EXPECT_EQ(st.msgs, 0u);
  EXPECT_EQ(st.first_seq, 4u);
  EXPECT_EQ(st.last_seq, 3u);
}

TEST(MemoryStore, PerMessageTtl) {
  ManualClock clk;
  MemoryStore ms({}, clk.fn());
  ms.store_msg("s", "", "1", 2 * kSec);
  ms.store_msg("s", "", "2");
  clk.now += kSec;
  ms.expire_msgs();
  EXPECT_EQ(ms.state().msgs, 2u);
  clk.now += kSec;
  ms.expire_msgs();
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 1u);
  EXPECT_EQ(st.first_seq, 2u);
}

TEST(MemoryStore, UpdateLimitsEnforcesImmediately) {
  MemoryStore ms;
  for (int i = 0; i < 10; ++i) ms.store_msg("s", "", "x");
  StoreLimits lim;
  lim.max_msgs = 4;
  ms.update_limits(lim);
  auto st = ms.state();
  EXPECT_EQ(st.msgs, 4u);
  EXPECT_EQ(st.first_seq, 7u);
}

}  // namespace NATS_TEST_FILE_ID
