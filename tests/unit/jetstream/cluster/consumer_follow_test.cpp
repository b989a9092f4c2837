// Consumers follow their stream's peer changes through the stream's update entry: which ones
// move and where (consumer_follow.h), and that applying, encoding and snapshots keep it.
#include "jetstream/cluster/consumer_follow.h"

#include <gtest/gtest.h>

#include "jetstream/cluster/meta_state.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

using Peers = std::vector<std::string>;

StreamAssignment r3_stream() {
  StreamAssignment sa;
  sa.account = "$G";
  sa.config.name = "S";
  sa.config.subjects = {"s.>"};
  sa.config.num_replicas = 3;
  sa.group = {"S-R3F-abc", {"p1", "p2", "p3"}, "file", "east", "p1"};
  return sa;
}

ConsumerAssignment consumer(const std::string& name, Peers peers) {
  ConsumerAssignment ca;
  ca.account = "$G";
  ca.stream = "S";
  ca.name = name;
  ca.config.durable_name = name;
  ca.group = {"C-R" + std::to_string(peers.size()) + "F-" + name, std::move(peers), "file", "east", "p1"};
  return ca;
}

StreamAssignment with_consumers() {
  auto sa = r3_stream();
  for (auto ca : {consumer("full", {"p1", "p2", "p3"}), consumer("two", {"p1", "p3"}), consumer("one", {"p2"})})
    sa.consumers[ca.name] = ca;
  return sa;
}

TEST(ConsumerFollow, PeerReplacedMovesTheConsumersOnIt) {
  auto moved = consumers_following(with_consumers(), {"p1", "p4", "p3"}, false);
  ASSERT_EQ(moved.size(), 2u);  // "two" keeps p1 and p3
  EXPECT_EQ(moved.at("full").group.peers, (Peers{"p1", "p4", "p3"}));
  // The R1 durable on p2 goes to the first peer that stays (it has the messages).
  EXPECT_EQ(moved.at("one").group.peers, (Peers{"p1"}));
  EXPECT_EQ(moved.at("one").group.name, "C-R1F-one");
  EXPECT_EQ(moved.at("full").group.name, "C-R3F-full");
  EXPECT_TRUE(moved.at("full").group.preferred.empty());
}

TEST(ConsumerFollow, FewerReplicasKeepWhatStaysAndFillFromTheNewPeers) {
  auto moved = consumers_following(with_consumers(), {"p4", "p5", "p3"}, false);
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved.at("full").group.peers, (Peers{"p4", "p5", "p3"}));
  EXPECT_EQ(moved.at("two").group.peers, (Peers{"p3", "p4"}));
  EXPECT_EQ(moved.at("one").group.peers, (Peers{"p3"}));
}

TEST(ConsumerFollow, ReplicaChangeGivesEveryConsumerWhoseServerStaysTheStreamsPeers) {
  const Peers five{"p1", "p2", "p3", "p4", "p5"};
  auto moved = consumers_following(with_consumers(), five, true);
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved.at("two").group.peers, five);
  EXPECT_EQ(moved.at("one").group.peers, five);  // p2 stays: it seeds the new group
  // Down to R1 on p1: the replicated ones come along, and the R1 durable on p2 moves there
  // (its state handed over, r1_handoff.h).
  moved = consumers_following(with_consumers(), {"p1"}, true);
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved.at("full").group.peers, (Peers{"p1"}));
  EXPECT_EQ(moved.at("one").group.peers, (Peers{"p1"}));
  // An R1 ephemeral there does not move.
  auto eph = with_consumers();
  eph.consumers.at("one").config.durable_name.clear();
  EXPECT_EQ(consumers_following(eph, {"p1"}, true).count("one"), 0u);
  EXPECT_EQ(moved.at("full").group.name, "C-R3F-full");
  EXPECT_TRUE(consumers_following(r3_stream(), {"p1"}, true).empty());
}

TEST(ConsumerFollow, AnR1DurableScaledUpStartsAGroupOfANewName) {
  // The R3 durable scaled down to R1 keeps its group's name; scaled up again it must not
  // meet the log its R3 group left on the server that kept it: a new name (and each time).
  auto sa = with_consumers();
  sa.consumers.at("full").group.peers = {"p1"};
  auto up = consumers_following(sa, {"p1", "p2", "p3"}, true);
  ASSERT_EQ(up.count("full"), 1u);
  const std::string name = up.at("full").group.name;
  EXPECT_NE(name, "C-R3F-full");
  EXPECT_EQ(name.substr(0, 6), "C-R3F-") << name;
  EXPECT_EQ(name.size(), 6u + 8u) << name;  // an 8-char id
  EXPECT_EQ(up.at("full").group.peers, (Peers{"p1", "p2", "p3"}));
  EXPECT_NE(consumers_following(sa, {"p1", "p2", "p3"}, true).at("full").group.name, name);
  // A memory one keeps its storage letter; replicated ones that change peers keep their name.
  sa.consumers.at("full").group.storage = "memory";
  EXPECT_EQ(consumers_following(sa, {"p1", "p2", "p3"}, true).at("full").group.name.substr(0, 6), "C-R3M-");
  EXPECT_EQ(up.at("two").group.name, "C-R2F-two");
  // An R1 durable moving R1 to another server keeps its name (no group to meet).
  auto moved = consumers_following(with_consumers(), {"p1", "p4", "p3"}, false);
  EXPECT_EQ(moved.at("one").group.name, "C-R1F-one");
}

TEST(ConsumerFollow, TheStreamUpdateEntryCarriesTheConsumersThroughEncodingApplyAndSnapshot) {
  MetaState st;
  auto sa = r3_stream();
  ASSERT_TRUE(st.apply({MetaOp::assign_stream, sa, std::nullopt, {}}).rejected.empty());
  for (auto ca : with_consumers().consumers)
    ASSERT_TRUE(st.apply({MetaOp::assign_consumer, std::nullopt, ca.second, {}}).rejected.empty());

  StreamAssignment next = *st.stream("$G", "S");
  next.group.peers = {"p1", "p4", "p3"};
  next.consumers = consumers_following(*st.stream("$G", "S"), next.group.peers, false);
  // A consumer deleted and created again meanwhile (new group) is not touched.
  ConsumerAssignment stale = consumer("gone", {"p1", "p2", "p3"});
  stale.group.peers = {"p1", "p4", "p3"};
  next.consumers["gone"] = stale;
  ConsumerAssignment again = consumer("gone", {"p1", "p2", "p3"});
  again.group.name = "C-R3F-new";
  ASSERT_TRUE(st.apply({MetaOp::assign_consumer, std::nullopt, again, {}}).rejected.empty());

  auto e = decode_meta_entry(encode_meta_entry({MetaOp::update_stream, next, std::nullopt, {}}));
  ASSERT_TRUE(e && e->stream);
  auto ch = st.apply(*e);
  ASSERT_TRUE(ch.rejected.empty());
  EXPECT_EQ(ch.stream_before->consumers.at("full").group.peers, (Peers{"p1", "p2", "p3"}));
  EXPECT_EQ(ch.stream_after->consumers.at("full").group.peers, (Peers{"p1", "p4", "p3"}));
  EXPECT_EQ(st.consumer("$G", "S", "two")->group.peers, (Peers{"p1", "p3"}));
  EXPECT_EQ(st.consumer("$G", "S", "one")->group.peers, (Peers{"p1"}));
  EXPECT_EQ(st.consumer("$G", "S", "gone")->group.peers, (Peers{"p1", "p2", "p3"}));

  MetaState restored;
  ASSERT_TRUE(restored.restore(st.snapshot()));
  EXPECT_EQ(restored.consumer("$G", "S", "full")->group.peers, (Peers{"p1", "p4", "p3"}));
}

TEST(ConsumerFollow, AScaleUpEntryRenamesTheR1DurablesGroupUnlessItWasCreatedAgain) {
  MetaState st;
  auto sa = r3_stream();
  sa.group.peers = {"p2"};
  ASSERT_TRUE(st.apply({MetaOp::assign_stream, sa, std::nullopt, {}}).rejected.empty());
  ConsumerAssignment one = consumer("one", {"p2"}), two = consumer("two", {"p2"});
  one.created_ns = 100;
  two.created_ns = 200;
  for (const auto& ca : {one, two})
    ASSERT_TRUE(st.apply({MetaOp::assign_consumer, std::nullopt, ca, {}}).rejected.empty());
  StreamAssignment next = *st.stream("$G", "S");
  next.group.peers = {"p2", "p1", "p3"};
  next.consumers = consumers_following(*st.stream("$G", "S"), next.group.peers, true);
  ASSERT_EQ(next.consumers.size(), 2u);
  // "two" deleted and created again (R1, new group) before the entry applies: untouched.
  ConsumerAssignment again = consumer("two", {"p2"});
  again.group.name = "C-R1F-again";
  again.created_ns = 300;
  ASSERT_TRUE(st.apply({MetaOp::assign_consumer, std::nullopt, again, {}}).rejected.empty());

  auto ch = st.apply({MetaOp::update_stream, next, std::nullopt, {}});
  ASSERT_TRUE(ch.rejected.empty());
  EXPECT_EQ(st.consumer("$G", "S", "one")->group.name, next.consumers.at("one").group.name);
  EXPECT_NE(st.consumer("$G", "S", "one")->group.name, "C-R1F-one");
  EXPECT_EQ(st.consumer("$G", "S", "one")->group.peers, (Peers{"p2", "p1", "p3"}));
  EXPECT_EQ(st.consumer("$G", "S", "two")->group.name, "C-R1F-again");
  EXPECT_EQ(st.consumer("$G", "S", "two")->group.peers, (Peers{"p2"}));
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
