// Events the system account publishes and listens to: client CONNECT/DISCONNECT advisories,
// account connection counts, this server's SHUTDOWN, and the peers' STATSZ/SHUTDOWN that
// feed the server directory. JSON shapes and field order follow the reference 2.9.10
// (ConnectEventMsg, DisconnectEventMsg, AccountNumConns, ClientInfo in events.go).
#include <string>

#include "cluster/leaf_manager.h"
#include "server/client.h"
#include "server/server.h"
#include "sys/stats_json.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/time_format.h"

namespace nats {

namespace {
constexpr const char* kConnectType = "io.nats.server.advisory.v1.client_connect";
constexpr const char* kDisconnectType = "io.nats.server.advisory.v1.client_disconnect";
constexpr const char* kAccountConnsType = "io.nats.server.advisory.v1.account_connections";


std::string now_string() { return util::rfc3339_nano(std::chrono::system_clock::now()); }

// ClientInfo: empty strings and zero values are omitted, as Go's omitempty does.
nlohmann::ordered_json client_info(const ClientConnection& c, bool closed) {
  auto o = c.connect_options();
  nlohmann::ordered_json j;
  j["start"] = util::rfc3339_nano(c.start_time());
  if (!c.peer_ip().empty()) j["host"] = c.peer_ip();
  j["id"] = c.cid();
  std::string acc = c.account_name();
  if (!acc.empty()) j["acc"] = acc;
  if (!o.user.empty()) j["user"] = o.user;
  if (!o.name.empty()) j["name"] = o.name;
  if (!o.lang.empty()) j["lang"] = o.lang;
  if (!o.version.empty()) j["ver"] = o.version;
  if (closed) {
    if (auto rtt = c.rtt().count(); rtt > 0) j["rtt"] = rtt;
    j["stop"] = util::rfc3339_nano(c.stop_time());
  }
  j["kind"] = "Client";
  j["client_type"] = "nats";
  return j;
}
}  // namespace

std::string SystemServices::event_id() { return util::next_nuid(); }

void SystemServices::subscribe_remote_servers() {
  subscribe("$SYS.SERVER.*.STATSZ", [this](const Subscription&, std::string_view, std::string_view,
                                           std::string_view, std::string_view payload) {
    auto j = nlohmann::json::parse(payload, nullptr, false);
    if (!j.is_discarded()) directory_.update(j);
  });
  subscribe("$SYS.SERVER.*.SHUTDOWN", [this](const Subscription&, std::string_view subject, std::string_view,
                                             std::string_view, std::string_view) {
    // $SYS.SERVER.<id>.SHUTDOWN
    constexpr std::string_view prefix = "$SYS.SERVER.";
    std::string_view rest = subject.substr(prefix.size());
    auto dot = rest.find('.');
    if (dot != std::string_view::npos) directory_.remove(std::string(rest.substr(0, dot)));
  });
}

void SystemServices::send_shutdown() {
  // The reference sends the ServerInfo alone (with a fresh seq).
  reply("$SYS.SERVER." + server_.id() + ".SHUTDOWN", server_info().dump());
}

void SystemServices::send_lame_duck() {
  reply("$SYS.SERVER." + server_.id() + ".LAMEDUCK", server_info().dump());
}

nlohmann::ordered_json SystemServices::account_conns(Account& acc) {
  nlohmann::ordered_json m;
  m["type"] = kAccountConnsType;
  m["id"] = event_id();
  m["timestamp"] = now_string();
  m["server"] = server_info();
  m["acc"] = acc.name();
  int conns = acc.num_local_connections.load();
  m["conns"] = conns;
  const int leafs = server_.leafs() ? static_cast<int>(server_.leafs()->num_leafs(acc.name())) : 0;
  m["leafnodes"] = leafs;
  m["total_conns"] = conns + leafs;
  // What the account's clients were sent and what they published: closed connections'
  // totals plus the open ones.
  TrafficTotals open = open_clients_traffic(acc, conns);
  m["sent"] = msg_bytes(acc.out_msgs.load() + open.sent_msgs, acc.out_bytes.load() + open.sent_bytes);
  m["received"] = msg_bytes(acc.in_msgs.load() + open.recv_msgs, acc.in_bytes.load() + open.recv_bytes);
  m["slow_consumers"] = 0;
  return m;
}

SystemServices::TrafficTotals SystemServices::open_clients_traffic(Account& acc, int conns) {
  auto sum = [&] {
    TrafficTotals t;
    server_.for_each_client(acc, [&t](const ClientConnection& c) {
      if (c.closing()) return;
      t.sent_msgs += c.out_msgs.load(std::memory_order_relaxed);
      t.sent_bytes += c.out_bytes.load(std::memory_order_relaxed);
      t.recv_msgs += c.in_msgs.load(std::memory_order_relaxed);
      t.recv_bytes += c.in_bytes.load(std::memory_order_relaxed);
    });
    return t;
  };
  // Every connect and disconnect publishes these totals: summing over all N clients each
  // time makes a storm of N connects O(N^2). Large accounts reuse a sum for a short while
  // (the figures may then lag by that much; a client closing within it may count twice).
  if (conns <= kTrafficCacheMinConns) return sum();
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lk(traffic_mu_);
  auto& entry = traffic_cache_[acc.name()];
  if (entry.at.time_since_epoch().count() == 0 || now - entry.at >= kTrafficCacheTtl) {
    entry.totals = sum();
    entry.at = now;
  }
  return entry.totals;
}

void SystemServices::send_account_conns(Account& acc, std::string_view subject) {
  reply(subject, account_conns(acc).dump());
}

void SystemServices::publish_account_conns(Account& acc) {
  // The reference still sends the pre-2.2 subject too, for backward compatibility.
  std::string body = account_conns(acc).dump();
  reply("$SYS.ACCOUNT." + acc.name() + ".SERVER.CONNS", body);
  reply("$SYS.SERVER.ACCOUNT." + acc.name() + ".CONNS", body);
}

void SystemServices::account_conns_heartbeat() {
  if (stopped_) return;
  auto* leafs = server_.leafs();
  for (auto& acc : server_.accounts())
    if (acc->num_local_connections.load() > 0 || (leafs && leafs->num_leafs(acc->name()) > 0))
      publish_account_conns(*acc);
  conns_timer_ = loop_->add_timer(kAccountConnsInterval, [this] { account_conns_heartbeat(); });
}

void SystemServices::on_client_connect(const ClientConnection& c) {
  if (stopped_ || !sys_) return;
  std::string acc_name = c.account_name();
  if (auto acc = server_.lookup_account(acc_name)) publish_account_conns(*acc);
  nlohmann::ordered_json m;
  m["type"] = kConnectType;
  m["id"] = event_id();
  m["timestamp"] = now_string();
  m["server"] = server_info();
  m["client"] = client_info(c, false);
  reply("$SYS.ACCOUNT." + acc_name + ".CONNECT", m.dump());
}

void SystemServices::on_client_disconnect(const ClientConnection& c) {
  if (stopped_ || !sys_) return;
  std::string acc_name = c.account_name();
  if (auto acc = server_.lookup_account(acc_name)) publish_account_conns(*acc);
  nlohmann::ordered_json m;
  m["type"] = kDisconnectType;
  m["id"] = event_id();
  m["timestamp"] = now_string();
  m["server"] = server_info();
  m["client"] = client_info(c, true);
  // From the client's side: what it sent is what we received from it.
  m["sent"] = msg_bytes(c.in_msgs.load(), c.in_bytes.load());
  m["received"] = msg_bytes(c.out_msgs.load(), c.out_bytes.load());
  m["reason"] = close_reason_text(c.close_reason());
  reply("$SYS.ACCOUNT." + acc_name + ".DISCONNECT", m.dump());
}

void SystemServices::on_leaf_connect(const std::string& account, bool hub) {
  if (stopped_ || !sys_) return;
  if (auto acc = server_.lookup_account(account)) publish_account_conns(*acc);
  // accNumConnsReq: for the other clusters' gateways (sendLeafNodeConnectMsg).
  if (!hub || !server_.gateways()) return;
  nlohmann::ordered_json m;
  m["server"] = server_info();
  m["acc"] = account;
  reply("$SYS.ACCOUNT." + account + ".LEAFNODE.CONNECT", m.dump());
}

void SystemServices::on_leaf_disconnect(const std::string& account) {
  if (stopped_ || !sys_) return;
  if (account == server_.global_account()->name()) return;
  if (auto acc = server_.lookup_account(account)) publish_account_conns(*acc);
}

}  // namespace nats
