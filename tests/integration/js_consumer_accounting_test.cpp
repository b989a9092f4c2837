// Consumer state accounting against the reference 2.9.10: num_pending, num_ack_pending,
// num_redelivered, delivered and the ack floor after each step of one scenario (max_deliver
// reached, +TERM, -NAK with a delay, out-of-order acks, a purge, new messages after it).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// Pulls one message (no_wait); returns its ack subject, or the status when none came.
std::string pull_one(natsConnection* nc, const std::string& consumer) {
  MsgPtr m;
  std::string body = R"({"batch":1,"no_wait":true})";
  if (natsConnection_Request(&m.p, nc, ("$JS.API.CONSUMER.MSG.NEXT.ACC." + consumer).c_str(), body.data(),
                             static_cast<int>(body.size()), 3000) != NATS_OK)
    return "<no answer>";
  const char* reply = natsMsg_GetReply(m.p);
  if (reply && *reply) return reply;
  const char* status = nullptr;
  natsMsgHeader_Get(m.p, "Status", &status);
  return std::string("status ") + (status ? status : "?");
}

// The accounting fields of a consumer info.
json accounting(natsConnection* nc, const std::string& consumer) {
  auto j = json::parse(request_text(nc, "$JS.API.CONSUMER.INFO.ACC." + consumer, ""), nullptr, false);
  if (!j.is_object()) return "bad info";
  json out;
  for (const char* k : {"delivered", "ack_floor"}) {
    if (!j.contains(k)) continue;
    out[k] = {{"consumer_seq", j[k].value("consumer_seq", 0)}, {"stream_seq", j[k].value("stream_seq", 0)}};
  }
  for (const char* k : {"num_ack_pending", "num_redelivered", "num_waiting", "num_pending", "error"})
    if (j.contains(k)) out[k] = j[k];
  return out;
}

// The ack subject's stream sequence ($JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending>).
std::string ack_seq(const std::string& ack) {
  size_t pos = 0;
  for (int i = 0; i < 5 && pos != std::string::npos; ++i) pos = ack.find('.', pos + 1);
  if (pos == std::string::npos) return ack;
  return ack.substr(pos + 1, ack.find('.', pos + 1) - pos - 1);
}

std::vector<json> accounting_scenario(const std::string& binary) {
  TempDir store;
  ServerProcess srv({"-js", "-sd", store.path()}, binary);
  srv.start();
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv.url()), NATS_OK);
  std::vector<json> steps;
  auto publish = [&](int n) {
    for (int i = 0; i < n; ++i) request_text(nc.p, "acc." + std::to_string(i % 3), "m");
  };
  auto step = [&](const std::string& what, const std::string& consumer) {
    json j = accounting(nc.p, consumer);
    j["step"] = what;
    steps.push_back(j);
  };
  request_text(nc.p, "$JS.API.STREAM.CREATE.ACC", R"({"name":"ACC","subjects":["acc.>"],"storage":"memory"})");
  publish(10);
  request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ACC.E",
          R"({"stream_name":"ACC","config":{"durable_name":"E","ack_policy":"explicit","max_deliver":2,)"
          R"("ack_wait":30000000000}})");
  request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ACC.F",
          R"({"stream_name":"ACC","config":{"durable_name":"F","ack_policy":"explicit","filter_subject":"acc.1",)"
          R"("max_deliver":3,"ack_wait":30000000000}})");
  step("start", "E");

  // Max deliver: message 1 naked twice, then dropped when the next pull looks at it.
  std::string a = pull_one(nc.p, "E");
  request_text(nc.p, a, "-NAK");
  step("nak 1", "E");
  a = pull_one(nc.p, "E");
  request_text(nc.p, a, "-NAK");
  step("nak 1 again", "E");
  a = pull_one(nc.p, "E");  // message 1 dropped, message 2 delivered
  steps.push_back({{"pulled", ack_seq(a)}});
  step("past max_deliver", "E");
  request_text(nc.p, a, "+TERM");
  step("term 2", "E");
  // Nak with a delay: still pending, not redelivered before the delay.
  std::string b = pull_one(nc.p, "E");
  request_text(nc.p, b, R"(-NAK {"delay":60000000000})");
  step("nak 3 with delay", "E");
  std::string c = pull_one(nc.p, "E");
  steps.push_back({{"pulled", ack_seq(c)}});
  std::string d = pull_one(nc.p, "E");
  request_text(nc.p, d, "+ACK");  // acked out of order: the floor stays below 3
  step("ack 5 before 4", "E");
  request_text(nc.p, c, "+ACK");
  step("ack 4", "E");
  request_text(nc.p, b, "+ACK");
  step("ack 3", "E");
  // A pending message then a purge.
  pull_one(nc.p, "E");
  step("pulled 6", "E");

  // The filtered consumer: deliveries, a redelivery, a term of the redelivered message.
  std::string f1 = pull_one(nc.p, "F");
  request_text(nc.p, f1, "-NAK");
  f1 = pull_one(nc.p, "F");
  step("F nak then redelivered", "F");
  request_text(nc.p, f1, "+TERM");
  step("F term", "F");
  pull_one(nc.p, "F");
  step("F pending", "F");

  // A message dropped at max_deliver below pending ones: what the floor does then.
  request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ACC.G",
          R"({"stream_name":"ACC","config":{"durable_name":"G","ack_policy":"explicit","max_deliver":1,)"
          R"("ack_wait":30000000000}})");
  std::string g1 = pull_one(nc.p, "G");
  request_text(nc.p, g1, "-NAK");
  std::string g2 = pull_one(nc.p, "G");  // 1 dropped, 2 delivered
  std::string g3 = pull_one(nc.p, "G");
  step("G 1 dropped, 2 and 3 pending", "G");
  request_text(nc.p, g2, "+ACK");
  step("G ack 2", "G");
  request_text(nc.p, g1, "+ACK");  // the dropped one
  step("G ack of the dropped 1", "G");
  request_text(nc.p, g3, "+ACK");
  step("G ack 3", "G");
  request_text(nc.p, g3, "+ACK");  // again, nothing pending
  step("G ack 3 again", "G");

  request_text(nc.p, "$JS.API.STREAM.PURGE.ACC", "");
  step("purged", "E");
  step("purged", "F");
  publish(4);
  step("published after purge", "E");
  step("published after purge", "F");
  std::string e = pull_one(nc.p, "E");
  steps.push_back({{"pulled", ack_seq(e)}});
  request_text(nc.p, e, "+ACK");
  step("ack after purge", "E");
  std::string f = pull_one(nc.p, "F");
  steps.push_back({{"pulled", ack_seq(f)}});
  step("F after purge", "F");
  return steps;
}

TEST(JsConsumerAccounting, MatchesReference) {
  auto ours = accounting_scenario(server_binary());
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = accounting_scenario(reference_binary());
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i].dump(), ref[i].dump()) << "step " << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
