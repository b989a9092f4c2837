// Service latency tracking (export `latency`, import `share`): the same request scenarios
// against this server and the reference 2.9.10, comparing the ServiceLatency reports each
// publishes on the results subject in the exporting account: which fields are there, their
// JSON types, and plausible values (the latencies themselves depend on timing).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <tuple>

#include "both_servers_test.h"
#include "cluster_test_util.h"
#include "jwt_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
// Ordered, so that field order is compared too.
using json = nlohmann::ordered_json;

const char* kConf = R"(
accounts {
  SVC {
    users [{user: s, password: s}]
    exports [
      {service: "svc", latency: {sampling: 100, subject: "latency.svc"}}
      {service: "quick", latency: "latency.quick", threshold: "300ms"}
      {service: "traced", latency: {sampling: "headers", subject: "latency.traced"}}
      {service: "half", latency: {sampling: "50%", subject: "latency.half"}}
    ]
  }
  REQ {
    users [{user: r, password: r}]
    imports [
      {service: {account: SVC, subject: "svc"}, share: true}
      {service: {account: SVC, subject: "quick"}}
      {service: {account: SVC, subject: "traced"}}
      {service: {account: SVC, subject: "half"}}
    ]
  }
}
)";

std::string url_for(const testing_harness::ServerProcess& srv, const std::string& user) {
  return "nats://" + user + ":" + user + "@127.0.0.1:" + std::to_string(srv.port());
}

// One server with a service connection, a results watcher (both in SVC) and a requester.
struct Rig {
  std::unique_ptr<testing_harness::ServerProcess> srv;
  ConnPtr svc, mon, req;
  SubPtr results;

  Rig(const std::string& binary, const std::string& results_subject) {
    srv = start_with_config(kConf, {}, binary);
    EXPECT_EQ(connect_url(svc, url_for(*srv, "s")), NATS_OK);
    EXPECT_EQ(connect_url(mon, url_for(*srv, "s")), NATS_OK);
    EXPECT_EQ(connect_url(req, url_for(*srv, "r")), NATS_OK);
    natsConnection_SubscribeSync(&results.p, mon.p, results_subject.c_str());
    natsConnection_Flush(mon.p);
  }

  // The service subscribes to `service` (svc_sub), the requester to `inbox` (inbox_sub), and the
  // requester sends one request to `service` with `inbox` as its reply subject.
  SubPtr svc_sub, inbox_sub;
  void send_request(const std::string& service, const std::string& inbox) {
    natsConnection_SubscribeSync(&svc_sub.p, svc.p, service.c_str());
    natsConnection_Flush(svc.p);
    natsConnection_SubscribeSync(&inbox_sub.p, req.p, inbox.c_str());
    natsConnection_PublishRequestString(req.p, service.c_str(), inbox.c_str(), "x");
    natsConnection_Flush(req.p);
  }

  // The next report on the results subject, or null.
  json report(int timeout_ms = 2000) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, results.p, timeout_ms) != NATS_OK) return nullptr;
    return json::parse(m.data(), nullptr, false);
  }
};

// The service answers one request on `subject` (already subscribed as `sub`), with `headers`
// set on the request when given; returns the answer the requester got.
std::string round_trip(Rig& s, natsSubscription* svc_sub, const std::string& subject,
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  SubPtr inbox;
  natsConnection_SubscribeSync(&inbox.p, s.req.p, "inbox.rt");
  natsConnection_Flush(s.req.p);
  natsMsg* rq = nullptr;
  natsMsg_Create(&rq, subject.c_str(), "inbox.rt", "hi", 2);
  for (const auto& [k, v] : headers) natsMsgHeader_Set(rq, k.c_str(), v.c_str());
  natsConnection_PublishMsg(s.req.p, rq);
  natsMsg_Destroy(rq);
  natsConnection_Flush(s.req.p);
  MsgPtr in;
  if (natsSubscription_NextMsg(&in.p, svc_sub, 2000) != NATS_OK) return "<no request>";
  const char* reply = natsMsg_GetReply(in.p);
  natsConnection_PublishString(s.svc.p, reply, "ok");
  natsConnection_Flush(s.svc.p);
  MsgPtr out;
  if (natsSubscription_NextMsg(&out.p, inbox.p, 2000) != NATS_OK) return "<no answer>";
  return out.data();
}

// "key:type" for each field of a JSON object, in order.
std::string shape(const json& j) {
  std::string out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!out.empty()) out += ",";
    out += it.key() + ":" + (it->is_number_integer() ? "int" : it->type_name());
  }
  return out;
}

// A Go time.Time in JSON (RFC 3339, UTC, nanoseconds without trailing zeros).
bool is_time(const json& v) {
  static const std::regex re(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)");
  return v.is_string() && std::regex_match(v.get<std::string>(), re);
}

// The fields of a report of an answered request (status 200), with their types.
const char* kAnsweredShape =
    "type:string,id:string,timestamp:string,status:int,requestor:object,responder:object,"
    "start:string,service:int,system:int,total:int";

// The latencies of an answered request's report are consistent: the service took the time
// between its request and its answer, the total is at least that. (The service time is less
// the responder's rtt, estimated at connect: 0 if that is more.)
void expect_consistent_latencies(const json& j) {
  int64_t service = j["service"], total = j["total"], system = j["system"];
  EXPECT_GE(service, 0);
  EXPECT_GE(system, 0);
  EXPECT_GT(total, 0);
  EXPECT_GE(total, service);
}

// A request on `service`, answered on one server: the report published on `results`.
json answered_report(const std::string& binary, const std::string& service, const std::string& results) {
  Rig s(binary, results);
  SubPtr svc_sub;
  natsConnection_SubscribeSync(&svc_sub.p, s.svc.p, service.c_str());
  natsConnection_Flush(s.svc.p);
  EXPECT_EQ(round_trip(s, svc_sub.p, service), "ok") << binary;
  return s.report();
}

struct Results {
  json shared, plain;
};

// (2.9.10 sets `share` on the first import of the service it finds: one import each.)
Results run_200(const std::string& binary) {
  return {answered_report(binary, "svc", "latency.svc"), answered_report(binary, "quick", "latency.quick")};
}

TEST(ServiceLatency, AnsweredRequestIsReportedInTheExportingAccount) {
  check_each(per_binary(run_200), [](const Results& r) {
    ASSERT_TRUE(r.shared.is_object());
    ASSERT_TRUE(r.plain.is_object());
    const json& j = r.shared;
    EXPECT_EQ(j["type"], "io.nats.server.metric.v1.service_latency");
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(j["id"].get<std::string>().size(), 22u);
    EXPECT_TRUE(is_time(j["timestamp"])) << j["timestamp"];
    EXPECT_TRUE(is_time(j["start"])) << j["start"];
    EXPECT_EQ(shape(j), kAnsweredShape);
    // With share the requestor is described in full, as the responder always is.
    EXPECT_EQ(shape(j["requestor"]), "start:string,host:string,id:int,acc:string,user:string,lang:string,ver:string,"
                                     "rtt:int,server:string,kind:string,client_type:string");
    EXPECT_EQ(j["requestor"]["acc"], "REQ");
    EXPECT_EQ(j["requestor"]["user"], "r");
    EXPECT_EQ(shape(j["responder"]), shape(j["requestor"]));
    EXPECT_EQ(j["responder"]["acc"], "SVC");
    EXPECT_EQ(j["responder"]["user"], "s");
    expect_consistent_latencies(j);
    EXPECT_LT(j["total"].get<int64_t>(), 2'000'000'000);
    // Without share only the requester's account and rtt.
    EXPECT_EQ(shape(r.plain["requestor"]), "acc:string,rtt:int");
    EXPECT_EQ(r.plain["requestor"]["acc"], "REQ");
    EXPECT_EQ(shape(r.plain), shape(r.shared));
  });
}

struct ErrorReports {
  json no_responder, no_reply, timeout, lost, after_lost;
};

ErrorReports run_errors(const std::string& binary) {
  ErrorReports out;
  {
    Rig s(binary, "latency.svc");
    // Nobody serves "svc": 503. A request without a reply subject: 400.
    natsConnection_PublishRequestString(s.req.p, "svc", "inbox.none", "x");
    natsConnection_Flush(s.req.p);
    out.no_responder = s.report();
    natsConnection_PublishString(s.req.p, "svc", "x");
    natsConnection_Flush(s.req.p);
    out.no_reply = s.report();
  }
  {
    // Served but never answered within the 300ms threshold: 504.
    Rig s(binary, "latency.quick");
    s.send_request("quick", "inbox.q");
    out.timeout = s.report(3000);
  }
  {
    // The requester stops listening before the answer: 408 then, and nothing for the answer.
    Rig s(binary, "latency.svc");
    s.send_request("svc", "inbox.l");
    MsgPtr in;
    EXPECT_EQ(natsSubscription_NextMsg(&in.p, s.svc_sub.p, 2000), NATS_OK);
    natsSubscription_Unsubscribe(s.inbox_sub.p);
    natsConnection_Flush(s.req.p);
    out.lost = s.report();
    if (in.p) natsConnection_PublishString(s.svc.p, natsMsg_GetReply(in.p), "late");
    natsConnection_Flush(s.svc.p);
    out.after_lost = s.report(200);
  }
  return out;
}

TEST(ServiceLatency, UnansweredRequestsAreReportedWithTheirStatus) {
  check_each(per_binary(run_errors), [](const ErrorReports& r) {
    for (const auto& [j, status, text] : {std::tuple{r.no_responder, 503, "Service Unavailable"},
                                          std::tuple{r.no_reply, 400, "Bad Request"},
                                          std::tuple{r.timeout, 504, "Service Timeout"},
                                          std::tuple{r.lost, 408, "Request Timeout"}}) {
      ASSERT_TRUE(j.is_object()) << status;
      EXPECT_EQ(j["status"], status);
      EXPECT_EQ(j["description"], text);
      EXPECT_EQ(shape(j), "type:string,id:string,timestamp:string,status:int,description:string,requestor:object,"
                          "start:string,service:int,system:int,total:int");
      EXPECT_EQ(shape(j["requestor"]), status == 504 ? "acc:string,rtt:int"
                                                     : "start:string,host:string,id:int,acc:string,user:string,"
                                                       "lang:string,ver:string,rtt:int,server:string,kind:string,"
                                                       "client_type:string");
      EXPECT_EQ(j["service"], 0);
      EXPECT_EQ(j["total"], 0);
    }
    EXPECT_TRUE(r.after_lost.is_null()) << r.after_lost;
  });
}

// sampling "headers": only requests whose tracing headers ask for a sample are measured,
// and the report carries those headers.
TEST(ServiceLatency, HeaderSamplingFollowsTracingHeaders) {
  auto got = per_binary([](const std::string& bin) {
    Rig s(bin, "latency.traced");
    SubPtr svc_sub;
    natsConnection_SubscribeSync(&svc_sub.p, s.svc.p, "traced");
    natsConnection_Flush(s.svc.p);
    EXPECT_EQ(round_trip(s, svc_sub.p, "traced", {{"X-B3-Sampled", "0"}, {"X-B3-TraceId", "abc"}}), "ok");
    EXPECT_EQ(round_trip(s, svc_sub.p, "traced", {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                                                  {"tracestate", "x=1"}}),
              "ok");
    json first = s.report();
    json none = s.report(200);  // the first request was not sampled: nothing more
    return std::pair{first, none};
  });
  check_each(got, [](const std::pair<json, json>& r) {
    ASSERT_TRUE(r.first.is_object());
    EXPECT_TRUE(r.second.is_null());
    EXPECT_EQ(r.first["status"], 200);
    EXPECT_EQ(r.first["header"], json::parse(R"({"Traceparent":["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
                                                "Tracestate":["x=1"]})"));
  });
}

// The latency block's errors, as the reference words them and where it places them.
TEST(ServiceLatency, BadLatencyConfigIsRefusedAsTheReferenceDoes) {
  testing_harness::TempDir d;
  const std::vector<std::string> cases = {
      "accounts { A { exports: [ { stream: s, latency: l } ] } }",
      "accounts { A { exports: [ { service: s, latency: {sampling: \"x%\", subject: r} } ] } }",
      "accounts { A { exports: [ { service: s, latency: {sampling: 50} } ] } }",
      "accounts { A { exports: [ { service: s, latency: \"r.*\" } ] } }",
      "accounts { A { exports: [ { service: s, response: stream, latency: \"r\" } ] } }",
  };
  int n = 0;
  for (const auto& text : cases) {
    // On line 2: on line 1 2.9.10 counts columns from 0 (its lexer's quirk), elsewhere from 1.
    std::string conf = d.write("c" + std::to_string(++n) + ".conf", "port: -1\n" + text + "\n");
    auto out = per_binary([&](const std::string& bin) {
      auto r = testing_harness::run_command("timeout 10 " + bin + " -t -c " + conf);
      // The first line names the problem (or says the file is valid).
      std::string first = r.output.substr(0, r.output.find('\n'));
      return std::to_string(r.status != 0) + " " + first.substr(first.find(conf) == std::string::npos ? 0 : first.find(conf));
    });
    if (out.size() == 2) {
      EXPECT_EQ(out.begin()->second, out.rbegin()->second) << text;
    }
    EXPECT_NE(out[testing_harness::server_binary()].find("1 " + conf), std::string::npos)
        << text << " " << out[testing_harness::server_binary()];
  }
}

// The clients of the two-server scenarios: the service "svc" on B, the requester and the
// monitor of the results subject on A.
struct TwoServerClients {
  ConnPtr svc, mon, req;
  SubPtr results, svc_sub;
  TwoServerClients(ctest::Node& a, ctest::Node& b) {
    EXPECT_EQ(connect_url(svc, "nats://s:s@127.0.0.1:" + std::to_string(b.proc->port())), NATS_OK);
    EXPECT_EQ(connect_url(mon, "nats://s:s@127.0.0.1:" + std::to_string(a.proc->port())), NATS_OK);
    EXPECT_EQ(connect_url(req, "nats://r:r@127.0.0.1:" + std::to_string(a.proc->port())), NATS_OK);
    natsConnection_SubscribeSync(&results.p, mon.p, "latency.svc");
    natsConnection_Flush(mon.p);
    natsConnection_Subscribe(&svc_sub.p, svc.p, "svc", ctest::echo_handler, nullptr);
    natsConnection_Flush(svc.p);
  }
};

// Requester on server A, service on server B: A reports, with B's measurement of the
// service merged in (the responder's details and service time come from B).
json run_clustered(const std::string& binary, const std::string& binary_b = "") {
  ctest::Node a, b;
  ctest::configure_route_pair(a, b, binary);
  if (!binary_b.empty()) b.binary = binary_b;
  a.extra = b.extra = kConf;
  a.start();
  b.start();
  TwoServerClients c(a, b);
  ConnPtr& req = c.req;
  SubPtr& results = c.results;
  // Until the route carries B's interest, requests go unanswered (and are reported 503).
  bool answered = wait_for([&] {
    MsgPtr m;
    return natsConnection_RequestString(&m.p, req.p, "svc", "x", 300) == NATS_OK;
  }, milliseconds(5000));
  EXPECT_TRUE(answered);
  for (int i = 0; i < 20; ++i) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, results.p, 2000) != NATS_OK) break;
    json j = json::parse(m.data(), nullptr, false);
    if (j.is_object() && j["status"] == 200) return j;
  }
  return nullptr;
}

TEST(ServiceLatency, AcrossServersTheResponderServersMeasurementIsMerged) {
  auto got = per_binary([](const std::string& bin) { return run_clustered(bin); });
  // Mixed clusters: each server's measurement is understood by the other.
  if (testing_harness::reference_available()) {
    got["ours->ref"] = run_clustered(testing_harness::server_binary(), testing_harness::reference_binary());
    got["ref->ours"] = run_clustered(testing_harness::reference_binary(), testing_harness::server_binary());
  }
  check_each(got, [](const json& j) {
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(shape(j), kAnsweredShape);
    EXPECT_EQ(j["requestor"]["server"], "A");
    EXPECT_EQ(j["responder"]["server"], "B");
    EXPECT_EQ(j["responder"]["acc"], "SVC");
    EXPECT_EQ(j["responder"]["cluster"], "C");
    expect_consistent_latencies(j);
  });
}

// Requester on server A of gateway (cluster) GA, service on server B of GB: as across routes,
// A reports once, with B's measurement (sent over the gateway) merged in.
json run_gatewayed(const std::string& binary_a, const std::string& binary_b) {
  ctest::Node a, b;
  a.binary = binary_a;
  b.binary = binary_b;
  a.name = "A";
  b.name = "B";
  a.gateway = "GA";
  b.gateway = "GB";
  a.gateway_port = testing_harness::free_port();
  b.gateway_port = testing_harness::free_port();
  a.gateways = {{"GB", "nats://127.0.0.1:" + std::to_string(b.gateway_port)}};
  b.gateways = {{"GA", "nats://127.0.0.1:" + std::to_string(a.gateway_port)}};
  a.extra = b.extra = kConf;
  a.start();
  b.start();
  TwoServerClients c(a, b);
  ConnPtr& req = c.req;
  SubPtr& results = c.results;
  // Until the gateways are up (both ways: the answer and B's measurement come back), requests
  // go unanswered or are answered before A can hear B's measurement.
  EXPECT_TRUE(wait_for([&] { return a.num_inbound_gateways() == 1 && b.num_inbound_gateways() == 1; },
                       milliseconds(5000)));
  bool answered = wait_for([&] {
    MsgPtr m;
    return natsConnection_RequestString(&m.p, req.p, "svc", "x", 300) == NATS_OK;
  }, milliseconds(5000));
  EXPECT_TRUE(answered);
  // Reports of the requests before (503s, or 200s whose measurement was lost) are skipped;
  // a fresh request's report must come.
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, results.p, 300) != NATS_OK) break;
  }
  MsgPtr answer;
  EXPECT_EQ(natsConnection_RequestString(&answer.p, req.p, "svc", "y", 2000), NATS_OK);
  MsgPtr m;
  if (natsSubscription_NextMsg(&m.p, results.p, 2000) != NATS_OK) return nullptr;
  json j = json::parse(m.data(), nullptr, false);
  // Exactly one report per request.
  MsgPtr extra;
  EXPECT_NE(natsSubscription_NextMsg(&extra.p, results.p, 300), NATS_OK);
  return j;
}

void expect_gatewayed_report(const std::map<std::string, json>& got) {
  check_each(got, [](const json& j) {
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(shape(j), kAnsweredShape);
    EXPECT_EQ(j["requestor"]["server"], "A");
    EXPECT_EQ(j["requestor"]["cluster"], "GA");
    EXPECT_EQ(j["responder"]["server"], "B");
    EXPECT_EQ(j["responder"]["cluster"], "GB");
    EXPECT_EQ(j["responder"]["acc"], "SVC");
    expect_consistent_latencies(j);
  });
}

TEST(ServiceLatency, AcrossGatewaysTheResponderServersMeasurementIsMerged) {
  expect_gatewayed_report(per_binary([](const std::string& bin) { return run_gatewayed(bin, bin); }));
}

// Mixed superclusters: each server's measurement (and `_GR_.` request id) is understood by
// the other.
TEST(ServiceLatency, AcrossGatewaysWithTheReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server";
  std::map<std::string, json> got;
  got["ours->ref"] = run_gatewayed(testing_harness::server_binary(), testing_harness::reference_binary());
  got["ref->ours"] = run_gatewayed(testing_harness::reference_binary(), testing_harness::server_binary());
  expect_gatewayed_report(got);
}

// Operator mode: the exporter's JWT has `service_latency`, the importer's import `share`.
json run_jwt(const std::string& binary) {
  namespace jwt = itest::jwt;
  auto op = jwt::operator_keys(), sys = jwt::account_keys(), exp = jwt::account_keys(), acc = jwt::account_keys();
  auto exp_user = jwt::user_keys(), acc_user = jwt::user_keys();
  testing_harness::TempDir dir;
  std::string op_file = dir.write("op.jwt", jwt::sign(jwt::operator_claims(op, sys.pub), op));
  nlohmann::json e = jwt::account_claims(exp, "EXP");
  e["nats"]["exports"] = nlohmann::json::array(
      {{{"name", "svc"}, {"subject", "svc"}, {"type", "service"},
        {"service_latency", {{"sampling", 100}, {"results", "latency.svc"}}}}});
  nlohmann::json a = jwt::account_claims(acc, "ACC");
  a["nats"]["imports"] = nlohmann::json::array(
      {{{"name", "svc"}, {"subject", "svc"}, {"account", exp.pub}, {"type", "service"}, {"share", true}}});
  std::string conf = "operator: \"" + op_file + "\"\nsystem_account: " + sys.pub +
                     "\nresolver: MEMORY\nresolver_preload: {\n  " + sys.pub + ": \"" +
                     jwt::sign(jwt::account_claims(sys, "SYS"), op) + "\"\n  " + exp.pub + ": \"" + jwt::sign(e, op) +
                     "\"\n  " + acc.pub + ": \"" + jwt::sign(a, op) + "\"\n}\n";
  auto srv = start_with_config(conf, {}, binary);
  auto connect = [&](ConnPtr& c, const jwt::KeyPair& account, const jwt::KeyPair& user, const std::string& name) {
    std::string file =
        dir.write(name + ".creds", jwt::creds(jwt::sign(jwt::user_claims(user, name), account), user.seed));
    OptsPtr o;
    natsOptions_SetTimeout(o.p, 3000);
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetUserCredentialsFromFiles(o.p, file.c_str(), nullptr);
    return connect_signed(c, srv->url(), o.p);
  };
  ConnPtr svc, req;
  EXPECT_EQ(connect(svc, exp, exp_user, "responder"), NATS_OK);
  EXPECT_EQ(connect(req, acc, acc_user, "requester"), NATS_OK);
  SubPtr results, svc_sub;
  natsConnection_SubscribeSync(&results.p, svc.p, "latency.svc");
  natsConnection_Subscribe(&svc_sub.p, svc.p, "svc", ctest::echo_handler, nullptr);
  natsConnection_Flush(svc.p);
  MsgPtr answer;
  EXPECT_EQ(natsConnection_RequestString(&answer.p, req.p, "svc", "x", 2000), NATS_OK);
  MsgPtr m;
  if (natsSubscription_NextMsg(&m.p, results.p, 2000) != NATS_OK) return nullptr;
  json j = json::parse(m.data(), nullptr, false);
  // Keys are per run: name them by role.
  if (j.is_object()) {
    EXPECT_EQ(j["requestor"]["acc"], acc.pub);
    EXPECT_EQ(j["requestor"]["user"], acc_user.pub);
    EXPECT_EQ(j["responder"]["acc"], exp.pub);
    EXPECT_EQ(j["requestor"].value("issuer_key", ""), acc.pub);
  }
  return j;
}

TEST(ServiceLatency, AccountJwtServiceLatencyAndShare) {
  auto got = per_binary(run_jwt);
  check_each(got, [](const json& j) {
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(shape(j), kAnsweredShape);
  });
  if (got.size() == 2) {
    const json& ref = got[testing_harness::reference_binary()];
    const json& ours = got[testing_harness::server_binary()];
    EXPECT_EQ(shape(ours["requestor"]), shape(ref["requestor"]));
    EXPECT_EQ(shape(ours["responder"]), shape(ref["responder"]));
  }
}

// Leaf connections: the hub (kConf's accounts) measures; the leaf server's accounts are
// plain, each bound by its own remote to the hub's account of the same user.
struct LeafRun {
  json shared, plain;  // reports for a requester on the leaf
  std::string request_info;  // the Nats-Request-Info the service got from it (shared)
  std::string leaf_own_info;  // ... when the request came with its own (plain import)
  json leaf_own_report;
  bool responder_on_leaf_answered = false;
  json responder_on_leaf;  // the report for a service on the leaf: none in 2.9.10
};

LeafRun run_leaf(const std::string& hub_bin, const std::string& leaf_bin) {
  LeafRun out;
  ctest::Node hub, leaf;
  hub.binary = hub_bin;
  leaf.binary = leaf_bin;
  hub.name = "HUB";
  leaf.name = "LEAF";
  int leaf_port = testing_harness::free_port();
  hub.extra = std::string(kConf) + "\nleafnodes { listen: 127.0.0.1:" + std::to_string(leaf_port) + " }\n";
  std::string url = "127.0.0.1:" + std::to_string(leaf_port);
  leaf.extra = "accounts { LSVC { users [{user: s, password: s}] }, LREQ { users [{user: r, password: r}] } }\n"
               "leafnodes { remotes [ {url: \"nats://r:r@" + url + "\", account: LREQ}, "
               "{url: \"nats://s:s@" + url + "\", account: LSVC} ] }\n";
  hub.start();
  leaf.start();
  auto leafs = [](const ctest::Node& n) {
    auto j = ctest::http_json(n.http_port, "/leafz");
    return j.contains("leafnodes") ? j["leafnodes"].get<int>() : -1;
  };
  EXPECT_TRUE(wait_for([&] { return leafs(hub) == 2 && leafs(leaf) == 2; }, milliseconds(5000)));
  auto port = [](const ctest::Node& n) { return std::to_string(n.proc->port()); };
  ConnPtr mon, svc, req;
  EXPECT_EQ(connect_url(mon, "nats://s:s@127.0.0.1:" + port(hub)), NATS_OK);
  SubPtr results;
  natsConnection_SubscribeSync(&results.p, mon.p, "latency.>");
  natsConnection_Flush(mon.p);
  auto next_report = [&](int ms) -> json {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, results.p, ms) != NATS_OK) return nullptr;
    return json::parse(m.data(), nullptr, false);
  };
  {
    // Requester on the leaf, service on the hub.
    EXPECT_EQ(connect_url(svc, "nats://s:s@127.0.0.1:" + port(hub)), NATS_OK);
    EXPECT_EQ(connect_url(req, "nats://r:r@127.0.0.1:" + port(leaf)), NATS_OK);
    SubPtr svc_sub;
    natsConnection_SubscribeSync(&svc_sub.p, svc.p, "svc");
    natsConnection_Flush(svc.p);
    SubPtr quick_sub;
    natsConnection_Subscribe(&quick_sub.p, svc.p, "quick", ctest::echo_handler, nullptr);
    natsConnection_Flush(svc.p);
    // Until the hub's interest reaches the leaf, requests go nowhere (and are not reported).
    EXPECT_TRUE(wait_for([&] {
      MsgPtr m;
      return natsConnection_RequestString(&m.p, req.p, "quick", "x", 300) == NATS_OK;
    }, milliseconds(5000)));
    out.plain = next_report(2000);
    for (json j; !(j = next_report(200)).is_null();) out.plain = j;  // the last (earliest ones may be 503s)
    SubPtr inbox;
    natsConnection_SubscribeSync(&inbox.p, req.p, "inbox.leaf");
    natsConnection_Flush(req.p);
    natsConnection_PublishRequestString(req.p, "svc", "inbox.leaf", "x");
    natsConnection_Flush(req.p);
    MsgPtr in;
    if (natsSubscription_NextMsg(&in.p, svc_sub.p, 2000) == NATS_OK) {
      const char* v = nullptr;
      if (natsMsgHeader_Get(in.p, "Nats-Request-Info", &v) == NATS_OK && v) out.request_info = v;
      natsConnection_PublishString(svc.p, natsMsg_GetReply(in.p), "ok");
      natsConnection_Flush(svc.p);
    }
    out.shared = next_report(2000);
    // A Nats-Request-Info the request brings over the leaf connection is kept by an import
    // without `share` (2.9.10 trusts the other side's), whatever it says.
    SubPtr quick_copy;
    natsConnection_SubscribeSync(&quick_copy.p, svc.p, "quick");
    natsConnection_Flush(svc.p);
    natsMsg* rq = nullptr;
    natsMsg_Create(&rq, "quick", "inbox.leaf", "x", 1);
    natsMsgHeader_Set(rq, "Nats-Request-Info", "{\"acc\":\"FAKE\",\"x\":1}");
    natsConnection_PublishMsg(req.p, rq);
    natsMsg_Destroy(rq);
    natsConnection_Flush(req.p);
    MsgPtr copy;
    if (natsSubscription_NextMsg(&copy.p, quick_copy.p, 2000) == NATS_OK) {
      const char* v = nullptr;
      if (natsMsgHeader_Get(copy.p, "Nats-Request-Info", &v) == NATS_OK && v) out.leaf_own_info = v;
    }
    out.leaf_own_report = next_report(2000);  // the measurement names the leaf connection still
    svc.reset();
    req.reset();
  }
  {
    // Service on the leaf, requester on the hub: the hub waits for a measurement the leaf's
    // server does not send (its account exports nothing), so no report comes.
    EXPECT_EQ(connect_url(svc, "nats://s:s@127.0.0.1:" + port(leaf)), NATS_OK);
    EXPECT_EQ(connect_url(req, "nats://r:r@127.0.0.1:" + port(hub)), NATS_OK);
    SubPtr svc_sub;
    natsConnection_Subscribe(&svc_sub.p, svc.p, "svc", ctest::echo_handler, nullptr);
    natsConnection_Flush(svc.p);
    out.responder_on_leaf_answered = wait_for([&] {
      MsgPtr m;
      return natsConnection_RequestString(&m.p, req.p, "svc", "x", 300) == NATS_OK;
    }, milliseconds(5000));
    // Reports of the unanswered tries (503) are skipped; one of an answer would be 200.
    for (json j; !(j = next_report(500)).is_null();)
      if (j["status"] == 200) out.responder_on_leaf = j;
  }
  return out;
}

TEST(ServiceLatency, LeafRequesterIsTheLeafConnectionAndLeafResponderIsNotReported) {
  auto got = per_binary([](const std::string& bin) { return run_leaf(bin, bin); });
  if (testing_harness::reference_available())
    got["ours hub, ref leaf"] = run_leaf(testing_harness::server_binary(), testing_harness::reference_binary());
  check_each(got, [](const LeafRun& r) {
    ASSERT_TRUE(r.shared.is_object());
    ASSERT_TRUE(r.plain.is_object());
    EXPECT_EQ(r.shared["status"], 200);
    // (The leaf connection's rtt is there once measured: 2.9.10 may report none yet.)
    json requestor = r.shared["requestor"];
    requestor.erase("rtt");
    EXPECT_EQ(shape(requestor), "start:string,host:string,id:int,acc:string,user:string,name:string,ver:string,"
                                "server:string,kind:string");
    EXPECT_EQ(r.shared["requestor"]["acc"], "REQ");
    EXPECT_EQ(r.shared["requestor"]["user"], "r");
    EXPECT_EQ(r.shared["requestor"]["name"], "LEAF");
    EXPECT_EQ(r.shared["requestor"]["server"], "LEAF");
    EXPECT_EQ(r.shared["requestor"]["kind"], "Leafnode");
    EXPECT_EQ(r.shared["responder"]["server"], "HUB");
    EXPECT_EQ(r.plain["status"], 200);
    json plain = r.plain["requestor"];
    plain.erase("rtt");
    EXPECT_EQ(shape(plain), "acc:string");
    // The service saw the leaf connection as the requester too.
    json ri = json::parse(r.request_info, nullptr, false);
    ri.erase("rtt");
    EXPECT_EQ(shape(ri), shape(requestor));
    EXPECT_EQ(r.leaf_own_info, "{\"acc\":\"FAKE\",\"x\":1}");
    EXPECT_EQ(r.leaf_own_report["status"], 200);
    EXPECT_EQ(r.leaf_own_report["requestor"]["acc"], "REQ");
    EXPECT_TRUE(r.responder_on_leaf_answered);
    EXPECT_TRUE(r.responder_on_leaf.is_null()) << r.responder_on_leaf.dump();
  });
}

// ---- Nats-Request-Info: the requester's info on requests crossing a service import ----

const char* kInfoConf = R"(
accounts {
  SVC {
    users [{user: s, password: s}]
    exports [{service: "shared"}, {service: "plain"}, {service: "deep"}]
  }
  MID {
    users [{user: m, password: m}]
    imports [{service: {account: SVC, subject: "deep"}}]
    exports [{service: "deep"}]
  }
  REQ {
    users [{user: r, password: r}]
    imports [
      {service: {account: SVC, subject: "shared"}, share: true}
      {service: {account: SVC, subject: "plain"}}
      {service: {account: MID, subject: "deep"}}
    ]
  }
}
)";

// What the service got: its header keys in order, and the Nats-Request-Info's fields in
// order with the values that do not change from run to run.
std::string describe_request(natsMsg* m) {
  if (!m) return "<none>";
  std::string out = "keys=";
  const char** keys = nullptr;
  int n = 0;
  if (natsMsgHeader_Keys(m, &keys, &n) == NATS_OK) {
    for (int i = 0; i < n; ++i) out += std::string(keys[i]) + ",";
    free(keys);
  }
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, "Nats-Request-Info", &v) == NATS_OK && v) {
    json j = json::parse(v, nullptr, false);
    out += " info=" + shape(j);
    for (const char* k : {"acc", "svc", "user", "name", "lang", "kind", "client_type"})
      if (j.is_object() && j.contains(k)) out += std::string(" ") + k + "=" + j[k].dump();
  }
  if (const char* foo = nullptr; natsMsgHeader_Get(m, "Foo", &foo) == NATS_OK) out += std::string(" Foo=") + foo;
  return out;
}

std::vector<std::string> run_request_info(const std::string& binary) {
  auto srv = start_with_config(kInfoConf, {}, binary);
  ConnPtr svc, req, own;
  EXPECT_EQ(connect_url(svc, url_for(*srv, "s")), NATS_OK);
  EXPECT_EQ(connect_url(req, url_for(*srv, "r")), NATS_OK);
  EXPECT_EQ(connect_url(own, url_for(*srv, "s")), NATS_OK);
  SubPtr sub;
  natsConnection_SubscribeSync(&sub.p, svc.p, ">");
  natsConnection_Flush(svc.p);
  natsConnection_Flush(req.p);
  auto send = [&](natsConnection* nc, const char* subject, const char* reply,
                  std::vector<std::pair<const char*, const char*>> headers = {}) {
    natsMsg* m = nullptr;
    natsMsg_Create(&m, subject, reply, "x", 1);
    for (auto [k, v] : headers) natsMsgHeader_Add(m, k, v);
    natsConnection_PublishMsg(nc, m);
    natsMsg_Destroy(m);
    natsConnection_Flush(nc);
  };
  send(req.p, "shared", "inbox.1");
  send(req.p, "plain", "inbox.2");
  send(req.p, "plain", "inbox.3", {{"Foo", "bar"}, {"Nats-Request-Info", "{\"acc\":\"FAKE\"}"}});
  send(req.p, "deep", "inbox.4");
  send(req.p, "plain", nullptr);                      // no reply: still a request
  send(own.p, "plain", "inbox.5", {{"Foo", "own"}});  // in the exporting account: no import
  std::vector<std::string> out;
  for (int i = 0; i < 6; ++i) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 2000) != NATS_OK) break;
    out.push_back(std::string(natsMsg_GetSubject(m.p)) + " " + describe_request(m.p));
  }
  return out;
}

TEST(ServiceImportRequestInfo, RequestsCarryTheRequestersInfoAsTheReferences) {
  auto got = per_binary(run_request_info);
  const auto& ours = got[testing_harness::server_binary()];
  ASSERT_EQ(ours.size(), 6u);
  EXPECT_EQ(ours[0],
            "shared keys=Nats-Request-Info, info=start:string,host:string,id:int,acc:string,user:string,lang:string,"
            "ver:string,rtt:int,server:string,kind:string,client_type:string acc=\"REQ\" user=\"r\" lang=\"C\" "
            "kind=\"Client\" client_type=\"nats\"");
  EXPECT_EQ(ours[1], "plain keys=Nats-Request-Info, info=acc:string,rtt:int acc=\"REQ\"");
  EXPECT_EQ(ours[2], "plain keys=Foo,Nats-Request-Info, info=acc:string,rtt:int acc=\"REQ\" Foo=bar");
  EXPECT_EQ(ours[3], "deep keys=Nats-Request-Info, info=acc:string,svc:string,rtt:int acc=\"REQ\" svc=\"MID\"");
  EXPECT_EQ(ours[4], "plain keys=Nats-Request-Info, info=acc:string,rtt:int acc=\"REQ\"");
  EXPECT_EQ(ours[5], "plain keys=Foo, Foo=own");
  if (got.size() == 2) {
    EXPECT_EQ(got.begin()->second, got.rbegin()->second);
  }
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
