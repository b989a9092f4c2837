// /metrics, built from the same documents /varz, /routez, /gatewayz, /leafz and /jsz serve
// (so the numbers agree with them), plus per-account counters and the Raft groups' status.
#include "monitor/metrics.h"

#include <chrono>

#include "cluster/gateway_manager.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/raft_groups.h"
#include "jetstream/jetstream.h"
#include "monitor/endpoints.h"
#include "monitor/prometheus.h"
#include "server/account.h"
#include "server/client.h"
#include "server/server.h"
#include "util/process_stats.h"

namespace nats {

namespace {

using prometheus::Labels;
using prometheus::Type;
using prometheus::Writer;

double num(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->get<double>();
}

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// in/out msgs/bytes counters of one connection document, under `prefix`.
void traffic(Writer& w, const std::string& prefix, const Labels& l, const Json& j) {
  w.add(prefix + "_in_msgs_total", l, num(j, "in_msgs"));
  w.add(prefix + "_out_msgs_total", l, num(j, "out_msgs"));
  w.add(prefix + "_in_bytes_total", l, num(j, "in_bytes"));
  w.add(prefix + "_out_bytes_total", l, num(j, "out_bytes"));
}

// A metric without labels: its family and its one sample.
void single(Writer& w, const std::string& name, const std::string& help, Type type, double value) {
  w.family(name, help, type);
  w.add(name, value);
}

void declare_traffic(Writer& w, const std::string& prefix, const std::string& what) {
  w.family(prefix + "_in_msgs_total", "Messages received from " + what, Type::counter);
  w.family(prefix + "_out_msgs_total", "Messages sent to " + what, Type::counter);
  w.family(prefix + "_in_bytes_total", "Payload bytes received from " + what, Type::counter);
  w.family(prefix + "_out_bytes_total", "Payload bytes sent to " + what, Type::counter);
}

void server_metrics(Writer& w, Server& s) {
  Json v = varz(s);
  w.family("nats_server_info", "Constant 1, labelled with the server's identity", Type::gauge);
  w.add("nats_server_info", {{"server_id", s.id()}, {"server_name", s.name()}, {"version", str(v, "version")}}, 1);
  single(w, "nats_server_uptime_seconds", "Seconds since the server started", Type::gauge,
         std::chrono::duration<double>(std::chrono::system_clock::now() - s.start_time()).count());
  single(w, "nats_server_cpu_percent", "Process CPU use in percent of one core (as /varz cpu)", Type::gauge,
         num(v, "cpu"));
  single(w, "nats_server_memory_bytes", "Resident memory of the process", Type::gauge, num(v, "mem"));
  single(w, "nats_server_connections", "Open client connections", Type::gauge, num(v, "connections"));
  single(w, "nats_server_connections_total", "Client connections accepted since start", Type::counter,
         num(v, "total_connections"));
  single(w, "nats_server_subscriptions", "Subscriptions in all accounts", Type::gauge, num(v, "subscriptions"));
  single(w, "nats_server_slow_consumers_total", "Connections closed or marked as slow consumers", Type::counter,
         num(v, "slow_consumers"));
  single(w, "nats_server_routes", "Open route connections", Type::gauge, num(v, "routes"));
  auto* gm = s.gateways();
  single(w, "nats_server_gateways", "Open gateway connections, inbound and outbound", Type::gauge,
         gm ? static_cast<double>(gm->num_outbound() + gm->num_inbound()) : 0);
  single(w, "nats_server_leafnodes", "Open leaf node connections", Type::gauge, num(v, "leafnodes"));
  declare_traffic(w, "nats_server", "all connections");
  traffic(w, "nats_server", {}, v);
  single(w, "nats_server_config_load_time_seconds", "Unix time of the last config load or reload", Type::gauge,
         std::chrono::duration<double>(s.config_load_time().time_since_epoch()).count());
}

void route_metrics(Writer& w, Server& s) {
  Json rz = routez(s);
  declare_traffic(w, "nats_route", "a route");
  w.family("nats_route_pending_bytes", "Bytes queued to a route", Type::gauge);
  w.family("nats_route_subscriptions", "Interest a route's server registered", Type::gauge);
  for (const auto& r : rz.value("routes", Json::array())) {
    Labels l{{"rid", str(r, "rid")}, {"remote_id", str(r, "remote_id")}};
    traffic(w, "nats_route", l, r);
    w.add("nats_route_pending_bytes", l, num(r, "pending_size"));
    w.add("nats_route_subscriptions", l, num(r, "subscriptions"));
  }
}

void gateway_metrics(Writer& w, Server& s) {
  Json gz = gatewayz(s);
  declare_traffic(w, "nats_gateway", "a gateway connection");
  w.family("nats_gateway_pending_bytes", "Bytes queued to a gateway connection", Type::gauge);
  auto one = [&](const std::string& name, const char* dir, const Json& g) {
    const Json& c = g.contains("connection") ? g["connection"] : g;
    Labels l{{"gateway", name}, {"direction", dir}, {"cid", str(c, "cid")}};
    traffic(w, "nats_gateway", l, c);
    w.add("nats_gateway_pending_bytes", l, num(c, "pending_bytes"));
  };
  // Named locals: items() refers into its object, which must outlive the loop.
  const Json outbound = gz.value("outbound_gateways", Json::object());
  const Json inbound = gz.value("inbound_gateways", Json::object());
  for (const auto& [name, g] : outbound.items()) one(name, "outbound", g);
  for (const auto& [name, list] : inbound.items())
    for (const auto& g : list) one(name, "inbound", g);
}

void leaf_metrics(Writer& w, Server& s) {
  Json lz = leafz(s);
  declare_traffic(w, "nats_leaf", "a leaf node connection");
  w.family("nats_leaf_subscriptions", "Interest a leaf node registered", Type::gauge);
  for (const auto& e : lz.value("leafs", Json::array())) {
    Labels l{{"account", str(e, "account")}, {"ip", str(e, "ip")}, {"port", str(e, "port")}};
    traffic(w, "nats_leaf", l, e);
    w.add("nats_leaf_subscriptions", l, num(e, "subscriptions"));
  }
}

// Per account: closed connections' totals kept on the account plus the open connections'.
void account_metrics(Writer& w, Server& s) {
  w.family("nats_account_connections", "Open client connections of an account", Type::gauge);
  w.family("nats_account_subscriptions", "Subscriptions in an account", Type::gauge);
  declare_traffic(w, "nats_account", "an account's clients");
  auto clients = s.clients_snapshot();
  for (const auto& acc : s.accounts()) {
    Json t{{"in_msgs", acc->in_msgs.load()}, {"out_msgs", acc->out_msgs.load()},
           {"in_bytes", acc->in_bytes.load()}, {"out_bytes", acc->out_bytes.load()}};
    for (const auto& c : clients) {
      if (c->closing() || c->account_name() != acc->name()) continue;
      t["in_msgs"] = t["in_msgs"].get<uint64_t>() + c->in_msgs.load();
      t["out_msgs"] = t["out_msgs"].get<uint64_t>() + c->out_msgs.load();
      t["in_bytes"] = t["in_bytes"].get<uint64_t>() + c->in_bytes.load();
      t["out_bytes"] = t["out_bytes"].get<uint64_t>() + c->out_bytes.load();
    }
    Labels l{{"account", acc->name()}};
    w.add("nats_account_connections", l, acc->num_local_connections.load());
    w.add("nats_account_subscriptions", l, static_cast<double>(acc->sublist().count()));
    traffic(w, "nats_account", l, t);
  }
}

void jetstream_metrics(Writer& w, Server& s) {
  single(w, "nats_jetstream_enabled", "1 when JetStream runs on this server", Type::gauge, s.jetstream() ? 1 : 0);
  if (!s.jetstream()) return;
  JszOptions o;
  o.accounts = o.streams = o.consumer = o.config = true;
  o.limit = 0;  // every account
  Json j = jsz(s, o);
  const Json cfg = j.value("config", Json::object());
  const std::pair<const char*, const char*> totals[] = {
      {"streams", "Streams on this server"}, {"consumers", "Consumers on this server"},
      {"messages", "Messages stored in this server's streams"}, {"bytes", "Bytes stored in this server's streams"}};
  for (auto [k, help] : totals) {
    std::string name = std::string("nats_jetstream_") + k;
    single(w, name, help, Type::gauge, num(j, k));
  }
  single(w, "nats_jetstream_memory_used_bytes", "Memory storage used", Type::gauge, num(j, "memory"));
  single(w, "nats_jetstream_storage_used_bytes", "File storage used", Type::gauge, num(j, "storage"));
  single(w, "nats_jetstream_memory_max_bytes", "Configured max_memory_store", Type::gauge, num(cfg, "max_memory"));
  single(w, "nats_jetstream_storage_max_bytes", "Configured max_file_store", Type::gauge, num(cfg, "max_storage"));
  const Json api = j.value("api", Json::object());
  single(w, "nats_jetstream_api_requests_total", "JetStream API requests", Type::counter, num(api, "total"));
  single(w, "nats_jetstream_api_errors_total", "JetStream API requests answered with an error", Type::counter,
         num(api, "errors"));

  w.family("nats_jetstream_account_memory_used_bytes", "Memory storage used by an account's streams", Type::gauge);
  w.family("nats_jetstream_account_storage_used_bytes", "File storage used by an account's streams", Type::gauge);
  w.family("nats_jetstream_account_streams", "Streams of an account on this server", Type::gauge);
  w.family("nats_jetstream_account_consumers", "Consumers of an account on this server", Type::gauge);
  w.family("nats_jetstream_stream_messages", "Messages in a stream", Type::gauge);
  w.family("nats_jetstream_stream_bytes", "Bytes in a stream (storage: file or memory)", Type::gauge);
  w.family("nats_jetstream_stream_first_seq", "First sequence in a stream", Type::gauge);
  w.family("nats_jetstream_stream_last_seq", "Last sequence in a stream", Type::gauge);
  w.family("nats_jetstream_stream_subjects", "Distinct subjects in a stream", Type::gauge);
  w.family("nats_jetstream_stream_consumers", "Consumers of a stream", Type::gauge);
  w.family("nats_jetstream_consumer_pending_messages", "Messages not yet delivered to a consumer", Type::gauge);
  w.family("nats_jetstream_consumer_ack_pending_messages", "Messages delivered and not yet acknowledged",
           Type::gauge);
  w.family("nats_jetstream_consumer_redelivered_messages", "Messages redelivered and not yet acknowledged",
           Type::gauge);
  w.family("nats_jetstream_consumer_waiting_requests", "Pull requests waiting", Type::gauge);
  w.family("nats_jetstream_consumer_delivered_stream_seq", "Last stream sequence delivered", Type::gauge);
  w.family("nats_jetstream_consumer_ack_floor_stream_seq", "Stream sequence up to which all is acknowledged",
           Type::gauge);
  for (const auto& a : j.value("account_details", Json::array())) {
    const std::string acc = str(a, "name");
    Labels al{{"account", acc}};
    w.add("nats_jetstream_account_memory_used_bytes", al, num(a, "memory"));
    w.add("nats_jetstream_account_storage_used_bytes", al, num(a, "storage"));
    const Json streams = a.value("stream_detail", Json::array());
    double consumers = 0;
    for (const auto& st : streams) {
      const std::string name = str(st, "name");
      const Json state = st.value("state", Json::object());
      const Json conf = st.value("config", Json::object());
      Labels sl{{"account", acc}, {"stream", name}};
      Labels bl = sl;
      bl.emplace_back("storage", conf.value("storage", "file"));
      w.add("nats_jetstream_stream_messages", sl, num(state, "messages"));
      w.add("nats_jetstream_stream_bytes", bl, num(state, "bytes"));
      w.add("nats_jetstream_stream_first_seq", sl, num(state, "first_seq"));
      w.add("nats_jetstream_stream_last_seq", sl, num(state, "last_seq"));
      w.add("nats_jetstream_stream_subjects", sl, num(state, "num_subjects"));
      w.add("nats_jetstream_stream_consumers", sl, num(state, "consumer_count"));
      for (const auto& c : st.value("consumer_detail", Json::array())) {
        ++consumers;
        Labels cl = sl;
        cl.emplace_back("consumer", str(c, "name"));
        w.add("nats_jetstream_consumer_pending_messages", cl, num(c, "num_pending"));
        w.add("nats_jetstream_consumer_ack_pending_messages", cl, num(c, "num_ack_pending"));
        w.add("nats_jetstream_consumer_redelivered_messages", cl, num(c, "num_redelivered"));
        w.add("nats_jetstream_consumer_waiting_requests", cl, num(c, "num_waiting"));
        w.add("nats_jetstream_consumer_delivered_stream_seq", cl,
              num(c.value("delivered", Json::object()), "stream_seq"));
        w.add("nats_jetstream_consumer_ack_floor_stream_seq", cl,
              num(c.value("ack_floor", Json::object()), "stream_seq"));
      }
    }
    w.add("nats_jetstream_account_streams", al, static_cast<double>(streams.size()));
    w.add("nats_jetstream_account_consumers", al, consumers);
  }
}

void raft_metrics(Writer& w, Server& s) {
  auto* mg = s.meta_group();
  if (!mg) return;
  auto snap = mg->snapshot();
  single(w, "nats_raft_meta_is_leader", "1 when this server is the JetStream meta leader", Type::gauge,
         mg->is_leader() ? 1 : 0);
  w.family("nats_raft_meta_leader_info", "Constant 1, labelled with the meta leader's server name", Type::gauge);
  if (!snap.leader.empty()) w.add("nats_raft_meta_leader_info", {{"leader", snap.leader}}, 1);
  single(w, "nats_raft_meta_cluster_size", "Expected size of the meta group", Type::gauge, snap.cluster_size);
  auto* groups = mg->raft_groups();
  if (!groups) return;
  w.family("nats_raft_group_term", "Current Raft term of a group", Type::gauge);
  w.family("nats_raft_group_commit", "Last committed log index of a group", Type::gauge);
  w.family("nats_raft_group_applied", "Last applied log index of a group", Type::gauge);
  w.family("nats_raft_group_is_leader", "1 when this server leads the group", Type::gauge);
  for (const auto& g : groups->list()) {
    auto st = g->status();
    Labels l{{"group", g->name()}};
    w.add("nats_raft_group_term", l, static_cast<double>(st.term));
    w.add("nats_raft_group_commit", l, static_cast<double>(st.commit));
    w.add("nats_raft_group_applied", l, static_cast<double>(st.applied));
    w.add("nats_raft_group_is_leader", l, st.is_leader ? 1 : 0);
  }
}

}  // namespace

std::string metrics_text(Server& s) {
  Writer w;
  server_metrics(w, s);
  route_metrics(w, s);
  gateway_metrics(w, s);
  leaf_metrics(w, s);
  account_metrics(w, s);
  jetstream_metrics(w, s);
  raft_metrics(w, s);
  return w.render();
}

}  // namespace nats
