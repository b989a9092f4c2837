// A file stream across restarts: the Nats-Msg-Id table of the duplicate window and the last
// message's id (Nats-Expected-Last-Msg-Id) are read back from the store, lazily since the
// store no longer reads messages at start-up; the same answers as the reference's after a
// clean restart, and every acked message, id and body after a kill -9 that follows a clean
// restart (the active block's saved summary is stale then and the block is scanned).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;

namespace {

// Publishes to the stream with the given headers (empty values are left out) and returns the
// PubAck or error as the server wrote it ("" on timeout).
std::string publish(natsConnection* nc, const std::string& subj, const std::string& data, const std::string& id,
                    const std::string& expected_last_id = {}, bool expect_last = false) {
  natsMsg* m = nullptr;
  if (natsMsg_Create(&m, subj.c_str(), nullptr, data.data(), static_cast<int>(data.size())) != NATS_OK) return "";
  if (!id.empty()) natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
  if (expect_last) natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id", expected_last_id.c_str());
  natsMsg* r = nullptr;
  std::string out;
  if (natsConnection_RequestMsg(&r, nc, m, 5000) == NATS_OK) {
    out.assign(natsMsg_GetData(r), natsMsg_GetDataLength(r));
    natsMsg_Destroy(r);
  }
  natsMsg_Destroy(m);
  return out;
}

nlohmann::json api(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  natsMsg* r = nullptr;
  if (natsConnection_Request(&r, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 5000) != NATS_OK)
    return nullptr;
  auto j = nlohmann::json::parse(std::string(natsMsg_GetData(r), natsMsg_GetDataLength(r)), nullptr, false);
  natsMsg_Destroy(r);
  return j;
}

// Standard base64 with padding, as MSG.GET carries message data.
std::string base64_std(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(k[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(k[(v >> 18) & 63]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? k[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string id_of(int i) { return "id-" + std::to_string(i); }
std::string body_of(int i) { return "body-" + std::to_string(i) + std::string(i % 50, 'z'); }

// One server on its store directory, restartable with another signal or config.
struct RestartableJs {
  TempDir dir;
  std::string binary;
  int port = free_port();
  std::unique_ptr<ServerProcess> proc;
  explicit RestartableJs(std::string bin) : binary(std::move(bin)) {}
  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"-js", "-sd", dir.path() + "/store"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<ServerProcess>(args, binary, port);
    proc->start();
  }
};

// Stream D: 300 messages, every third with an id, the last one without.
void fill_stream(natsConnection* nc) {
  auto j = api(nc, "$JS.API.STREAM.CREATE.D", R"({"name":"D","subjects":["d.>"]})");
  ASSERT_TRUE(j.is_object() && !j.contains("error")) << j;
  for (int i = 0; i < 300; ++i) {
    auto ack = publish(nc, "d." + std::to_string(i % 4), body_of(i), i % 3 == 0 ? id_of(i) : "");
    ASSERT_NE(ack.find("\"seq\":" + std::to_string(i + 1)), std::string::npos) << ack;
  }
}

// The answers after a clean restart, in order.
std::vector<std::string> after_restart_answers(natsConnection* nc) {
  std::vector<std::string> out;
  auto info = api(nc, "$JS.API.STREAM.INFO.D");
  out.push_back("messages " + info["state"]["messages"].dump() + " last " + info["state"]["last_seq"].dump());
  // The last message had no id: an expected id fails, the empty one (no expectation) passes.
  out.push_back(publish(nc, "d.x", "e1", "", id_of(297), true));
  // Ids inside the window are duplicates of their first sequence.
  out.push_back(publish(nc, "d.0", "again", id_of(0)));
  out.push_back(publish(nc, "d.1", "again", id_of(150)));
  out.push_back(publish(nc, "d.2", "again", id_of(297)));
  // New messages go on from the last sequence, and the last id is tracked again.
  out.push_back(publish(nc, "d.3", "new", "id-new"));
  out.push_back(publish(nc, "d.3", "after", "", "id-new", true));
  out.push_back(publish(nc, "d.3", "wrong", "", "id-new", true));
  out.push_back(publish(nc, "d.3", "new", "id-new"));
  auto msg = api(nc, "$JS.API.STREAM.MSG.GET.D", R"({"seq":151})");
  out.push_back(msg["message"]["data"].dump() + " " + msg["message"]["subject"].dump());
  return out;
}

}  // namespace

TEST(JsRestartDedupe, DuplicateWindowAndLastMsgIdSurviveACleanRestartLikeTheReference) {
  std::vector<std::vector<std::string>> answers;
  for (const auto& bin : binaries_to_compare()) {
    SCOPED_TRACE(bin);
    RestartableJs srv(bin);
    srv.start();
    {
      ConnPtr nc;
      ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
      fill_stream(nc.p);
      if (HasFatalFailure()) return;
    }
    srv.proc->stop();
    srv.start();
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
    answers.push_back(after_restart_answers(nc.p));
  }
  const auto& ours = answers.front();
  ASSERT_EQ(ours.size(), 10u);
  EXPECT_EQ(ours[0], "messages 300 last 300");
  EXPECT_NE(ours[1].find("10070"), std::string::npos) << ours[1];
  EXPECT_EQ(ours[2], R"({"stream":"D", "seq":1,"duplicate": true})");
  EXPECT_EQ(ours[3], R"({"stream":"D", "seq":151,"duplicate": true})");
  EXPECT_EQ(ours[4], R"({"stream":"D", "seq":298,"duplicate": true})");
  EXPECT_EQ(ours[5], R"({"stream":"D", "seq":301})");
  EXPECT_EQ(ours[6], R"({"stream":"D", "seq":302})");
  EXPECT_NE(ours[7].find("10070"), std::string::npos) << ours[7];
  EXPECT_EQ(ours[8], R"({"stream":"D", "seq":301,"duplicate": true})");
  if (answers.size() == 2) {
    EXPECT_EQ(answers[0], answers[1]);
  }
}

// Ours only: `sync_interval: always` makes every PubAck durable before it leaves, so a kill -9
// may not lose an acked message (2.9.10 has no such setting).
TEST(JsRestartDedupe, KillAfterACleanRestartKeepsEveryAckedMessageAndId) {
  RestartableJs srv(server_binary());
  std::string conf = srv.dir.path() + "/sync.conf";
  std::ofstream(conf) << "jetstream { store_dir: \"" << srv.dir.path() << "/store\", sync_interval: always }\n";
  srv.start({"-c", conf});
  {
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
    fill_stream(nc.p);
    if (HasFatalFailure()) return;
  }
  srv.proc->stop();  // clean: the active block's offsets and summary are saved
  srv.start({"-c", conf});
  {
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
    for (int i = 300; i < 360; ++i) {
      auto ack = publish(nc.p, "d.k", body_of(i), id_of(i));
      ASSERT_EQ(ack, R"({"stream":"D", "seq":)" + std::to_string(i + 1) + "}");
    }
  }
  srv.proc->stop(SIGKILL);
  srv.start({"-c", conf});
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  auto info = api(nc.p, "$JS.API.STREAM.INFO.D");
  EXPECT_EQ(info["state"]["messages"], 360) << info;
  EXPECT_EQ(info["state"]["last_seq"], 360) << info;
  for (int i : {0, 297, 300, 359})
    EXPECT_EQ(publish(nc.p, "d.k", "again", id_of(i)),
              R"({"stream":"D", "seq":)" + std::to_string(i + 1) + R"(,"duplicate": true})");
  // The last acked message had an id: it is the expected last one.
  EXPECT_EQ(publish(nc.p, "d.k", "next", "", id_of(359), true), R"({"stream":"D", "seq":361})");
  // Bodies from before the clean restart, after it, and the last acked one.
  for (int seq : {1, 151, 300, 331, 360}) {
    auto m = api(nc.p, "$JS.API.STREAM.MSG.GET.D", "{\"seq\":" + std::to_string(seq) + "}");
    ASSERT_TRUE(m.is_object() && m.contains("message")) << m;
    EXPECT_EQ(m["message"]["seq"], seq);
    EXPECT_EQ(m["message"]["data"], base64_std(body_of(seq - 1))) << seq;
  }
}

}  // namespace NATS_TEST_FILE_ID
