// Publishes and pulls while an R3 stream scales down to R1, on ours and the reference
// (identical 3-server clusters, every server routes to all). Two publishers (on two servers)
// send one message after another, each waiting for its PubAck (500 ms), from before the
// STREAM.UPDATE until the one copy has taken 10 more from each; a puller fetches from a durable
// meanwhile. Asserted for both: every acknowledged message is in the R1 copy at the
// sequence its PubAck gave, with its payload. Asserted for ours only (see the test): the
// publishers get PubAcks again after the scale-down; no PubAck carries an error. Printed, not asserted (timing, on a shared
// machine): the longest time a publisher went without a PubAck (the swap's window), and how
// many publishes got "no responders", no answer, or an error, and how pulls fared.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;
using Clock = std::chrono::steady_clock;

// Standard base64 (STREAM.MSG.GET's "data").
std::string b64_decode(const std::string& in) {
  std::string out;
  int val = 0, bits = -8;
  for (char ch : in) {
    const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* pos = ch ? std::strchr(abc, ch) : nullptr;
    if (pos == nullptr) break;  // '=' or the end
    val = (val << 6) + static_cast<int>(pos - abc);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

struct PublisherTally {
  std::map<uint64_t, std::string> acked;  // sequence -> payload
  std::vector<std::string> bad;           // PubAcks with an error, or a sequence given twice
  int no_responders = 0, timeouts = 0;
  int64_t longest_gap_ms = 0;  // between two PubAcks (or the start and the first)
  int acks_after_single = 0;
  int tries = 0;  // publishes sent
};

struct WindowResult {
  std::vector<PublisherTally> pubs;
  json info;                      // STREAM.INFO once R1 and the publishers stopped
  std::vector<std::string> lost;  // acknowledged, not in the R1 copy as acknowledged
  int pulls_ok = 0, pulls_status = 0, pulls_silent = 0;
  bool single = false;
};

WindowResult publish_through_scale_down(const std::string& bin) {
  WindowResult r;
  Cluster c(3, 0);
  for (auto& n : c.nodes) {
    n->routes.clear();
    for (auto& k : c.nodes) n->routes.push_back(k->cluster_port);
  }
  for (auto& n : c.nodes) n->proc = start_with_config(n->config(), {}, bin);
  std::vector<ConnPtr> nc(3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(connect_url(nc[i], c.node(i).url("a:a")), NATS_OK);
  if (!nc[0].p || !nc[1].p || !nc[2].p) return r;
  json cfg = {{"name", "WIN"}, {"subjects", {"win.>"}}, {"num_replicas", 3}};
  json created;
  wait_for([&] {  // asked again every 500 ms until the meta group has formed
    created = request(nc[0].p, "$JS.API.STREAM.CREATE.WIN", cfg, 500);
    return created.contains("config");
  }, milliseconds(30000));
  EXPECT_TRUE(created.contains("config")) << created.dump() << c.logs();
  json ccfg = {{"stream_name", "WIN"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}};
  json cons;
  wait_for([&] {
    cons = request(nc[0].p, "$JS.API.CONSUMER.DURABLE.CREATE.WIN.D", ccfg, 1000);
    return cons.contains("config");
  }, milliseconds(10000));
  EXPECT_TRUE(cons.contains("config")) << cons.dump();

  std::atomic<bool> single{false}, stop{false};
  std::atomic<int> total_acks{0};
  std::atomic<int> after[2] = {0, 0};  // PubAcks once the stream is R1, per publisher
  r.pubs.resize(2);
  std::vector<std::thread> threads;
  for (size_t p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      PublisherTally& t = r.pubs[p];
      natsConnection* conn = nc[p].p;
      auto last = Clock::now();
      for (int i = 0; !stop.load(); ++i) {
        const std::string payload = "p" + std::to_string(p) + "-" + std::to_string(i);
        t.tries = i + 1;
        MsgPtr m;
        natsStatus st = natsConnection_RequestString(&m.p, conn, "win.x", payload.c_str(), 500);
        if (st == NATS_NO_RESPONDERS) {
          ++t.no_responders;
          std::this_thread::sleep_for(milliseconds(5));  // as a client backing off
          continue;
        }
        if (st != NATS_OK) {
          ++t.timeouts;
          continue;
        }
        auto a = json::parse(m.data(), nullptr, false);
        uint64_t seq = a.is_object() ? a.value("seq", uint64_t{0}) : 0;
        if (!a.is_object() || a.contains("error") || seq == 0) {
          t.bad.push_back(m.data());
          continue;
        }
        auto now = Clock::now();
        t.longest_gap_ms =
            std::max<int64_t>(t.longest_gap_ms, std::chrono::duration_cast<milliseconds>(now - last).count());
        last = now;
        if (!t.acked.emplace(seq, payload).second) t.bad.push_back("sequence given twice: " + m.data());
        ++total_acks;
        if (single.load()) ++after[p];
      }
    });
  }
  // The puller: batches of 5 from the durable, acked, on the third server.
  threads.emplace_back([&] {
    natsConnection* conn = nc[2].p;
    char inbox[64];
    std::snprintf(inbox, sizeof inbox, "_INBOX.win.%d.%d", ::getpid(), std::rand());
    SubPtr sub;
    if (natsConnection_SubscribeSync(&sub.p, conn, inbox) != NATS_OK) return;
    const std::string body = json{{"batch", 5}, {"expires", 300000000}}.dump();
    while (!stop.load()) {
      natsConnection_PublishRequest(conn, "$JS.API.CONSUMER.MSG.NEXT.WIN.D", inbox, body.data(),
                                    static_cast<int>(body.size()));
      int got = 0;
      for (;;) {
        MsgPtr m;
        if (natsSubscription_NextMsg(&m.p, sub.p, 600) != NATS_OK) {
          if (got == 0) ++r.pulls_silent;
          break;
        }
        const char* reply = natsMsg_GetReply(m.p);
        if (reply == nullptr || std::string(reply).rfind("$JS.ACK.", 0) != 0) {
          // A status: 408 (expired, the normal end of a short batch) is no failure.
          const char* code = nullptr;
          natsMsgHeader_Get(m.p, "Status", &code);
          if (code == nullptr || std::string(code) != "408") ++r.pulls_status;
          else if (got > 0) ++r.pulls_ok;
          break;
        }
        natsConnection_PublishString(conn, reply, "+ACK");
        if (++got == 5) {
          ++r.pulls_ok;
          break;
        }
      }
    }
  });

  wait_for([&] { return total_acks.load() >= 20; }, milliseconds(5000));
  cfg["num_replicas"] = 1;
  json down = request(nc[0].p, "$JS.API.STREAM.UPDATE.WIN", cfg);
  EXPECT_TRUE(down.contains("config")) << down.dump() << c.logs();
  r.single = wait_for([&] {
    r.info = request(nc[0].p, "$JS.API.STREAM.INFO.WIN", nullptr, 1000);
    return r.info.contains("state") && replica_names(r.info).size() == 1;
  }, milliseconds(10000));
  single = true;
  // Each publisher gets PubAcks from the one copy (one may be waiting out a lost publish).
  wait_for([&] { return std::min(after[0].load(), after[1].load()) >= 10; }, milliseconds(5000));
  stop = true;
  for (auto& t : threads) t.join();
  for (size_t p = 0; p < 2; ++p) r.pubs[p].acks_after_single = after[p].load();

  r.info = request(nc[0].p, "$JS.API.STREAM.INFO.WIN", nullptr);
  // Every acknowledged message, at its sequence, with its payload.
  for (const auto& t : r.pubs)
    for (const auto& [seq, payload] : t.acked) {
      json got = request(nc[0].p, "$JS.API.STREAM.MSG.GET.WIN", json{{"seq", seq}}, 2000);
      std::string data;
      if (got.contains("message")) {
        data = b64_decode(got["message"].value("data", ""));
      }
      if (data != payload) r.lost.push_back(std::to_string(seq) + " " + payload + ": " + got.dump());
    }
  std::printf("[%s] after scale-down: %s\n", bin.c_str(), r.info.dump().c_str());
  for (size_t p = 0; p < r.pubs.size(); ++p)
    std::printf("[%s] publisher %zu: %d sent, %zu acked, %d no responders, %d no answer (500 ms), %zu bad, "
                "longest without a PubAck %lld ms\n",
                bin.c_str(), p, r.pubs[p].tries, r.pubs[p].acked.size(), r.pubs[p].no_responders, r.pubs[p].timeouts,
                r.pubs[p].bad.size(), static_cast<long long>(r.pubs[p].longest_gap_ms));
  std::printf("[%s] pulls: %d ok, %d status, %d silent (600 ms)\n", bin.c_str(), r.pulls_ok, r.pulls_status,
              r.pulls_silent);
  return r;
}

TEST(JsMembers, ScaleDownKeepsEveryPubAckedMessageUnderLoad) {
  for (const auto& bin : testing_harness::binaries_to_compare()) {
    SCOPED_TRACE(bin);
    auto r = publish_through_scale_down(bin);
    EXPECT_TRUE(r.single) << r.info.dump();
    EXPECT_TRUE(r.lost.empty()) << r.lost.size() << " acknowledged messages lost, first: " << r.lost.front();
    // 2.9.10 sometimes answers every publish after the scale-down with 10063 "expected
    // stream sequence does not match" (no such header was sent) and stores nothing more:
    // its clustered sequence check (clseq - clfs) goes wrong across the replica change.
    // Broken, not matched: ours must go on taking publishes.
    if (bin != testing_harness::server_binary()) continue;
    for (const auto& t : r.pubs) {
      EXPECT_TRUE(t.bad.empty()) << t.bad.size() << " bad PubAcks, first: " << t.bad.front();
      EXPECT_GT(t.acks_after_single, 0);
    }
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
