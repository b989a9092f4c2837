// Integration tests for the `nats` CLI's JetStream commands (stream, consumer, kv, account,
// stream backup/restore) and bench, run against our server and against the reference (skipped
// when it is not installed): the same commands must give the same output from both.
#include <gtest/gtest.h>

#include <nats/nats.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

#ifdef NATS_CLI_BIN
using namespace testing_harness;

namespace {

class JsCli : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    bool reference = GetParam() == "reference";
    if (reference && !reference_available()) GTEST_SKIP() << "reference nats-server not installed";
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"-js", "-sd", home_.path() + "/js"},
                                              reference ? reference_binary() : server_binary());
    server_->start();
  }
  std::string command(const std::string& args) const {
    return "env -u NATS_URL -u NATS_CONTEXT HOME=" + home_.path() + " XDG_CONFIG_HOME=" + home_.path() + "/cfg " +
           NATS_CLI_BIN + " -s " + server_->url() + " " + args;
  }
  CommandResult run(const std::string& args) { return run_command(command(args)); }
  TempDir home_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_P(JsCli, StreamLifecycle) {
  auto add = run("stream add ORDERS --subjects 'ORDERS.*' --storage memory --max-msgs 100 --max-age 1h --defaults");
  ASSERT_EQ(add.status, 0) << add.output;
  EXPECT_NE(add.output.find("Stream ORDERS was created"), std::string::npos) << add.output;
  EXPECT_NE(add.output.find("Subjects: ORDERS.*"), std::string::npos) << add.output;
  EXPECT_NE(add.output.find("Storage: Memory"), std::string::npos);
  EXPECT_NE(add.output.find("Maximum Messages: 100\n"), std::string::npos);
  EXPECT_NE(add.output.find("Maximum Age: 1h0m0s\n"), std::string::npos) << add.output;

  ASSERT_EQ(run("pub ORDERS.new 'order {{Count}}' --count 3 -H k:v").status, 0);
  auto info = run("stream info ORDERS --json");
  ASSERT_EQ(info.status, 0) << info.output;
  auto j = nlohmann::json::parse(info.output);
  EXPECT_EQ(j["state"]["messages"], 3);
  EXPECT_EQ(j["config"]["max_msgs"], 100);
  EXPECT_EQ(j["config"]["storage"], "memory");

  auto ls = run("stream ls");
  EXPECT_NE(ls.output.find("│ ORDERS │"), std::string::npos) << ls.output;
  EXPECT_EQ(run("stream ls --names").output, "ORDERS\n");

  auto get = run("stream get ORDERS 2");
  ASSERT_EQ(get.status, 0) << get.output;
  EXPECT_NE(get.output.find("Item: ORDERS#2 received "), std::string::npos) << get.output;
  EXPECT_NE(get.output.find("on Subject ORDERS.new"), std::string::npos);
  EXPECT_NE(get.output.find("  k: v\n"), std::string::npos);
  EXPECT_NE(get.output.find("order 2\n"), std::string::npos);
  EXPECT_EQ(run("stream view ORDERS --raw").output, "order 1\norder 2\norder 3\n");

  auto edit = run("stream edit ORDERS --max-msgs 5");
  ASSERT_EQ(edit.status, 0) << edit.output;
  EXPECT_NE(edit.output.find("Maximum Messages: 5\n"), std::string::npos);

  EXPECT_NE(run("stream purge ORDERS").status, 0);  // needs --force
  auto purge = run("stream purge ORDERS -f");
  ASSERT_EQ(purge.status, 0) << purge.output;
  EXPECT_NE(purge.output.find("Messages: 0\n"), std::string::npos) << purge.output;

  ASSERT_EQ(run("stream rm ORDERS -f").status, 0);
  auto missing = run("stream info ORDERS");
  EXPECT_NE(missing.status, 0);
  EXPECT_EQ(missing.output, "nats: error: stream not found (10059)\n");
  EXPECT_NE(run("stream ls").output.find("No Streams defined"), std::string::npos);
}

TEST_P(JsCli, MirrorAndSources) {
  ASSERT_EQ(run("stream add O --subjects 'o.>' --defaults").status, 0);
  ASSERT_EQ(run("stream add P --subjects 'p.>' --defaults").status, 0);
  ASSERT_EQ(run("pub o.x hi --count 2").status, 0);
  ASSERT_EQ(run("pub p.x hi").status, 0);
  auto m = run("stream add M --mirror O --defaults");
  ASSERT_EQ(m.status, 0) << m.output;
  ASSERT_EQ(run("stream add AG --source O --source P --defaults").status, 0);
  nlohmann::json mi, ai;
  for (int i = 0; i < 100; ++i) {
    mi = nlohmann::json::parse(run("stream info M --json").output, nullptr, false);
    ai = nlohmann::json::parse(run("stream info AG --json").output, nullptr, false);
    if (mi.is_object() && ai.is_object() && mi["state"]["messages"] == 2 && ai["state"]["messages"] == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(mi["state"]["messages"], 2) << mi.dump();
  EXPECT_FALSE(mi["config"].contains("subjects")) << mi.dump();
  EXPECT_EQ(ai["state"]["messages"], 3) << ai.dump();
  auto mirror_info = run("stream info M");
  EXPECT_NE(mirror_info.output.find("Mirror Information:"), std::string::npos) << mirror_info.output;
  EXPECT_NE(mirror_info.output.find("Stream Name: O\n"), std::string::npos) << mirror_info.output;
  auto info = run("stream info AG");
  EXPECT_NE(info.output.find("Source Information:"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("Stream Name: P\n"), std::string::npos) << info.output;
}

TEST_P(JsCli, PullConsumerNextAcks) {
  ASSERT_EQ(run("stream add Q --subjects 'q.>' --retention work --defaults").status, 0);
  ASSERT_EQ(run("pub q.job 'job {{Count}}' --count 2").status, 0);
  auto add = run("consumer add Q W --pull --filter 'q.>' --defaults");
  ASSERT_EQ(add.status, 0) << add.output;
  EXPECT_NE(add.output.find("Information for Consumer Q > W"), std::string::npos) << add.output;
  EXPECT_NE(add.output.find("Pull Mode: true"), std::string::npos);
  EXPECT_NE(add.output.find("Ack Policy: Explicit"), std::string::npos);

  auto next = run("consumer next Q W --count 2");
  ASSERT_EQ(next.status, 0) << next.output;
  EXPECT_NE(next.output.find("subj: q.job / tries: 1 / cons seq: 1 / str seq: 1 / pending: 1"), std::string::npos)
      << next.output;
  EXPECT_NE(next.output.find("job 2"), std::string::npos);
  std::regex acked("Acknowledged message");
  EXPECT_EQ(std::distance(std::sregex_iterator(next.output.begin(), next.output.end(), acked), std::sregex_iterator()), 2);

  // Work-queue retention drops acknowledged messages.
  for (int i = 0; i < 50; ++i) {
    auto j = nlohmann::json::parse(run("stream info Q --json").output);
    if (j["state"]["messages"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(nlohmann::json::parse(run("stream info Q --json").output)["state"]["messages"], 0);
  EXPECT_EQ(run("consumer ls Q --names").output, "W\n");
  auto info = run("consumer info Q W --json");
  EXPECT_EQ(nlohmann::json::parse(info.output)["delivered"]["stream_seq"], 2);
  ASSERT_EQ(run("consumer rm Q W -f").status, 0);
  EXPECT_NE(run("consumer info Q W").status, 0);

  auto acct = run("account info");
  ASSERT_EQ(acct.status, 0) << acct.output;
  EXPECT_NE(acct.output.find("JetStream Account Information"), std::string::npos) << acct.output;
  EXPECT_NE(acct.output.find("Streams: 1 of unlimited"), std::string::npos) << acct.output;
}

TEST_P(JsCli, KeyValue) {
  auto add = run("kv add CFG --history 5");
  ASSERT_EQ(add.status, 0) << add.output;
  EXPECT_NE(add.output.find("Information for Key-Value Store Bucket CFG"), std::string::npos) << add.output;
  EXPECT_NE(add.output.find("History Kept: 5"), std::string::npos);
  auto cfg = nlohmann::json::parse(run("stream info KV_CFG --json").output)["config"];
  EXPECT_EQ(cfg["subjects"][0], "$KV.CFG.>");
  EXPECT_EQ(cfg["max_msgs_per_subject"], 5);
  EXPECT_EQ(cfg["allow_rollup_hdrs"], true);

  EXPECT_EQ(run("kv put CFG color red").output, "red\n");
  ASSERT_EQ(run("kv put CFG color blue").status, 0);
  ASSERT_EQ(run("kv put CFG size 10").status, 0);
  EXPECT_EQ(run("kv get CFG color --raw").output, "blue");
  auto get = run("kv get CFG color");
  EXPECT_NE(get.output.find("CFG > color revision: 2 created @ "), std::string::npos) << get.output;
  EXPECT_EQ(run("kv ls CFG").output, "color\nsize\n");
  EXPECT_EQ(run("kv ls --names").output, "CFG\n");

  auto hist = run("kv history CFG color");
  ASSERT_EQ(hist.status, 0) << hist.output;
  EXPECT_NE(hist.output.find("History for CFG > color"), std::string::npos);
  EXPECT_NE(hist.output.find("│ color │        1 │ PUT │"), std::string::npos) << hist.output;
  EXPECT_NE(hist.output.find("│ blue  │"), std::string::npos) << hist.output;

  ASSERT_EQ(run("kv del CFG size -f").status, 0);
  auto gone = run("kv get CFG size");
  EXPECT_NE(gone.status, 0);
  EXPECT_EQ(gone.output, "nats: error: nats: key not found\n");
  EXPECT_EQ(run("kv ls CFG").output, "color\n");

  auto watch = run("kv watch CFG --count 2");
  ASSERT_EQ(watch.status, 0) << watch.output;
  // natscli stamps each entry with its stored time: "[2006-01-02 15:04:05] PUT CFG > color: blue".
  EXPECT_TRUE(std::regex_search(watch.output, std::regex(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] PUT CFG > color: blue$)",
                                                         std::regex::multiline))) << watch.output;
  EXPECT_NE(watch.output.find("PUT CFG > color: blue"), std::string::npos) << watch.output;
  EXPECT_NE(watch.output.find("DEL CFG > size"), std::string::npos) << watch.output;

  auto missing = run("kv get NOPE k");
  EXPECT_NE(missing.status, 0);
  EXPECT_EQ(missing.output, "nats: error: nats: bucket not found\n");
}

TEST_P(JsCli, KvMirrorAndSources) {
  ASSERT_EQ(run("kv add O").status, 0);
  ASSERT_EQ(run("kv add P").status, 0);
  ASSERT_EQ(run("kv put O a 1").status, 0);
  ASSERT_EQ(run("kv put P b 2").status, 0);
  auto m = run("kv add M --mirror O");
  ASSERT_EQ(m.status, 0) << m.output;
  auto ag = run("kv add AG --source O --source P");
  ASSERT_EQ(ag.status, 0) << ag.output;
  nlohmann::json mi, ai;
  for (int i = 0; i < 100; ++i) {
    mi = nlohmann::json::parse(run("stream info KV_M --json").output, nullptr, false);
    ai = nlohmann::json::parse(run("stream info KV_AG --json").output, nullptr, false);
    if (mi.is_object() && ai.is_object() && mi["state"]["messages"] == 1 && ai["state"]["messages"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // As nats.go builds them for 2.9: no subjects of their own, the mirror serves direct gets.
  EXPECT_EQ(mi["state"]["messages"], 1) << mi.dump();
  EXPECT_EQ(mi["config"]["mirror"]["name"], "KV_O") << mi.dump();
  EXPECT_EQ(mi["config"]["mirror_direct"], true) << mi.dump();
  EXPECT_FALSE(mi["config"].contains("subjects")) << mi.dump();
  EXPECT_EQ(ai["state"]["messages"], 2) << ai.dump();
  EXPECT_EQ(ai["config"]["sources"].size(), 2u) << ai.dump();
  // Keys read through the mirror, stored under the origin's subjects (as natscli reads them).
  auto got = run("kv get M a --raw");
  EXPECT_EQ(got.status, 0) << got.output;
  EXPECT_EQ(got.output, "1") << got.output;
  auto ls = run("kv ls M");
  EXPECT_EQ(ls.output, "a\n") << ls.output;
  EXPECT_NE(run("kv get M b").status, 0);
  auto info = run("kv info M");
  EXPECT_NE(info.output.find("Mirror Information"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("Origin Bucket: O\n"), std::string::npos) << info.output;
  info = run("kv info AG");
  EXPECT_NE(info.output.find("Sources Information"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("Source Bucket: P\n"), std::string::npos) << info.output;
  // The mirror's domain becomes its external API prefix.
  auto dm = run("kv add DM --mirror O --mirror-domain hub");
  ASSERT_EQ(dm.status, 0) << dm.output;
  auto di = nlohmann::json::parse(run("stream info KV_DM --json").output, nullptr, false);
  EXPECT_EQ(di["config"]["mirror"]["external"]["api"], "$JS.hub.API") << di.dump();
  EXPECT_NE(run("kv add X --mirror O --source P").status, 0);
}

TEST_P(JsCli, BenchReportsRatesAndLatencies) {
  auto ps = run("bench b.x --pub 1 --sub 1 --msgs 20000 --size 64");
  ASSERT_EQ(ps.status, 0) << ps.output;
  std::regex rate(R"(NATS Pub/Sub stats: [0-9,]+ msgs/sec ~ [0-9.]+ [KMG]?B/sec)");
  EXPECT_TRUE(std::regex_search(ps.output, rate)) << ps.output;
  EXPECT_NE(ps.output.find(" Sub stats: "), std::string::npos);

  // Publishers only: the group line is the heading, clients listed under it (nats.go's report).
  auto pp = run("bench b.m --pub 2 --msgs 2000");
  ASSERT_EQ(pp.status, 0) << pp.output;
  EXPECT_EQ(pp.output.find(" Pub stats:"), std::string::npos) << pp.output;
  EXPECT_TRUE(std::regex_search(pp.output, std::regex(R"(\nPub stats: [0-9,]+ msgs/sec[^\n]*\n \[1\] [0-9,]+ msgs/sec[^\n]*\(1,000 msgs\)\n \[2\] [^\n]*\n min )")))
      << pp.output;

  auto rr = run("bench b.svc --pub 1 --sub 1 --request --msgs 500");
  ASSERT_EQ(rr.status, 0) << rr.output;
  EXPECT_NE(rr.output.find("NATS request-reply stats:"), std::string::npos) << rr.output;
  EXPECT_TRUE(std::regex_search(rr.output, std::regex(R"(p50: [0-9.]+(ns|µs|ms|s)  p90: )"))) << rr.output;

  auto js = run("bench b.js --js --pub 1 --msgs 500");
  ASSERT_EQ(js.status, 0) << js.output;
  EXPECT_NE(js.output.find("JetStream stats:"), std::string::npos) << js.output;
  EXPECT_EQ(nlohmann::json::parse(run("stream info benchstream --json").output)["state"]["messages"], 500);
}
// Consuming what an earlier --js publish run stored: the stream is kept between runs, an
// ordered consumer reads all of it, and a shared --pull consumer splits it and acks each message.
TEST_P(JsCli, BenchJetStreamConsume) {
  auto pub = run("bench b.c --js --pub 1 --msgs 3000 --size 100 --no-progress");
  ASSERT_EQ(pub.status, 0) << pub.output;
  EXPECT_EQ(nlohmann::json::parse(run("stream info benchstream --json").output)["state"]["messages"], 3000);

  std::regex sub_line(R"(\nSub stats: [0-9,]+ msgs/sec ~ [0-9.]+ [KMG]?B/sec\n)");
  auto ord = run("bench b.c --js --sub 1 --msgs 3000 --no-progress");
  ASSERT_EQ(ord.status, 0) << ord.output;
  EXPECT_NE(ord.output.find("Starting JetStream consume benchmark [subject=b.c, msgs=3,000"), std::string::npos) << ord.output;
  EXPECT_TRUE(std::regex_search(ord.output, sub_line)) << ord.output;
  EXPECT_EQ(ord.output.find("Pub stats"), std::string::npos) << ord.output;

  auto pull = run("bench b.c --js --sub 2 --pull --pullbatch 64 --msgs 3000 --no-progress");
  ASSERT_EQ(pull.status, 0) << pull.output;
  EXPECT_TRUE(std::regex_search(pull.output, sub_line)) << pull.output;
  EXPECT_NE(pull.output.find(" [1] "), std::string::npos) << pull.output;
  EXPECT_NE(pull.output.find("(1,500 msgs)\n [2] "), std::string::npos) << pull.output;
  EXPECT_EQ(run("consumer ls benchstream --names").output, "") << "the bench's durable is removed after the run";

  // More than the stream holds: the consume run fails instead of reporting a short count.
  auto too_many = run("bench b.c --js --sub 1 --msgs 3001 --no-progress --timeout 1s");
  EXPECT_NE(too_many.status, 0) << too_many.output;
  EXPECT_NE(too_many.output.find("3,000 of 3,001 received"), std::string::npos) << too_many.output;

  // Acks are real: on a work-queue stream every acknowledged message is removed.
  ASSERT_EQ(run("stream add WQ --subjects 'wq.x' --retention work --storage memory --defaults").status, 0);
  ASSERT_EQ(run("bench wq.x --js --stream WQ --pub 1 --msgs 400 --no-progress").status, 0);
  EXPECT_EQ(nlohmann::json::parse(run("stream info WQ --json").output)["state"]["messages"], 400);
  auto wq = run("bench wq.x --js --stream WQ --sub 1 --pull --msgs 400 --no-progress");
  ASSERT_EQ(wq.status, 0) << wq.output;
  EXPECT_TRUE(std::regex_search(wq.output, sub_line)) << wq.output;
  int64_t left = -1;
  for (int i = 0; i < 50 && left != 0; ++i) {
    left = nlohmann::json::parse(run("stream info WQ --json").output)["state"]["messages"].get<int64_t>();
    if (left) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(left, 0);

  // --purge empties the stream before a publish run.
  ASSERT_EQ(run("bench b.c --js --pub 1 --msgs 100 --purge --no-progress").status, 0);
  EXPECT_EQ(nlohmann::json::parse(run("stream info benchstream --json").output)["state"]["messages"], 100);
}

// The watcher is a flow-controlled push consumer: the server stops delivering after a few MB
// until its flow-control request is answered, so a watch over more data than that only
// completes when the CLI replies to those requests.
TEST_P(JsCli, KvWatchAnswersFlowControl) {
  ASSERT_EQ(run("kv add BIG --history 1 --storage memory").status, 0);
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server_->url().c_str()), NATS_OK);
  std::string value(64 * 1024, 'v');
  const int keys = 200;  // ~12.5 MiB, well past the server's flow-control window
  for (int i = 0; i < keys; ++i) {
    std::string subj = "$KV.BIG.k" + std::to_string(i);
    ASSERT_EQ(natsConnection_Publish(nc, subj.c_str(), value.data(), static_cast<int>(value.size())), NATS_OK);
    if (i % 20 == 0) natsConnection_Flush(nc);
  }
  natsConnection_Flush(nc);
  natsConnection_Destroy(nc);
  for (int i = 0; i < 100; ++i) {
    auto info = nlohmann::json::parse(run("stream info KV_BIG --json").output, nullptr, false);
    if (!info.is_discarded() && info["state"]["messages"] == keys) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Bounded by timeout(1): a watcher that ignores flow control stalls forever.
  auto watch = run_command("timeout 20 " + command("kv watch BIG --count " + std::to_string(keys)) + " | grep -c 'PUT BIG > k'");
  EXPECT_EQ(watch.output, std::to_string(keys) + "\n");
}

// Progress bars are drawn only on a terminal (run under script(1) for a pty) and --no-progress
// turns them off; piped output carries no escape codes.
TEST_P(JsCli, BenchProgressOnlyOnTerminal) {
  auto piped = run("bench b.p --pub 1 --msgs 2000");
  ASSERT_EQ(piped.status, 0) << piped.output;
  EXPECT_EQ(piped.output.find("\x1b["), std::string::npos) << piped.output;
  EXPECT_EQ(piped.output.find("100%"), std::string::npos) << piped.output;
  if (access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "script(1) not available for a pty";
  std::string base = command("bench b.p --pub 1 --msgs 2000");
  auto tty = run_command("script -qec '" + base + "' /dev/null");
  ASSERT_EQ(tty.status, 0) << tty.output;
  EXPECT_NE(tty.output.find("=] 100%"), std::string::npos) << tty.output;
  EXPECT_NE(tty.output.find("Pub stats:"), std::string::npos) << tty.output;
  auto quiet = run_command("script -qec '" + base + " --no-progress' /dev/null");
  ASSERT_EQ(quiet.status, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("100%"), std::string::npos) << quiet.output;
  EXPECT_NE(quiet.output.find("Pub stats:"), std::string::npos) << quiet.output;
}
INSTANTIATE_TEST_SUITE_P(Servers, JsCli, ::testing::Values("ours", "reference"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
}  // namespace

// `nats stream backup` and `nats stream restore` (natscli's commands and file layout): a backup
// taken by our tool from our server restores into our server and into 2.9.10 with the
// messages, the deleted sequence and the durable's state; the backup directory holds what
// natscli writes (backup.json and stream.tar.s2) and the refusals match natscli's.
namespace backup {
using namespace itest;
using json = nlohmann::json;

namespace {

json ask(natsConnection* nc, const std::string& subj, const std::string& body) {
  MsgPtr m;
  if (natsConnection_Request(&m.p, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 3000) != NATS_OK)
    return "no answer";
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_discarded() ? json(m.data()) : j;
}

std::unique_ptr<ServerProcess> start_js(const TempDir& dir, const std::string& binary) {
  return start_with_config("jetstream { store_dir: \"" + dir.path() + "/js\" }\n", {}, binary);
}

CommandResult cli(const std::string& url, const TempDir& home, const std::string& args) {
  return run_command("env -u NATS_URL -u NATS_CONTEXT HOME=" + home.path() + " XDG_CONFIG_HOME=" + home.path() +
                     "/cfg " + NATS_CLI_BIN + " -s " + url + " " + args);
}

// Stream B: 4 messages, the 2nd deleted; durable D delivered 2 and acked the first.
void fill(natsConnection* nc) {
  auto c = ask(nc, "$JS.API.STREAM.CREATE.B", R"({"name":"B","subjects":["b.>"]})");
  ASSERT_FALSE(c.contains("error")) << c.dump();
  for (int i = 1; i <= 4; ++i) {
    MsgPtr ack;
    std::string body = "v" + std::to_string(i);
    ASSERT_EQ(natsConnection_RequestString(&ack.p, nc, ("b." + std::to_string(i)).c_str(), body.c_str(), 3000), NATS_OK);
  }
  ASSERT_EQ(ask(nc, "$JS.API.STREAM.MSG.DELETE.B", R"({"seq":2})").value("success", false), true);
  auto d = ask(nc, "$JS.API.CONSUMER.DURABLE.CREATE.B.D",
               R"({"stream_name":"B","config":{"durable_name":"D","ack_policy":"explicit","ack_wait":60000000000}})");
  ASSERT_FALSE(d.contains("error")) << d.dump();
  for (int i = 0; i < 2; ++i) {
    MsgPtr m;
    ASSERT_EQ(natsConnection_RequestString(&m.p, nc, "$JS.API.CONSUMER.MSG.NEXT.B.D", "1", 3000), NATS_OK);
    if (i == 0) natsConnection_PublishString(nc, natsMsg_GetReply(m.p), "+ACK");
  }
  natsConnection_Flush(nc);
}

void expect_restored(natsConnection* nc) {
  auto info = ask(nc, "$JS.API.STREAM.INFO.B", "");
  EXPECT_EQ(info["state"]["messages"], 3) << info.dump();
  EXPECT_EQ(info["state"]["num_deleted"], 1);
  EXPECT_EQ(info["state"]["last_seq"], 4);
  auto g = ask(nc, "$JS.API.STREAM.MSG.GET.B", R"({"seq":3})");
  EXPECT_EQ(g["message"]["subject"], "b.3") << g.dump();
  auto ci = ask(nc, "$JS.API.CONSUMER.INFO.B.D", "");
  EXPECT_EQ(ci["delivered"]["stream_seq"], 3) << ci.dump();
  EXPECT_EQ(ci["ack_floor"]["stream_seq"], 1);
  EXPECT_EQ(ci["num_ack_pending"], 1);
}

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

}  // namespace

TEST(CliStreamBackup, BackupRestoresHereAndIntoTheReference) {
  TempDir home, dir;
  auto srv = start_js(dir, server_binary());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv->url()), NATS_OK);
  fill(nc.p);
  std::string bdir = home.path() + "/bk";
  auto b = cli(srv->url(), home, "stream backup B " + bdir + " --chunk-size 1K");
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_EQ(b.output.find(" in 1 chunks"), std::string::npos) << b.output;  // 1 KiB chunks: several
  EXPECT_NE(b.output.find("Starting backup of Stream \"B\" with "), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("chunks for stream \"B\" in "), std::string::npos) << b.output;
  // natscli's layout: exactly these two files; backup.json is the snapshot answer's config and state.
  EXPECT_EQ(files_in(bdir), (std::set<std::string>{"backup.json", "stream.tar.s2"}));
  std::ifstream in(bdir + "/backup.json");
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json bj = json::parse(raw, nullptr, false);
  ASSERT_TRUE(bj.is_object());
  EXPECT_EQ(bj.size(), 2u);
  EXPECT_EQ(bj["config"]["name"], "B");
  EXPECT_EQ(bj["state"]["messages"], 3);
  // As jsm.go (v0.0.35) encodes it: its structs' field order, Go's HTML escaping, 2 spaces.
  auto keys = [](const nlohmann::ordered_json& o) {
    std::vector<std::string> k;
    for (const auto& [name, v] : o.items()) k.push_back(name);
    return k;
  };
  auto oj = nlohmann::ordered_json::parse(raw);
  EXPECT_EQ(keys(oj), (std::vector<std::string>{"config", "state"}));
  EXPECT_EQ(keys(oj["config"]),
            (std::vector<std::string>{"name", "subjects", "retention", "max_consumers", "max_msgs_per_subject",
                                      "max_msgs", "max_bytes", "max_age", "max_msg_size", "storage", "discard",
                                      "num_replicas", "duplicate_window", "sealed", "deny_delete", "deny_purge",
                                      "allow_rollup_hdrs", "allow_direct", "mirror_direct"}));
  EXPECT_EQ(keys(oj["state"]), (std::vector<std::string>{"messages", "bytes", "first_seq", "first_ts", "last_seq",
                                                         "last_ts", "num_deleted", "num_subjects", "consumer_count"}));
  EXPECT_EQ(raw.rfind("{\n  \"config\": {\n    \"name\": \"B\",\n    \"subjects\": [\n      \"b.\\u003e\"\n    ],", 0), 0u)
      << raw.substr(0, 120);
  // Restoring over the existing stream is refused before anything is sent.
  auto exists = cli(srv->url(), home, "stream restore " + bdir);
  EXPECT_NE(exists.status, 0);
  EXPECT_NE(exists.output.find("nats: error: Stream \"B\" already exist"), std::string::npos) << exists.output;

  ASSERT_EQ(ask(nc.p, "$JS.API.STREAM.DELETE.B", "").value("success", false), true);
  auto r = cli(srv->url(), home, "stream restore " + bdir);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Starting restore of Stream \"B\" from file \"" + bdir + "\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Restored stream \"B\" in "), std::string::npos) << r.output;
  expect_restored(nc.p);

  if (!reference_available()) return;
  TempDir rdir;
  auto ref = start_js(rdir, reference_binary());
  auto rr = cli(ref->url(), home, "stream restore " + bdir);
  ASSERT_EQ(rr.status, 0) << rr.output;
  ConnPtr rc;
  ASSERT_EQ(connect_url(rc, ref->url()), NATS_OK);
  expect_restored(rc.p);
  // And back: the reference's backup, taken by our tool, restores here.
  std::string bdir2 = home.path() + "/bk2";
  auto b2 = cli(ref->url(), home, "stream backup B " + bdir2 + " --no-consumers --check");
  ASSERT_EQ(b2.status, 0) << b2.output;
  EXPECT_NE(b2.output.find("Health Check was requested"), std::string::npos) << b2.output;
  ASSERT_EQ(ask(nc.p, "$JS.API.STREAM.DELETE.B", "").value("success", false), true);
  auto back = cli(srv->url(), home, "stream restore " + bdir2);
  ASSERT_EQ(back.status, 0) << back.output;
  auto info = ask(nc.p, "$JS.API.STREAM.INFO.B", "");
  EXPECT_EQ(info["state"]["messages"], 3) << info.dump();
  EXPECT_EQ(info["state"]["consumer_count"], 0) << info.dump();
}

TEST(CliStreamBackup, RefusesAsNatscli) {
  TempDir home, dir;
  auto srv = start_js(dir, server_binary());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv->url()), NATS_OK);
  ask(nc.p, "$JS.API.STREAM.CREATE.M", R"({"name":"M","subjects":["m.>"],"storage":"memory"})");
  auto mem = cli(srv->url(), home, "stream backup M " + home.path() + "/m");
  EXPECT_NE(mem.status, 0);
  EXPECT_NE(mem.output.find("memory streams do not support snapshots"), std::string::npos) << mem.output;
  auto missing = cli(srv->url(), home, "stream backup X " + home.path() + "/x");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("stream not found"), std::string::npos) << missing.output;
  auto nodir = cli(srv->url(), home, "stream restore " + home.path() + "/none");
  EXPECT_NE(nodir.status, 0);
  // A --config naming another stream: natscli refuses (the server cannot rename on restore).
  std::filesystem::create_directories(home.path() + "/r");
  std::ofstream(home.path() + "/r/backup.json") << R"({"config":{"name":"R","subjects":["r.>"]},"state":{}})";
  std::ofstream(home.path() + "/r/stream.tar.s2") << "";
  std::ofstream(home.path() + "/other.json") << R"({"name":"Q","subjects":["q.>"]})";
  auto renamed = cli(srv->url(), home, "stream restore " + home.path() + "/r --config " + home.path() + "/other.json");
  EXPECT_NE(renamed.status, 0);
  EXPECT_NE(renamed.output.find("stream names may not be changed during restore"), std::string::npos) << renamed.output;
}

}  // namespace backup

#endif  // NATS_CLI_BIN

}  // namespace NATS_TEST_FILE_ID
