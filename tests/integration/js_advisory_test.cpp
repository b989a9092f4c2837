// JetStream advisories and metrics on `$JS.EVENT.>` against the reference 2.9.10: one
// scenario of raw `$JS.API` requests, pulls and acks runs on both servers, and what each
// publishes on `$JS.EVENT.>` is compared subject by subject with the JSON fields that are
// deterministic (ids, times, server names and the requester's connection details masked).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
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

// Pulls one message from a pull consumer; returns its ack subject ("" if none came).
std::string pull_one(natsConnection* nc, const std::string& stream, const std::string& consumer) {
  MsgPtr m;
  std::string body = R"({"batch":1,"no_wait":true})";
  if (natsConnection_Request(&m.p, nc, ("$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer).c_str(), body.data(),
                             static_cast<int>(body.size()), 3000) != NATS_OK)
    return "";
  const char* reply = natsMsg_GetReply(m.p);
  return reply ? reply : "";
}

// What a server publishes under `$JS.EVENT.>` while the scenario runs, masked.
std::vector<std::string> advisory_scenario(const std::string& binary) {
  TempDir store;
  ServerProcess srv({"-js", "-sd", store.path()}, binary);
  srv.start();
  ConnPtr nc, watcher;
  EXPECT_EQ(connect_url(nc, srv.url()), NATS_OK);
  EXPECT_EQ(connect_url(watcher, srv.url()), NATS_OK);
  SubPtr sub;
  EXPECT_EQ(natsConnection_SubscribeSync(&sub.p, watcher.p, "$JS.EVENT.>"), NATS_OK);
  natsConnection_Flush(watcher.p);

  const std::string cfg = R"({"name":"ADV","subjects":["adv.>"],"storage":"memory"})";
  request_text(nc.p, "$JS.API.STREAM.CREATE.ADV", cfg);
  request_text(nc.p, "$JS.API.STREAM.CREATE.ADV", cfg);  // idempotent: audited, no created advisory
  request_text(nc.p, "$JS.API.STREAM.UPDATE.ADV",
          R"({"name":"ADV","subjects":["adv.>"],"storage":"memory","max_msgs":100})");
  for (int i = 1; i <= 3; ++i) request_text(nc.p, "adv." + std::to_string(i), "m");
  request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ADV.C",
          R"({"stream_name":"ADV","config":{"durable_name":"C","ack_policy":"explicit","max_deliver":2,)"
          R"("sample_freq":"100%","ack_wait":30000000000}})");
  request_text(nc.p, pull_one(nc.p, "ADV", "C"), "+ACK");  // msg 1: ack metric
  request_text(nc.p, pull_one(nc.p, "ADV", "C"), "-NAK");  // msg 2: nak (deliveries 1)
  request_text(nc.p, pull_one(nc.p, "ADV", "C"), "-NAK");  // msg 2 again: nak (deliveries 2)
  // msg 2 is past max_deliver: dropped with the advisory; this pull gets msg 3, terminated.
  request_text(nc.p, pull_one(nc.p, "ADV", "C"), "+TERM");
  request_text(nc.p, "$JS.API.CONSUMER.INFO.ADV.C", "");
  request_text(nc.p, "$JS.API.CONSUMER.DELETE.ADV.C", "");
  request_text(nc.p, "$JS.API.CONSUMER.DELETE.ADV.C", "");  // error answer, audited
  request_text(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ADV.D", R"({"stream_name":"ADV","config":{"durable_name":"D"}})");
  request_text(nc.p, "$JS.API.STREAM.INFO.NOPE", "");
  request_text(nc.p, "$JS.API.STREAM.DELETE.ADV", "");  // consumer D's delete advisory, then the stream's

  // Collect until the stream's delete advisory (the last one) has come and the server has
  // then been quiet for a while (the reference sends advisories from its own goroutines,
  // after the answers, and a loaded machine delays them).
  std::vector<std::string> out;
  bool saw_stream_deleted = false;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, saw_stream_deleted ? 700 : 5000) != NATS_OK) break;
    if (m.subject() == "$JS.EVENT.ADVISORY.STREAM.DELETED.ADV") saw_stream_deleted = true;
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_object()) {
      out.push_back(m.subject() + " " + m.data());
      continue;
    }
    EXPECT_TRUE(j.contains("id") && j.contains("timestamp")) << m.data();
    j.erase("id");
    j.erase("timestamp");
    if (j.contains("client")) {
      // The requester's account, and the answering server (rtt is the connection's).
      json& c = j["client"];
      j["client"] = c.is_object() ? json{{"acc", c.value("acc", "")}, {"server_is_ours", c.value("server", "") == j.value("server", "-")}}
                                  : json("NO-CLIENT");
    }
    if (j.contains("server")) j["server"] = "S";
    if (j.contains("ack_time")) j["ack_time"] = j["ack_time"].is_number_integer() && j["ack_time"] > 0 ? "T" : "BAD";
    if (j.contains("response")) {
      // The answer itself is compared by the API differential tests: here its type and error.
      auto r = json::parse(j["response"].get<std::string>(), nullptr, false);
      json keep = json::object();
      if (r.is_object()) {
        keep["type"] = r.value("type", "");
        if (r.contains("error")) keep["error"] = r["error"];
      }
      j["response"] = keep;
    }
    out.push_back(m.subject() + " " + j.dump());
  }
  // The reference sends stream/consumer advisories and audits from different queues: their
  // relative order is not fixed, so compare as sets.
  std::sort(out.begin(), out.end());
  return out;
}

TEST(JsAdvisory, EventsMatchReference) {
  auto ours = advisory_scenario(server_binary());
  auto has = [&](const std::string& prefix) {
    return std::any_of(ours.begin(), ours.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.API "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.STREAM.CREATED.ADV "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.STREAM.UPDATED.ADV "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.STREAM.DELETED.ADV "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.CONSUMER.CREATED.ADV.C "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.CONSUMER.DELETED.ADV.D "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.ADV.C "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ADV.C "));
  EXPECT_TRUE(has("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ADV.C "));
  EXPECT_TRUE(has("$JS.EVENT.METRIC.CONSUMER.ACK.ADV.C "));
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = advisory_scenario(reference_binary());
  EXPECT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < std::max(ours.size(), ref.size()); ++i)
    EXPECT_EQ(i < ours.size() ? ours[i] : "<none>", i < ref.size() ? ref[i] : "<none>") << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
