// `$JS.API` error answers against the reference 2.9.10, table-driven: repeated operations
// (deleting a deleted message, purging an empty stream, deleting a missing consumer or
// stream) and invalid ones (a stream created sealed, updates the reference refuses, bad
// bodies). Each answer's type and error object (code, err_code, description) must be the
// reference's; a success is compared as "ok".
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>
#include <utility>
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

// (subject, body) in order; the first ones set the scene.
const std::vector<std::pair<std::string, std::string>>& requests() {
  static const std::vector<std::pair<std::string, std::string>> r = {
      {"$JS.API.STREAM.CREATE.E", R"({"name":"E","subjects":["e.>"],"storage":"memory"})"},
      {"$JS.API.STREAM.CREATE.F", R"({"name":"F","subjects":["f.>"],"storage":"file"})"},
      {"e.1", "a"}, {"e.2", "b"}, {"e.3", "c"}, {"f.1", "a"}, {"f.2", "b"},
      // Message deletes, repeated and out of range, memory and file store.
      {"$JS.API.STREAM.MSG.DELETE.E", R"({"seq":2})"},
      {"$JS.API.STREAM.MSG.DELETE.E", R"({"seq":2})"},
      {"$JS.API.STREAM.MSG.DELETE.E", R"({"seq":99})"},
      {"$JS.API.STREAM.MSG.DELETE.E", R"({"seq":0})"},
      {"$JS.API.STREAM.MSG.DELETE.E", R"({"seq":2,"no_erase":true})"},
      {"$JS.API.STREAM.MSG.DELETE.F", R"({"seq":1,"no_erase":true})"},
      {"$JS.API.STREAM.MSG.DELETE.F", R"({"seq":1})"},
      {"$JS.API.STREAM.MSG.DELETE.F", R"({"seq":99})"},
      {"$JS.API.STREAM.MSG.DELETE.E", ""},
      {"$JS.API.STREAM.MSG.DELETE.E", "junk"},
      {"$JS.API.STREAM.MSG.DELETE.NOPE", R"({"seq":1})"},
      // Message gets of what is gone.
      {"$JS.API.STREAM.MSG.GET.E", R"({"seq":2})"},
      {"$JS.API.STREAM.MSG.GET.E", R"({"seq":99})"},
      {"$JS.API.STREAM.MSG.GET.E", R"({"last_by_subj":"e.none"})"},
      {"$JS.API.STREAM.MSG.GET.E", R"({"seq":1,"last_by_subj":"e.1"})"},
      {"$JS.API.STREAM.MSG.GET.E", R"({})"},
      {"$JS.API.STREAM.MSG.GET.F", R"({"seq":1})"},
      // Purges, repeated and of an empty stream.
      {"$JS.API.STREAM.PURGE.E", ""},
      {"$JS.API.STREAM.PURGE.E", ""},
      {"$JS.API.STREAM.PURGE.E", R"({"filter":"e.1"})"},
      {"$JS.API.STREAM.PURGE.E", R"({"filter":"x.1"})"},
      {"$JS.API.STREAM.PURGE.E", R"({"seq":5,"keep":1})"},
      {"$JS.API.STREAM.PURGE.E", "junk"},
      {"$JS.API.STREAM.PURGE.NOPE", ""},
      // Consumers that are not there.
      {"$JS.API.CONSUMER.DELETE.E.NOPE", ""},
      {"$JS.API.CONSUMER.DELETE.NOPE.X", ""},
      {"$JS.API.CONSUMER.INFO.E.NOPE", ""},
      {"$JS.API.CONSUMER.DURABLE.CREATE.E.C", R"({"stream_name":"E","config":{"durable_name":"C"}})"},
      {"$JS.API.CONSUMER.DELETE.E.C", "junk"},
      {"$JS.API.CONSUMER.DELETE.E.C", ""},
      {"$JS.API.CONSUMER.DELETE.E.C", ""},
      // Streams: created sealed, created again differently, bad updates, deleted twice.
      {"$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"],"storage":"memory","sealed":true})"},
      {"$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"],"storage":"file","sealed":true})"},
      {"$JS.API.STREAM.CREATE.E", R"({"name":"E","subjects":["e.>"],"storage":"file"})"},
      {"$JS.API.STREAM.CREATE.E2", R"({"name":"E2","subjects":["e.1"],"storage":"memory"})"},
      {"$JS.API.STREAM.CREATE.X", R"({"name":"Y","subjects":["x"]})"},
      {"$JS.API.STREAM.CREATE.X", R"({"name":"X","subjects":["x"],"max_msgs_per_subject":-2})"},
      {"$JS.API.STREAM.CREATE.X", R"({"name":"X","subjects":["x"],"discard_new_per_subject":true})"},
      {"$JS.API.STREAM.CREATE.X", R"({"name":"X","subjects":["x"],"deny_delete":true,"storage":"memory"})"},
      {"x", "1"},
      {"$JS.API.STREAM.MSG.DELETE.X", R"({"seq":1})"},
      {"$JS.API.STREAM.UPDATE.NOPE", R"({"name":"NOPE","subjects":["n"]})"},
      {"$JS.API.STREAM.UPDATE.E", R"({"name":"E","subjects":["e.>"],"storage":"file"})"},
      {"$JS.API.STREAM.UPDATE.E", R"({"name":"E","subjects":["e.>"],"storage":"memory","retention":"workqueue"})"},
      {"$JS.API.STREAM.UPDATE.E", R"({"name":"E","subjects":["e.>"],"storage":"memory","max_consumers":5})"},
      {"$JS.API.STREAM.UPDATE.X", R"({"name":"X","subjects":["x"],"deny_delete":false,"storage":"memory"})"},
      {"$JS.API.STREAM.UPDATE.F", R"({"name":"F","subjects":["f.>"],"storage":"file","sealed":true})"},
      {"$JS.API.STREAM.MSG.DELETE.F", R"({"seq":2})"},
      {"$JS.API.STREAM.PURGE.F", ""},
      {"$JS.API.STREAM.UPDATE.F", R"({"name":"F","subjects":["f.>"],"storage":"file","sealed":false})"},
      {"$JS.API.STREAM.DELETE.E", "junk"},
      {"$JS.API.STREAM.DELETE.E", ""},
      {"$JS.API.STREAM.DELETE.E", ""},
      {"$JS.API.STREAM.INFO.E", ""},
      {"$JS.API.STREAM.PURGE.E", ""},
      // Invalid stream configs at create.
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v"],"max_age":-1})"},
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v"],"max_age":1000000000,"duplicate_window":2000000000})"},
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v"],"mirror":{"name":"F"}})"},
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v"],"storage":"disk"})"},
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v"],"retention":"forever"})"},
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v"],"num_replicas":3})"},
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v.*.>","v.a.b"]})"},
      {"$JS.API.STREAM.CREATE.V", R"({"name":"V","subjects":["v"],"max_msg_size":-5})"},
      {"$JS.API.STREAM.CREATE.V", "junk"},
      // Consumers: on missing streams, refused updates, work-queue rules, deleted twice.
      {"$JS.API.STREAM.CREATE.W", R"({"name":"W","subjects":["w.>"],"storage":"memory","retention":"workqueue"})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.A", R"({"stream_name":"W","config":{"durable_name":"A","ack_policy":"explicit"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.A", R"({"stream_name":"W","config":{"durable_name":"A","ack_policy":"explicit","deliver_policy":"new"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.A", R"({"stream_name":"W","config":{"durable_name":"A","ack_policy":"explicit","deliver_subject":"d.a"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.B", R"({"stream_name":"W","config":{"durable_name":"B","ack_policy":"explicit"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.N", R"({"stream_name":"W","config":{"durable_name":"N","ack_policy":"none","filter_subject":"w.n"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.NOPE.A", R"({"stream_name":"NOPE","config":{"durable_name":"A"}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.P", R"({"stream_name":"W","config":{"durable_name":"P","ack_policy":"explicit","filter_subject":"w.p","max_waiting":-1}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.Q", R"({"stream_name":"W","config":{"durable_name":"Q","ack_policy":"explicit","filter_subject":"w.q","deliver_subject":"d.q","max_waiting":5}})"},
      {"$JS.API.CONSUMER.DURABLE.CREATE.W.R", R"({"stream_name":"W","config":{"durable_name":"R","ack_policy":"explicit","filter_subject":"w.r","backoff":[1000000000],"max_deliver":1}})"},
      {"$JS.API.CONSUMER.NAMES.NOPE", ""},
      {"$JS.API.CONSUMER.LIST.NOPE", ""},
      {"$JS.API.CONSUMER.INFO.NOPE.A", ""},
      {"$JS.API.STREAM.MSG.GET.NOPE", R"({"seq":1})"},
      {"$JS.API.STREAM.MSG.GET.W", R"({"seq":1})"},
      {"$JS.API.STREAM.PURGE.W", ""},
      {"$JS.API.CONSUMER.DELETE.W.A", ""},
      {"$JS.API.CONSUMER.DELETE.W.A", ""},
      {"$JS.API.STREAM.DELETE.W", ""},
      {"$JS.API.STREAM.DELETE.W", ""},
  };
  return r;
}

std::vector<std::string> answers(const std::string& binary) {
  TempDir store;
  ServerProcess srv({"-js", "-sd", store.path()}, binary);
  srv.start();
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv.url()), NATS_OK);
  std::vector<std::string> out;
  for (auto& [subject, body] : requests()) {
    MsgPtr m;
    if (natsConnection_Request(&m.p, nc.p, subject.c_str(), body.data(), static_cast<int>(body.size()), 3000) !=
        NATS_OK) {
      out.push_back("<no answer>");
      continue;
    }
    auto j = json::parse(m.data(), nullptr, false);
    if (!j.is_object()) {
      out.push_back("non-JSON answer");
      continue;
    }
    if (!j.contains("error")) {
      out.push_back("ok " + j.value("type", std::string()));
      continue;
    }
    out.push_back(json{{"type", j.value("type", "")}, {"error", j["error"]}}.dump());
  }
  return out;
}

TEST(JsApiErrors, AnswersMatchReference) {
  auto ours = answers(server_binary());
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = answers(reference_binary());
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ours.size(); ++i)
    EXPECT_EQ(ours[i], ref[i]) << requests()[i].first << " " << requests()[i].second;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
