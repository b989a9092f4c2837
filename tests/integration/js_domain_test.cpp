// JetStream domains (`jetstream { domain: HUB }`): the API under `$JS.HUB.API.>` as well as
// `$JS.API.>`, the domain in INFO, account info, PubAcks and /jsz; libnats with
// jsOptions.Domain; the same raw requests against the reference; clustered servers sharing
// a domain elect a meta leader.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "cluster_test_util.h"
#include "harness.h"
#include "js_cluster_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

struct DomainServer {
  TempDir store;
  int http_port = free_port();
  std::unique_ptr<ServerProcess> proc;
  explicit DomainServer(const std::string& binary = server_binary(), const std::string& domain = "HUB") {
    proc = start_with_config("http_port: " + std::to_string(http_port) + "\njetstream { store_dir: \"" +
                                 store.path() + "\", domain: " + domain + " }\n",
                             {}, binary);
  }
};

std::string request(natsConnection* nc, const std::string& subj, const std::string& body = "",
                    int64_t timeout = 2000) {
  MsgPtr m;
  if (natsConnection_Request(&m.p, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), timeout) != NATS_OK)
    return "";
  return m.data();
}

// The same raw requests on any server: account info under both prefixes, a stream created
// through the domain, a PubAck, a KV-style `$JS.HUB.API.$KV` subject (no responders).
std::vector<std::string> domain_scenario(natsConnection* nc) {
  std::vector<std::string> out;
  out.push_back(request(nc, "$JS.HUB.API.INFO"));
  std::string created = request(nc, "$JS.HUB.API.STREAM.CREATE.S", R"({"name":"S","subjects":["foo"],"storage":"memory"})");
  auto j = json::parse(created, nullptr, false);
  if (j.is_object()) j.erase("created");
  out.push_back(j.dump());
  out.push_back(request(nc, "foo", "hi"));
  out.push_back(request(nc, "$JS.API.INFO"));
  auto info = json::parse(request(nc, "$JS.HUB.API.STREAM.INFO.S"), nullptr, false);
  if (info.is_object()) info.erase("created"), info["state"].erase("first_ts"), info["state"].erase("last_ts");
  out.push_back(info.dump());
  return out;
}

TEST(JsDomain, ApiAnswersUnderTheDomainPrefixAndEverythingNamesTheDomain) {
  DomainServer srv;
  RawClient raw(srv.proc->port());
  EXPECT_NE(raw.info().find("\"domain\":\"HUB\""), std::string::npos) << raw.info();

  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  auto info = json::parse(request(nc.p, "$JS.HUB.API.INFO"), nullptr, false);
  ASSERT_TRUE(info.is_object()) << srv.proc->log();
  EXPECT_EQ(info.value("domain", ""), "HUB") << info.dump();
  // Another domain is not ours: nobody answers.
  EXPECT_EQ(request(nc.p, "$JS.OTHER.API.INFO", "", 300), "");

  // libnats selecting the domain: create, publish (the PubAck names it), consume.
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Domain = "HUB";
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc.p, &jo), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "ORDERS";
  const char* subjects[] = {"orders.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_MemoryStorage;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(&si, js, &cfg, nullptr, &jerr), NATS_OK) << jerr;
  jsStreamInfo_Destroy(si);
  for (int i = 0; i < 3; ++i) {
    jsPubAck* ack = nullptr;
    ASSERT_EQ(js_Publish(&ack, js, "orders.new", "x", 1, nullptr, &jerr), NATS_OK);
    ASSERT_NE(ack->Domain, nullptr);
    EXPECT_STREQ(ack->Domain, "HUB");
    EXPECT_EQ(ack->Sequence, static_cast<uint64_t>(i + 1));
    jsPubAck_Destroy(ack);
  }
  natsSubscription* sub = nullptr;
  ASSERT_EQ(js_PullSubscribe(&sub, js, "orders.>", "worker", nullptr, nullptr, &jerr), NATS_OK) << jerr;
  natsMsgList list = {nullptr, 0};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 3, 5000, &jerr), NATS_OK);
  EXPECT_EQ(list.Count, 3);
  for (int i = 0; i < list.Count; ++i) EXPECT_EQ(natsMsg_Ack(list.Msgs[i], &jo), NATS_OK);
  natsMsgList_Destroy(&list);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);

  auto jsz = ctest::http_json(srv.http_port, "/jsz");
  EXPECT_EQ(jsz["config"].value("domain", ""), "HUB") << jsz.dump();
  auto varz = ctest::http_json(srv.http_port, "/varz");
  EXPECT_EQ(varz["jetstream"]["config"].value("domain", ""), "HUB") << varz.dump();
}

TEST(JsDomain, RawRequestsMatchReference) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  DomainServer ours, ref(reference_binary());
  ConnPtr a, b;
  ASSERT_EQ(connect_url(a, ours.proc->url()), NATS_OK);
  ASSERT_EQ(connect_url(b, ref.proc->url()), NATS_OK);
  auto x = domain_scenario(a.p), y = domain_scenario(b.p);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], y[i]) << "step " << i;
  RawClient ra(ours.proc->port()), rb(ref.proc->port());
  EXPECT_EQ(json::parse(ra.info_json())["domain"], json::parse(rb.info_json())["domain"]);
}

TEST(JsDomain, InvalidDomainIsRefusedAsByTheReference) {
  for (const char* bad : {"\"a.b\"", "\"a*\""}) {
    EXPECT_THROW(DomainServer(server_binary(), bad), std::runtime_error) << bad;
    if (reference_available()) {
      EXPECT_THROW(DomainServer(reference_binary(), bad), std::runtime_error) << bad;
    }
  }
}

TEST(JsDomain, ClusteredServersOfOneDomainElectAMetaLeaderAndAnswerUnderIt) {
  jsc::JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) n->js_extra = "domain: HUB";
  for (auto& n : sc.nodes) n->start();
  ASSERT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, sc.node(1).proc->url()), NATS_OK);
  json created;
  wait_for([&] {
    created = json::parse(request(nc.p, "$JS.HUB.API.STREAM.CREATE.R3",
                                  R"({"name":"R3","subjects":["r3"],"num_replicas":3,"storage":"memory"})", 5000),
                          nullptr, false);
    return created.is_object() && !created.contains("error");
  }, milliseconds(20000));
  ASSERT_TRUE(created.is_object() && !created.contains("error")) << created.dump();
  json ack;
  wait_for([&] { return (ack = json::parse(request(nc.p, "r3", "x"), nullptr, false)).is_object(); },
           milliseconds(10000));
  EXPECT_EQ(ack.value("domain", ""), "HUB") << ack.dump();
  EXPECT_EQ(ack.value("seq", 0), 1) << ack.dump();
  auto jsz = ctest::http_json(sc.node(0).http_port, "/jsz");
  EXPECT_EQ(jsz["config"].value("domain", ""), "HUB") << jsz.dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
