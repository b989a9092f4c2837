// File store compaction on a real server: after a purge by subject (every block keeps a third
// of its messages) the store directory shrinks in the background, and a restart still finds
// every remaining message.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
namespace fs = std::filesystem;

namespace {

nlohmann::json compaction_request(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 5000) != NATS_OK)
    return nullptr;
  auto j = nlohmann::json::parse(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)), nullptr, false);
  natsMsg_Destroy(reply);
  return j;
}

uint64_t dir_bytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

}  // namespace

TEST(JsStoreCompaction, PurgeBySubjectShrinksTheStoreAndSurvivesARestart) {
  TempDir dir;
  std::string conf = dir.path() + "/server.conf";
  {
    std::ofstream f(conf);
    f << "jetstream { store_dir: \"" << dir.path() << "/store\" }\n";
  }
  int port = free_port();
  auto proc = std::make_unique<ServerProcess>(std::vector<std::string>{"-c", conf}, server_binary(), port);
  proc->start();
  const std::string msgs_dir = dir.path() + "/store/jetstream/$G/streams/C/msgs";
  constexpr int kMsgs = 60000;  // 3 subjects x 20000 x ~300 bytes: three 8 MiB blocks
  {
    ConnPtr nc;
    ASSERT_EQ(connect_url(nc, proc->url()), NATS_OK);
    auto j = compaction_request(nc.p, "$JS.API.STREAM.CREATE.C", R"({"name":"C","subjects":["c.*"]})");
    ASSERT_TRUE(j.is_object() && !j.contains("error")) << j;
    std::string payload(250, 'x');
    const char* subjects[] = {"c.a", "c.b", "c.keep"};
    for (int i = 0; i < kMsgs; ++i) {
      ASSERT_EQ(natsConnection_Publish(nc.p, subjects[i % 3], payload.data(), static_cast<int>(payload.size())),
                NATS_OK);
      if (i % 5000 == 4999) {
        ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);
      }
    }
    ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);
    ASSERT_TRUE(wait_for([&] {
      auto info = compaction_request(nc.p, "$JS.API.STREAM.INFO.C");
      return info.is_object() && info["state"]["messages"] == kMsgs;
    }, std::chrono::milliseconds(20000)));
    uint64_t full = dir_bytes(msgs_dir);
    EXPECT_GT(full, 16u * 1024 * 1024);
    for (const char* s : {"c.a", "c.b"}) {
      j = compaction_request(nc.p, "$JS.API.STREAM.PURGE.C", std::string(R"({"filter":")") + s + "\"}");
      ASSERT_TRUE(j.is_object() && j["success"] == true) << j;
    }
    // Sealed blocks now hold a third of what they did: rewritten in the background.
    bool shrunk = wait_for([&] { return dir_bytes(msgs_dir) < full * 6 / 10; }, std::chrono::milliseconds(15000));
    EXPECT_TRUE(shrunk) << dir_bytes(msgs_dir) << " of " << full;
    auto info = compaction_request(nc.p, "$JS.API.STREAM.INFO.C");
    EXPECT_EQ(info["state"]["messages"], kMsgs / 3);
  }
  proc->stop(SIGKILL);
  proc->start();
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, proc->url()), NATS_OK);
  auto info = compaction_request(nc.p, "$JS.API.STREAM.INFO.C");
  ASSERT_TRUE(info.is_object() && !info.contains("error")) << info;
  EXPECT_EQ(info["state"]["messages"], kMsgs / 3);
  EXPECT_EQ(info["state"]["first_seq"], 3);
  EXPECT_EQ(info["state"]["last_seq"], kMsgs);
  // Every kept message is readable; a purged one is not.
  for (int seq : {3, 30003, kMsgs}) {
    auto j = compaction_request(nc.p, "$JS.API.STREAM.MSG.GET.C", R"({"seq":)" + std::to_string(seq) + "}");
    ASSERT_TRUE(j.is_object() && j.contains("message")) << seq << " " << j;
    EXPECT_EQ(j["message"]["subject"], "c.keep");
  }
  auto j = compaction_request(nc.p, "$JS.API.STREAM.MSG.GET.C", R"({"seq":4})");
  EXPECT_TRUE(j.is_object() && j.contains("error")) << j;
  j = compaction_request(nc.p, "$JS.API.STREAM.MSG.GET.C", R"({"last_by_subj":"c.keep"})");
  ASSERT_TRUE(j.is_object() && j.contains("message")) << j;
  EXPECT_EQ(j["message"]["seq"], kMsgs);
  proc->stop();
}

}  // namespace NATS_TEST_FILE_ID
