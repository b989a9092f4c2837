// A snapshot of a replicated (R3) stream in a 3-node cluster comes from the stream leader,
// whichever server the client is on. A clustered restore of it (after the stream was deleted)
// brings back its messages and its durable's state on all three replicas, with the semantics
// of 2.9.10's jsClusteredStreamRestoreRequest. The snapshot part runs against the reference
// too and is compared; its restore is not: the installed 2.9.10 does not answer a clustered
// STREAM.RESTORE at all (R1 or R3, new or deleted name; no "Starting restore" in its log).
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "js_cluster_util.h"

namespace NATS_TEST_FILE_ID {

namespace {

using namespace jsc;

json ask(natsConnection* nc, const std::string& subject, const std::string& body = "") {
  MsgPtr m;
  if (natsConnection_RequestString(&m.p, nc, subject.c_str(), body.c_str(), 5000) != NATS_OK) return nullptr;
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

json ask_status(natsConnection* nc, const std::string& subject, const std::string& body = "") {
  MsgPtr m;
  natsStatus st = natsConnection_RequestString(&m.p, nc, subject.c_str(), body.c_str(), 3000);
  if (st == NATS_NO_RESPONDERS) return "no responders";
  if (st != NATS_OK) return "status " + std::to_string(st);
  auto j = json::parse(m.data(), nullptr, false);
  return j.is_discarded() ? json(m.data()) : j;
}

// What one server build answers along the scenario (ids, times and server names left out).
struct Seen {
  json snapshot_answer, restore_first, publish_during_upload, restore_final, info_after, consumer_after,
      after_stepdown_msg, after_stepdown_consumer, restore_exists, garbage_final, garbage_info,
      r1_final, r1_consumer, r1_names, eph_final, eph_info, eph_names, restore_audits = json::array();
  bool snapshot_ended = false;
  std::vector<json> replicas;  // per server: {messages, consumer delivered/ack floor}
};

json masked(json j) {
  if (!j.is_object()) return j;
  for (const char* k : {"created", "cluster", "ts", "first_ts", "last_ts"}) j.erase(k);
  if (j.contains("state") && j["state"].is_object()) {
    j["state"].erase("first_ts");
    j["state"].erase("last_ts");
  }
  for (const char* k : {"delivered", "ack_floor"})
    if (j.contains(k) && j[k].is_object()) j[k].erase("last_active");
  return j;
}

// This server's own copy of stream S (and its durable D) from /jsz, or null.
json local_copy(JsNode& n) {
  auto j = http_json(n.http_port, "/jsz?consumers=true");
  for (const auto& a : j.value("account_details", json::array()))
    for (const auto& s : a.value("stream_detail", json::array())) {
      if (s.value("name", "") != "S") continue;
      json out{{"messages", s["state"]["messages"]}, {"last_seq", s["state"]["last_seq"]}};
      for (const auto& c : s.value("consumer_detail", json::array()))
        if (c.value("name", "") == "D")
          out["D"] = {{"delivered", c["delivered"]["stream_seq"]}, {"ack_floor", c["ack_floor"]["stream_seq"]}};
      return out;
    }
  return nullptr;
}

Seen scenario(const std::string& binary, bool restore) {
  Seen seen;
  JsSupercluster sc(1, 3);
  for (auto& n : sc.nodes) {
    n->binary = binary;
    n->start();
  }
  EXPECT_FALSE(sc.agreed_leader(milliseconds(20000)).empty());
  ConnPtr nc;
  EXPECT_EQ(connect_url(nc, "nats://127.0.0.1:" + std::to_string(sc.node(1).proc->port())), NATS_OK);
  if (!nc.p) return seen;
  const std::string create = json{{"name", "S"}, {"subjects", {"s.>"}}, {"num_replicas", 3}}.dump();
  json r;
  wait_for([&] {
    r = ask(nc.p, "$JS.API.STREAM.CREATE.S", create);
    return r.is_object() && !r.contains("error") && r.contains("config");
  }, milliseconds(15000));
  EXPECT_TRUE(r.is_object() && r.contains("config")) << r.dump();
  for (int i = 1; i <= 3; ++i) {
    json ack;
    wait_for([&] {
      ack = ask(nc.p, "s.x", "m" + std::to_string(i));
      return ack.is_object() && ack.value("seq", 0) == i;
    }, milliseconds(10000));
  }
  // A durable that took two messages and acked the first.
  auto cc = ask(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.S.D",
                R"({"stream_name":"S","config":{"durable_name":"D","ack_policy":"explicit","ack_wait":60000000000}})");
  EXPECT_TRUE(cc.is_object() && !cc.contains("error")) << cc.dump();
  for (int i = 0; i < 2; ++i) {
    MsgPtr m;
    EXPECT_EQ(natsConnection_RequestString(&m.p, nc.p, "$JS.API.CONSUMER.MSG.NEXT.S.D", "1", 3000), NATS_OK);
    if (i == 0 && m.p) natsConnection_PublishString(nc.p, natsMsg_GetReply(m.p), "+ACK");
  }
  // Every replica of D has the ack before the snapshot (the stream leader's copy goes in it).
  wait_for([&] {
    for (size_t i = 0; i < 3; ++i) {
      auto c = local_copy(sc.node(i));
      if (!c.is_object() || c.value("D", json()) != json{{"delivered", 2}, {"ack_floor", 1}}) return false;
    }
    return true;
  }, milliseconds(5000));
  SubPtr sub;
  natsConnection_SubscribeSync(&sub.p, nc.p, "snap.in");
  natsConnection_Flush(nc.p);
  seen.snapshot_answer = masked(ask(nc.p, "$JS.API.STREAM.SNAPSHOT.S", R"({"deliver_subject":"snap.in"})"));
  std::string data;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub.p, 3000) != NATS_OK) break;
    if (natsMsg_GetDataLength(m.p) == 0) {
      seen.snapshot_ended = true;
      break;
    }
    data.append(natsMsg_GetData(m.p), natsMsg_GetDataLength(m.p));
    natsConnection_Publish(nc.p, natsMsg_GetReply(m.p), nullptr, 0);
  }
  // Exactly one server answered (the leader): no second answer or chunk stream follows.
  MsgPtr extra;
  EXPECT_NE(natsSubscription_NextMsg(&extra.p, sub.p, 300), NATS_OK);

  if (!restore) return seen;
  auto del = ask(nc.p, "$JS.API.STREAM.DELETE.S");
  EXPECT_EQ(del.value("success", false), true) << del.dump();
  SubPtr audits;
  natsConnection_SubscribeSync(&audits.p, nc.p, "$JS.EVENT.ADVISORY.API");
  natsConnection_Flush(nc.p);
  seen.restore_first = ask(nc.p, "$JS.API.STREAM.RESTORE.S", json{{"config", json::parse(create)}}.dump());
  // The first answer is audited once, as a standalone server audits it (subject, request, the
  // answer), by the server that sent it.
  for (;;) {
    MsgPtr a;
    if (natsSubscription_NextMsg(&a.p, audits.p, 500) != NATS_OK) break;
    auto j = json::parse(a.data(), nullptr, false);
    if (j.is_object() && j.value("subject", "") == "$JS.API.STREAM.RESTORE.S")
      seen.restore_audits.push_back({{"request", j.contains("request")},
                                     {"restore_response", j.value("response", "").find("\"deliver_subject\":\"$JS.SNAPSHOT.RESTORE.S.") != std::string::npos},
                                     {"account", j["client"].value("acc", "")}});
  }
  std::string deliver = seen.restore_first.is_object() ? seen.restore_first.value("deliver_subject", "") : "";
  seen.restore_first["deliver_subject"] = deliver.rfind("$JS.SNAPSHOT.RESTORE.S.", 0) == 0 ? "ok" : deliver;
  if (deliver.empty()) return seen;
  // While the upload runs, nothing takes publishes on the stream's subjects.
  seen.publish_during_upload = ask_status(nc.p, "s.x", "during");
  for (size_t off = 0; off < data.size(); off += 1024) {
    MsgPtr ack;
    std::string piece = data.substr(off, 1024);
    EXPECT_EQ(natsConnection_Request(&ack.p, nc.p, deliver.c_str(), piece.data(), static_cast<int>(piece.size()), 3000),
              NATS_OK);
  }
  seen.restore_final = masked(ask(nc.p, deliver, ""));
  // Every replica holds the messages and the durable's state.
  seen.replicas.resize(3);
  wait_for([&] {
    bool all = true;
    for (size_t i = 0; i < 3; ++i) {
      seen.replicas[i] = local_copy(sc.node(i));
      all = all && seen.replicas[i].is_object() && seen.replicas[i].value("messages", 0) == 3 &&
            seen.replicas[i].contains("D");
    }
    return all;
  }, milliseconds(15000));
  json info;
  wait_for([&] {
    info = ask(nc.p, "$JS.API.STREAM.INFO.S");
    return info.is_object() && info.contains("cluster") && info["cluster"].value("replicas", json::array()).size() == 2;
  }, milliseconds(10000));
  std::string leader = info.is_object() && info.contains("cluster") ? info["cluster"].value("leader", "") : "";
  seen.info_after = masked(info);
  wait_for([&] {
    seen.consumer_after = ask(nc.p, "$JS.API.CONSUMER.INFO.S.D");
    return seen.consumer_after.is_object() && !seen.consumer_after.contains("error");
  }, milliseconds(10000));
  seen.consumer_after = masked(seen.consumer_after);
  // Another replica leads: it answers with the same messages and consumer state.
  ask(nc.p, "$JS.API.STREAM.LEADER.STEPDOWN.S");
  wait_for([&] {
    auto i = ask(nc.p, "$JS.API.STREAM.INFO.S");
    auto l = i.is_object() && i.contains("cluster") ? i["cluster"].value("leader", "") : "";
    return !l.empty() && l != leader;
  }, milliseconds(10000));
  wait_for([&] {
    seen.after_stepdown_msg = ask(nc.p, "$JS.API.STREAM.MSG.GET.S", R"({"seq":3})");
    return seen.after_stepdown_msg.is_object() && seen.after_stepdown_msg.contains("message");
  }, milliseconds(5000));
  seen.after_stepdown_msg = seen.after_stepdown_msg.is_object() && seen.after_stepdown_msg.contains("message")
                                ? json(seen.after_stepdown_msg["message"]["data"])
                                : seen.after_stepdown_msg;
  seen.after_stepdown_consumer = masked(ask(nc.p, "$JS.API.CONSUMER.INFO.S.D"));
  seen.restore_exists = ask(nc.p, "$JS.API.STREAM.RESTORE.S", json{{"config", json::parse(create)}}.dump());
  // A failed restore (not a snapshot) gives its assignment up: the stream is not left behind.
  auto g = ask(nc.p, "$JS.API.STREAM.RESTORE.T", R"({"config":{"name":"T","subjects":["t.>"],"num_replicas":3}})");
  if (g.is_object() && g.contains("deliver_subject")) {
    std::string gs = g["deliver_subject"];
    MsgPtr ack;
    natsConnection_RequestString(&ack.p, nc.p, gs.c_str(), "not a snapshot", 3000);
    seen.garbage_final = ask(nc.p, gs, "");
    wait_for([&] {
      seen.garbage_info = ask(nc.p, "$JS.API.STREAM.INFO.T");
      return seen.garbage_info.is_object() && seen.garbage_info.contains("error") &&
             seen.garbage_info["error"].value("err_code", 0) == 10059;
    }, milliseconds(5000));
  }
  // The same archive restored as R1: one server holds it, its durable assigned by the meta log.
  auto del2 = ask(nc.p, "$JS.API.STREAM.DELETE.S");
  EXPECT_EQ(del2.value("success", false), true) << del2.dump();
  json r1cfg = json::parse(create);
  r1cfg["num_replicas"] = 1;
  auto r1 = ask(nc.p, "$JS.API.STREAM.RESTORE.S", json{{"config", r1cfg}}.dump());
  if (r1.is_object() && r1.contains("deliver_subject")) {
    std::string ds = r1["deliver_subject"];
    for (size_t off = 0; off < data.size(); off += 1024) {
      MsgPtr ack;
      std::string piece = data.substr(off, 1024);
      natsConnection_Request(&ack.p, nc.p, ds.c_str(), piece.data(), static_cast<int>(piece.size()), 3000);
    }
    seen.r1_final = masked(ask(nc.p, ds, ""));
    wait_for([&] {
      seen.r1_names = ask(nc.p, "$JS.API.CONSUMER.NAMES.S");
      return seen.r1_names.is_object() && seen.r1_names.value("consumers", json::array()) == json::array({"D"});
    }, milliseconds(5000));
    seen.r1_consumer = masked(ask(nc.p, "$JS.API.CONSUMER.INFO.S.D"));
  }
  // An ephemeral in a restored archive gets its assignment too, as 2.9.10 assigns every public
  // consumer of a restored stream: E (R1, named) on the R1 stream, which holds it for sure, in
  // a snapshot restored as R3; E runs where the upload went, keeps its name and state, and the
  // cluster answers for it.
  auto ec = ask(nc.p, "$JS.API.CONSUMER.CREATE.S.E",
                R"({"stream_name":"S","config":{"name":"E","ack_policy":"explicit","inactive_threshold":60000000000}})");
  EXPECT_TRUE(ec.is_object() && !ec.contains("error")) << ec.dump();
  {
    MsgPtr m;
    EXPECT_EQ(natsConnection_RequestString(&m.p, nc.p, "$JS.API.CONSUMER.MSG.NEXT.S.E", "1", 3000), NATS_OK);
  }
  SubPtr sub2;
  natsConnection_SubscribeSync(&sub2.p, nc.p, "snap.in2");
  natsConnection_Flush(nc.p);
  ask(nc.p, "$JS.API.STREAM.SNAPSHOT.S", R"({"deliver_subject":"snap.in2"})");
  std::string data2;
  for (;;) {
    MsgPtr m;
    if (natsSubscription_NextMsg(&m.p, sub2.p, 3000) != NATS_OK || natsMsg_GetDataLength(m.p) == 0) break;
    data2.append(natsMsg_GetData(m.p), natsMsg_GetDataLength(m.p));
    natsConnection_Publish(nc.p, natsMsg_GetReply(m.p), nullptr, 0);
  }
  EXPECT_EQ(ask(nc.p, "$JS.API.STREAM.DELETE.S").value("success", false), true);
  auto r3 = ask(nc.p, "$JS.API.STREAM.RESTORE.S", json{{"config", json::parse(create)}}.dump());
  if (r3.is_object() && r3.contains("deliver_subject")) {
    std::string ds = r3["deliver_subject"];
    for (size_t off = 0; off < data2.size(); off += 64 * 1024) {
      MsgPtr ack;
      std::string piece = data2.substr(off, 64 * 1024);
      natsConnection_Request(&ack.p, nc.p, ds.c_str(), piece.data(), static_cast<int>(piece.size()), 3000);
    }
    seen.eph_final = masked(ask(nc.p, ds, ""));
    wait_for([&] {
      seen.eph_names = ask(nc.p, "$JS.API.CONSUMER.NAMES.S");
      return seen.eph_names.is_object() && seen.eph_names.value("consumers", json::array()).size() == 2;
    }, milliseconds(5000));
    wait_for([&] {
      seen.eph_info = ask(nc.p, "$JS.API.CONSUMER.INFO.S.E");
      return seen.eph_info.is_object() && !seen.eph_info.contains("error");
    }, milliseconds(5000));
  }
  return seen;
}

TEST(JsClusterSnapshot, R3SnapshotRestoredOnEveryReplicaAsTheReference) {
  Seen ours = scenario(testing_harness::server_binary(), true);
  EXPECT_TRUE(ours.snapshot_ended);
  EXPECT_EQ(ours.snapshot_answer["state"]["messages"], 3) << ours.snapshot_answer.dump();
  EXPECT_EQ(ours.restore_first["deliver_subject"], "ok") << ours.restore_first.dump();
  EXPECT_EQ(ours.restore_audits, json::array({{{"request", true}, {"restore_response", true}, {"account", "$G"}}}))
      << ours.restore_audits.dump();
  EXPECT_EQ(ours.publish_during_upload, "no responders");
  EXPECT_EQ(ours.restore_final["state"]["messages"], 3) << ours.restore_final.dump();
  EXPECT_EQ(ours.restore_final["config"]["num_replicas"], 3) << ours.restore_final.dump();
  for (const auto& r : ours.replicas) {
    EXPECT_EQ(r.value("messages", 0), 3) << r.dump();
    EXPECT_EQ(r.value("D", json()), (json{{"delivered", 2}, {"ack_floor", 1}})) << r.dump();
  }
  EXPECT_EQ(ours.after_stepdown_msg, "bTM=") << ours.after_stepdown_msg.dump();  // "m3"
  EXPECT_EQ(ours.consumer_after["num_ack_pending"], 1) << ours.consumer_after.dump();
  EXPECT_EQ(ours.after_stepdown_consumer["delivered"]["stream_seq"], 2) << ours.after_stepdown_consumer.dump();
  EXPECT_EQ(ours.restore_exists["error"]["err_code"], 10130) << ours.restore_exists.dump();
  EXPECT_EQ(ours.garbage_final["error"]["err_code"], 10062) << ours.garbage_final.dump();
  EXPECT_EQ(ours.garbage_info["error"]["err_code"], 10059) << ours.garbage_info.dump();
  EXPECT_EQ(ours.r1_final["state"]["messages"], 3) << ours.r1_final.dump();
  EXPECT_EQ(ours.r1_final["config"]["num_replicas"], 1) << ours.r1_final.dump();
  EXPECT_EQ(ours.r1_names["consumers"], json::array({"D"})) << ours.r1_names.dump();
  EXPECT_EQ(ours.r1_consumer["delivered"]["stream_seq"], 2) << ours.r1_consumer.dump();
  EXPECT_EQ(ours.r1_consumer["ack_floor"]["stream_seq"], 1) << ours.r1_consumer.dump();
  EXPECT_EQ(ours.eph_final["state"]["consumer_count"], 2) << ours.eph_final.dump();
  auto names = ours.eph_names.value("consumers", json::array());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, json::array({"D", "E"})) << ours.eph_names.dump();
  EXPECT_EQ(ours.eph_info["name"], "E") << ours.eph_info.dump();
  EXPECT_FALSE(ours.eph_info["config"].contains("durable_name")) << ours.eph_info.dump();  // still ephemeral
  EXPECT_EQ(ours.eph_info["delivered"]["stream_seq"], 1) << ours.eph_info.dump();
  EXPECT_EQ(ours.eph_info["num_ack_pending"], 1) << ours.eph_info.dump();
  EXPECT_FALSE(ours.eph_info.value("cluster", json::object()).contains("replicas")) << ours.eph_info.dump();  // R1

  if (!testing_harness::reference_available()) return;
  Seen ref = scenario(testing_harness::reference_binary(), false);
  EXPECT_TRUE(ref.snapshot_ended);
  EXPECT_EQ(ours.snapshot_answer, ref.snapshot_answer);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
