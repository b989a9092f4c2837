// Service latency tracking (export `latency`, import `share`): the same request scenarios
// against this server and the reference 2.9.10, comparing the ServiceLatency reports each
// publishes on the results subject in the exporting account: which fields are there, their
// JSON types, and plausible values (the latencies themselves depend on timing).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <tuple>

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
  std::map<std::string, Results> got;
  for (const auto& bin : testing_harness::binaries_to_compare()) got[bin] = run_200(bin);
  for (const auto& [bin, r] : got) {
    SCOPED_TRACE(bin);
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
  }
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
    SubPtr svc_sub, inbox;
    natsConnection_SubscribeSync(&svc_sub.p, s.svc.p, "quick");
    natsConnection_Flush(s.svc.p);
    natsConnection_SubscribeSync(&inbox.p, s.req.p, "inbox.q");
    natsConnection_PublishRequestString(s.req.p, "quick", "inbox.q", "x");
    natsConnection_Flush(s.req.p);
    out.timeout = s.report(3000);
  }
  {
    // The requester stops listening before the answer: 408 then, and nothing for the answer.
    Rig s(binary, "latency.svc");
    SubPtr svc_sub, inbox;
    natsConnection_SubscribeSync(&svc_sub.p, s.svc.p, "svc");
    natsConnection_Flush(s.svc.p);
    natsConnection_SubscribeSync(&inbox.p, s.req.p, "inbox.l");
    natsConnection_PublishRequestString(s.req.p, "svc", "inbox.l", "x");
    natsConnection_Flush(s.req.p);
    MsgPtr in;
    EXPECT_EQ(natsSubscription_NextMsg(&in.p, svc_sub.p, 2000), NATS_OK);
    natsSubscription_Unsubscribe(inbox.p);
    natsConnection_Flush(s.req.p);
    out.lost = s.report();
    if (in.p) natsConnection_PublishString(s.svc.p, natsMsg_GetReply(in.p), "late");
    natsConnection_Flush(s.svc.p);
    out.after_lost = s.report(200);
  }
  return out;
}

TEST(ServiceLatency, UnansweredRequestsAreReportedWithTheirStatus) {
  std::map<std::string, ErrorReports> got;
  for (const auto& bin : testing_harness::binaries_to_compare()) got[bin] = run_errors(bin);
  for (const auto& [bin, r] : got) {
    SCOPED_TRACE(bin);
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
  }
}

// sampling "headers": only requests whose tracing headers ask for a sample are measured,
// and the report carries those headers.
TEST(ServiceLatency, HeaderSamplingFollowsTracingHeaders) {
  std::map<std::string, std::pair<json, json>> got;
  for (const auto& bin : testing_harness::binaries_to_compare()) {
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
    got[bin] = {first, none};
  }
  for (const auto& [bin, r] : got) {
    SCOPED_TRACE(bin);
    ASSERT_TRUE(r.first.is_object());
    EXPECT_TRUE(r.second.is_null());
    EXPECT_EQ(r.first["status"], 200);
    EXPECT_EQ(r.first["header"], json::parse(R"({"Traceparent":["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
                                                "Tracestate":["x=1"]})"));
  }
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
    std::map<std::string, std::string> out;
    for (const auto& bin : testing_harness::binaries_to_compare()) {
      auto r = testing_harness::run_command("timeout 10 " + bin + " -t -c " + conf);
      // The first line names the problem (or says the file is valid).
      std::string first = r.output.substr(0, r.output.find('\n'));
      out[bin] = std::to_string(r.status != 0) + " " + first.substr(first.find(conf) == std::string::npos ? 0 : first.find(conf));
    }
    if (out.size() == 2) {
      EXPECT_EQ(out.begin()->second, out.rbegin()->second) << text;
    }
    EXPECT_NE(out[testing_harness::server_binary()].find("1 " + conf), std::string::npos)
        << text << " " << out[testing_harness::server_binary()];
  }
}

// Requester on server A, service on server B: A reports, with B's measurement of the
// service merged in (the responder's details and service time come from B).
json run_clustered(const std::string& binary, const std::string& binary_b = "") {
  ctest::Node a, b;
  ctest::configure_route_pair(a, b, binary);
  if (!binary_b.empty()) b.binary = binary_b;
  a.extra = b.extra = kConf;
  a.start();
  b.start();
  ConnPtr svc, mon, req;
  EXPECT_EQ(connect_url(svc, "nats://s:s@127.0.0.1:" + std::to_string(b.proc->port())), NATS_OK);
  EXPECT_EQ(connect_url(mon, "nats://s:s@127.0.0.1:" + std::to_string(a.proc->port())), NATS_OK);
  EXPECT_EQ(connect_url(req, "nats://r:r@127.0.0.1:" + std::to_string(a.proc->port())), NATS_OK);
  SubPtr results, svc_sub;
  natsConnection_SubscribeSync(&results.p, mon.p, "latency.svc");
  natsConnection_Flush(mon.p);
  natsConnection_Subscribe(&svc_sub.p, svc.p, "svc", ctest::echo_handler, nullptr);
  natsConnection_Flush(svc.p);
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
  std::map<std::string, json> got;
  for (const auto& bin : testing_harness::binaries_to_compare()) got[bin] = run_clustered(bin);
  // Mixed clusters: each server's measurement is understood by the other.
  if (testing_harness::reference_available()) {
    got["ours->ref"] = run_clustered(testing_harness::server_binary(), testing_harness::reference_binary());
    got["ref->ours"] = run_clustered(testing_harness::reference_binary(), testing_harness::server_binary());
  }
  for (const auto& [bin, j] : got) {
    SCOPED_TRACE(bin);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(shape(j), kAnsweredShape);
    EXPECT_EQ(j["requestor"]["server"], "A");
    EXPECT_EQ(j["responder"]["server"], "B");
    EXPECT_EQ(j["responder"]["acc"], "SVC");
    EXPECT_EQ(j["responder"]["cluster"], "C");
    expect_consistent_latencies(j);
  }
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
  std::map<std::string, json> got;
  for (const auto& bin : testing_harness::binaries_to_compare()) got[bin] = run_jwt(bin);
  for (const auto& [bin, j] : got) {
    SCOPED_TRACE(bin);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(shape(j), kAnsweredShape);
  }
  if (got.size() == 2) {
    const json& ref = got.rbegin()->first == testing_harness::reference_binary() ? got.rbegin()->second
                                                                                 : got.begin()->second;
    const json& ours = got[testing_harness::server_binary()];
    EXPECT_EQ(shape(ours["requestor"]), shape(ref["requestor"]));
    EXPECT_EQ(shape(ours["responder"]), shape(ref["responder"]));
  }
}

}  // namespace
}  // namespace NATS_TEST_FILE_ID
