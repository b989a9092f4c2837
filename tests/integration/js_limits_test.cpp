// Server JetStream limits (`jetstream { max_memory_store, max_file_store }`) at stream
// create: the max_bytes reservations against the reference 2.9.10, answer by answer.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// Each create's error (or "ok"), in order, on a server with 10000 bytes of memory and 20000
// of file storage.
std::vector<json> reservation_scenario(const std::string& binary) {
  TempDir store;
  auto srv = start_with_config("jetstream { store_dir: \"" + store.path() +
                                   "\", max_memory_store: 10000, max_file_store: 20000 }\n",
                               {}, binary);
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, srv->url()), NATS_OK);
  auto create = [&](const std::string& name, const char* storage, int64_t max_bytes) {
    json cfg = {{"name", name}, {"subjects", {name}}, {"storage", storage}, {"max_bytes", max_bytes}};
    MsgPtr m;
    std::string body = cfg.dump();
    if (natsConnection_RequestString(&m.p, nc.p, ("$JS.API.STREAM.CREATE." + name).c_str(), body.c_str(), 3000) !=
        NATS_OK)
      return json("no answer");
    auto j = json::parse(m.data(), nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"] : json("ok");
  };
  return {create("A", "memory", 6000),  create("B", "memory", 6000),  // 6000 + 6000 > 10000
          create("C", "memory", -1),    // unlimited reserves 1 byte
          create("D", "file", 30000),   create("E", "file", 15000),
          create("A", "memory", 6000),  // the same config again: its own reservation counts
          create("F", "memory", 4000),  create("G", "memory", 3999)};
}

TEST(JsLimits, ServerReservationsAtCreate) {
  auto ours = reservation_scenario(server_binary());
  ASSERT_EQ(ours.size(), 8u);
  EXPECT_EQ(ours[0], "ok");
  EXPECT_EQ(ours[1].value("err_code", 0), 10028) << ours[1].dump();
  EXPECT_EQ(ours[3].value("err_code", 0), 10047) << ours[3].dump();
  EXPECT_EQ(ours[4], "ok");
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  auto ref = reservation_scenario(reference_binary());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], ref[i]) << "create " << i;
}

}  // namespace
