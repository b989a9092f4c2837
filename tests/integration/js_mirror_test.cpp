// Mirrors and sources: a stream that mirrors another (same sequences, filter, start
// sequence), one that sources two others (Nats-Stream-Source headers), positions kept across
// a restart, an R3 mirror across a leader step-down, and the create errors and stream info
// blocks compared with the reference 2.9.10.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using namespace testing_harness;
using json = nlohmann::json;

json request(natsConnection* nc, const std::string& subject, const std::string& body = "",
             int64_t timeout_ms = 3000) {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), body.c_str(), timeout_ms) != NATS_OK) return nullptr;
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

json create(natsConnection* nc, const json& cfg) {
  return request(nc, "$JS.API.STREAM.CREATE." + cfg["name"].get<std::string>(), cfg.dump());
}

json info(natsConnection* nc, const std::string& stream) { return request(nc, "$JS.API.STREAM.INFO." + stream); }

uint64_t state_of(natsConnection* nc, const std::string& stream, const char* field) {
  json i = info(nc, stream);
  if (!i.is_object() || !i.contains("state")) return 0;
  return i["state"].value(field, 0ULL);
}

// Waits until `stream` holds n messages.
bool wait_msgs(natsConnection* nc, const std::string& stream, uint64_t n, milliseconds t = milliseconds(10000)) {
  return wait_for([&] { return state_of(nc, stream, "messages") == n; }, t);
}

void publish(natsConnection* nc, const std::string& subject, const std::string& data) {
  json ack = request(nc, subject, data);
  ASSERT_TRUE(ack.is_object() && !ack.contains("error")) << subject << ": " << ack.dump();
}

struct Js {
  jsCtx* p = nullptr;
  explicit Js(natsConnection* nc) { natsConnection_JetStream(&p, nc, nullptr); }
  ~Js() { if (p) jsCtx_Destroy(p); }
};

// Subject and Nats-Stream-Source of stream message seq ("" when absent).
std::pair<std::string, std::string> get_msg(jsCtx* js, const std::string& stream, uint64_t seq) {
  MsgPtr m;
  if (js_GetMsg(&m.p, js, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) return {};
  const char* v = nullptr;
  natsMsgHeader_Get(m.p, "Nats-Stream-Source", &v);
  return {m.subject(), v ? v : ""};
}

struct Standalone {
  TempDir store;
  int port = free_port();
  std::unique_ptr<ServerProcess> proc;
  explicit Standalone(std::string binary = server_binary()) {
    proc = std::make_unique<ServerProcess>(std::vector<std::string>{"-js", "-sd", store.path()}, binary, port);
    proc->start();
  }
  void restart() {
    proc->stop();
    proc = std::make_unique<ServerProcess>(std::vector<std::string>{"-js", "-sd", store.path()}, server_binary(), port);
    proc->start();
  }
};

TEST(JsMirror, MirrorWithFilterAndStartSequence) {
  Standalone srv;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  ASSERT_FALSE(create(nc.p, {{"name", "O"}, {"subjects", {"o.>"}}}).contains("error"));
  for (int i = 1; i <= 10; ++i) publish(nc.p, i % 2 ? "o.a" : "o.b", "m" + std::to_string(i));
  json r = create(nc.p, {{"name", "M"}, {"mirror", {{"name", "O"}, {"opt_start_seq", 3}, {"filter_subject", "o.a"}}}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  // o.a is at 1,3,5,7,9; from 3 on the mirror keeps the origin's sequences.
  ASSERT_TRUE(wait_msgs(nc.p, "M", 4)) << info(nc.p, "M").dump();
  publish(nc.p, "o.a", "m11");
  ASSERT_TRUE(wait_msgs(nc.p, "M", 5)) << info(nc.p, "M").dump();
  json i = info(nc.p, "M");
  EXPECT_EQ(i["state"]["first_seq"], 3);
  EXPECT_EQ(i["state"]["last_seq"], 11);
  ASSERT_TRUE(i.contains("mirror")) << i.dump();
  EXPECT_EQ(i["mirror"]["name"], "O");
  EXPECT_EQ(i["mirror"]["lag"], 0);
  EXPECT_GE(i["mirror"]["active"].get<int64_t>(), 0);
  Js js(nc.p);
  EXPECT_EQ(get_msg(js.p, "M", 7).first, "o.a");
  EXPECT_EQ(get_msg(js.p, "M", 11).first, "o.a");
  // Nothing listens on a mirror's name: a publish there has no responders (as 2.9.10).
  MsgPtr m;
  EXPECT_EQ(natsConnection_RequestString(&m.p, nc.p, "M", "x", 1000), NATS_NO_RESPONDERS);
  EXPECT_EQ(state_of(nc.p, "M", "messages"), 5u);
}

TEST(JsMirror, TwoSourcesIntoOneStream) {
  Standalone srv;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  ASSERT_FALSE(create(nc.p, {{"name", "S1"}, {"subjects", {"s1.>"}}}).contains("error"));
  ASSERT_FALSE(create(nc.p, {{"name", "S2"}, {"subjects", {"s2.>"}}}).contains("error"));
  for (int i = 0; i < 3; ++i) publish(nc.p, "s1.a", "x");
  publish(nc.p, "s2.x", "y");
  publish(nc.p, "s2.z", "skip");
  publish(nc.p, "s2.x", "y");
  json r = create(nc.p, {{"name", "AGG"},
                         {"subjects", {"agg"}},
                         {"sources", {{{"name", "S1"}}, {{"name", "S2"}, {"filter_subject", "s2.x"}}}}});
  ASSERT_FALSE(r.contains("error")) << r.dump();
  ASSERT_TRUE(wait_msgs(nc.p, "AGG", 5)) << info(nc.p, "AGG").dump();
  publish(nc.p, "agg", "own");
  ASSERT_TRUE(wait_msgs(nc.p, "AGG", 6));
  Js js(nc.p);
  std::set<std::string> headers;
  for (uint64_t seq = 1; seq <= 6; ++seq) headers.insert(get_msg(js.p, "AGG", seq).second);
  EXPECT_EQ(headers, (std::set<std::string>{"", "S1 1", "S1 2", "S1 3", "S2 1", "S2 3"}));
  json i = info(nc.p, "AGG");
  ASSERT_TRUE(i.contains("sources") && i["sources"].size() == 2) << i.dump();
  EXPECT_EQ(i["sources"][0]["name"], "S1");
  EXPECT_EQ(i["sources"][1]["name"], "S2");
  EXPECT_EQ(i["sources"][1]["lag"], 0);
  // Adding a source on update takes it in; the others continue where they were.
  ASSERT_FALSE(create(nc.p, {{"name", "S3"}, {"subjects", {"s3.>"}}}).contains("error"));
  publish(nc.p, "s3.a", "z");
  json upd = {{"name", "AGG"},
              {"subjects", {"agg"}},
              {"sources", {{{"name", "S1"}}, {{"name", "S2"}, {"filter_subject", "s2.x"}}, {{"name", "S3"}}}}};
  json u = request(nc.p, "$JS.API.STREAM.UPDATE.AGG", upd.dump());
  ASSERT_FALSE(u.contains("error")) << u.dump();
  ASSERT_TRUE(wait_msgs(nc.p, "AGG", 7)) << info(nc.p, "AGG").dump();
  publish(nc.p, "s1.a", "x");
  ASSERT_TRUE(wait_msgs(nc.p, "AGG", 8)) << info(nc.p, "AGG").dump();
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(state_of(nc.p, "AGG", "messages"), 8u);
  EXPECT_EQ(get_msg(js.p, "AGG", 7).second, "S3 1");
  EXPECT_EQ(get_msg(js.p, "AGG", 8).second, "S1 4");
}

TEST(JsMirror, RestartKeepsPositions) {
  Standalone srv;
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  ASSERT_FALSE(create(nc.p, {{"name", "O"}, {"subjects", {"o.>"}}}).contains("error"));
  ASSERT_FALSE(create(nc.p, {{"name", "M"}, {"mirror", {{"name", "O"}}}}).contains("error"));
  ASSERT_FALSE(create(nc.p, {{"name", "AGG"}, {"sources", {{{"name", "O"}}}}}).contains("error"));
  for (int i = 1; i <= 5; ++i) publish(nc.p, "o.x", std::to_string(i));
  ASSERT_TRUE(wait_msgs(nc.p, "M", 5));
  ASSERT_TRUE(wait_msgs(nc.p, "AGG", 5));
  nc.reset();
  srv.restart();
  ASSERT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  for (int i = 6; i <= 10; ++i) publish(nc.p, "o.x", std::to_string(i));
  ASSERT_TRUE(wait_msgs(nc.p, "M", 10)) << info(nc.p, "M").dump();
  ASSERT_TRUE(wait_msgs(nc.p, "AGG", 10)) << info(nc.p, "AGG").dump();
  // Give a duplicate the time to show up, then check every origin message is there once.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(state_of(nc.p, "M", "last_seq"), 10u);
  EXPECT_EQ(state_of(nc.p, "AGG", "messages"), 10u);
  Js js(nc.p);
  std::set<std::string> seen;
  for (uint64_t seq = 1; seq <= 10; ++seq) seen.insert(get_msg(js.p, "AGG", seq).second);
  for (int i = 1; i <= 10; ++i) EXPECT_TRUE(seen.count("O " + std::to_string(i))) << i;
}

// ---- differential ---------------------------------------------------------------------------

// The fields of an info block that do not depend on timing.
json stable_block(const json& b) {
  json out;
  for (auto& [k, v] : b.items()) out[k] = k == "active" ? json(v.get<int64_t>() >= 0 ? "seen" : "never") : v;
  return out;
}

// Account B mirrors and sources account A's stream O through the `external` prefixes: A
// exports its JetStream API, the deliver subjects and flow control; B imports the API under
// JS.A.API. Returns B's copies' message counts and the mirror's info block, or an error text.
json cross_account_outcome(const std::string& binary) {
  TempDir store;
  std::string conf = "jetstream { store_dir: \"" + store.path() + "\" }\n"
      "accounts: {\n"
      "  A: { jetstream: enabled, users: [{user: a, password: a}],\n"
      "       exports: [{service: \"$JS.API.>\"}, {service: \"$JS.FC.>\"}, {stream: \"deliver.>\"}] }\n"
      "  B: { jetstream: enabled, users: [{user: b, password: b}],\n"
      "       imports: [{service: {account: A, subject: \"$JS.API.>\"}, to: \"JS.A.API.>\"},\n"
      "                 {service: {account: A, subject: \"$JS.FC.>\"}},\n"
      "                 {stream: {account: A, subject: \"deliver.>\"}}] }\n"
      "}\n";
  auto srv = start_with_config(conf, {}, binary);
  std::string base = "127.0.0.1:" + std::to_string(srv->port());
  ConnPtr na, nb;
  if (connect_url(na, "nats://a:a@" + base) != NATS_OK || connect_url(nb, "nats://b:b@" + base) != NATS_OK)
    return "connect failed";
  if (create(na.p, {{"name", "O"}, {"subjects", {"o.>"}}}).contains("error")) return "create O failed";
  for (int i = 1; i <= 5; ++i) publish(na.p, "o.x", std::to_string(i));
  json ext = {{"api", "JS.A.API"}, {"deliver", "deliver.b"}};
  json m = create(nb.p, {{"name", "MB"}, {"mirror", {{"name", "O"}, {"external", ext}}}});
  json sc = create(nb.p, {{"name", "SB"}, {"sources", {{{"name", "O"}, {"external", ext}}}}});
  if (m.contains("error") || sc.contains("error")) return m.dump() + sc.dump();
  wait_msgs(nb.p, "MB", 5);
  wait_msgs(nb.p, "SB", 5);
  for (int i = 6; i <= 8; ++i) publish(na.p, "o.x", std::to_string(i));
  wait_msgs(nb.p, "MB", 8);
  wait_msgs(nb.p, "SB", 8);
  json out;
  out["mirror_msgs"] = state_of(nb.p, "MB", "messages");
  out["source_msgs"] = state_of(nb.p, "SB", "messages");
  out["mirror"] = stable_block(info(nb.p, "MB")["mirror"]);
  out["sources"] = stable_block(info(nb.p, "SB")["sources"][0]);
  return out;
}

TEST(JsMirrorDiff, ExternalPrefixesAcrossAccounts) {
  json ours = cross_account_outcome(server_binary());
  EXPECT_EQ(ours.value("mirror_msgs", 0), 8) << ours.dump();
  EXPECT_EQ(ours.value("source_msgs", 0), 8) << ours.dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  EXPECT_EQ(ours, cross_account_outcome(reference_binary()));
}

TEST(JsMirrorDiff, CreateErrorsAndInfoBlocksMatchReference) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  Standalone ours, ref(reference_binary());
  ConnPtr a, b;
  ASSERT_EQ(connect_url(a, ours.proc->url()), NATS_OK);
  ASSERT_EQ(connect_url(b, ref.proc->url()), NATS_OK);
  const std::vector<json> setup = {
      {{"name", "O"}, {"subjects", {"o.>"}}, {"max_msg_size", 100}},
      {{"name", "P"}, {"subjects", {"p.>"}}},
  };
  for (const auto& c : setup) {
    ASSERT_FALSE(create(a.p, c).contains("error"));
    ASSERT_FALSE(create(b.p, c).contains("error"));
  }
  const std::vector<json> creates = {
      {{"name", "E1"}, {"subjects", {"e1"}}, {"mirror", {{"name", "O"}}}},
      {{"name", "E2"}, {"mirror", {{"name", "O"}}}, {"sources", {{{"name", "P"}}}}},
      {{"name", "E3"}, {"mirror", {{"name", "O"}}}, {"max_msg_size", 50}},
      {{"name", "E4"}, {"sources", {{{"name", "O"}}}}, {"max_msg_size", 50}},
      {{"name", "E5"}, {"mirror", {{"name", "O"}, {"filter_subject", "x.y"}}}},
      {{"name", "E6"}, {"sources", {{{"name", "O"}, {"filter_subject", "x.y"}}}}},
      {{"name", "E7"}, {"mirror", {{"name", "O"}, {"external", {{"api", "$JS.API"}, {"deliver", "d"}}}}}},
      {{"name", "E8"}, {"mirror", {{"name", "O"}, {"external", {{"api", "a.*"}, {"deliver", "d"}}}}}},
      {{"name", "E9"}, {"mirror", {{"name", "O"}, {"external", {{"api", "ext"}, {"deliver", "d.*"}}}}}},
      {{"name", "E10"}, {"sources", {{{"name", "E10"}}}}},
      {{"name", "M"}, {"mirror", {{"name", "O"}}}},
      {{"name", "AGG"}, {"sources", {{{"name", "O"}}, {{"name", "P"}, {"filter_subject", "p.a"}}}}},
  };
  for (const auto& c : creates) {
    json x = create(a.p, c), y = create(b.p, c);
    EXPECT_EQ(x.value("error", json()), y.value("error", json())) << c.dump();
    if (!y.contains("error")) {
      EXPECT_EQ(x["config"], y["config"]) << c.dump();
    }
  }
  // Changing a mirror on update.
  json upd = {{"name", "M"}, {"mirror", {{"name", "P"}}}};
  EXPECT_EQ(request(a.p, "$JS.API.STREAM.UPDATE.M", upd.dump()).value("error", json()),
            request(b.p, "$JS.API.STREAM.UPDATE.M", upd.dump()).value("error", json()));
  for (auto* nc : {a.p, b.p}) {
    publish(nc, "o.1", "x");
    publish(nc, "p.a", "y");
  }
  for (auto* nc : {a.p, b.p}) {
    ASSERT_TRUE(wait_msgs(nc, "M", 1));
    ASSERT_TRUE(wait_msgs(nc, "AGG", 2));
  }
  json ma = info(a.p, "M"), mb = info(b.p, "M");
  EXPECT_EQ(stable_block(ma["mirror"]), stable_block(mb["mirror"]));
  json sa = info(a.p, "AGG"), sb = info(b.p, "AGG");
  ASSERT_EQ(sa["sources"].size(), sb["sources"].size()) << sa.dump() << "\n" << sb.dump();
  // The reference lists sources from a Go map, in no fixed order: compare them by name.
  auto by_name = [](const json& sources) {
    std::map<std::string, json> m;
    for (const auto& s : sources) m[s.value("name", "")] = stable_block(s);
    return m;
  };
  EXPECT_EQ(by_name(sa["sources"]), by_name(sb["sources"])) << sa.dump() << "\n" << sb.dump();
  // A mirror of a stream that does not exist reports the origin's error.
  json mn = {{"name", "MN"}, {"mirror", {{"name", "NOPE"}}}};
  json na, nb;
  for (auto [nc, out] : {std::pair{a.p, &na}, std::pair{b.p, &nb}}) {
    ASSERT_FALSE(create(nc, mn).contains("error"));
    EXPECT_TRUE(wait_for([&, nc = nc, out = out] {
      *out = info(nc, "MN");
      return out->contains("mirror") && (*out)["mirror"].contains("error");
    }, milliseconds(8000))) << out->dump();
  }
  EXPECT_EQ(stable_block(na["mirror"]), stable_block(nb["mirror"]));
  // Publishing to the mirror's name: nobody listens on either server.
  MsgPtr m1, m2;
  EXPECT_EQ(natsConnection_RequestString(&m1.p, a.p, "M", "x", 1000),
            natsConnection_RequestString(&m2.p, b.p, "M", "x", 1000));
}

// ---- R3 -------------------------------------------------------------------------------------

struct Node {
  std::string name;
  int cluster_port = free_port();
  std::vector<int> routes;
  std::shared_ptr<TempDir> store = std::make_shared<TempDir>();
  std::unique_ptr<ServerProcess> proc;
  void start() {
    std::string c = "server_name: " + name + "\n";
    c += "jetstream { store_dir: \"" + store->path() + "\" }\n";
    c += "cluster {\n  name: c1\n  listen: 127.0.0.1:" + std::to_string(cluster_port) + "\n  routes: [\n";
    for (int p : routes) c += "    \"nats-route://127.0.0.1:" + std::to_string(p) + "\"\n";
    c += "  ]\n}\n";
    proc = start_with_config(c);
  }
};

// R3 mirror M and R3 source AGG of an R3 origin, and an R1 mirror M1, in a 3-node cluster:
// M's and AGG's leaders step down while the origin takes more messages; the new leaders
// continue from the committed position, without gaps or duplicates.
TEST(JsMirrorCluster, R3MirrorAndSourceSurviveLeaderStepdown) {
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<Node>());
    nodes.back()->name = "s" + std::to_string(i + 1);
  }
  for (auto& n : nodes)
    for (auto& o : nodes) n->routes.push_back(o->cluster_port);
  for (auto& n : nodes) n->start();
  auto logs = [&] {
    std::string out;
    for (auto& n : nodes) out += "---- " + n->name + "\n" + n->proc->log();
    return out;
  };
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, nodes[0]->proc->url()), NATS_OK);
  json o = {{"name", "O"}, {"subjects", {"o.>"}}, {"num_replicas", 3}};
  ASSERT_TRUE(wait_for([&] { json r = create(nc.p, o); return r.is_object() && !r.contains("error"); },
                       milliseconds(30000)))
      << logs();
  for (json c : {json{{"name", "M"}, {"mirror", {{"name", "O"}}}, {"num_replicas", 3}},
                 json{{"name", "AGG"}, {"sources", {{{"name", "O"}}}}, {"num_replicas", 3}},
                 json{{"name", "M1"}, {"mirror", {{"name", "O"}}}}}) {
    json r = create(nc.p, c);
    ASSERT_TRUE(r.is_object() && !r.contains("error")) << r.dump();
  }
  for (int i = 1; i <= 20; ++i) publish(nc.p, "o.x", std::to_string(i));
  for (const char* s : {"M", "AGG", "M1"})
    ASSERT_TRUE(wait_msgs(nc.p, s, 20, milliseconds(15000))) << s << info(nc.p, s).dump() << logs();
  std::string m_leader = info(nc.p, "M")["cluster"].value("leader", "");
  std::string agg_leader = info(nc.p, "AGG")["cluster"].value("leader", "");
  for (const char* s : {"M", "AGG"}) {
    json sd = request(nc.p, std::string("$JS.API.STREAM.LEADER.STEPDOWN.") + s);
    ASSERT_TRUE(sd.value("success", false)) << s << sd.dump();
  }
  for (int i = 21; i <= 40; ++i) publish(nc.p, "o.x", std::to_string(i));
  for (const char* s : {"M", "AGG", "M1"})
    ASSERT_TRUE(wait_msgs(nc.p, s, 40, milliseconds(20000))) << s << info(nc.p, s).dump() << logs();
  std::this_thread::sleep_for(milliseconds(1500));  // time for a duplicate to show
  for (const char* s : {"M", "M1"}) {
    json i = info(nc.p, s);
    EXPECT_EQ(i["state"]["messages"], 40) << s;
    EXPECT_EQ(i["state"]["first_seq"], 1) << s;
    EXPECT_EQ(i["state"]["last_seq"], 40) << s;
    EXPECT_FALSE(i["state"].contains("num_deleted")) << i.dump();
  }
  EXPECT_NE(info(nc.p, "M")["cluster"].value("leader", ""), m_leader);
  EXPECT_NE(info(nc.p, "AGG")["cluster"].value("leader", ""), agg_leader);
  EXPECT_EQ(state_of(nc.p, "AGG", "messages"), 40u);
  Js js(nc.p);
  std::set<std::string> seen;
  for (uint64_t seq = 1; seq <= 40; ++seq) seen.insert(get_msg(js.p, "AGG", seq).second);
  for (int i = 1; i <= 40; ++i) EXPECT_TRUE(seen.count("O " + std::to_string(i))) << i;
  // The origin's info lists itself and its mirrors as alternates (not the source).
  std::set<std::string> alts;
  json oi = info(nc.p, "O");
  for (auto& a : oi["alternates"]) {
    alts.insert(a.value("name", ""));
    EXPECT_EQ(a.value("cluster", ""), "c1");
  }
  EXPECT_EQ(alts, (std::set<std::string>{"O", "M", "M1"}));
  EXPECT_FALSE(info(nc.p, "M").contains("alternates"));
  // The copies keep the origin's subjects, whichever servers the leaders are on.
  for (const char* s : {"M", "AGG", "M1"})
    for (uint64_t seq : {1, 20, 40}) EXPECT_EQ(get_msg(js.p, s, seq).first, "o.x") << s << " " << seq;
}

}  // namespace

namespace {

struct KvOutcome {
  natsStatus get_on_mirror = NATS_OK;  // libnats' KV Get of a key through the mirror bucket
  std::string direct_last;             // DIRECT.GET of the origin's key subject from the mirror
  bool operator==(const KvOutcome& o) const {
    return get_on_mirror == o.get_on_mirror && direct_last == o.direct_last;
  }
};

// Bucket A with three puts, then bucket B's stream mirroring KV_A (as `nats kv add --mirror`
// creates it); libnats binds to B and the mirror serves the origin's keys.
KvOutcome kv_mirror_outcome(const std::string& binary) {
  KvOutcome out;
  Standalone srv(binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv.proc->url()), NATS_OK);
  Js js(nc.p);
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = "A";
  kvStore* a = nullptr;
  EXPECT_EQ(js_CreateKeyValue(&a, js.p, &kc), NATS_OK);
  uint64_t rev = 0;
  EXPECT_EQ(kvStore_PutString(&rev, a, "k1", "v1"), NATS_OK);
  EXPECT_EQ(kvStore_PutString(&rev, a, "k1", "v2"), NATS_OK);
  EXPECT_EQ(kvStore_PutString(&rev, a, "k2", "w"), NATS_OK);
  kvStore_Destroy(a);
  json cfg = {{"name", "KV_B"},          {"mirror", {{"name", "KV_A"}}}, {"max_msgs_per_subject", 1},
              {"allow_rollup_hdrs", true}, {"deny_delete", true},        {"allow_direct", true}};
  json r = create(nc.p, cfg);
  EXPECT_FALSE(r.contains("error")) << r.dump();
  EXPECT_TRUE(wait_msgs(nc.p, "KV_B", 2)) << info(nc.p, "KV_B").dump();
  kvStore* b = nullptr;
  EXPECT_EQ(js_KeyValue(&b, js.p, "B"), NATS_OK);
  kvEntry* e = nullptr;
  out.get_on_mirror = kvStore_Get(&e, b, "k1");
  if (e) kvEntry_Destroy(e);
  kvStore_Destroy(b);
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc.p, "$JS.API.DIRECT.GET.KV_B.$KV.A.k1", "", 2000) == NATS_OK)
    out.direct_last = m.data();
  return out;
}

TEST(JsMirrorDiff, KvBucketMirroringAnotherBucket) {
  KvOutcome ours = kv_mirror_outcome(server_binary());
  EXPECT_EQ(ours.direct_last, "v2");
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  KvOutcome ref = kv_mirror_outcome(reference_binary());
  EXPECT_TRUE(ours == ref) << "ours: " << ours.get_on_mirror << " " << ours.direct_last
                           << "; reference: " << ref.get_on_mirror << " " << ref.direct_last;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
