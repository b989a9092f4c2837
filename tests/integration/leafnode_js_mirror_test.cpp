// Mirrors and sources across JetStream domains through a leaf connection: hub in domain `hub`,
// leaf in domain `leaf`. On the leaf, a mirror and a source of a hub stream reached through
// `external { api: "$JS.hub.API", deliver: ... }`; on the hub, the same of a leaf stream
// through `$JS.leaf.API`. Messages published on either side arrive in the other side's
// copies, and keep arriving after the hub restarts and the leaf reconnects. Run with our
// servers on both sides and, where available, mixed with 2.9.10 (and 2.9.10 on both sides as
// the control of the scenario itself).
#include <gtest/gtest.h>

#include "cluster_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace itest;
using namespace ctest;

namespace {

nlohmann::json js_request(natsConnection* nc, const std::string& subject, const std::string& body = "") {
  return nlohmann::json::parse(request_text(nc, subject, body), nullptr, false);
}

uint64_t stream_msgs(natsConnection* nc, const std::string& api, const std::string& stream) {
  auto i = js_request(nc, api + ".STREAM.INFO." + stream);
  if (!i.is_object() || !i.contains("state")) return 0;
  return i["state"].value("messages", uint64_t{0});
}

// A stream that copies `origin` from the other domain (`mirror` or one of `sources`).
std::string copy_config(const std::string& name, bool mirror, const std::string& origin, const std::string& api,
                        const std::string& deliver) {
  nlohmann::json spec{{"name", origin}, {"external", {{"api", api}, {"deliver", deliver}}}};
  nlohmann::json cfg{{"name", name}, {"storage", "file"}};
  if (mirror) cfg["mirror"] = spec;
  else cfg["sources"] = nlohmann::json::array({spec});
  return cfg.dump();
}

struct DomainPair {
  testing_harness::TempDir hub_store, leaf_store;
  Node hub, leaf;
  int leaf_port = testing_harness::free_port();

  // shared_sys: both servers have a system account and an application account (where the
  // clients land), and the leaf binds each to the hub's by its own remote.
  DomainPair(const std::string& hub_bin, const std::string& leaf_bin, bool shared_sys) {
    const std::string accounts =
        shared_sys ? "accounts { SYS { users: [ { user: sys, password: pass } ] }\n"
                     "  APP { jetstream: enabled, users: [ { user: app, password: app } ] } }\n"
                     "system_account: SYS\nno_auth_user: app\n"
                   : "";
    const std::string hub_url = "127.0.0.1:" + std::to_string(leaf_port);
    const std::string remotes = shared_sys ? "{ url: \"nats-leaf://sys:pass@" + hub_url + "\", account: SYS },\n"
                                             "{ url: \"nats-leaf://app:app@" + hub_url + "\", account: APP }"
                                           : "{ url: \"nats-leaf://" + hub_url + "\" }";
    hub.binary = hub_bin;
    hub.name = "hub";
    hub.extra = accounts + "jetstream { store_dir: \"" + hub_store.path() + "\", domain: hub }\n"
                "leafnodes { listen: " + hub_url + " }\n";
    leaf.binary = leaf_bin;
    leaf.name = "leaf";
    leaf.extra = accounts + "jetstream { store_dir: \"" + leaf_store.path() + "\", domain: leaf }\n"
                 "leafnodes { reconnect: 1, remotes [\n" + remotes + "\n] }\n";
    links = shared_sys ? 2 : 1;
  }
  int links = 1;
  bool linked() const {
    auto a = http_json(hub.http_port, "/leafz"), b = http_json(leaf.http_port, "/leafz");
    return a.value("leafnodes", 0) == links && b.value("leafnodes", 0) == links;
  }
  std::string logs() const { return "--- hub\n" + hub.proc->log() + "--- leaf\n" + leaf.proc->log(); }
};

void publish_n(natsConnection* nc, const std::string& subject, int n) {
  for (int i = 0; i < n; ++i) natsConnection_PublishString(nc, subject.c_str(), "m");
  natsConnection_Flush(nc);
}

void mirror_and_source_across_domains(const std::string& hub_bin, const std::string& leaf_bin,
                                      bool shared_sys = false, bool restart_hub = true) {
  DomainPair p(hub_bin, leaf_bin, shared_sys);
  p.hub.start();
  p.leaf.start();
  ASSERT_TRUE(wait_for([&] { return p.linked(); }, milliseconds(10000))) << p.logs();
  ConnPtr h, l;
  ASSERT_EQ(connect_url(h, p.hub.url()), NATS_OK);
  ASSERT_EQ(connect_url(l, p.leaf.url()), NATS_OK);
  // The reference's notices for the denies of a link between two domains, on both sides.
  const std::string acc = shared_sys ? "APP" : "$G";
  wait_for([&] { return p.leaf.proc->log().find("for outgoing messages") != std::string::npos &&
                        p.hub.proc->log().find("for outgoing messages") != std::string::npos; },
           milliseconds(5000));
  for (auto& [log, domain] : {std::pair{p.hub.proc->log(), "hub"}, std::pair{p.leaf.proc->log(), "leaf"}}) {
    EXPECT_NE(log.find("JetStream Not Extended, adding deny [$JS.API.> $KV.> $OBJ.>] for account \"" + acc + "\""),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("Adding deny \"$JS." + std::string(domain) + ".API.>\" for outgoing messages to account \"" +
                       acc + "\""),
              std::string::npos)
        << log;
    if (shared_sys) {
      EXPECT_NE(log.find("JetStream Not Extended, adding denies [$JSC.> $NRG.> $JS.API.> $KV.> $OBJ.>]"),
                std::string::npos)
          << log;
    }
  }

  // The origins, one on each side.
  auto hs = js_request(h.p, "$JS.API.STREAM.CREATE.HS", R"({"name":"HS","subjects":["hs.>"],"storage":"file"})");
  ASSERT_TRUE(hs.contains("config")) << hs.dump();
  auto ls = js_request(l.p, "$JS.API.STREAM.CREATE.LS", R"({"name":"LS","subjects":["ls.>"],"storage":"file"})");
  ASSERT_TRUE(ls.contains("config")) << ls.dump();
  // Each domain's API reachable from the other before the copies are made.
  ASSERT_TRUE(wait_for([&] { return js_request(l.p, "$JS.hub.API.STREAM.INFO.HS").contains("config"); },
                       milliseconds(8000)));
  ASSERT_TRUE(wait_for([&] { return js_request(h.p, "$JS.leaf.API.STREAM.INFO.LS").contains("config"); },
                       milliseconds(8000)));

  // The copies: on the leaf of HS, on the hub of LS.
  for (auto& [nc, name, mirror, origin, api, deliver] :
       std::vector<std::tuple<natsConnection*, std::string, bool, std::string, std::string, std::string>>{
           {l.p, "LM", true, "HS", "$JS.hub.API", "dlv.hub.m"},
           {l.p, "LSRC", false, "HS", "$JS.hub.API", "dlv.hub.s"},
           {h.p, "HM", true, "LS", "$JS.leaf.API", "dlv.leaf.m"},
           {h.p, "HSRC", false, "LS", "$JS.leaf.API", "dlv.leaf.s"}}) {
    auto r = js_request(nc, "$JS.API.STREAM.CREATE." + name, copy_config(name, mirror, origin, api, deliver));
    ASSERT_TRUE(r.contains("config")) << name << ": " << r.dump();
  }

  auto all_have = [&](uint64_t n) {
    return stream_msgs(l.p, "$JS.API", "LM") == n && stream_msgs(l.p, "$JS.API", "LSRC") == n &&
           stream_msgs(h.p, "$JS.API", "HM") == n && stream_msgs(h.p, "$JS.API", "HSRC") == n;
  };
  auto counts = [&] {
    return "LM " + std::to_string(stream_msgs(l.p, "$JS.API", "LM")) + " LSRC " +
           std::to_string(stream_msgs(l.p, "$JS.API", "LSRC")) + " HM " +
           std::to_string(stream_msgs(h.p, "$JS.API", "HM")) + " HSRC " +
           std::to_string(stream_msgs(h.p, "$JS.API", "HSRC"));
  };
  publish_n(h.p, "hs.a", 5);
  publish_n(l.p, "ls.a", 5);
  ASSERT_TRUE(wait_for([&] { return all_have(5); }, milliseconds(15000))) << counts() << "\n" << p.logs();
  // The mirror reports its origin as configured.
  auto lm = js_request(l.p, "$JS.API.STREAM.INFO.LM");
  EXPECT_EQ(lm["mirror"].value("name", ""), "HS") << lm.dump();
  EXPECT_EQ(lm["mirror"]["external"].value("api", ""), "$JS.hub.API") << lm.dump();

  if (!restart_hub) return;
  // The hub goes away and comes back (same leafnode port, same store): the leaf reconnects
  // and every copy picks up what is published afterwards.
  h.reset();
  p.hub.start();
  ASSERT_TRUE(wait_for([&] { return p.linked(); }, milliseconds(10000))) << p.logs();
  ASSERT_EQ(connect_url(h, p.hub.url()), NATS_OK);
  publish_n(h.p, "hs.b", 5);
  publish_n(l.p, "ls.b", 5);
  ASSERT_TRUE(wait_for([&] { return all_have(10); }, milliseconds(20000))) << counts() << "\n" << p.logs();
}

}  // namespace

TEST(LeafNodeJetStreamMirror, AcrossDomainsOurHubAndLeaf) {
  mirror_and_source_across_domains(testing_harness::server_binary(), testing_harness::server_binary());
}

// With the system account shared over its own remote (the usual hub/leaf set-up): the
// application account's copies work the same.
TEST(LeafNodeJetStreamMirror, AcrossDomainsSharedSystemAccount) {
  mirror_and_source_across_domains(testing_harness::server_binary(), testing_harness::server_binary(), true);
}

// Through the hub restart too: a 2.9.10 mirror takes the delivered.stream_seq of its consumer's
// create response as where it stands (and skips up to it), so that response must show the
// consumer as created, not after it already pushed the messages published meanwhile.
TEST(LeafNodeJetStreamMirror, AcrossDomainsReferenceHubOurLeaf) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  mirror_and_source_across_domains(testing_harness::reference_binary(), testing_harness::server_binary());
}

TEST(LeafNodeJetStreamMirror, AcrossDomainsOurHubReferenceLeaf) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  mirror_and_source_across_domains(testing_harness::server_binary(), testing_harness::reference_binary());
}

// The scenario itself against 2.9.10 on both sides (a control, run by hand).
TEST(LeafNodeJetStreamMirror, DISABLED_AcrossDomainsReferenceOnly) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference nats-server";
  mirror_and_source_across_domains(testing_harness::reference_binary(), testing_harness::reference_binary());
  mirror_and_source_across_domains(testing_harness::reference_binary(), testing_harness::reference_binary(), true);
}

}  // namespace NATS_TEST_FILE_ID
