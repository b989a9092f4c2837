// Stream templates ($JS.API.STREAM.TEMPLATE.CREATE/INFO/NAMES/DELETE), against the reference
// 2.9.10: on one server a template auto-creates a stream (named after the subject, '.' -> '_',
// owned by the template) for each new subject a message arrives on, up to max_streams; its
// info lists them; deleting it deletes them; a file-storage template survives a restart.
// In a cluster 2.9.10 refuses CREATE and NAMES (10036) and finds no template for INFO/DELETE.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// One request's whole answer as JSON ("no answer" after 3 s), without timestamps.
json tpl_ask(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_Request(&m.p, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 3000) != NATS_OK)
    return "no answer";
  auto j = json::parse(m.data(), nullptr, false);
  if (!j.is_object()) return m.data();
  j.erase("created");
  if (j.contains("state") && j["state"].is_object()) {
    j["state"].erase("first_ts");
    j["state"].erase("last_ts");
  }
  return j;
}

const std::string kTplCfg =
    R"({"name":"T","config":{"subjects":["tpl.*"],"storage":"memory","max_msgs":10},"max_streams":2})";

std::vector<json> template_scenario(natsConnection* nc) {
  std::vector<json> out;
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.NAMES"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.INFO.T"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.DELETE.T"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.CREATE.X", kTplCfg));          // 10073
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.CREATE.T", "{not json"));      // 10025
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.CREATE.T",                     // 10066: named config
                        R"({"name":"T","config":{"name":"S","subjects":["a"]},"max_streams":1})"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.CREATE.T",                     // the stream config's error
                        R"({"name":"T","config":{"subjects":["a"],"max_age":-5},"max_streams":1})"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.CREATE.T", kTplCfg));          // created
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.CREATE.T", kTplCfg));          // already exists
  out.push_back(tpl_ask(nc, "tpl.a", "one"));                                        // creates tpl_a
  out.push_back(tpl_ask(nc, "tpl.a", "two"));
  out.push_back(tpl_ask(nc, "tpl.b", "three"));                                      // creates tpl_b
  natsConnection_PublishString(nc, "tpl.c", "over the limit");                      // no stream: at max_streams
  natsConnection_Flush(nc);
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.INFO.T"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.INFO.T", R"({"x":1})"));      // 10038
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.NAMES"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.NAMES", R"({"offset":5})"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.NAMES", "[1]"));  // 10025
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.NAMES"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.INFO.tpl_a"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.UPDATE.tpl_a", R"({"name":"tpl_a","subjects":["tpl.a"],"storage":"memory"})"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.CREATE.O", R"({"name":"O","subjects":["o"],"template_owner":"T"})"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.DELETE.T", R"({"x":1})"));    // 10038
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.DELETE.T"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.NAMES"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.NAMES"));
  // max_streams 0: 2.9.10 never creates a stream for it.
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.CREATE.Z", R"({"name":"Z","config":{"subjects":["z.>"]}})"));
  natsConnection_PublishString(nc, "z.q", "x");
  natsConnection_Flush(nc);
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.TEMPLATE.INFO.Z"));
  out.push_back(tpl_ask(nc, "$JS.API.STREAM.NAMES"));
  return out;
}

std::vector<json> run_template(const std::string& binary) {
  TempDir dir;
  auto srv = start_with_config("jetstream { store_dir: \"" + dir.path() + "/js\" }\n", {}, binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
  if (!nc.p) return {};
  return template_scenario(nc.p);
}

// A file template and its stream, then a restart: both are back, with the stream's message.
std::vector<json> run_template_restart(const std::string& binary) {
  TempDir dir;
  std::string conf = "jetstream { store_dir: \"" + dir.path() + "/js\" }\n";
  std::vector<json> out;
  auto srv = start_with_config(conf, {}, binary);
  {
    ConnPtr nc;
    EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
    if (!nc.p) return out;
    out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.TEMPLATE.CREATE.F",
                          R"({"name":"F","config":{"subjects":["f.*"],"storage":"file"},"max_streams":5})"));
    out.push_back(tpl_ask(nc.p, "f.one", "1"));
  }
  int port = srv->port();
  srv->stop();
  srv = std::make_unique<ServerProcess>(std::vector<std::string>{"-c", dir.write("c.conf", conf)}, binary, port);
  srv->start();
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
  if (!nc.p) return out;
  out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.TEMPLATE.INFO.F"));
  out.push_back(tpl_ask(nc.p, "f.one", "2"));
  out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.TEMPLATE.DELETE.F"));
  out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.NAMES"));
  return out;
}

void compare_template(const std::vector<json>& ours, const std::vector<json>& ref) {
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "answer " << i;
}

int tpl_err(const json& j) { return j.is_object() && j.contains("error") ? j["error"].value("err_code", 0) : 0; }

TEST(JsStreamTemplate, CreateAutoCreateInfoNamesDelete) {
  auto ours = run_template(server_binary());
  ASSERT_EQ(ours.size(), 28u);
  EXPECT_EQ(ours[0].value("total", -1), 0) << ours[0].dump();
  EXPECT_EQ(tpl_err(ours[1]), 10068) << ours[1].dump();
  EXPECT_EQ(tpl_err(ours[3]), 10073) << ours[3].dump();
  EXPECT_EQ(ours[7]["config"].value("name", ""), "T") << ours[7].dump();
  EXPECT_EQ(tpl_err(ours[8]), 10066) << ours[8].dump();
  EXPECT_EQ(ours[9].value("stream", ""), "tpl_a") << ours[9].dump();
  EXPECT_EQ(ours[10].value("seq", 0), 2) << ours[10].dump();
  EXPECT_EQ(ours[12]["streams"], json({"tpl_a", "tpl_b"})) << ours[12].dump();
  EXPECT_EQ(ours[22].value("success", false), true) << ours[22].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = run_template(reference_binary());
  compare_template(ours, ref);
}

TEST(JsStreamTemplate, FileTemplateSurvivesRestart) {
  auto ours = run_template_restart(server_binary());
  ASSERT_EQ(ours.size(), 6u);
  EXPECT_EQ(ours[2]["streams"], json({"f_one"})) << ours[2].dump();
  EXPECT_EQ(ours[3].value("seq", 0), 2) << ours[3].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare_template(ours, run_template_restart(reference_binary()));
}

// In a cluster: CREATE and NAMES refused with 10036, INFO and DELETE find no template; every
// request answered (2.9.10 answers on each server the request reaches; the first counts).
std::vector<json> run_template_cluster(const std::string& binary) {
  jsc::JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  std::vector<json> out;
  EXPECT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, sc.node(1).proc->url()), NATS_OK);
  if (!nc.p) return out;
  out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.TEMPLATE.CREATE.T", kTplCfg));
  out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.TEMPLATE.NAMES"));
  out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.TEMPLATE.INFO.T"));
  out.push_back(tpl_ask(nc.p, "$JS.API.STREAM.TEMPLATE.DELETE.T"));
  return out;
}

TEST(JsStreamTemplate, ClusterRefusesAsTheReference) {
  auto ours = run_template_cluster(server_binary());
  ASSERT_EQ(ours.size(), 4u);
  EXPECT_EQ(tpl_err(ours[0]), 10036) << ours[0].dump();
  EXPECT_EQ(tpl_err(ours[1]), 10036) << ours[1].dump();
  EXPECT_EQ(tpl_err(ours[2]), 10068) << ours[2].dump();
  EXPECT_EQ(tpl_err(ours[3]), 10068) << ours[3].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare_template(ours, run_template_cluster(reference_binary()));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
