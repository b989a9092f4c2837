// An account's JetStream limits, from the config (`accounts { A { jetstream { ... } } }`) and
// from an account JWT (`limits { mem_storage, disk_storage, streams, consumer, ... }`), against
// the reference 2.9.10 answer by answer: at stream create (10113, 10122, 10028, 10047, 10026,
// 10027), at consumer create (max_ack_pending: the default lowered, 10121), at store time
// (10002, the message taken back), at stream update (10028/10047 when max_bytes grows
// beyond the reservation) and in the account info.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "jwt_test_util.h"
#include "js_ask_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

json stream(natsConnection* nc, const std::string& name, const char* storage, int64_t max_bytes,
            int64_t max_consumers = -1) {
  json cfg = {{"name", name}, {"subjects", {name}}, {"storage", storage}, {"max_bytes", max_bytes},
              {"max_consumers", max_consumers}};
  return js_ask(nc, "$JS.API.STREAM.CREATE." + name, cfg.dump(), "did_create");
}

json durable(natsConnection* nc, const std::string& stream, const std::string& name, int64_t max_ack_pending) {
  json c = {{"durable_name", name}, {"ack_policy", "explicit"}};
  if (max_ack_pending) c["max_ack_pending"] = max_ack_pending;
  json req = {{"stream_name", stream}, {"config", c}};
  return js_ask(nc, "$JS.API.CONSUMER.DURABLE.CREATE." + stream + "." + name, req.dump(), "config.max_ack_pending");
}

// The account info without its API counters.
json info(natsConnection* nc) {
  json j = js_ask(nc, "$JS.API.INFO", "");
  if (j.is_object()) j.erase("api");
  return j;
}

// Limits: 2000 bytes of memory, 3000 of file, 3 streams, 2 consumers per stream, 5 acks
// pending, memory streams of at most 1500 bytes, max_bytes required.
std::vector<json> create_scenario(natsConnection* nc) {
  return {stream(nc, "M1", "memory", -1),    // 10113: max_bytes required
          stream(nc, "M1", "memory", 1600),  // 10122: over the per-stream limit
          stream(nc, "M1", "memory", 1500),  // ok
          stream(nc, "M2", "memory", 600),   // 10028: 1500 + 600 > 2000
          stream(nc, "F1", "file", 3001),    // 10047
          stream(nc, "F1", "file", 1000),    // ok (no per-stream file limit)
          stream(nc, "M2", "memory", 400, 3),  // 10026: more consumers than the account's
          stream(nc, "M2", "memory", 400),   // ok: the third stream
          stream(nc, "F2", "file", 100),     // 10027
          durable(nc, "M1", "D1", 0),        // max_ack_pending defaults to the account's 5
          durable(nc, "M1", "D2", 6),        // 10121
          durable(nc, "M1", "D3", 4),        // ok
          durable(nc, "M1", "D4", 1),        // 10026: the stream's third consumer
          info(nc)};
}

// Limits: 1000 bytes of memory, 1000 of file; three 600-byte messages and a small one to
// each storage type, then the streams' states.
std::vector<json> store_scenario(natsConnection* nc) {
  std::vector<json> out;
  for (const char* storage : {"memory", "file"}) {
    std::string name = std::string(storage) == "memory" ? "M" : "F";
    out.push_back(stream(nc, name, storage, -1));
    for (int i = 0; i < 3; ++i) out.push_back(js_ask(nc, name, std::string(600, 'x')));
    out.push_back(js_ask(nc, name, "small"));
    out.push_back(js_ask(nc, "$JS.API.STREAM.INFO." + name, "", "state"));
  }
  json j = info(nc);
  out.push_back(j);
  return out;
}

std::unique_ptr<ServerProcess> config_server(const TempDir& store, const std::string& limits,
                                             const std::string& binary) {
  return start_with_config("accounts { A: { users: [{user: a, password: a}], jetstream: { " + limits + " } } }\n" +
                               "jetstream { store_dir: \"" + store.path() + "\" }\n",
                           {}, binary);
}

const char* kCreateLimits =
    "max_memory: 2000, max_file: 3000, max_streams: 3, max_consumers: 2, max_ack_pending: 5, "
    "memory_max_stream_bytes: 1500, max_bytes_required: true";
const char* kStoreLimits = "max_memory: 1000, max_file: 1000";

template <class Scenario>
std::vector<json> run_config(const std::string& limits, Scenario scenario, const std::string& binary) {
  TempDir store;
  auto srv = config_server(store, limits, binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, "nats://a:a@127.0.0.1:" + std::to_string(srv->port())), NATS_OK);
  if (!nc.p) return {};
  return scenario(nc.p);
}

int err_code(const json& j) { return j.is_object() ? j.value("err_code", 0) : 0; }

void check_create_answers(const std::vector<json>& a) {
  ASSERT_EQ(a.size(), 14u);
  EXPECT_EQ(err_code(a[0]), 10113) << a[0].dump();
  EXPECT_EQ(err_code(a[1]), 10122) << a[1].dump();
  EXPECT_EQ(a[2], true) << a[2].dump();
  EXPECT_EQ(err_code(a[3]), 10028) << a[3].dump();
  EXPECT_EQ(err_code(a[4]), 10047) << a[4].dump();
  EXPECT_EQ(a[5], true) << a[5].dump();
  EXPECT_EQ(err_code(a[6]), 10026) << a[6].dump();
  EXPECT_EQ(a[7], true) << a[7].dump();
  EXPECT_EQ(err_code(a[8]), 10027) << a[8].dump();
  EXPECT_EQ(a[9], 5) << a[9].dump();
  EXPECT_EQ(err_code(a[10]), 10121) << a[10].dump();
  EXPECT_EQ(a[11], 4) << a[11].dump();
  EXPECT_EQ(err_code(a[12]), 10026) << a[12].dump();
  EXPECT_EQ(a[13]["limits"].value("max_memory", 0), 2000) << a[13].dump();
  EXPECT_EQ(a[13].value("streams", 0), 3) << a[13].dump();
}

void check_store_answers(const std::vector<json>& a) {
  ASSERT_EQ(a.size(), 13u);
  for (size_t base : {0u, 6u}) {
    EXPECT_EQ(a[base], true) << a[base].dump();
    EXPECT_EQ(a[base + 1].value("seq", 0), 1) << a[base + 1].dump();
    EXPECT_EQ(err_code(a[base + 2]), 10002) << a[base + 2].dump();
    EXPECT_EQ(err_code(a[base + 3]), 10002) << a[base + 3].dump();
    EXPECT_EQ(a[base + 5].value("messages", 0), 2) << a[base + 5].dump();
  }
}

void compare(const std::vector<json>& ours, const std::vector<json>& ref) {
  ASSERT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    json o = ours[i], r = ref[i];
    // Times differ from run to run.
    for (json* j : {&o, &r})
      if (j->is_object())
        for (const char* k : {"first_ts", "last_ts"}) j->erase(k);
    EXPECT_EQ(o, r) << "answer " << i;
  }
}

TEST(JsAccountLimits, ConfigLimitsAtCreate) {
  auto ours = run_config(kCreateLimits, create_scenario, server_binary());
  check_create_answers(ours);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, run_config(kCreateLimits, create_scenario, reference_binary()));
}

TEST(JsAccountLimits, ConfigLimitsAtStoreTime) {
  auto ours = run_config(kStoreLimits, store_scenario, server_binary());
  check_store_answers(ours);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, run_config(kStoreLimits, store_scenario, reference_binary()));
}

// The same limits from an account JWT (operator mode, MEMORY resolver).
template <class Scenario>
std::vector<json> run_jwt(const json& js_limits, Scenario scenario, const std::string& binary) {
  jwt::KeyPair op = jwt::operator_keys(), sys = jwt::account_keys(), acc = jwt::account_keys(),
               user = jwt::user_keys();
  std::string op_jwt = jwt::sign(jwt::operator_claims(op, sys.pub), op);
  std::string sys_jwt = jwt::sign(jwt::account_claims(sys, "SYS"), op);
  json ac = jwt::account_claims(acc, "A");
  for (const auto& [k, v] : js_limits.items()) ac["nats"]["limits"][k] = v;
  std::string acc_jwt = jwt::sign(ac, op);
  TempDir dir;
  std::string op_file = dir.write("op.jwt", op_jwt + "\n");
  auto srv = start_with_config("operator: \"" + op_file + "\"\nsystem_account: " + sys.pub +
                                   "\nresolver: MEMORY\nresolver_preload: {\n  " + sys.pub + ": \"" + sys_jwt +
                                   "\"\n  " + acc.pub + ": \"" + acc_jwt + "\"\n}\njetstream { store_dir: \"" +
                                   dir.path() + "/js\" }\n",
                               {}, binary);
  std::string creds = dir.write("u.creds", jwt::creds(jwt::sign(jwt::user_claims(user, "u"), acc), user.seed));
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 2000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetUserCredentialsFromFiles(o.p, creds.c_str(), nullptr);
  ConnPtr nc;
  EXPECT_EQ(connect_signed(nc, srv->url(), o.p), NATS_OK);
  if (!nc.p) return {};
  return scenario(nc.p);
}

const json kJwtCreateLimits = {{"mem_storage", 2000}, {"disk_storage", 3000}, {"streams", 3},
                               {"consumer", 2},        {"max_ack_pending", 5}, {"mem_max_stream_bytes", 1500},
                               {"max_bytes_required", true}};
const json kJwtStoreLimits = {{"mem_storage", 1000}, {"disk_storage", 1000}};

TEST(JsAccountLimits, JwtLimitsAtCreate) {
  auto ours = run_jwt(kJwtCreateLimits, create_scenario, server_binary());
  check_create_answers(ours);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, run_jwt(kJwtCreateLimits, create_scenario, reference_binary()));
}

TEST(JsAccountLimits, JwtLimitsAtStoreTime) {
  auto ours = run_jwt(kJwtStoreLimits, store_scenario, server_binary());
  check_store_answers(ours);
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, run_jwt(kJwtStoreLimits, store_scenario, reference_binary()));
}

// A JWT with only a memory limit: file streams get no storage (a disk limit of 0), and the
// counts it leaves at 0 are unlimited.
TEST(JsAccountLimits, JwtMemoryOnly) {
  auto scenario = [](natsConnection* nc) {
    return std::vector<json>{stream(nc, "F", "file", -1), stream(nc, "M", "memory", 100), info(nc)};
  };
  const json lim = {{"mem_storage", 1000}};
  auto ours = run_jwt(lim, scenario, server_binary());
  ASSERT_EQ(ours.size(), 3u);
  EXPECT_EQ(err_code(ours[0]), 10047) << ours[0].dump();
  EXPECT_EQ(ours[1], true) << ours[1].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, run_jwt(lim, scenario, reference_binary()));
}

// Limits: 2000 bytes of memory, 3000 of file. Updates raising max_bytes: only the growth is
// reserved, lowering is always allowed, an unlimited (-1) stream may grow to the whole limit.
TEST(JsAccountLimits, MaxBytesAtStreamUpdate) {
  auto update = [](natsConnection* nc, const std::string& name, const char* storage, int64_t max_bytes) {
    json cfg = {{"name", name}, {"subjects", {name}}, {"storage", storage}, {"max_bytes", max_bytes}};
    return js_ask(nc, "$JS.API.STREAM.UPDATE." + name, cfg.dump(), "config.max_bytes");
  };
  auto scenario = [&](natsConnection* nc) {
    return std::vector<json>{stream(nc, "M1", "memory", 1000), stream(nc, "M2", "memory", 500),
                             update(nc, "M1", "memory", 1600),  // 10028: 500 + 1600 > 2000
                             update(nc, "M1", "memory", 1500),  // ok: exactly 2000
                             update(nc, "M1", "memory", 400),   // ok: lower
                             update(nc, "M2", "memory", 1601),  // 10028
                             update(nc, "M2", "memory", 1600),  // ok
                             stream(nc, "F1", "file", -1),
                             update(nc, "F1", "file", 3001),    // 10047
                             update(nc, "F1", "file", 3000),    // ok
                             info(nc)};
  };
  const char* limits = "max_memory: 2000, max_file: 3000";
  auto ours = run_config(limits, scenario, server_binary());
  ASSERT_EQ(ours.size(), 11u);
  EXPECT_EQ(err_code(ours[2]), 10028) << ours[2].dump();
  EXPECT_EQ(ours[3], 1500) << ours[3].dump();
  EXPECT_EQ(ours[4], 400) << ours[4].dump();
  EXPECT_EQ(err_code(ours[5]), 10028) << ours[5].dump();
  EXPECT_EQ(ours[6], 1600) << ours[6].dump();
  EXPECT_EQ(err_code(ours[8]), 10047) << ours[8].dump();
  EXPECT_EQ(ours[9], 3000) << ours[9].dump();
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, run_config(limits, scenario, reference_binary()));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
