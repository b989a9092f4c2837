// JetStream across a leaf connection: hub in domain HUB, leaf in domain LEAF. Each side's
// API is reachable from the other by its `$JS.<domain>.API` prefix (the accounts' domain
// mappings, announced over the link); the plain `$JS.API` stays on its own side (the
// reference's denies on a leaf connection), so it is answered once. A stream on the leaf
// takes messages published on the hub and answers from the hub through the prefix. Run with
// our servers on both sides and, where available, with a 2.9.10 hub or a 2.9.10 leaf.
#include <gtest/gtest.h>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

nlohmann::json request_json(natsConnection* nc, const std::string& subject, const std::string& body = "") {
  return nlohmann::json::parse(request_text(nc, subject, body), nullptr, false);
}

// How many answers one request on `subject` gets within a short while.
int answers_to(natsConnection* nc, const std::string& subject) {
  char inbox[64];
  snprintf(inbox, sizeof inbox, "_INBOX.count.%d", rand());
  SubPtr s;
  if (natsConnection_SubscribeSync(&s.p, nc, inbox) != NATS_OK) return -1;
  natsConnection_PublishRequestString(nc, subject.c_str(), inbox, "");
  natsConnection_Flush(nc);
  int n = 0;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, s.p, n == 0 ? 3000 : 700) != NATS_OK) break;
    ++n;
  }
  return n;
}

void jetstream_across_a_leaf(const std::string& hub_bin, const std::string& leaf_bin) {
  testing_harness::TempDir hub_store, leaf_store;
  Node hub, leaf;
  const int leaf_port = testing_harness::free_port();
  hub.binary = hub_bin;
  hub.name = "hub";
  hub.extra = "jetstream { store_dir: \"" + hub_store.path() + "\", domain: HUB }\n"
              "leafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n";
  leaf.binary = leaf_bin;
  leaf.name = "leaf";
  leaf.extra = "jetstream { store_dir: \"" + leaf_store.path() + "\", domain: LEAF }\n"
               "leafnodes { remotes [ { url: \"nats-leaf://127.0.0.1:" + std::to_string(leaf_port) + "\" } ] }\n";
  hub.start();
  leaf.start();
  ASSERT_TRUE(wait_for([&] {
    auto a = http_json(hub.http_port, "/leafz"), b = http_json(leaf.http_port, "/leafz");
    return a.value("leafnodes", 0) == 1 && b.value("leafnodes", 0) == 1;
  }, milliseconds(10000))) << hub.proc->log() << leaf.proc->log();
  ConnPtr h, l;
  ASSERT_EQ(connect_url(h, hub.url()), NATS_OK);
  ASSERT_EQ(connect_url(l, leaf.url()), NATS_OK);

  // A stream on the leaf, made there with the plain API.
  auto created = request_json(l.p, "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})");
  ASSERT_EQ(created.value("config", nlohmann::json::object()).value("name", ""), "S") << created.dump();

  // The hub reaches the leaf's domain (once the mapping interest has crossed).
  nlohmann::json info;
  ASSERT_TRUE(wait_for([&] {
    info = request_json(h.p, "$JS.LEAF.API.STREAM.INFO.S");
    return info.is_object() && info.contains("config");
  }, milliseconds(8000))) << info.dump() << leaf.proc->log();
  // The leaf reaches the hub's domain.
  nlohmann::json hub_info;
  ASSERT_TRUE(wait_for([&] {
    hub_info = request_json(l.p, "$JS.HUB.API.INFO");
    return hub_info.is_object() && hub_info.value("domain", "") == "HUB";
  }, milliseconds(8000))) << hub_info.dump();
  // And each side's own domain is answered by itself.
  EXPECT_EQ(request_json(l.p, "$JS.LEAF.API.INFO").value("domain", ""), "LEAF");
  EXPECT_EQ(request_json(h.p, "$JS.HUB.API.INFO").value("domain", ""), "HUB");

  // The plain API is answered once on each side, by that side.
  EXPECT_EQ(answers_to(h.p, "$JS.API.INFO"), 1);
  EXPECT_EQ(answers_to(l.p, "$JS.API.INFO"), 1);
  auto plain = request_json(h.p, "$JS.API.STREAM.INFO.S");
  EXPECT_EQ(plain.value("error", nlohmann::json::object()).value("err_code", 0), 10059) << plain.dump();

  // Messages published on the hub land in the leaf's stream.
  ASSERT_TRUE(wait_for([&] {
    natsConnection_PublishString(h.p, "s.from.hub", "x");
    natsConnection_Flush(h.p);
    auto i = request_json(h.p, "$JS.LEAF.API.STREAM.INFO.S");
    return i.is_object() && i.contains("state") && i["state"].value("messages", 0) > 0;
  }, milliseconds(8000)));
}

}  // namespace

TEST(LeafNodeJetStream, DomainsAcrossOurHubAndLeaf) {
  jetstream_across_a_leaf(testing_harness::server_binary(), testing_harness::server_binary());
}

TEST(LeafNodeJetStream, DomainsAcrossAReferenceHubAndOurLeaf) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  jetstream_across_a_leaf(testing_harness::reference_binary(), testing_harness::server_binary());
}

TEST(LeafNodeJetStream, DomainsAcrossOurHubAndAReferenceLeaf) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  jetstream_across_a_leaf(testing_harness::server_binary(), testing_harness::reference_binary());
}

}  // namespace NATS_TEST_FILE_ID
