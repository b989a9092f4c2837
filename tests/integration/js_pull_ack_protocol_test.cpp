// Pull requests and the ack protocol against the reference 2.9.10: what a pull request gets
// back (messages, then 404/408/409/400/100 status answers with their descriptions and pending
// headers) for max_bytes, no_wait, expires, idle_heartbeat and malformed bodies; and what each
// ack payload variant (+ACK, -NAK with a JSON or Go duration delay, +NXT with a count or JSON,
// +TERM, +WPI, payloads with trailing bytes) does to the consumer's state.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace testing_harness;
using namespace itest;
using json = nlohmann::json;

namespace {

// One answer as text: "msg <subject> dc=<n>" or "status <code> <description> [pending m/b]".
std::string describe(natsMsg* m) {
  const char* status = nullptr;
  if (natsMsgHeader_Get(m, "Status", &status) != NATS_OK || status == nullptr) {
    std::string r = natsMsg_GetReply(m) ? natsMsg_GetReply(m) : "";
    // $JS.ACK.<stream>.<consumer>.<dc>.<sseq>...: keep delivery count and stream sequence.
    std::vector<std::string> t;
    size_t s = 0;
    for (size_t i = 0; i <= r.size(); ++i)
      if (i == r.size() || r[i] == '.') {
        t.push_back(r.substr(s, i - s));
        s = i + 1;
      }
    std::string out = std::string("msg ") + natsMsg_GetSubject(m);
    if (t.size() == 9) out += " dc=" + t[4] + " seq=" + t[5];
    return out;
  }
  std::string out = std::string("status ") + status;
  const char* desc = nullptr;
  if (natsMsgHeader_Get(m, "Description", &desc) == NATS_OK && desc) out += std::string(" ") + desc;
  const char* pm = nullptr;
  const char* pb = nullptr;
  if (natsMsgHeader_Get(m, "Nats-Pending-Messages", &pm) == NATS_OK && pm &&
      natsMsgHeader_Get(m, "Nats-Pending-Bytes", &pb) == NATS_OK && pb)
    out += std::string(" pending ") + pm + "/" + pb;
  return out;
}

struct Client {
  ConnPtr nc;
  int inbox_seq = 0;

  // Sends a pull request (or any message with a reply) and collects every answer until a
  // terminal status or `wait_ms` of silence after the last one. Heartbeats are listed once.
  std::vector<std::string> collect(const std::string& subject, const std::string& body, int wait_ms = 300,
                                   std::string* first_reply = nullptr) {
    std::string inbox = "_INBOX.pull." + std::to_string(++inbox_seq);
    SubPtr sub;
    std::vector<std::string> out;
    if (natsConnection_SubscribeSync(&sub.p, nc.p, inbox.c_str()) != NATS_OK) return {"<sub failed>"};
    natsConnection_Flush(nc.p);
    natsConnection_PublishRequest(nc.p, subject.c_str(), inbox.c_str(), body.data(), static_cast<int>(body.size()));
    for (;;) {
      MsgPtr m;
      if (natsSubscription_NextMsg(&m.p, sub.p, wait_ms) != NATS_OK) break;
      std::string d = describe(m.p);
      if (first_reply && first_reply->empty() && natsMsg_GetReply(m.p)) *first_reply = natsMsg_GetReply(m.p);
      if (out.empty() || out.back() != d) out.push_back(d);
      if (d.rfind("status 4", 0) == 0) break;
    }
    return out;
  }

  std::string pull_one(const std::string& consumer) {
    MsgPtr m;
    std::string body = R"({"batch":1,"no_wait":true})";
    if (natsConnection_Request(&m.p, nc.p, ("$JS.API.CONSUMER.MSG.NEXT.P." + consumer).c_str(), body.data(),
                               static_cast<int>(body.size()), 3000) != NATS_OK)
      return "<no answer>";
    const char* reply = natsMsg_GetReply(m.p);
    return reply && *reply ? reply : describe(m.p);
  }

  json accounting(const std::string& consumer) {
    auto j = json::parse(request_text(nc.p, "$JS.API.CONSUMER.INFO.P." + consumer, ""), nullptr, false);
    if (!j.is_object()) return "bad info";
    json out;
    for (const char* k : {"num_ack_pending", "num_redelivered", "num_waiting", "num_pending"})
      if (j.contains(k)) out[k] = j[k];
    if (j.contains("ack_floor")) out["ack_floor"] = j["ack_floor"].value("stream_seq", 0);
    return out;
  }
};

void create_pull(Client& c, const std::string& name, const std::string& extra = "") {
  request_text(c.nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.P." + name,
               R"({"stream_name":"P","config":{"durable_name":")" + name +
                   R"(","ack_policy":"explicit","ack_wait":30000000000)" + extra + "}}");
}

void publish(Client& c, const std::string& subject, int n, size_t size) {
  for (int i = 0; i < n; ++i) request_text(c.nc.p, subject, std::string(size, 'x'));
}

std::vector<std::string> pull_scenario(const std::string& binary) {
  TempDir store;
  ServerProcess srv({"-js", "-sd", store.path()}, binary);
  srv.start();
  Client c;
  EXPECT_EQ(connect_url(c.nc, srv.url()), NATS_OK);
  std::vector<std::string> log;
  auto add = [&](const std::string& step, const std::vector<std::string>& answers) {
    log.push_back("== " + step);
    for (auto& a : answers) log.push_back(a);
  };
  request_text(c.nc.p, "$JS.API.STREAM.CREATE.P", R"({"name":"P","subjects":["p.>"],"storage":"memory"})");
  const std::string next = "$JS.API.CONSUMER.MSG.NEXT.P.";

  // max_bytes counts each message's full size (subject, ack reply, headers, payload).
  publish(c, "p.a", 5, 100);
  create_pull(c, "MB");
  add("first message larger than max_bytes", c.collect(next + "MB", R"({"batch":10,"max_bytes":50,"expires":1000000000})"));
  add("max_bytes fits two", c.collect(next + "MB", R"({"batch":10,"max_bytes":400,"expires":1000000000})"));
  add("max_bytes exactly one", c.collect(next + "MB", R"({"batch":10,"max_bytes":100,"no_wait":true})"));
  add("max_bytes, no_wait, all fit", c.collect(next + "MB", R"({"batch":2,"max_bytes":100000,"no_wait":true})"));
  add("MB state", {c.accounting("MB").dump()});

  // no_wait: nothing pending, a partial batch, with expires and nothing pending.
  create_pull(c, "NW");
  add("no_wait partial batch", c.collect(next + "NW", R"({"batch":10,"no_wait":true})"));
  add("no_wait nothing pending", c.collect(next + "NW", R"({"batch":3,"no_wait":true})"));
  add("no_wait with expires, nothing pending",
      c.collect(next + "NW", R"({"batch":3,"no_wait":true,"expires":300000000})", 600));
  add("plain number, nothing pending", c.collect(next + "NW", "2", 200));
  add("NW state", {c.accounting("NW").dump()});

  // expires and idle heartbeats.
  add("expires", c.collect(next + "NW", R"({"batch":4,"expires":200000000})", 1000));
  add("expires with heartbeats",
      c.collect(next + "NW", R"({"batch":4,"expires":700000000,"idle_heartbeat":200000000})", 1000));
  add("heartbeat too large", c.collect(next + "NW", R"({"batch":1,"expires":1000000000,"idle_heartbeat":600000000})"));
  add("heartbeat without expires", c.collect(next + "NW", R"({"batch":1,"idle_heartbeat":100000000})"));
  add("batch of wrong type", c.collect(next + "NW", R"({"batch":"x"})"));
  add("expires of wrong type", c.collect(next + "NW", R"({"expires":true})"));
  add("no_wait of wrong type", c.collect(next + "NW", R"({"no_wait":1})"));
  add("batch not an integer", c.collect(next + "NW", R"({"batch":1.5})"));

  // Requests pending: a waiting request holds what max_ack_pending lets out.
  create_pull(c, "RP", R"(,"max_ack_pending":1)");
  c.pull_one("RP");  // one out, unacked: the consumer is at max_ack_pending
  SubPtr waiting;  // the waiting request needs a live requester
  natsConnection_SubscribeSync(&waiting.p, c.nc.p, "_INBOX.rp.waiting");
  std::string wbody = R"({"batch":10,"expires":2000000000})";
  natsConnection_PublishRequest(c.nc.p, (next + "RP").c_str(), "_INBOX.rp.waiting", wbody.data(),
                                static_cast<int>(wbody.size()));
  natsConnection_Flush(c.nc.p);
  add("no_wait behind a waiting request", c.collect(next + "RP", R"({"batch":1,"no_wait":true})"));

  // A pull request to a push consumer.
  request_text(c.nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.P.PUSH",
               R"({"stream_name":"P","config":{"durable_name":"PUSH","deliver_subject":"push.out","ack_policy":"explicit"}})");
  add("pull from a push consumer", c.collect(next + "PUSH", R"({"batch":1,"no_wait":true})"));

  // Request limits.
  create_pull(c, "LIM", R"(,"max_batch":2,"max_expires":1000000000,"max_bytes":1000)");
  add("above max_batch", c.collect(next + "LIM", R"({"batch":3})"));
  add("above max_expires", c.collect(next + "LIM", R"({"batch":1,"expires":2000000000})"));
  add("above max_bytes", c.collect(next + "LIM", R"({"batch":1,"max_bytes":2000})"));
  add("max_bytes 0 with limit", c.collect(next + "LIM", R"({"batch":1,"no_wait":true})"));
  return log;
}

// "dc=<n> seq=<n>" of an ack subject, or the status text it is not one.
std::string dc_seq(const std::string& ack) {
  std::vector<std::string> t;
  size_t s = 0;
  for (size_t i = 0; i <= ack.size(); ++i)
    if (i == ack.size() || ack[i] == '.') {
      t.push_back(ack.substr(s, i - s));
      s = i + 1;
    }
  return t.size() == 9 && t[0] == "$JS" ? "dc=" + t[4] + " seq=" + t[5] : ack;
}

std::vector<std::string> ack_scenario(const std::string& binary) {
  TempDir store;
  ServerProcess srv({"-js", "-sd", store.path()}, binary);
  srv.start();
  Client c;
  EXPECT_EQ(connect_url(c.nc, srv.url()), NATS_OK);
  std::vector<std::string> log;
  auto step = [&](const std::string& what, const std::string& consumer = "A") {
    log.push_back(what + ": " + c.accounting(consumer).dump());
  };
  request_text(c.nc.p, "$JS.API.STREAM.CREATE.P", R"({"name":"P","subjects":["p.>"],"storage":"memory"})");
  publish(c, "p.a", 12, 10);
  create_pull(c, "A");

  // Payloads the reference compares exactly: anything else is not an ack.
  std::string a = c.pull_one("A");
  for (const char* p : {"+ACK ", "+ACK\r\n", "+ACKX", "+OKAY", "+TERM reason", "+WPI ", "bogus"}) {
    request_text(c.nc.p, a, p);
    step(std::string("'") + p + "' on 1");
  }
  request_text(c.nc.p, a, "+OK");
  step("+OK on 1");

  // -NAK with a Go duration: held back for it, then redelivered.
  std::string b = c.pull_one("A");
  request_text(c.nc.p, b, "-NAK 300ms");
  log.push_back("after -NAK 300ms: " + dc_seq(c.pull_one("A")));  // 3 comes first
  step("-NAK 300ms");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string b2 = c.pull_one("A");
  log.push_back("after the delay: " + dc_seq(b2));
  // A bad duration is a plain nak: redelivered at once.
  request_text(c.nc.p, b2, "-NAK soon");
  std::string b3 = c.pull_one("A");
  log.push_back("after -NAK soon: " + dc_seq(b3));
  request_text(c.nc.p, b3, R"(-NAK {"delay":"1s"})");  // a JSON delay of the wrong type: plain nak
  std::string b4 = c.pull_one("A");
  log.push_back("after a JSON string delay: " + dc_seq(b4));
  request_text(c.nc.p, b4, "-NAK 1m");
  step("-NAK 1m");
  log.push_back("pull after -NAK 1m: " + dc_seq(c.pull_one("A")));
  request_text(c.nc.p, b4, "-NAK 0s");  // a zero duration: due at once
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string b5 = c.pull_one("A");
  log.push_back("after -NAK 0s: " + dc_seq(b5));
  request_text(c.nc.p, b5, "+TERM");
  step("+TERM");

  // +NXT: ack and ask for more, as a count or a JSON request, on the same reply.
  std::string n1 = c.pull_one("A");
  auto nxt = c.collect(n1, "+NXT 2", 300);
  for (auto& s : nxt) log.push_back("+NXT 2 -> " + s);
  step("+NXT 2");
  auto nxt2 = c.collect(c.pull_one("A"), R"(+NXT {"batch":3,"no_wait":true})", 300);
  for (auto& s : nxt2) log.push_back("+NXT json -> " + s);
  step("+NXT json");
  // +WPI on a pending message keeps it pending; the ack reply of everything but +NXT is empty.
  std::string w = c.pull_one("A");
  log.push_back("+WPI answer: '" + request_text(c.nc.p, w, "+WPI") + "'");
  step("+WPI");
  log.push_back("+ACK answer: '" + request_text(c.nc.p, w, "+ACK") + "'");
  step("+ACK");
  return log;
}

void compare(const std::vector<std::string>& ours, const std::vector<std::string>& ref) {
  if (std::getenv("JS_DIFF_PRINT"))
    for (size_t i = 0; i < std::max(ours.size(), ref.size()); ++i)
      std::printf("%-70s | %s\n", i < ours.size() ? ours[i].c_str() : "", i < ref.size() ? ref[i].c_str() : "");
  size_t n = std::max(ours.size(), ref.size());
  for (size_t i = 0; i < n; ++i) {
    std::string o = i < ours.size() ? ours[i] : "<none>";
    std::string r = i < ref.size() ? ref[i] : "<none>";
    EXPECT_EQ(o, r) << "line " << i;
  }
}

TEST(JsPullProtocol, StatusAnswersMatchReference) {
  auto ours = pull_scenario(server_binary());
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, pull_scenario(reference_binary()));
}

TEST(JsAckProtocol, PayloadVariantsMatchReference) {
  auto ours = ack_scenario(server_binary());
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  compare(ours, ack_scenario(reference_binary()));
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
