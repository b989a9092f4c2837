// A replicated (R3) stream keeps its sequences contiguous when the store rejects a committed
// publish as it applies it (per-subject discard new, discard new with max_msgs): the next
// accepted publish takes the sequence the rejected one would have had, as 2.9.10 (its clfs
// count of failed applies). Checked through PubAck seqs (duplicates and expected-last-sequence
// included), a stream leader step-down, a purge and a restart of the whole cluster; run
// against ours and, when installed, the reference with the same expectations.
#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;

// Publishes with headers; the PubAck (json null when nothing answered).
json fa_publish(natsConnection* nc, const std::string& subject, const std::map<std::string, std::string>& hdrs = {},
                int64_t timeout_ms = 3000) {
  natsMsg* m = nullptr;
  natsMsg_Create(&m, subject.c_str(), nullptr, "x", 1);
  for (auto& [k, v] : hdrs) natsMsgHeader_Set(m, k.c_str(), v.c_str());
  MsgPtr reply;
  natsStatus s = natsConnection_RequestMsg(&reply.p, nc, m, timeout_ms);
  natsMsg_Destroy(m);
  if (s != NATS_OK) return nullptr;
  auto j = json::parse(reply.data(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

// The PubAck's seq, or -err_code for an error answer, or 0 for none.
int64_t fa_seq(const json& a) {
  if (!a.is_object()) return 0;
  if (a.contains("error")) return -a["error"].value("err_code", int64_t{0});
  return a.value("seq", int64_t{0});
}

json fa_info(natsConnection* nc, const std::string& stream) {
  return json::parse(request_text(nc, "$JS.API.STREAM.INFO." + stream, ""), nullptr, false);
}

// Creates the stream, retried while the meta group forms.
void fa_create(natsConnection* nc, const json& cfg) {
  json created;
  ASSERT_TRUE(wait_for([&] {
    created = json::parse(request_text(nc, "$JS.API.STREAM.CREATE." + cfg["name"].get<std::string>(), cfg.dump()),
                          nullptr, false);
    return created.is_object() && created.contains("config");
  }, milliseconds(30000))) << created.dump();
}

// Publishes until some answer comes (a stream without a leader yet does not answer); with a
// Nats-Msg-Id, so a retry of one that was stored is answered as a duplicate of it.
json fa_publish_retry(natsConnection* nc, const std::string& subject, const std::string& id) {
  json a;
  wait_for([&] {
    a = fa_publish(nc, subject, {{"Nats-Msg-Id", id}}, 1000);
    return a.is_object();
  }, milliseconds(30000));
  return a;
}

void expect_state(natsConnection* nc, const std::string& stream, uint64_t msgs, uint64_t first, uint64_t last) {
  json info;
  bool ok = wait_for([&] {
    info = fa_info(nc, stream);
    return info.is_object() && info.contains("state") && info["state"].value("messages", uint64_t{0}) == msgs &&
           info["state"].value("first_seq", uint64_t{0}) == first && info["state"].value("last_seq", uint64_t{0}) == last;
  }, milliseconds(10000));
  EXPECT_TRUE(ok) << stream << " " << info.dump();
}

void failed_apply_keeps_sequences(const std::string& binary) {
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  ASSERT_FALSE(sc.agreed_leader(milliseconds(30000)).empty()) << sc.node(0).proc->log();
  std::string url = "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, url), NATS_OK);

  // Memory, per-subject discard new: the third m.a is rejected at apply.
  fa_create(nc.p, {{"name", "FAM"}, {"subjects", {"m.>"}}, {"storage", "memory"}, {"num_replicas", 3},
                   {"max_msgs_per_subject", 2}, {"discard", "new"}, {"discard_new_per_subject", true}});
  EXPECT_EQ(fa_seq(fa_publish_retry(nc.p, "m.a", "a1")), 1);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "m.a")), 2);
  json rejected = fa_publish(nc.p, "m.a");
  EXPECT_EQ(fa_seq(rejected), -10077) << rejected.dump();
  EXPECT_EQ(rejected["error"].value("description", ""), "maximum messages per subject exceeded") << rejected.dump();
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "m.c", {{"Nats-Msg-Id", "c1"}})), 3);
  json dup = fa_publish(nc.p, "m.c", {{"Nats-Msg-Id", "c1"}});
  EXPECT_EQ(fa_seq(dup), 3) << dup.dump();
  EXPECT_TRUE(dup.value("duplicate", false)) << dup.dump();
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "m.b", {{"Nats-Expected-Last-Sequence", "3"}})), 4);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "m.a")), -10077);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "m.b")), 5);
  expect_state(nc.p, "FAM", 5, 1, 5);

  // A new stream leader continues from the stored sequences.
  json info = fa_info(nc.p, "FAM");
  std::string old_leader = info.is_object() && info.contains("cluster") ? info["cluster"].value("leader", "") : "";
  request_text(nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.FAM", "");
  EXPECT_TRUE(wait_for([&] {
    info = fa_info(nc.p, "FAM");
    if (!info.is_object() || !info.contains("cluster")) return false;
    std::string l = info["cluster"].value("leader", "");
    return !l.empty() && l != old_leader;
  }, milliseconds(20000))) << info.dump();
  EXPECT_EQ(fa_seq(fa_publish_retry(nc.p, "m.a", "a-after")), -10077);
  EXPECT_EQ(fa_seq(fa_publish_retry(nc.p, "m.d", "d1")), 6);
  expect_state(nc.p, "FAM", 6, 1, 6);

  // File, discard new with max_msgs; a purge; then the whole cluster restarts (log replay).
  fa_create(nc.p, {{"name", "FAF"}, {"subjects", {"f.>"}}, {"storage", "file"}, {"num_replicas", 3},
                   {"max_msgs", 3}, {"discard", "new"}});
  EXPECT_EQ(fa_seq(fa_publish_retry(nc.p, "f.1", "f1")), 1);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "f.1")), 2);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "f.1")), 3);
  json full = fa_publish(nc.p, "f.1", {{"Nats-Msg-Id", "full"}});
  EXPECT_EQ(fa_seq(full), -10077) << full.dump();
  EXPECT_EQ(full["error"].value("description", ""), "maximum messages exceeded") << full.dump();
  json purged = json::parse(request_text(nc.p, "$JS.API.STREAM.PURGE.FAF", "{\"keep\":1}"), nullptr, false);
  EXPECT_EQ(purged.value("purged", 0), 2) << purged.dump();
  // The rejected id was never stored: publishing it again stores it.
  json again = fa_publish(nc.p, "f.2", {{"Nats-Msg-Id", "full"}});
  EXPECT_EQ(fa_seq(again), 4) << again.dump();
  EXPECT_FALSE(again.value("duplicate", false)) << again.dump();
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "f.2")), 5);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "f.2")), -10077);
  expect_state(nc.p, "FAF", 3, 3, 5);

  nc.reset();
  for (auto& n : sc.nodes) n->proc->stop();
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(30000)).empty()) << sc.node(0).proc->log();
  url = "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port());
  ASSERT_EQ(connect_url(nc, url), NATS_OK);
  expect_state(nc.p, "FAF", 3, 3, 5);
  // Right after a restart a server may not see its groups' leaders yet and answer 10008
  // ("temporarily unavailable", 2.9.10 under load): retried, as a client would.
  json purged2;
  wait_for([&] {
    purged2 = json::parse(request_text(nc.p, "$JS.API.STREAM.PURGE.FAF", ""), nullptr, false);
    return !(purged2.is_object() && purged2.contains("error") && purged2["error"].value("err_code", 0) == 10008);
  }, milliseconds(10000));
  EXPECT_EQ(purged2.value("purged", 0), 3) << purged2.dump();
  EXPECT_EQ(fa_seq(fa_publish_retry(nc.p, "f.3", "f3")), 6);
  expect_state(nc.p, "FAF", 1, 6, 6);
}

// kill -9 of every server after a rejected publish was followed by stored ones: the log
// replay must neither store the later ones again nor lose the count of the rejected one.
// Ours only: 2.9.10 fails it (its replay skips the rejected entry as stored without counting
// it, then stores k.c a second time at 5, so k.d gets 6); ours compacts the log (snapshot with
// clfs) once a message is stored after a failure, so the replay starts past the failure.
void failed_apply_survives_kill9(const std::string& binary) {
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  ASSERT_FALSE(sc.agreed_leader(milliseconds(30000)).empty()) << sc.node(0).proc->log();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  fa_create(nc.p, {{"name", "FAK"}, {"subjects", {"k.>"}}, {"storage", "file"}, {"num_replicas", 3},
                   {"max_msgs_per_subject", 2}, {"discard", "new"}, {"discard_new_per_subject", true}});
  EXPECT_EQ(fa_seq(fa_publish_retry(nc.p, "k.a", "a1")), 1);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "k.a")), 2);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "k.a")), -10077);
  // Subjects with room: a replay that took them for the rejected one's would store them again.
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "k.b")), 3);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "k.c")), 4);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "k.a")), -10077);
  expect_state(nc.p, "FAK", 4, 1, 4);
  // Every replica has applied them before the kill (each one answers its own state over
  // $JS.API only as leader, so give the followers a moment: they apply on the next heartbeat).
  std::this_thread::sleep_for(milliseconds(1500));

  nc.reset();
  for (auto& n : sc.nodes) n->kill9();
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(30000)).empty()) << sc.node(0).proc->log();
  ASSERT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(0).proc->port())), NATS_OK);
  EXPECT_EQ(fa_seq(fa_publish_retry(nc.p, "k.d", "d1")), 5);
  EXPECT_EQ(fa_seq(fa_publish(nc.p, "k.a")), -10077);
  expect_state(nc.p, "FAK", 5, 1, 5);
}

}  // namespace

TEST(JsR3FailedApply, RejectedPublishLeavesNoSequenceGapAfterKill9) {
  failed_apply_survives_kill9(testing_harness::server_binary());
}

TEST(JsR3FailedApply, RejectedPublishLeavesNoSequenceGap) {
  failed_apply_keeps_sequences(testing_harness::server_binary());
}

TEST(JsR3FailedApply, ReferenceRejectedPublishLeavesNoSequenceGap) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  failed_apply_keeps_sequences(testing_harness::reference_binary());
}

}  // namespace NATS_TEST_FILE_ID
