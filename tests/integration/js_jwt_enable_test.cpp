// An account JWT update ($SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE) that adds or removes the
// JetStream limits switches JetStream on or off for that account at once, against the
// reference 2.9.10 (configJetStream): enabled, it serves the API; disabled, its streams stop
// (files kept) and every API request is answered 10039; enabled again, the streams are back.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "jwt_js_world.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// An answer without what differs run to run (timestamps, api counters).
json jwe_ask(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_Request(&m.p, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 2000) != NATS_OK)
    return "no answer";
  auto j = json::parse(m.data(), nullptr, false);
  if (!j.is_object()) return m.data();
  j.erase("created");
  j.erase("api");
  if (j.contains("state") && j["state"].is_object()) {
    j["state"].erase("first_ts");
    j["state"].erase("last_ts");
  }
  return j;
}

// js: whether A's JWT carries JetStream limits (unlimited storage).
json jwe_limits(bool js) { return js ? json{{"mem_storage", -1}, {"disk_storage", -1}} : json::object(); }

std::vector<json> run_jwt_switch(const std::string& binary) {
  JwtJsWorld w;
  EXPECT_TRUE(w.start(jwe_limits(false), binary));
  if (!w.nc.p || !w.sys_nc.p) return {};
  natsConnection* nc = w.nc.p;
  std::vector<json> out;
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));  // 10039
  out.push_back(w.push(jwe_limits(true)));
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));
  out.push_back(jwe_ask(nc, "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"]})"));
  out.push_back(jwe_ask(nc, "s", "one"));
  out.push_back(w.push(jwe_limits(false)));
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));         // 10039
  out.push_back(jwe_ask(nc, "$JS.API.STREAM.NAMES"));  // 10039 too
  out.push_back(jwe_ask(nc, "s", "two"));              // the stream stopped: no answer
  out.push_back(w.push(jwe_limits(true)));
  out.push_back(jwe_ask(nc, "$JS.API.STREAM.INFO.S"));  // restored, with its message
  out.push_back(jwe_ask(nc, "s", "three"));
  out.push_back(jwe_ask(nc, "$JS.API.INFO"));
  return out;
}

TEST(JsJwtEnable, ClaimsUpdateSwitchesJetStreamOnAndOff) {
  auto ours = run_jwt_switch(server_binary());
  ASSERT_EQ(ours.size(), 13u);
  auto err = [](const json& j) { return j.is_object() && j.contains("error") ? j["error"].value("err_code", 0) : 0; };
  EXPECT_EQ(err(ours[0]), 10039) << ours[0].dump();
  EXPECT_EQ(ours[1], 200) << ours[1].dump();
  EXPECT_EQ(err(ours[2]), 0) << ours[2].dump();
  EXPECT_EQ(ours[4].value("seq", 0), 1) << ours[4].dump();
  EXPECT_EQ(err(ours[6]), 10039) << ours[6].dump();
  EXPECT_EQ(err(ours[7]), 10039) << ours[7].dump();
  EXPECT_EQ(ours[8], "no answer") << ours[8].dump();
  EXPECT_EQ(ours[10]["state"].value("messages", 0), 1) << ours[10].dump();
  EXPECT_EQ(ours[11].value("seq", 0), 2) << ours[11].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = run_jwt_switch(reference_binary());
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "answer " << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
