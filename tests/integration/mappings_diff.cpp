// Subject mappings, played against our server and the reference nats-server 2.9.10 with the
// same config and the same publishes: the subjects delivered must be the same (weighted
// splits: within statistical bounds on both), validation errors must read the same, and a
// message that crossed a route is not mapped again.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "cluster_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

bool reference_or_skip(const std::string& bin) {
  return bin == testing_harness::server_binary() || testing_harness::reference_available();
}

// Publishes each subject once from one raw connection and returns the subjects a `>`
// subscriber on another connection of the same server received, in order.
std::vector<std::string> deliveries(const testing_harness::ServerProcess& srv, const std::vector<std::string>& pubs,
                                    const std::string& connect = "{\"verbose\":false}") {
  RawClient sub(srv.port()), pub(srv.port());
  sub.send("CONNECT " + connect + "\r\nSUB > 1\r\nPING\r\n");
  EXPECT_EQ(sub.read_line(milliseconds(2000)).value_or(""), "PONG");
  std::string batch = "CONNECT " + connect + "\r\n";
  for (const auto& s : pubs) batch += "PUB " + s + " 1\r\nx\r\n";
  pub.send(batch + "PING\r\n");
  EXPECT_EQ(pub.read_line(milliseconds(2000)).value_or(""), "PONG");
  sub.send("PING\r\n");
  std::vector<std::string> got;
  for (;;) {
    auto l = sub.read_line(milliseconds(3000));
    if (!l || *l == "PONG") break;
    if (l->rfind("MSG ", 0) == 0) {
      got.push_back(l->substr(4, l->find(' ', 4) - 4));
      sub.read_line();  // payload
    }
  }
  return got;
}

const char* kFunctionsConfig = R"(
mappings {
  "orders.new": "orders.created"
  "a.*.*": "b.$2.$1"
  "fn.*": "fn.{{splitFromLeft(1,2)}}.{{sliceFromRight(1,3)}}"
  "lr.*": "lr.{{SplitFromRight(1,3)}}.{{SliceFromLeft(1,2)}}"
  "part.*.*": "part.{{partition(4,1,2)}}.{{wildcard(1)}}"
  "sp.*": "sp.{{split(1,_)}}"
  "rest.>": "moved.>"
  "single": {destination: "single.mapped", weight: 100%}
}
)";

const std::vector<std::string> kFunctionPubs = {
    "orders.new", "orders.old", "a.x.y", "fn.abcdefgh", "fn.a", "lr.abcdefg", "part.k1.v1", "part.k2.v2",
    "part.k3.v9", "sp.__one_two___three_", "sp.a_b", "rest.a.b.c", "single", "unmapped.subject"};

TEST(MappingsDiff, LiteralWildcardAndFunctionsMatchReference) {
  auto ours = start_with_config(kFunctionsConfig);
  auto got = deliveries(*ours, kFunctionPubs);
  // As 2.9.10 delivers them. "sp.__one_two___three_" maps to "sp..one.two.three", a subject
  // with an empty token that no subscription matches.
  EXPECT_EQ(got, (std::vector<std::string>{"orders.created", "orders.old", "b.y.x", "fn.ab.cdefgh.ab.cde.fgh", "fn.a.a",
                                           "lr.abcd.efg.ab.cd.ef.g", "part.0.k1", "part.0.k2", "part.2.k3", "sp.a.b",
                                           "moved.a.b.c", "single.mapped", "unmapped.subject"}));
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference server not installed";
  auto ref = start_with_config(kFunctionsConfig, {}, testing_harness::reference_binary());
  EXPECT_EQ(got, deliveries(*ref, kFunctionPubs));
}

// Account mappings apply to that account's publishers only, and permissions are checked on
// the mapped subject. The global mapping is there for the reference's sake: 2.9.10 looks
// for mappings only when the global account has some (it tests $G's, then applies the
// client's account's); this server applies an account's mappings in any case.
const char* kAccountConfig = R"(
mappings { "global.only": "global.mapped" }
accounts {
  A {
    users: [ {user: a, password: a}, {user: limited, password: l, permissions: {publish: "ok.>"}} ]
    mappings { "in.*": "ok.$1", "other": "bad.subject" }
  }
  B { users: [ {user: b, password: b} ] }
}
)";

TEST(MappingsDiff, AccountMappingsAndPermissionsMatchReference) {
  for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (!reference_or_skip(bin)) continue;
    SCOPED_TRACE(bin);
    auto srv = start_with_config(kAccountConfig, {}, bin);
    EXPECT_EQ(deliveries(*srv, {"in.1", "other"}, R"({"verbose":false,"user":"a","pass":"a"})"),
              (std::vector<std::string>{"ok.1", "bad.subject"}));
    EXPECT_EQ(deliveries(*srv, {"in.1", "x"}, R"({"verbose":false,"user":"b","pass":"b"})"),
              (std::vector<std::string>{"in.1", "x"}));
    // "in.2" maps to ok.2, which "limited" may publish to; "other" maps to a denied subject.
    RawClient l(srv->port());
    l.send("CONNECT {\"verbose\":false,\"user\":\"limited\",\"pass\":\"l\"}\r\nPUB in.2 1\r\nx\r\nPUB other 1\r\nx\r\nPING\r\n");
    EXPECT_EQ(l.read_line(milliseconds(2000)).value_or(""), "-ERR 'Permissions Violation for Publish to \"bad.subject\"'");
    EXPECT_EQ(l.read_line(milliseconds(2000)).value_or(""), "PONG");
  }
}

// A request through a service import is mapped with the exporting account's mappings.
TEST(MappingsDiff, ServiceImportsUseTheExportersMappings) {
  const char* config = R"(
accounts {
  E { users: [ {user: e, password: e} ], exports: [ {service: "svc.>"} ], mappings { "svc.old": "svc.new" } }
  I { users: [ {user: i, password: i} ], imports: [ {service: {account: E, subject: "svc.>"}} ] }
}
)";
  for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (!reference_or_skip(bin)) continue;
    SCOPED_TRACE(bin);
    auto srv = start_with_config(config, {}, bin);
    RawClient e(srv->port()), i(srv->port());
    e.send("CONNECT {\"verbose\":false,\"user\":\"e\",\"pass\":\"e\"}\r\nSUB svc.> 1\r\nPING\r\n");
    ASSERT_EQ(e.read_line(milliseconds(2000)).value_or(""), "PONG");
    i.send("CONNECT {\"verbose\":false,\"user\":\"i\",\"pass\":\"i\"}\r\nPUB svc.old 1\r\nx\r\nPUB svc.other 1\r\nx\r\nPING\r\n");
    ASSERT_EQ(i.read_line(milliseconds(2000)).value_or(""), "PONG");
    std::vector<std::string> got;
    for (int n = 0; n < 2; ++n) {
      auto l = e.read_line(milliseconds(2000));
      if (!l || l->rfind("MSG ", 0) != 0) break;
      got.push_back(l->substr(4, l->find(' ', 4) - 4));
      e.read_line();
    }
    EXPECT_EQ(got, (std::vector<std::string>{"svc.new", "svc.other"}));
  }
}

// 10,000 publishes on each weighted mapping; every share within 5 standard deviations of
// its weight, on both servers.
const char* kWeightedConfig = R"(
mappings {
  "w": [ {destination: "w.a", weight: 20%}, {destination: "w.b", weight: 30} ]
  "d": [ {destination: "d", weight: 40%}, {destination: "d.x", weight: 10%} ]
}
)";

void expect_share(const std::map<std::string, int>& counts, const std::string& subject, double p, int n) {
  auto it = counts.find(subject);
  int got = it == counts.end() ? 0 : it->second;
  double sd = std::sqrt(n * p * (1 - p));
  EXPECT_LT(std::abs(got - n * p), 5 * sd + 1) << subject << ": " << got << " of " << n;
}

TEST(MappingsDiff, WeightedSplitsWithinStatisticalBounds) {
  constexpr int kN = 10000;
  std::vector<std::string> pubs;
  for (int i = 0; i < kN; ++i) {
    pubs.push_back("w");
    pubs.push_back("d");
  }
  for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (!reference_or_skip(bin)) continue;
    SCOPED_TRACE(bin);
    auto srv = start_with_config(kWeightedConfig, {}, bin);
    std::map<std::string, int> counts;
    for (const auto& s : deliveries(*srv, pubs)) counts[s]++;
    expect_share(counts, "w.a", 0.2, kN);
    expect_share(counts, "w.b", 0.3, kN);
    expect_share(counts, "w", 0.5, kN);  // the source keeps the rest
    expect_share(counts, "d", 0.4, kN);
    expect_share(counts, "d.x", 0.1, kN);  // and the remaining half of "d" is dropped
    EXPECT_EQ(counts.size(), 5u);
  }
}

// Cluster-scoped destinations apply on servers of that cluster; others use the unscoped ones.
TEST(MappingsDiff, ClusterScopedDestinations) {
  const std::string mappings =
      "mappings { \"cs\": [ {destination: \"cs.east\", weight: 100%, cluster: \"east\"}, "
      "{destination: \"cs.any\", weight: 0%} ] }\n";
  for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (!reference_or_skip(bin)) continue;
    SCOPED_TRACE(bin);
    for (const std::string cluster : {"east", "west"}) {
      auto srv = start_with_config(mappings + "cluster { name: " + cluster + ", listen: \"127.0.0.1:" +
                                       std::to_string(testing_harness::free_port()) + "\" }\n",
                                   {}, bin);
      EXPECT_EQ(deliveries(*srv, {"cs"}), std::vector<std::string>{cluster == "east" ? "cs.east" : "cs"});
    }
  }
}

// The publishing server maps; a server receiving the message over a route does not map it
// again (here it would turn r.mapped into r.twice).
TEST(MappingsDiff, MessagesFromRoutesAreNotMappedAgain) {
  for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
    if (!reference_or_skip(bin)) continue;
    SCOPED_TRACE(bin);
    ctest::Node a, b;
    for (auto* n : {&a, &b}) {
      n->binary = bin;
      n->cluster = "c";
      n->cluster_port = testing_harness::free_port();
      n->extra = "mappings { \"r\": \"r.mapped\", \"r.mapped\": \"r.twice\" }";
    }
    a.name = "a";
    b.name = "b";
    b.routes = {"nats-route://127.0.0.1:" + std::to_string(a.cluster_port)};
    a.start();
    b.start();
    ASSERT_TRUE(wait_for([&] { return a.num_routes() == 1 && b.num_routes() == 1; }, milliseconds(10000)));
    RawClient sub(b.proc->port());
    sub.send("CONNECT {\"verbose\":false}\r\nSUB r.> 1\r\nPING\r\n");
    ASSERT_EQ(sub.read_line(milliseconds(2000)).value_or(""), "PONG");
    std::string got;
    ASSERT_TRUE(wait_for([&] {
      RawClient pub(a.proc->port());
      pub.send("CONNECT {\"verbose\":false}\r\nPUB r 1\r\nx\r\nPING\r\n");
      pub.read_line(milliseconds(2000));
      auto l = sub.read_line(milliseconds(300));
      if (l && l->rfind("MSG ", 0) == 0) got = l->substr(4, l->find(' ', 4) - 4);
      return !got.empty();
    }, milliseconds(10000)));
    EXPECT_EQ(got, "r.mapped");
  }
}

// `-t` on configs with one bad mapping each: our message is the reference's (the position
// may differ in column: the reference points inside quoted keys).
TEST(MappingsDiff, ValidationErrorsMatchReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference server not installed";
  const std::vector<std::string> cases = {
      R"("foo.*": "bar.*")",
      R"("foo.*.*": "bar.$1")",
      R"("foo.*": "bar.$2")",
      R"("foo.*": "bar.{{nope(1)}}")",
      R"("foo.*": "bar.{{wildcard()}}")",
      R"("foo.*": "{{partition(x,1)}}")",
      R"("foo.*": "{{splitFromLeft(1)}}")",
      R"("foo.>": "bar")",
      R"("foo.*": "a..b")",
      R"("a b": "x")",
      R"(w: [{destination: a, weight: 150}])",
      R"(w: [{destination: a, weight: "x%"}])",
      R"(w: [{destination: a}])",
      R"(w: [{destination: a, weight: 10, foo: 1}])",
      R"(w: 5)",
  };
  auto check = [](const std::string& bin, const std::string& path) {
    FILE* p = popen((bin + " -t -c " + path + " 2>&1").c_str(), "r");
    std::string out;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int rc = pclose(p);
    // "nats-server: <file>:<line>:<col>: <message>" -> "<line>: <message>"
    auto first = out.find(':', out.find(".conf:"));
    auto line_end = out.find(':', first + 1);
    auto col_end = out.find(':', line_end + 1);
    std::string norm = first == std::string::npos || col_end == std::string::npos
                           ? out
                           : out.substr(first + 1, line_end - first - 1) + ": " + out.substr(col_end + 2);
    while (!norm.empty() && (norm.back() == '\n' || norm.back() == ' ')) norm.pop_back();
    return std::make_pair(rc != 0, norm);
  };
  testing_harness::TempDir d;
  int i = 0;
  for (const auto& c : cases) {
    std::string path = d.write("m" + std::to_string(++i) + ".conf", "port: -1\nmappings {\n  " + c + "\n}\n");
    auto ours = check(testing_harness::server_binary(), path);
    auto ref = check(testing_harness::reference_binary(), path);
    EXPECT_TRUE(ours.first) << c;
    EXPECT_TRUE(ref.first) << c;
    EXPECT_EQ(ours.second, ref.second) << c;
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
