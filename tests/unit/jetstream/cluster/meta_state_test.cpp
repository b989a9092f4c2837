#include "jetstream/cluster/meta_state.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::jetstream::NATS_TEST_FILE_ID {
namespace {

StreamAssignment stream_sa(const std::string& name, const std::string& peer) {
  StreamAssignment sa;
  sa.account = "$G";
  sa.config.name = name;
  sa.config.subjects = {name + ".>"};
  sa.created_ns = 1;
  sa.group = {"S-R1F-" + peer, {peer}, "file", "east", ""};
  return sa;
}

ConsumerAssignment consumer_ca(const std::string& stream, const std::string& name, const std::string& peer) {
  ConsumerAssignment ca;
  ca.account = "$G";
  ca.stream = stream;
  ca.name = name;
  ca.config.durable_name = name;
  ca.group = {"C-R1F-" + peer, {peer}, "file", "east", ""};
  return ca;
}

MetaEntry s_entry(MetaOp op, StreamAssignment sa) { return {op, std::move(sa), std::nullopt, {}}; }
MetaEntry c_entry(MetaOp op, ConsumerAssignment ca) { return {op, std::nullopt, std::move(ca), {}}; }

TEST(MetaState, AssignUpdateRemoveStream) {
  MetaState st;
  auto ch = st.apply(s_entry(MetaOp::assign_stream, stream_sa("A", "p1")));
  EXPECT_TRUE(ch.rejected.empty());
  ASSERT_TRUE(ch.stream_after);
  ASSERT_NE(st.stream("$G", "A"), nullptr);

  // A second create of the same name loses.
  ch = st.apply(s_entry(MetaOp::assign_stream, stream_sa("A", "p2")));
  EXPECT_EQ(ch.rejected.err_code, 10058);
  EXPECT_EQ(st.stream("$G", "A")->group.peers[0], "p1");

  auto upd = stream_sa("A", "p2");
  upd.config.max_msgs = 10;
  upd.created_ns = 99;  // ignored: created stays the original
  ch = st.apply(s_entry(MetaOp::update_stream, upd));
  ASSERT_TRUE(ch.stream_before && ch.stream_after);
  EXPECT_EQ(ch.stream_before->group.peers[0], "p1");
  EXPECT_EQ(st.stream("$G", "A")->config.max_msgs, 10);
  EXPECT_EQ(st.stream("$G", "A")->created_ns, 1);

  ch = st.apply(s_entry(MetaOp::remove_stream, stream_sa("A", "p2")));
  ASSERT_TRUE(ch.stream_before);
  EXPECT_EQ(st.stream("$G", "A"), nullptr);
  EXPECT_TRUE(st.accounts().empty());
  EXPECT_EQ(st.apply(s_entry(MetaOp::remove_stream, stream_sa("A", "p2"))).rejected.err_code, 10059);
  EXPECT_EQ(st.apply(s_entry(MetaOp::update_stream, stream_sa("A", "p2"))).rejected.err_code, 10059);
}

TEST(MetaState, ConsumersLiveInTheirStream) {
  MetaState st;
  EXPECT_EQ(st.apply(c_entry(MetaOp::assign_consumer, consumer_ca("A", "D", "p1"))).rejected.err_code, 10059);
  st.apply(s_entry(MetaOp::assign_stream, stream_sa("A", "p1")));
  auto ch = st.apply(c_entry(MetaOp::assign_consumer, consumer_ca("A", "D", "p1")));
  EXPECT_TRUE(ch.rejected.empty());
  EXPECT_FALSE(ch.consumer_before);
  ASSERT_NE(st.consumer("$G", "A", "D"), nullptr);
  ch = st.apply(c_entry(MetaOp::assign_consumer, consumer_ca("A", "D", "p1")));
  EXPECT_TRUE(ch.consumer_before);  // an update of the existing one

  EXPECT_EQ(st.assets_per_peer()["p1"], 2);
  // Removing the stream takes its consumers along.
  ch = st.apply(s_entry(MetaOp::remove_stream, stream_sa("A", "p1")));
  ASSERT_TRUE(ch.stream_before);
  EXPECT_EQ(ch.stream_before->consumers.size(), 1u);
  EXPECT_EQ(st.consumer("$G", "A", "D"), nullptr);
  EXPECT_EQ(st.apply(c_entry(MetaOp::remove_consumer, consumer_ca("A", "D", "p1"))).rejected.err_code, 10059);
}

TEST(MetaState, RemoveUnknownConsumer) {
  MetaState st;
  st.apply(s_entry(MetaOp::assign_stream, stream_sa("A", "p1")));
  auto ch = st.apply(c_entry(MetaOp::remove_consumer, consumer_ca("A", "X", "p1")));
  EXPECT_EQ(ch.rejected.err_code, 10014);
  EXPECT_EQ(ch.rejected.description, "consumer not found");
}

TEST(MetaState, SnapshotRestoresTheSameState) {
  MetaState st;
  st.apply(s_entry(MetaOp::assign_stream, stream_sa("A", "p1")));
  st.apply(s_entry(MetaOp::assign_stream, stream_sa("B", "p2")));
  st.apply(c_entry(MetaOp::assign_consumer, consumer_ca("B", "D", "p2")));
  auto blob = st.snapshot();

  MetaState other;
  ASSERT_TRUE(other.restore(blob));
  EXPECT_EQ(other.snapshot(), blob);
  EXPECT_EQ(other.stream_count(), 2u);
  ASSERT_NE(other.consumer("$G", "B", "D"), nullptr);
  EXPECT_EQ(other.assets_per_peer(), st.assets_per_peer());

  EXPECT_FALSE(other.restore("not json"));
  EXPECT_FALSE(other.restore("[{}]"));
  EXPECT_FALSE(other.restore(R"({"streams":[{}]})"));
  EXPECT_FALSE(other.restore(R"({"streams":[],"removed":[1]})"));
  EXPECT_EQ(other.stream_count(), 2u);  // unchanged after a bad blob
}

TEST(MetaState, RemovedPeersAreStateAndSnapshotted) {
  MetaEntry rm;
  rm.op = MetaOp::remove_peer;
  rm.peer = "p9";
  auto decoded = decode_meta_entry(encode_meta_entry(rm));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->op, MetaOp::remove_peer);
  EXPECT_EQ(decoded->peer, "p9");
  EXPECT_FALSE(decode_meta_entry(std::string(1, 6) + R"({"peer":""})"));
  EXPECT_FALSE(decode_meta_entry(std::string(1, 7) + "{}"));

  MetaState st;
  st.apply(s_entry(MetaOp::assign_stream, stream_sa("A", "p1")));
  auto ch = st.apply(*decoded);
  EXPECT_TRUE(ch.rejected.empty());
  EXPECT_EQ(st.removed_peers(), std::set<std::string>{"p9"});

  MetaState other;
  ASSERT_TRUE(other.restore(st.snapshot()));
  EXPECT_EQ(other.removed_peers(), std::set<std::string>{"p9"});
  EXPECT_EQ(other.stream_count(), 1u);
  EXPECT_EQ(other.snapshot(), st.snapshot());
}

TEST(MetaState, SameEntriesSameState) {
  // Determinism: two appliers of one log end with byte-identical snapshots.
  std::vector<MetaEntry> log = {s_entry(MetaOp::assign_stream, stream_sa("A", "p1")),
                                s_entry(MetaOp::assign_stream, stream_sa("A", "p3")),
                                c_entry(MetaOp::assign_consumer, consumer_ca("A", "D", "p1")),
                                s_entry(MetaOp::assign_stream, stream_sa("C", "p2")),
                                c_entry(MetaOp::remove_consumer, consumer_ca("A", "D", "p1"))};
  MetaState a, b;
  for (const auto& e : log) {
    a.apply(decode_meta_entry(encode_meta_entry(e)).value());
    b.apply(decode_meta_entry(encode_meta_entry(e)).value());
  }
  EXPECT_EQ(a.snapshot(), b.snapshot());
}


// An R1 ephemeral on a server the stream leaves: dropped on a move (or peer removal), kept
// on a scale-down (a replica change), as 2.9.10 (it stays listed; its host answers its
// CONSUMER.INFO "stream not found").
TEST(MetaState, EphemeralLeftBehindByAScaleDownStays) {
  for (bool scale_down : {true, false}) {
    SCOPED_TRACE(scale_down);
    MetaState st;
    auto sa = stream_sa("A", "p1");
    sa.config.num_replicas = 3;
    sa.group = {"S-R3F-abc", {"p1", "p2", "p3"}, "file", "east", ""};
    st.apply(s_entry(MetaOp::assign_stream, sa));
    auto eph = consumer_ca("A", "E", "p2");
    eph.config.durable_name.clear();
    st.apply(c_entry(MetaOp::assign_consumer, eph));
    auto upd = sa;
    if (scale_down) {
      upd.config.num_replicas = 1;
      upd.group = {"S-R1F-def", {"p1"}, "file", "east", ""};
    } else {
      upd.group.peers = {"p1", "p3", "p4"};  // a move off p2
    }
    auto ch = st.apply(s_entry(MetaOp::update_stream, upd));
    ASSERT_TRUE(ch.stream_after);
    EXPECT_EQ(ch.stream_after->consumers.count("E"), scale_down ? 1u : 0u);
    EXPECT_EQ(st.consumer("$G", "A", "E") != nullptr, scale_down);
    if (scale_down) {
      EXPECT_EQ(st.consumer("$G", "A", "E")->group.peers, std::vector<std::string>{"p2"});
    }
  }
}

}  // namespace
}  // namespace nats::jetstream::NATS_TEST_FILE_ID
