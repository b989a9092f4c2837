// Scaling a replicated stream down to R1 loses nothing: every message acknowledged before the
// STREAM.UPDATE (sent right after the last PubAck) is in the one copy that stays. The kept
// server is the stream's leader (as 2.9.10), and it applies the rest of its committed log
// before its Raft group stops (RaftGroup::halt_applying_rest). Repeated, since the loss it
// guards against was a race (seen about one run in four before the fix).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

TEST(JsMembers, ScaleDownToR1KeepsEveryAckedMessage) {
  Cluster c(3, 3);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  constexpr int kRounds = 8, kMsgs = 40;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = "SD" + std::to_string(round);
    const std::string subj = "sd" + std::to_string(round);
    json cfg = {{"name", name}, {"subjects", {subj + ".>"}}, {"num_replicas", 3}};
    json created = create_stream(nc.p, cfg);
    ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
    // Acknowledged one after another; the update follows the last ack at once.
    uint64_t acked = 0;
    for (int i = 1; i <= kMsgs; ++i) {
      json ack;
      wait_for([&] { return !(ack = publish(nc.p, subj + ".x", "m" + std::to_string(i))).empty(); },
               milliseconds(5000));
      ASSERT_EQ(ack.value("seq", uint64_t{0}), static_cast<uint64_t>(i)) << ack.dump();
      acked = ack.value("seq", uint64_t{0});
    }
    cfg["num_replicas"] = 1;
    json down = request(nc.p, "$JS.API.STREAM.UPDATE." + name, cfg);
    ASSERT_FALSE(down.contains("error")) << "round " << round << " " << down.dump() << c.logs();
    ASSERT_TRUE(down.contains("config")) << "round " << round << " " << down.dump() << c.logs();
    EXPECT_EQ(down["config"]["num_replicas"], 1);
    json info;
    bool single = wait_for([&] {
      info = request(nc.p, "$JS.API.STREAM.INFO." + name, nullptr);
      return info.contains("state") && replica_names(info).size() == 1;
    }, milliseconds(10000));
    ASSERT_TRUE(single) << info.dump();
    // Every acknowledged message, at its sequence: nothing deleted, so 1..acked.
    EXPECT_EQ(info["state"].value("messages", uint64_t{0}), acked) << "round " << round << " " << info.dump();
    EXPECT_EQ(info["state"].value("first_seq", uint64_t{0}), 1u) << "round " << round;
    EXPECT_EQ(info["state"].value("last_seq", uint64_t{0}), acked) << "round " << round;
    // And the one copy takes the next message after them.
    EXPECT_EQ(publish(nc.p, subj + ".x", "after").value("seq", uint64_t{0}), acked + 1) << "round " << round;
    json del = request(nc.p, "$JS.API.STREAM.DELETE." + name, nullptr);
    EXPECT_TRUE(del.value("success", false)) << del.dump();
    if (::testing::Test::HasFailure()) break;
  }
}

// Readers during a scale-down to R1. The kept server stops its replica (closing its store) and
// reopens the files as a plain stream a few ms later; 2.9.10 keeps the same stream throughout.
// Requests about the stream that arrive meanwhile must not read the closed store (an empty
// stream: 0 messages, "no message found", "consumer not found"): they are held and answered
// from the reopened stream (jetstream/cluster/stream_gate.h). Hammered from several threads
// over repeated R3 -> R1 scale-downs; an unanswered request is allowed (as while a group has
// no leader), a wrong answer is not.
struct Findings {
  std::mutex mu;
  std::vector<std::string> wrong;
  std::atomic<int> answers{0};
  void add(const std::string& what) {
    std::lock_guard lk(mu);
    if (wrong.size() < 20) wrong.push_back(what);
  }
};

TEST(JsMembers, ScaleDownReadersNeverSeeAClosedStream) {
  // The kept server holds its stopped replica 300 ms before it opens the plain stream (a
  // test hook): the window is otherwise a few ms, hit by chance under load.
  ::setenv("NATSCPP_TEST_SCALE_DOWN_HOLD_MS", "300", 1);
  struct Unset {
    ~Unset() { ::unsetenv("NATSCPP_TEST_SCALE_DOWN_HOLD_MS"); }
  } unset;
  Cluster c(3, 3);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  // Readers on every server: the kept one answers, the others forward.
  std::vector<ConnPtr> rc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_EQ(connect_url(rc[i], c.node(i).url("a:a")), NATS_OK);
  constexpr int kRounds = 2, kMsgs = 10;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string name = "RD" + std::to_string(round);
    const std::string subj = "rd" + std::to_string(round);
    json cfg = {{"name", name}, {"subjects", {subj + ".>"}}, {"num_replicas", 3}};
    ASSERT_TRUE(create_stream(nc.p, cfg).contains("config")) << c.logs();
    for (int i = 1; i <= kMsgs; ++i) {
      json ack;
      wait_for([&] { return !(ack = publish(nc.p, subj + ".x", "m" + std::to_string(i))).empty(); },
               milliseconds(5000));
      ASSERT_EQ(ack.value("seq", uint64_t{0}), static_cast<uint64_t>(i)) << ack.dump();
    }
    json ccfg = {{"stream_name", name}, {"config", {{"durable_name", "C"}, {"ack_policy", "explicit"}}}};
    json created;
    wait_for([&] {
      created = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE." + name + ".C", ccfg);
      return created.contains("config");
    }, milliseconds(10000));
    ASSERT_TRUE(created.contains("config")) << created.dump();

    Findings f;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> acked{kMsgs};  // highest PubAck sequence
    std::vector<std::thread> threads;
    for (size_t i = 0; i < 3; ++i) {
      natsConnection* conn = rc[i].p;
      threads.emplace_back([&, conn, i] {
        int n = 0;
        while (!stop.load()) {
          const uint64_t floor = acked.load();
          switch ((n++ + static_cast<int>(i)) % 4) {
            case 0: {
              json a = request(conn, "$JS.API.STREAM.INFO." + name, nullptr, 500);
              if (a.empty()) break;
              ++f.answers;
              if (a.contains("error") || a["state"].value("messages", uint64_t{0}) < floor ||
                  a["state"].value("first_seq", uint64_t{0}) != 1)
                f.add("STREAM.INFO " + a.dump());
              break;
            }
            case 1: {
              json a = request(conn, "$JS.API.CONSUMER.INFO." + name + ".C", nullptr, 500);
              if (a.empty()) break;
              ++f.answers;
              // Not `floor`: a replicated consumer's leader need not be the stream's, whose
              // replica may apply the latest publishes a moment after their PubAck.
              if (a.contains("error") || a.value("num_pending", uint64_t{0}) < kMsgs)
                f.add("CONSUMER.INFO " + a.dump());
              break;
            }
            case 2: {
              json a = request(conn, "$JS.API.STREAM.MSG.GET." + name, json{{"seq", 1}}, 500);
              if (a.empty()) break;
              ++f.answers;
              if (a.contains("error") || !a.contains("message") || a["message"].value("seq", 0) != 1)
                f.add("STREAM.MSG.GET " + a.dump());
              break;
            }
            default: {
              MsgPtr m;
              if (natsConnection_RequestString(&m.p, conn, (subj + ".y").c_str(), "p", 500) != NATS_OK) break;
              auto a = json::parse(m.data(), nullptr, false);
              if (!a.is_object()) break;  // a status (no responders): the client retries
              ++f.answers;
              uint64_t seq = a.value("seq", uint64_t{0});
              if (a.contains("error") || seq <= kMsgs || a.value("stream", "") != name) {
                f.add("PUB " + a.dump());
                break;
              }
              uint64_t cur = acked.load();
              while (seq > cur && !acked.compare_exchange_weak(cur, seq)) {
              }
            }
          }
        }
      });
    }
    // Let the readers run against the R3 stream, then scale down while they go on.
    wait_for([&] { return f.answers.load() >= 8; }, milliseconds(3000));
    cfg["num_replicas"] = 1;
    json down = request(nc.p, "$JS.API.STREAM.UPDATE." + name, cfg);
    EXPECT_TRUE(down.contains("config")) << "round " << round << " " << down.dump();
    json info;
    bool single = wait_for([&] {
      info = request(nc.p, "$JS.API.STREAM.INFO." + name, nullptr, 1000);
      return info.contains("state") && replica_names(info).size() == 1;
    }, milliseconds(10000));
    // And some more answers from the plain stream.
    int after = f.answers.load();
    wait_for([&] { return f.answers.load() >= after + 6; }, milliseconds(3000));
    stop = true;
    for (auto& t : threads) t.join();
    ASSERT_TRUE(single) << info.dump();
    EXPECT_TRUE(f.wrong.empty()) << "round " << round << ": " << f.wrong.size() << " wrong answers, first: "
                                 << f.wrong.front();
    // Nothing acknowledged is lost, and no gaps.
    info = request(nc.p, "$JS.API.STREAM.INFO." + name, nullptr);
    EXPECT_GE(info["state"].value("last_seq", uint64_t{0}), acked.load()) << info.dump();
    EXPECT_EQ(info["state"].value("messages", uint64_t{0}), info["state"].value("last_seq", uint64_t{0}))
        << info.dump();
    request(nc.p, "$JS.API.STREAM.DELETE." + name, nullptr);
    if (::testing::Test::HasFailure()) break;
  }
}


// Ephemeral (R1) pull consumers of an R3 stream, through a scale-down of the stream to R1 (the
// stream leader keeps the stream). Run against ours and the reference on identical 3-server
// clusters (every server routes to all).
//
// What 2.9.10 does (each consumer had delivered 1..3 of 5 messages and acked 1..2):
// - the ephemeral on the kept server is kept as it was: CONSUMER.INFO gives delivered
//   {consumer_seq 3, stream_seq 3}, ack_floor {2, 2}, num_ack_pending 1, num_pending 2, and
//   the next pull delivers 4 and 5. Asserted for both servers.
// - an ephemeral on a dropped server is not moved (2.9.10 remaps only durables and R>1
//   consumers in jsClusteredStreamUpdateRequest): it stays listed (CONSUMER.NAMES,
//   consumer_count; CONSUMER.LIST gives it as "missing" after its 4 s wait, both servers:
//   measured, not asked here for the time), its CONSUMER.INFO answers 404
//   "stream not found" (10059), and CONSUMER.DELETE removes it with success. Asserted for
//   both (ours once dropped it at the scale-down: 10014, not listed).
// Ours once lost the kept one too: the kept server reopens the stream's files as a plain
// stream, which restores only the durables saved on disk; its ephemerals now go on from
// their state in memory (JsCluster::start_consumers_scaled_down).
struct EphemeralAfterScaleDown {
  std::string name;
  bool on_kept = false;        // its (R1) group was on the server that keeps the stream
  bool exists = false;
  json before, info;           // CONSUMER.INFO before / after the scale-down (the last answer)
  std::vector<uint64_t> next;  // stream sequences fetched after the scale-down
  bool listed = false;         // in CONSUMER.NAMES after the scale-down
  json deleted;                // CONSUMER.DELETE's answer (the first one not on the kept server)
  bool listed_after_delete = false;
};

// Stream sequences of up to `batch` messages from one pull request; acks all of them, or
// (ack_all false) those up to stream sequence `ack_upto`.
std::vector<uint64_t> eph_fetch(natsConnection* nc, const std::string& api_next, int batch, bool ack_all,
                            uint64_t ack_upto = 0) {
  std::vector<uint64_t> seqs;
  char inbox[64];
  std::snprintf(inbox, sizeof inbox, "_INBOX.eph.%d.%d", ::getpid(), std::rand());
  SubPtr sub;
  if (natsConnection_SubscribeSync(&sub.p, nc, inbox) != NATS_OK) return seqs;
  natsConnection_Flush(nc);
  std::string body = json{{"batch", batch}, {"expires", 2000000000}}.dump();
  natsConnection_PublishRequest(nc, api_next.c_str(), inbox, body.data(), static_cast<int>(body.size()));
  natsConnection_Flush(nc);
  while (static_cast<int>(seqs.size()) < batch) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 3000) != NATS_OK) break;
    const char* reply = natsMsg_GetReply(m.p);
    if (reply == nullptr || std::string(reply).rfind("$JS.ACK.", 0) != 0) break;  // a status: done
    // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    std::vector<std::string> tok;
    std::string r = reply;
    for (size_t a = 0, b; a <= r.size(); a = b + 1) {
      b = r.find('.', a);
      if (b == std::string::npos) b = r.size();
      tok.push_back(r.substr(a, b - a));
    }
    uint64_t sseq = tok.size() >= 9 ? std::stoull(tok[5]) : 0;
    seqs.push_back(sseq);
    if (ack_all || sseq <= ack_upto) {
      MsgPtr a;
      natsConnection_RequestString(&a.p, nc, reply, "+ACK", 3000);
    }
  }
  return seqs;
}

// Ephemerals are placed at random on one of the stream's servers: created until one is on the
// stream leader (the server that keeps the stream) and one elsewhere, or 30 were made (all 30 elsewhere: 1 run in 190,000).
std::vector<EphemeralAfterScaleDown> ephemerals_through_scale_down(const std::string& bin, int& consumer_count) {
  std::vector<EphemeralAfterScaleDown> out;
  Cluster c(3, 0);
  for (auto& n : c.nodes) {
    n->routes.clear();
    for (auto& k : c.nodes) n->routes.push_back(k->cluster_port);
  }
  for (auto& n : c.nodes) n->proc = start_with_config(n->config(), {}, bin);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  if (!nc.p) return out;
  json cfg = {{"name", "EPH"}, {"subjects", {"eph.>"}}, {"num_replicas", 3}};
  // Asked again every 500 ms until the meta group has formed (create_stream's 5 s wait for
  // an answer nobody gives yet would double the test's time); the same create is idempotent.
  json created;
  wait_for([&] {
    created = request(nc.p, "$JS.API.STREAM.CREATE.EPH", cfg, 500);
    return created.contains("config");
  }, milliseconds(30000));
  EXPECT_TRUE(created.contains("config")) << created.dump() << c.logs();
  for (int i = 1; i <= 5; ++i) {
    json ack;
    wait_for([&] { return !(ack = publish(nc.p, "eph.x", "m" + std::to_string(i))).empty(); }, milliseconds(5000));
    EXPECT_EQ(ack.value("seq", uint64_t{0}), static_cast<uint64_t>(i)) << ack.dump();
  }
  json sinfo = request(nc.p, "$JS.API.STREAM.INFO.EPH", nullptr);
  const std::string kept = sinfo.contains("cluster") ? sinfo["cluster"].value("leader", "") : "";
  EXPECT_FALSE(kept.empty()) << sinfo.dump();
  json ccfg = {{"stream_name", "EPH"},
               {"config", {{"ack_policy", "explicit"}, {"inactive_threshold", 30000000000LL}}}};
  bool some_on = false, some_off = false;
  for (int k = 0; k < 30 && !(some_on && some_off); ++k) {
    json cons;
    wait_for([&] {
      cons = request(nc.p, "$JS.API.CONSUMER.CREATE.EPH", ccfg);
      return cons.contains("name");
    }, milliseconds(10000));
    if (!cons.contains("name")) {
      ADD_FAILURE() << cons.dump();
      return out;
    }
    EphemeralAfterScaleDown e;
    e.name = cons["name"];
    const std::string next = "$JS.API.CONSUMER.MSG.NEXT.EPH." + e.name;
    // Three delivered, the first two acked: ack floor 2, one pending ack, two not yet delivered.
    EXPECT_EQ(eph_fetch(nc.p, next, 3, false, 2), (std::vector<uint64_t>{1, 2, 3}));
    wait_for([&] {
      e.before = request(nc.p, "$JS.API.CONSUMER.INFO.EPH." + e.name, nullptr);
      return e.before.contains("ack_floor") && e.before["ack_floor"].value("stream_seq", uint64_t{0}) == 2;
    }, milliseconds(5000));
    EXPECT_EQ(e.before["ack_floor"].value("stream_seq", uint64_t{0}), 2u) << e.before.dump();
    e.on_kept = e.before.contains("cluster") && e.before["cluster"].value("leader", "") == kept;
    (e.on_kept ? some_on : some_off) = true;
    out.push_back(e);
  }

  cfg["num_replicas"] = 1;
  json down = request(nc.p, "$JS.API.STREAM.UPDATE.EPH", cfg);
  EXPECT_TRUE(down.contains("config")) << down.dump();
  EXPECT_TRUE(wait_for([&] {
    sinfo = request(nc.p, "$JS.API.STREAM.INFO.EPH", nullptr);
    return sinfo.contains("state") && replica_names(sinfo).size() == 1;
  }, milliseconds(10000))) << sinfo.dump();
  EXPECT_EQ(replica_names(sinfo), std::set<std::string>{kept}) << sinfo.dump();
  std::printf("[%s] kept %s; after scale-down: %s\n", bin.c_str(), kept.c_str(), sinfo.dump().c_str());
  // Each consumer on the kept server, once the one copy answers for it (an answer without
  // an error; polled up to 5 s); the others (not asserted) are asked once.
  for (auto& e : out) {
    const std::string info_subj = "$JS.API.CONSUMER.INFO.EPH." + e.name;
    // One on a dropped server: until that server has applied the scale-down it still runs
    // its replica (and the consumer): polled for the error, also up to 5 s.
    wait_for([&] {
      e.info = request(nc.p, info_subj, nullptr, 1000);
      return e.on_kept ? e.info.contains("config") && !e.info.contains("error") : e.info.contains("error");
    }, milliseconds(5000));
    e.exists = e.info.contains("config") && !e.info.contains("error");
    if (e.exists) e.next = eph_fetch(nc.p, "$JS.API.CONSUMER.MSG.NEXT.EPH." + e.name, 2, false);
    std::printf("[%s] consumer %s (%s kept server) before: %s\n  after: %s\n  fetched after:", bin.c_str(),
                e.name.c_str(), e.on_kept ? "on" : "not on", e.before.dump().c_str(), e.info.dump().c_str());
    for (auto s : e.next) std::printf(" %llu", static_cast<unsigned long long>(s));
    std::printf("\n");
  }
  json names = request(nc.p, "$JS.API.CONSUMER.NAMES.EPH", nullptr);
  std::printf("[%s] CONSUMER.NAMES after: %s\n", bin.c_str(), names.dump().c_str());
  consumer_count = sinfo["state"].value("consumer_count", -1);
  for (auto& e : out) e.listed = names.contains("consumers") && std::find(names["consumers"].begin(), names["consumers"].end(), e.name) != names["consumers"].end();
  // One left on a dropped server is deleted as any consumer (then no longer listed).
  for (auto& e : out) {
    if (e.on_kept) continue;
    e.deleted = request(nc.p, "$JS.API.CONSUMER.DELETE.EPH." + e.name, nullptr, 2000);
    json again = request(nc.p, "$JS.API.CONSUMER.NAMES.EPH", nullptr);
    e.listed_after_delete = again.contains("consumers") && std::find(again["consumers"].begin(), again["consumers"].end(), e.name) != again["consumers"].end();
    std::printf("[%s] CONSUMER.DELETE %s: %s\n  CONSUMER.NAMES: %s\n", bin.c_str(), e.name.c_str(), e.deleted.dump().c_str(), again.dump().c_str());
    break;
  }
  return out;
}

TEST(JsMembers, ScaleDownToR1KeepsAnEphemeralConsumer) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    int consumer_count = -1;
    auto all = ephemerals_through_scale_down(bin, consumer_count);
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [](const auto& r) { return r.on_kept; }))
        << "no ephemeral was placed on the stream leader";
    // STREAM.INFO counts them all (the meta assignments).
    EXPECT_EQ(consumer_count, static_cast<int>(all.size()));
    bool deleted_one = false;
    for (const auto& r : all) {
      if (!r.on_kept) {
        // Left on its dropped server: listed, its info "stream not found", deleted as any
        // consumer.
        EXPECT_TRUE(r.listed) << r.name;
        EXPECT_EQ(r.info.value("error", json::object()).value("code", 0), 404) << r.info.dump();
        EXPECT_EQ(r.info.value("error", json::object()).value("err_code", 0), 10059) << r.info.dump();
        EXPECT_EQ(r.info.value("error", json::object()).value("description", ""), "stream not found") << r.info.dump();
        if (!r.deleted.is_null()) {
          deleted_one = true;
          EXPECT_TRUE(r.deleted.value("success", false)) << r.deleted.dump();
          EXPECT_FALSE(r.listed_after_delete) << r.name;
        }
        continue;
      }
      EXPECT_TRUE(r.listed) << r.name;
      EXPECT_TRUE(r.exists) << r.info.dump();
      if (!r.exists) continue;  // still run the other server: the comparison is the point
      EXPECT_EQ(r.info["delivered"].value("stream_seq", uint64_t{0}), 3u) << r.info.dump();
      EXPECT_EQ(r.info["ack_floor"].value("stream_seq", uint64_t{0}), 2u) << r.info.dump();
      EXPECT_EQ(r.info.value("num_ack_pending", 0), 1) << r.info.dump();
      EXPECT_EQ(r.info.value("num_pending", 0), 2) << r.info.dump();
      // The same consumer, not a new one of that name.
      EXPECT_EQ(r.info.value("created", ""), r.before.value("created", "")) << r.info.dump();
      EXPECT_EQ(r.next, (std::vector<uint64_t>{4, 5}));
    }
    EXPECT_EQ(deleted_one, std::any_of(all.begin(), all.end(), [](const auto& r) { return !r.on_kept; }));
  }
}

// A memory stream through R3 -> R1 -> R3, on ours and the reference (identical 3-server
// clusters, every server routes to all). 2.9.10 keeps every acknowledged message both ways:
// the R1 copy has 1..N and takes N+1 next; a durable that had fetched and acked 1..5 fetches
// 6..N after the scale-down. Ours once lost them all at the scale-down (the kept server
// reopens the stream as a plain one and a new memory store starts empty; now the replica's
// store is handed over, Stream::hand_over_memory). Back to R3, every replica has them: the
// leader steps down and the new one still answers N+1 messages and takes N+2.
struct MemoryScaleResult {
  json down_info, durable_info, up_info, stepped_info;
  std::vector<uint64_t> fetched;
  uint64_t after_down = 0, after_up = 0;  // PubAck sequences
  bool stepped_down = false, new_leader = false;
};

MemoryScaleResult memory_stream_down_and_up(const std::string& bin, int n) {
  MemoryScaleResult r;
  Cluster c(3, 0);
  for (auto& nd : c.nodes) {
    nd->routes.clear();
    for (auto& k : c.nodes) nd->routes.push_back(k->cluster_port);
  }
  for (auto& nd : c.nodes) nd->proc = start_with_config(nd->config(), {}, bin);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  if (!nc.p) return r;
  json cfg = {{"name", "MEM"}, {"subjects", {"mem.>"}}, {"storage", "memory"}, {"num_replicas", 3}};
  json created;
  wait_for([&] {  // asked again every 500 ms until the meta group has formed
    created = request(nc.p, "$JS.API.STREAM.CREATE.MEM", cfg, 500);
    return created.contains("config");
  }, milliseconds(30000));
  EXPECT_TRUE(created.contains("config")) << created.dump() << c.logs();
  for (int i = 1; i <= n; ++i) {
    json ack;
    wait_for([&] { return !(ack = publish(nc.p, "mem.x", "m" + std::to_string(i))).empty(); }, milliseconds(5000));
    EXPECT_EQ(ack.value("seq", uint64_t{0}), static_cast<uint64_t>(i)) << ack.dump();
  }
  json ccfg = {{"stream_name", "MEM"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}};
  json cons;
  wait_for([&] {
    cons = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.MEM.D", ccfg);
    return cons.contains("config");
  }, milliseconds(10000));
  EXPECT_TRUE(cons.contains("config")) << cons.dump();
  const std::string next = "$JS.API.CONSUMER.MSG.NEXT.MEM.D";
  EXPECT_EQ(eph_fetch(nc.p, next, 5, true), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  wait_for([&] {  // the acks applied before the scale-down
    json i = request(nc.p, "$JS.API.CONSUMER.INFO.MEM.D", nullptr);
    return i.contains("ack_floor") && i["ack_floor"].value("stream_seq", uint64_t{0}) == 5;
  }, milliseconds(5000));

  cfg["num_replicas"] = 1;
  json down = request(nc.p, "$JS.API.STREAM.UPDATE.MEM", cfg);
  EXPECT_TRUE(down.contains("config")) << down.dump() << c.logs();
  EXPECT_TRUE(wait_for([&] {
    r.down_info = request(nc.p, "$JS.API.STREAM.INFO.MEM", nullptr, 1000);
    return r.down_info.contains("state") && replica_names(r.down_info).size() == 1;
  }, milliseconds(10000))) << r.down_info.dump();
  wait_for([&] {
    r.durable_info = request(nc.p, "$JS.API.CONSUMER.INFO.MEM.D", nullptr, 1000);
    return r.durable_info.contains("config") && !r.durable_info.contains("error");
  }, milliseconds(5000));
  r.fetched = eph_fetch(nc.p, next, n - 5, true);
  r.after_down = publish(nc.p, "mem.x", "after down").value("seq", uint64_t{0});

  cfg["num_replicas"] = 3;
  json up = request(nc.p, "$JS.API.STREAM.UPDATE.MEM", cfg);
  EXPECT_TRUE(up.contains("config")) << up.dump() << c.logs();
  // Three replicas, each current (caught up with the leader).
  EXPECT_TRUE(wait_for([&] {
    r.up_info = request(nc.p, "$JS.API.STREAM.INFO.MEM", nullptr, 1000);
    if (!r.up_info.contains("state") || replica_names(r.up_info).size() != 3) return false;
    for (const auto& rep : r.up_info["cluster"].value("replicas", json::array()))
      if (!rep.value("current", false)) return false;
    return true;
  }, milliseconds(10000))) << r.up_info.dump();
  const std::string old_leader = r.up_info.contains("cluster") ? r.up_info["cluster"].value("leader", "") : "";
  // 2.9.10 may leave the first stepdown right after the scale-up unanswered (1 s): asked again.
  json sd;
  r.stepped_down = wait_for([&] {
    sd = request(nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.MEM", nullptr, 1000);
    return sd.value("success", false);
  }, milliseconds(6000));
  std::printf("[%s] stepdown: %s\n", bin.c_str(), sd.dump().c_str());
  if (r.stepped_down) r.new_leader = wait_for([&] {
    r.stepped_info = request(nc.p, "$JS.API.STREAM.INFO.MEM", nullptr, 1000);
    return r.stepped_info.contains("state") && r.stepped_info.contains("cluster") &&
           !r.stepped_info["cluster"].value("leader", "").empty() &&
           r.stepped_info["cluster"].value("leader", "") != old_leader;
  }, milliseconds(10000));
  wait_for([&] { return (r.after_up = publish(nc.p, "mem.x", "after up").value("seq", uint64_t{0})) != 0; },
           milliseconds(5000));
  std::printf("[%s] after scale-down: %s\n  durable: %s\n  after scale-up and stepdown: %s\n", bin.c_str(),
              r.down_info.dump().c_str(), r.durable_info.dump().c_str(), r.stepped_info.dump().c_str());
  return r;
}

TEST(JsMembers, MemoryStreamScaleDownAndUpKeepsMessages) {
  constexpr int kMsgs = 20;
  const uint64_t n = kMsgs;
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    auto r = memory_stream_down_and_up(bin, kMsgs);
    const json st = r.down_info.value("state", json::object());
    EXPECT_EQ(st.value("messages", uint64_t{0}), n) << r.down_info.dump();
    EXPECT_EQ(st.value("first_seq", uint64_t{0}), 1u) << r.down_info.dump();
    EXPECT_EQ(st.value("last_seq", uint64_t{0}), n) << r.down_info.dump();
    EXPECT_EQ(r.durable_info.value("ack_floor", json::object()).value("stream_seq", uint64_t{0}), 5u) << r.durable_info.dump();
    EXPECT_EQ(r.durable_info.value("num_pending", uint64_t{0}), n - 5) << r.durable_info.dump();
    std::vector<uint64_t> rest;
    for (uint64_t s = 6; s <= n; ++s) rest.push_back(s);
    EXPECT_EQ(r.fetched, rest);
    EXPECT_EQ(r.after_down, n + 1);
    EXPECT_TRUE(r.stepped_down);
    EXPECT_TRUE(r.new_leader) << r.stepped_info.dump();
    const json up = r.stepped_info.value("state", json::object());
    EXPECT_EQ(up.value("messages", uint64_t{0}), n + 1) << r.stepped_info.dump();
    EXPECT_EQ(up.value("first_seq", uint64_t{0}), 1u) << r.stepped_info.dump();
    EXPECT_EQ(up.value("last_seq", uint64_t{0}), n + 1) << r.stepped_info.dump();
    EXPECT_EQ(r.after_up, n + 2);
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
