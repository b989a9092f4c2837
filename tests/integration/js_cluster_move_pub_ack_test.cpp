// Publishing without pause while an R1 stream moves to another server. On the way the stream
// runs as a group of two whose leadership passes from the old server to the new one; a
// publish proposed by the old leader just before that hand-over is committed by the new one.
// Injected: a steady stream of publishes (each with its own reply subject) through the move.
// Verified: every message the stream stored was acknowledged to its publisher, with the
// sequence it was stored at (a publish that was not stored may go unanswered: its client
// retries). Before the fix only the proposer answered, so those hand-over publishes were
// stored with no PubAck.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "js_members_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

struct MoveAcks {
  std::mutex mu;
  std::map<int, std::vector<uint64_t>> seqs;  // publish number -> the sequences acknowledged
};

// Standard base64 (STREAM.MSG.GET's data), padding ignored.
std::string mpa_b64_decode(const std::string& in) {
  static const std::string abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    auto pos = abc.find(ch);
    if (pos == std::string::npos) continue;
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    if ((bits += 6) >= 8) out.push_back(static_cast<char>((acc >> (bits -= 8)) & 0xff));
  }
  return out;
}

void on_move_ack(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* acks = static_cast<MoveAcks*>(closure);
  std::string subj = natsMsg_GetSubject(msg);
  std::string data(natsMsg_GetData(msg) ? natsMsg_GetData(msg) : "", static_cast<size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  auto j = json::parse(data, nullptr, false);
  if (!j.is_object() || !j.contains("seq")) return;  // no responders (503) or an error
  int n = std::atoi(subj.substr(subj.rfind('.') + 1).c_str());
  std::lock_guard lk(acks->mu);
  acks->seqs[n].push_back(j.value("seq", uint64_t{0}));
}

TEST(JsClusterMovePubAck, EveryMessageStoredDuringAnR1MoveIsAcknowledged) {
  Cluster c(3, 3);
  ConnPtr nc, pub;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  ASSERT_EQ(connect_url(pub, c.node(0).url("a:a")), NATS_OK);
  json cfg = {{"name", "MPA"}, {"subjects", {"mpa.>"}}, {"num_replicas", 1}, {"placement", {{"tags", {"host:s2"}}}}};
  json created = create_stream(nc.p, cfg);
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  ASSERT_EQ(publish(nc.p, "mpa.x", "first").value("seq", 0), 1) << c.logs();

  MoveAcks acks;
  SubPtr ack_sub;
  ASSERT_EQ(natsConnection_Subscribe(&ack_sub.p, pub.p, "mpa_acks.>", on_move_ack, &acks), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread publisher([&] {
    for (int n = 1; !stop; ++n) {
      std::string reply = "mpa_acks." + std::to_string(n), data = "p" + std::to_string(n);
      natsConnection_PublishRequestString(pub.p, "mpa.x", reply.c_str(), data.c_str());
      natsConnection_Flush(pub.p);
      sent = n;
      std::this_thread::sleep_for(milliseconds(1));
    }
  });

  std::this_thread::sleep_for(milliseconds(200));
  cfg["placement"] = {{"tags", {"host:s3"}}};
  json up = request(nc.p, "$JS.API.STREAM.UPDATE.MPA", cfg);
  EXPECT_FALSE(up.contains("error")) << up.dump();
  json info;
  bool moved = wait_for([&] {
    info = request(nc.p, "$JS.API.STREAM.INFO.MPA", nullptr, 2000);
    return info.contains("cluster") && info["cluster"].value("leader", "") == "s3" &&
           !info["cluster"].contains("replicas");
  }, milliseconds(20000));
  std::this_thread::sleep_for(milliseconds(300));  // a little more traffic on the moved stream
  stop = true;
  publisher.join();
  ASSERT_TRUE(moved) << info.dump() << c.logs();

  // What the stream holds: publish number -> sequence.
  uint64_t last = 0;
  std::map<int, uint64_t> stored;
  ASSERT_TRUE(wait_for([&] {  // the last PubAcks and the state settle
    info = request(nc.p, "$JS.API.STREAM.INFO.MPA", nullptr, 2000);
    uint64_t l = info.contains("state") ? info["state"].value("last_seq", uint64_t{0}) : 0;
    bool same = l == last && l > 0;
    last = l;
    if (!same) std::this_thread::sleep_for(milliseconds(500));
    return same;
  }, milliseconds(10000))) << info.dump();
  for (uint64_t seq = 2; seq <= last; ++seq) {
    json m = request(nc.p, "$JS.API.STREAM.MSG.GET.MPA", json{{"seq", seq}});
    ASSERT_TRUE(m.contains("message")) << seq << " " << m.dump();
    std::string data = mpa_b64_decode(m["message"].value("data", ""));
    ASSERT_TRUE(!data.empty() && data[0] == 'p') << data;
    int n = std::atoi(data.c_str() + 1);
    EXPECT_EQ(stored.count(n), 0u) << "publish " << n << " stored twice";
    stored[n] = seq;
  }
  std::map<int, std::vector<uint64_t>> got;
  {
    std::lock_guard lk(acks.mu);
    got = acks.seqs;
  }
  int unacked = 0;
  for (const auto& [n, seq] : stored) {
    auto it = got.find(n);
    if (it == got.end()) {
      ++unacked;
      ADD_FAILURE() << "publish " << n << " stored as " << seq << " but not acknowledged";
      continue;
    }
    for (uint64_t s : it->second) EXPECT_EQ(s, seq) << "publish " << n;
  }
  for (const auto& [n, s] : got)
    EXPECT_TRUE(stored.count(n)) << "publish " << n << " acknowledged as " << s.front() << " but not stored";
  std::fprintf(stderr, "[ move ] %d sent, %zu stored, %zu acknowledged, %d stored unacknowledged\n", sent.load(),
               stored.size(), got.size(), unacked);
  if (unacked) ADD_FAILURE() << c.logs();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
