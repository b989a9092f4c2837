// Tiered JetStream limits in a 3-server cluster (operator mode, MEMORY resolver), against a
// 2.9.10 cluster: the R3 and R1 tiers at stream create (10027 per tier, 10120 for a replica
// count without a tier), a durable's max_ack_pending from its stream's tier, and the
// clustered `$JS.API.INFO` with its `tiers` object (usage counted once per replica).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>
#include <vector>

#include "js_cluster_util.h"
#include "jwt_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace jsc;

namespace {

json ctier_ask(natsConnection* nc, const std::string& subj, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subj.c_str(), body.c_str(), 5000) != NATS_OK) return "no answer";
  auto j = json::parse(m.data(), nullptr, false);
  if (!j.is_object()) return m.data();
  if (j.contains("error")) return j["error"];
  return j;
}

const json kTiers = {{"tiered_limits",
                      {{"R1", {{"mem_storage", 10000}, {"disk_storage", 20000}, {"streams", 2}, {"consumer", 3}}},
                       {"R3", {{"mem_storage", 0}, {"disk_storage", 60000}, {"streams", 1}, {"consumer", 2},
                               {"max_ack_pending", 7}}}}}};

std::vector<json> cluster_tiers(const std::string& bin) {
  TempDir dir;
  jwt::KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys(),
               user = jwt::user_keys();
  std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
  std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
  json ac = jwt::account_claims(acc, "A");
  for (const auto& [k, v] : kTiers.items()) ac["nats"]["limits"][k] = v;
  std::string acc_jwt = jwt::sign(ac, op);
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = bin;
    n->accounts = "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub + "\nresolver: MEMORY\nresolver_preload: {\n  " +
                  sys.pub + ": \"" + sys_jwt + "\"\n  " + acc.pub + ": \"" + acc_jwt + "\"\n}\n";
    std::string conf = n->config();
    n->proc = start_with_config(conf.substr(0, conf.find("gateway {")), {}, bin);
  }
  if (sc.agreed_leader(milliseconds(30000)).empty()) return {"<no meta leader>"};
  std::string creds = dir.write("u.creds", jwt::creds(jwt::sign(jwt::user_claims(user, "u"), acc), user.seed));
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 2000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
  ConnPtr nc;
  if (connect_signed(nc, sc.node(1).proc->url(), o.p) != NATS_OK) return {"<no user connection>"};
  auto stream = [&](const std::string& name, int replicas, int64_t max_bytes) {
    json cfg = {{"name", name}, {"subjects", {name}}, {"num_replicas", replicas}, {"max_bytes", max_bytes}};
    json r = ctier_ask(nc.p, "$JS.API.STREAM.CREATE." + name, cfg.dump());
    return r.is_object() && r.contains("config") ? json(r.value("did_create", false)) : r;
  };
  std::vector<json> out;
  json first;
  wait_for([&] {  // the meta group may still settle its first leader
    first = stream("S3", 3, 10000);
    // Only until the meta group answers (no answer, or 10008 while it elects).
    return !(first == "no answer" || (first.is_object() && first.value("err_code", 0) == 10008));
  }, milliseconds(20000));
  out.push_back(first);
  out.push_back(stream("T3", 3, 1000));   // 10027: R3 allows one stream
  out.push_back(stream("F1", 1, 15000));  // R1: fine
  out.push_back(stream("F2", 1, 6000));   // 10047: 15000 + 6000 > 20000 in R1
  out.push_back(stream("R2", 2, 1000));   // 10120: no R2 tier
  for (int i = 0; i < 3; ++i) {
    json ack;
    wait_for([&] {
      ack = ctier_ask(nc.p, "S3", std::string(100, 'x'));
      return ack.is_object() && ack.contains("seq");
    }, milliseconds(10000));
    out.push_back(ack);
  }
  out.push_back(ctier_ask(nc.p, "F1", std::string(100, 'y')));
  json d = ctier_ask(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.S3.D",
                     json{{"stream_name", "S3"}, {"config", {{"durable_name", "D"}, {"ack_policy", "explicit"}}}}.dump());
  out.push_back(d.is_object() && d.contains("config") ? d["config"]["max_ack_pending"] : d);
  // The account info once the replicas' usage reached the leader (3 x the R3 bytes).
  auto bytes_of = [&](const std::string& name) {
    json r = ctier_ask(nc.p, "$JS.API.STREAM.INFO." + name);
    return r.is_object() && r.contains("state") ? r["state"].value("bytes", 0) : 0;
  };
  const int r3_bytes = bytes_of("S3"), r1_bytes = bytes_of("F1");
  json info;
  wait_for([&] {
    info = ctier_ask(nc.p, "$JS.API.INFO");
    if (!info.is_object() || !info.contains("tiers")) return false;
    info.erase("api");
    // Each replica reports its usage on its own: until all three did.
    return info["tiers"]["R3"].value("storage", 0) == 3 * r3_bytes && info["tiers"]["R1"].value("storage", 0) == r1_bytes &&
           info["tiers"]["R3"].value("consumers", 0) == 1;
  }, milliseconds(15000));
  out.push_back(info);
  return out;
}

TEST(JsClusterTieredLimits, R3AndR1TiersAsTheReference) {
  auto ours = cluster_tiers(testing_harness::server_binary());
  ASSERT_EQ(ours.size(), 11u) << (ours.empty() ? "" : ours[0].dump());
  auto err = [](const json& j) { return j.is_object() ? j.value("err_code", 0) : 0; };
  EXPECT_EQ(ours[0], true) << ours[0].dump();
  EXPECT_EQ(err(ours[1]), 10027) << ours[1].dump();
  EXPECT_EQ(ours[2], true) << ours[2].dump();
  EXPECT_EQ(err(ours[3]), 10047) << ours[3].dump();
  EXPECT_EQ(err(ours[4]), 10120) << ours[4].dump();
  EXPECT_EQ(ours[9], 7) << ours[9].dump();
  EXPECT_EQ(ours[10]["tiers"]["R3"]["limits"].value("max_storage", 0), 60000) << ours[10].dump();
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = cluster_tiers(testing_harness::reference_binary());
  // A reference cluster that did not come up (seen once in five runs on a loaded machine:
  // no meta leader within 30 s) is started once more; the comparison is about the answers.
  if (ref.size() == 1) ref = cluster_tiers(testing_harness::reference_binary());
  ASSERT_EQ(ours.size(), ref.size()) << (ref.empty() ? "" : ref[0].dump());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "answer " << i;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
