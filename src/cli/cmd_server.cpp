// `nats server ...`: list, ping, info, report jetstream, report connections — all over the
// system account's $SYS.REQ.SERVER.PING[.X] scatter-gather requests, rendered as natscli does.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>

#include "cli/columns.h"
#include "cli/command.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "cli/js_util.h"
#include "cli/table.h"

using nlohmann::json;

namespace nats::cli {
namespace {

int64_t num(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number()) return it->get<int64_t>();
  return 0;
}
std::string str(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
size_t len(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_array() ? it->size() : 0;
}

// natscli's compactStrings: drops the dotted suffix every name shares ("a.x.com","b.x.com" -> "a","b").
std::vector<std::string> compact_strings(const std::vector<std::string>& src) {
  if (src.empty()) return src;
  std::vector<std::vector<std::string>> parts;
  size_t shortest = 127;
  for (auto& s : src) {
    std::vector<std::string> p;
    size_t start = 0;
    for (size_t d; (d = s.find('.', start)) != std::string::npos; start = d + 1) p.push_back(s.substr(start, d - start));
    p.push_back(s.substr(start));
    shortest = std::min(shortest, p.size());
    parts.push_back(std::move(p));
  }
  std::string remove;
  for (size_t i = shortest - 1; i > 0; --i) {
    const std::string& s = parts[0][i];
    bool all = std::all_of(parts.begin(), parts.end(), [&](auto& p) { return p[i] == s; });
    if (!all) break;
    remove = "." + s + remove;
  }
  std::vector<std::string> out;
  for (auto& s : src) {
    if (!remove.empty() && s.size() >= remove.size() && s.compare(s.size() - remove.size(), remove.size(), remove) == 0)
      out.push_back(s.substr(0, s.size() - remove.size()));
    else
      out.push_back(s);
  }
  return out;
}

json parse_or_fail(const std::string& data) {
  try {
    return json::parse(data);
  } catch (const std::exception& e) {
    throw CliError(std::string("could not decode response: ") + e.what());
  }
}

struct Cluster {
  std::string name;
  std::vector<std::string> nodes;
  int64_t gw_out = 0, gw_in = 0, conns = 0;
  std::vector<size_t> route_sizes;
};

int server_list(Invocation& inv) {
  Connection c(resolve_settings(inv));
  struct Result { json msg; int64_t rtt; };
  std::vector<Result> results;
  std::map<std::string, Cluster> clusters;
  std::vector<std::string> cluster_order;
  int64_t connections = 0, memory = 0, slow = 0, subs = 0, js = 0;
  auto start = std::chrono::steady_clock::now();
  int expect = inv.args.empty() ? 0 : std::stoi(inv.arg(0));
  collect(c, "$SYS.REQ.SERVER.PING", "{}", expect, [&](const std::string& data) {
    json m = parse_or_fail(data);
    const json& st = m["statsz"];
    const json& srv = m["server"];
    connections += num(st, "connections");
    memory += num(st, "mem");
    slow += num(st, "slow_consumers");
    subs += num(st, "subscriptions");
    if (srv.value("jetstream", false)) ++js;
    std::string cl = str(srv, "cluster");
    if (!cl.empty()) {
      if (!clusters.count(cl)) { clusters[cl].name = cl; cluster_order.push_back(cl); }
      Cluster& k = clusters[cl];
      k.conns += num(st, "connections");
      k.nodes.push_back(str(srv, "name"));
      k.gw_out += static_cast<int64_t>(len(st, "gateways"));
      k.route_sizes.push_back(len(st, "routes"));
      if (st.contains("gateways") && st["gateways"].is_array())
        for (auto& g : st["gateways"]) k.gw_in += num(g, "inbound_connections");
    }
    int64_t rtt = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    results.push_back({m, rtt});
  });
  if (results.empty())
    throw CliError("no results received, ensure the account used has system privileges and appropriate permissions");
  if (inv.on("json")) {
    json arr = json::array();
    for (auto& r : results) arr.push_back(r.msg);
    print_json(arr);
    return 0;
  }

  std::string sort = inv.get("sort", "rtt");
  bool reverse = inv.on("reverse");
  std::stable_sort(results.begin(), results.end(), [&](const Result& a, const Result& b) {
    const json &sa = a.msg["statsz"], &sb = b.msg["statsz"];
    std::string na = str(a.msg["server"], "name"), nb = str(b.msg["server"], "name");
    auto pick = [&](auto va, auto vb) { return reverse ? va < vb : va > vb; };  // biggest first by default
    if (sort == "name") return reverse ? na > nb : na < nb;
    if (sort == "conns" || sort == "conn") return pick(num(sa, "connections"), num(sb, "connections"));
    if (sort == "subs" || sort == "sub") return pick(num(sa, "subscriptions"), num(sb, "subscriptions"));
    if (sort == "mem") return pick(num(sa, "mem"), num(sb, "mem"));
    if (sort == "cpu") return pick(sa.value("cpu", 0.0), sb.value("cpu", 0.0));
    if (sort == "slow") return pick(num(sa, "slow_consumers"), num(sb, "slow_consumers"));
    if (sort == "cluster") {
      std::string ca = str(a.msg["server"], "cluster"), cb = str(b.msg["server"], "cluster");
      if (ca != cb) return reverse ? ca > cb : ca < cb;
      return reverse ? na > nb : na < nb;
    }
    return reverse ? a.rtt > b.rtt : a.rtt < b.rtt;
  });

  std::vector<std::string> names, hosts;
  for (auto& r : results) {
    names.push_back(str(r.msg["server"], "name"));
    hosts.push_back(str(r.msg["server"], "host"));
  }
  if (inv.get("compact", "true") == "true") {
    names = compact_strings(names);
    hosts = compact_strings(hosts);
  }
  std::string versions_ok, gways_ok, routes_ok;
  for (auto& [_, k] : clusters)
    for (auto s : k.route_sizes)
      if (s != k.route_sizes[0]) routes_ok = "X";

  Table t("Server Overview");
  t.add_headers({"Name", "Cluster", "Host", "Version", "JS", "Conns", "Subs", "Routes", "GWs", "Mem", "CPU %",
                 "Cores", "Slow", "Uptime", "RTT"});
  const json& first = results[0].msg;
  for (size_t i = 0; i < results.size(); ++i) {
    const json& srv = results[i].msg["server"];
    const json& st = results[i].msg["statsz"];
    std::string js_enabled = "no";
    if (srv.value("jetstream", false)) js_enabled = str(srv, "domain").empty() ? "yes" : str(srv, "domain");
    if (str(srv, "ver") != str(first["server"], "ver")) versions_ok = "X";
    if (len(st, "gateways") != len(first["statsz"], "gateways")) gways_ok = "X";
    Cell slow_cell(num(st, "slow_consumers"));
    if (st.contains("slow_consumer_stats") && st["slow_consumer_stats"].is_object()) {
      const json& ss = st["slow_consumer_stats"];
      std::vector<std::string> parts;
      if (num(ss, "clients") > 0) parts.push_back("c: " + comma(num(ss, "clients")));
      if (num(ss, "routes") > 0) parts.push_back("r: " + comma(num(ss, "routes")));
      if (num(ss, "gateways") > 0) parts.push_back("g: " + comma(num(ss, "gateways")));
      if (num(ss, "leafs") > 0) parts.push_back("l: " + comma(num(ss, "leafs")));
      if (!(parts.size() == 1 && num(ss, "clients") > 0) && !parts.empty()) {
        std::string joined;
        for (auto& p : parts) joined += (joined.empty() ? "" : " ") + p;
        slow_cell = Cell(comma(num(st, "slow_consumers")) + " (" + joined + ")");
      }
    }
    char cpu[32];
    std::snprintf(cpu, sizeof cpu, "%.0f", st.value("cpu", 0.0));
    int64_t uptime = parse_rfc3339(str(srv, "time")) - parse_rfc3339(str(st, "start"));
    int64_t rtt_ms = (results[i].rtt + 500000) / 1000000 * 1000000;
    t.add_row({names[i], str(srv, "cluster"), hosts[i], str(srv, "ver"), js_enabled, comma(num(st, "connections")),
               comma(num(st, "subscriptions")), static_cast<int64_t>(len(st, "routes")),
               static_cast<int64_t>(len(st, "gateways")), ibytes(static_cast<uint64_t>(num(st, "mem"))), std::string(cpu),
               num(st, "cores"), slow_cell, human_duration(uptime), human_duration(rtt_ms)});
  }
  t.add_footer({"", static_cast<int64_t>(clusters.size()), static_cast<int64_t>(results.size()), versions_ok, js,
                comma(connections), comma(subs), routes_ok, gways_ok, ibytes(static_cast<uint64_t>(memory)), "", "",
                comma(slow), "", ""});
  std::cout << t.render();

  if (!clusters.empty()) {
    std::cout << "\n";
    std::vector<Cluster> list;
    for (auto& n : cluster_order) list.push_back(clusters[n]);
    std::stable_sort(list.begin(), list.end(), [](const Cluster& a, const Cluster& b) { return a.conns < b.conns; });
    Table ct("Cluster Overview");
    ct.add_headers({"Cluster", "Node Count", "Outgoing Gateways", "Incoming Gateways", "Connections"});
    int64_t in = 0, out = 0, nodes = 0, conns = 0;
    for (auto& k : list) {
      in += k.gw_in;
      out += k.gw_out;
      nodes += static_cast<int64_t>(k.nodes.size());
      conns += k.conns;
      ct.add_row({k.name, static_cast<int64_t>(k.nodes.size()), k.gw_out, k.gw_in, k.conns});
    }
    ct.add_footer({"", nodes, out, in, conns});
    std::cout << ct.render();
  }
  std::cout.flush();
  return 0;
}

int report_jetstream(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json req = json::object();
  std::string account = inv.get("account");
  if (!account.empty()) req = {{"account", account}, {"streams", true}, {"consumer", true}, {"limit", 10000}};
  std::vector<json> resps;
  collect(c, "$SYS.REQ.SERVER.PING.JSZ", req.dump(), 0, [&](const std::string& data) {
    json m = parse_or_fail(data);
    if (m.contains("error") && m["error"].is_object())
      throw CliError("invalid response received: " + m["error"].value("description", m["error"].dump()));
    if (m.contains("data") && m["data"].is_object()) resps.push_back(std::move(m));
  });
  if (resps.empty())
    throw CliError("no results received, ensure the account used has system privileges and appropriate permissions");
  if (inv.on("json")) {
    print_json(resps);
    return 0;
  }
  std::stable_sort(resps.begin(), resps.end(), [](const json& a, const json& b) {
    std::string ca = str(a["server"], "cluster"), cb = str(b["server"], "cluster");
    if (ca != cb) return ca < cb;
    return str(a["server"], "name") < str(b["server"], "name");
  });
  bool render_domain = false;
  for (auto& r : resps)
    if (r["data"].contains("config") && !str(r["data"]["config"], "domain").empty()) render_domain = true;
  std::vector<std::string> names;
  for (auto& r : resps) names.push_back(str(r["server"], "name"));
  if (inv.get("compact", "true") == "true") names = compact_strings(names);

  Table t(account.empty() ? "JetStream Summary" : "JetStream Summary for Account " + account);
  std::vector<Cell> headers{"Server", "Cluster"};
  if (render_domain) headers.push_back("Domain");
  for (auto h : {"Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API Req", "API Err"}) headers.push_back(h);
  t.add_headers(headers);

  int64_t streams = 0, consumers = 0, msgs = 0, bytes = 0, memory = 0, store = 0, api_total = 0, api_err = 0;
  int64_t expected = 0;
  const json* cluster = nullptr;
  for (size_t i = 0; i < resps.size(); ++i) {
    const json& d = resps[i]["data"];
    const json api = d.contains("api") ? d["api"] : json::object();
    api_err += num(api, "errors");
    api_total += num(api, "total");
    memory += num(d, "memory");
    store += num(d, "storage");
    streams += num(d, "streams");
    consumers += num(d, "consumers");
    msgs += num(d, "messages");
    bytes += num(d, "bytes");
    std::string leader;
    if (d.contains("meta_cluster") && d["meta_cluster"].is_object()) {
      const json& meta = d["meta_cluster"];
      if (!str(meta, "leader").empty() && str(meta, "leader") == str(resps[i]["server"], "name")) {
        leader = "*";
        cluster = &meta;
      }
      expected = std::max(expected, num(meta, "cluster_size"));
    }
    std::vector<Cell> row{names[i] + leader, str(resps[i]["server"], "cluster")};
    if (render_domain) row.push_back(d.contains("config") ? str(d["config"], "domain") : "");
    std::string err_col = comma(num(api, "errors"));
    if (num(api, "total") > 0 && num(api, "errors") > 0) {
      char rate[32];
      double r = static_cast<double>(num(api, "errors")) * 100 / static_cast<double>(num(api, "total"));
      std::snprintf(rate, sizeof rate, "%g", r);
      err_col += std::string(" / ") + rate + "%";
    }
    for (Cell cell : std::vector<Cell>{comma(num(d, "streams")), comma(num(d, "consumers")), comma(num(d, "messages")),
                                       ibytes(num(d, "bytes")), ibytes(num(d, "memory")), ibytes(num(d, "storage")),
                                       comma(num(api, "total")), err_col})
      row.push_back(cell);
    t.add_row(row);
  }
  std::vector<Cell> footer{"", ""};
  if (render_domain) footer.push_back("");
  for (Cell cell : std::vector<Cell>{comma(streams), comma(consumers), comma(msgs), ibytes(bytes), ibytes(memory),
                                     ibytes(store), comma(api_total), comma(api_err)})
    footer.push_back(cell);
  t.add_footer(footer);
  std::cout << t.render() << "\n";

  if (!cluster) {
    std::cout << "\nWARNING: No cluster meta leader found. The cluster expects " << expected << " nodes but only "
              << resps.size() << " responded. JetStream operation require at least " << expected / 2 + 1
              << " up nodes.\n";
    return 0;
  }
  struct Peer { std::string name, peer; bool current, offline; int64_t active, lag; };
  std::vector<Peer> peers;
  if (cluster->contains("replicas") && (*cluster)["replicas"].is_array())
    for (auto& r : (*cluster)["replicas"])
      peers.push_back({str(r, "name"), str(r, "peer"), r.value("current", false), r.value("offline", false),
                       num(r, "active"), num(r, "lag")});
  peers.push_back({str(*cluster, "leader"), str(*cluster, "peer"), true, false, 0, 0});
  std::stable_sort(peers.begin(), peers.end(), [](const Peer& a, const Peer& b) { return a.name < b.name; });
  std::vector<std::string> pnames;
  for (auto& p : peers) pnames.push_back(p.name);
  if (inv.get("compact", "true") == "true") pnames = compact_strings(pnames);
  Table rt("RAFT Meta Group Information");
  rt.add_headers({"Name", "ID", "Leader", "Current", "Online", "Active", "Lag"});
  for (size_t i = 0; i < peers.size(); ++i) {
    bool is_leader = peers[i].name == str(*cluster, "leader");
    rt.add_row({pnames[i], peers[i].peer, is_leader ? "yes" : "", peers[i].current, peers[i].offline ? "false" : "true",
                human_duration(peers[i].active), comma(peers[i].lag)});
  }
  std::cout << rt.render();
  std::cout.flush();
  return 0;
}

int report_connections(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json req = {{"subscriptions", true}, {"username", true}};
  if (!inv.get("account").empty()) req["acc"] = inv.get("account");
  if (!inv.get("subject").empty()) req["filter_subject"] = inv.get("subject");
  struct Conn { json info; json server; };
  std::vector<Conn> conns;
  collect(c, "$SYS.REQ.SERVER.PING.CONNZ", req.dump(), 0, [&](const std::string& data) {
    json m = parse_or_fail(data);
    if (m.contains("error") && m["error"].is_object())
      throw CliError("invalid response received: " + m["error"].value("description", m["error"].dump()));
    if (!m.contains("data")) return;
    if (m["data"].contains("connections") && m["data"]["connections"].is_array())
      for (auto& ci : m["data"]["connections"]) conns.push_back({ci, m["server"]});
  });
  if (conns.empty()) throw CliError("did not get results from any servers");
  if (inv.on("json")) {
    json arr = json::array();
    for (auto& k : conns) { json x = k.info; x["server"] = k.server; arr.push_back(x); }
    print_json(arr);
    return 0;
  }
  std::string sort = inv.get("sort", "subs");
  std::stable_sort(conns.begin(), conns.end(), [&](const Conn& a, const Conn& b) {
    const char* key = sort == "in-bytes" ? "in_bytes" : sort == "out-bytes" ? "out_bytes" : sort == "in-msgs" ? "in_msgs"
                    : sort == "out-msgs" ? "out_msgs" : sort == "cid" ? "cid" : "subscriptions";
    return num(a.info, key) < num(b.info, key);
  });
  int64_t top = inv.integer("top", 1000);
  size_t limit = std::min<size_t>(conns.size(), static_cast<size_t>(top));
  Table t("Top " + std::to_string(limit) + " Connections out of " + comma(static_cast<int64_t>(conns.size())) + " by " + sort);
  t.add_headers({"CID", "Name", "Server", "Cluster", "IP", "Account", "Uptime", "In Msgs", "Out Msgs", "In Bytes",
                 "Out Bytes", "Subs"});
  int64_t im = 0, om = 0, ib = 0, ob = 0, subs = 0;
  std::map<std::string, std::pair<std::string, int64_t>> per_server;
  std::vector<std::string> server_order;
  for (size_t i = 0; i < conns.size(); ++i) {
    const json& ci = conns[i].info;
    im += num(ci, "in_msgs");
    om += num(ci, "out_msgs");
    ib += num(ci, "in_bytes");
    ob += num(ci, "out_bytes");
    subs += num(ci, "subscriptions");
    std::string srv = str(conns[i].server, "name");
    if (!per_server.count(srv)) { per_server[srv] = {str(conns[i].server, "cluster"), 0}; server_order.push_back(srv); }
    per_server[srv].second++;
    std::string name = str(ci, "name");
    if (name.size() > 40) name = name.substr(0, 40) + " ..";
    std::string kind = str(ci, "kind");
    std::string cid = std::to_string(num(ci, "cid"));
    if (!kind.empty() && kind != "Client") cid = kind.substr(0, 1) + cid;
    if (i < limit)
      t.add_row({cid, name, srv, str(conns[i].server, "cluster"), str(ci, "ip") + ":" + std::to_string(num(ci, "port")),
                 str(ci, "account"), str(ci, "uptime"), comma(num(ci, "in_msgs")), comma(num(ci, "out_msgs")),
                 ibytes(num(ci, "in_bytes")), ibytes(num(ci, "out_bytes")), comma(num(ci, "subscriptions"))});
  }
  if (conns.size() > 1)
    t.add_footer({"", "Totals for " + comma(static_cast<int64_t>(conns.size())) + " connections", "", "", "", "", "",
                  comma(im), comma(om), ibytes(ib), ibytes(ob), comma(subs)});
  std::cout << t.render() << "\n";
  std::stable_sort(server_order.begin(), server_order.end(),
                   [&](auto& a, auto& b) { return per_server[a].second < per_server[b].second; });
  Table st("Connections per server");
  st.add_headers({"Server", "Cluster", "Connections"});
  for (auto& n : server_order) st.add_row({n, per_server[n].first, per_server[n].second});
  std::cout << st.render();
  std::cout.flush();
  return 0;
}

// natscli's ping: one line per reply as it arrives, then a statistics block. The number of
// servers to expect defaults to the first reply's active_servers; replies stop being awaited
// once that many arrived or the timeout passed, and any shortfall is reported.
int server_ping(Invocation& inv) {
  Connection c(resolve_settings(inv));
  int64_t expect = inv.args.empty() ? 0 : std::stoll(inv.arg(0));
  bool show_id = inv.on("id");
  std::string inbox = c.new_inbox();
  natsSubscription* sub = nullptr;
  check(natsConnection_SubscribeSync(&sub, c.get(), inbox.c_str()));
  auto start = std::chrono::steady_clock::now();
  natsStatus ps = natsConnection_PublishRequestString(c.get(), "$SYS.REQ.SERVER.PING", inbox.c_str(), "");
  if (ps != NATS_OK) { natsSubscription_Destroy(sub); fail(ps); }
  natsConnection_Flush(c.get());
  auto deadline = start + std::chrono::nanoseconds(c.settings().timeout_ns);
  std::vector<double> times;
  int64_t seen = 0;
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    int64_t wait_ms = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    natsMsg* raw = nullptr;
    natsStatus s = natsSubscription_NextMsg(&raw, sub, wait_ms);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK && s != NATS_NO_RESPONDERS) break;
    MsgPtr m(raw);
    const char* status = nullptr;
    if (raw && natsMsgHeader_Get(raw, "Status", &status) == NATS_OK && status && *status) {
      std::printf("%s status from $SYS.REQ.SERVER.PING, ensure a system account is used with appropriate permissions\n", status);
      std::fflush(stdout);
      natsSubscription_Destroy(sub);
      return 1;
    }
    json ssm = parse_or_fail(m.data());
    ++seen;
    if (expect == 0 && seen == 1 && ssm.contains("statsz")) expect = num(ssm["statsz"], "active_servers");
    int64_t rtt = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    times.push_back(static_cast<double>(rtt / 1000000));  // whole milliseconds, as natscli's rtt.Milliseconds()
    std::string name = str(ssm["server"], "name");
    if (show_id) std::printf("%s %-60s rtt=%s\n", str(ssm["server"], "id").c_str(), name.c_str(), go_duration(rtt).c_str());
    else std::printf("%-60s rtt=%s\n", name.c_str(), go_duration(rtt).c_str());
    std::fflush(stdout);
    if (seen == expect) break;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  std::printf("\n---- ping statistics ----\n");
  if (!times.empty()) {
    double mx = *std::max_element(times.begin(), times.end()), mn = *std::min_element(times.begin(), times.end());
    double sum = 0;
    for (double t : times) sum += t;
    std::printf("%zu replies max: %.2f min: %.2f avg: %.2f\n", times.size(), mx, mn, sum / static_cast<double>(times.size()));
  } else {
    std::printf("no responses received\n");
  }
  if (expect != 0 && expect != seen) std::printf("\nMissing %lld server(s)\n", static_cast<long long>(expect - seen));
  return 0;
}

std::vector<std::string> strings_of(const json& j, const char* k) {
  std::vector<std::string> out;
  auto it = j.find(k);
  if (it != j.end() && it->is_array())
    for (auto& e : *it) if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string yes_no(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_boolean() && it->get<bool>() ? "true" : "false";
}

// Every section natscli's `server info` renders from VARZ, in its order and wording.
void render_varz(const json& v) {
  std::string id = str(v, "server_id"), name = str(v, "server_name");
  Columns cols(id == name ? "Server information for " + id : "Server information for " + name + " (" + id + ")");
  cols.section("Process Details");
  cols.add("Version", str(v, "version"));
  cols.add("Git Commit", str(v, "git_commit"));
  cols.add("Go Version", str(v, "go"));
  cols.add("Start Time", local_time(str(v, "start")));
  cols.add("Uptime", str(v, "uptime"));

  cols.section("Connection Details");
  cols.add("Auth Required", yes_no(v, "auth_required"));
  cols.add("TLS Required", yes_no(v, "tls_required"));
  std::string host = str(v, "host") + ":" + std::to_string(num(v, "port"));
  cols.add("Host", str(v, "ip").empty() ? host : host + " (" + str(v, "ip") + ")");
  cols.add_list("Client URLs", strings_of(v, "connect_urls"));
  cols.add_list("WebSocket URLs", strings_of(v, "ws_connect_urls"));

  if (v.contains("jetstream") && v["jetstream"].is_object() && v["jetstream"].contains("config") &&
      !str(v["jetstream"]["config"], "store_dir").empty()) {
    const json& cfg = v["jetstream"]["config"];
    json st = v["jetstream"].value("stats", json::object());
    json api = st.value("api", json::object());
    cols.section("JetStream");
    cols.add("Domain", str(cfg, "domain"));
    cols.add("Storage Directory", str(cfg, "store_dir"));
    cols.add("Max Memory", ibytes(static_cast<uint64_t>(num(cfg, "max_memory"))));
    cols.add("Max File", ibytes(static_cast<uint64_t>(num(cfg, "max_storage"))));
    cols.add("Active Accounts", comma(num(st, "accounts")));
    cols.add("Memory In Use", ibytes(static_cast<uint64_t>(num(st, "memory"))));
    cols.add("File In Use", ibytes(static_cast<uint64_t>(num(st, "storage"))));
    cols.add("API Requests", comma(num(api, "total")));
    cols.add("API Errors", comma(num(api, "errors")));
  }

  cols.section("Limits");
  cols.add("Max Conn", comma(num(v, "max_connections")));
  cols.add("Max Subs", comma(num(v, "max_subscriptions")));
  cols.add("Max Payload", ibytes(static_cast<uint64_t>(num(v, "max_payload"))));
  cols.add("TLS Timeout", human_duration(static_cast<int64_t>(v.value("tls_timeout", 0.0)) * 1000000000LL));
  int64_t wd = num(v, "write_deadline");
  cols.add("Write Deadline", human_duration((wd + 500000) / 1000000 * 1000000));  // rounded to the millisecond

  cols.section("Statistics");
  char cpu[64];
  std::snprintf(cpu, sizeof cpu, "%lld %.2f%%", static_cast<long long>(num(v, "cores")), v.value("cpu", 0.0));
  cols.add("CPU Cores", cpu);
  cols.add("Memory", ibytes(static_cast<uint64_t>(num(v, "mem"))));
  cols.add("Connections", comma(num(v, "connections")));
  cols.add("Subscriptions", comma(num(v, "subscriptions")));
  cols.add("Messages", comma(num(v, "in_msgs")) + " in " + comma(num(v, "out_msgs")) + " out");
  cols.add("Bytes", ibytes(static_cast<uint64_t>(num(v, "in_bytes"))) + " in " +
                        ibytes(static_cast<uint64_t>(num(v, "out_bytes"))) + " out");
  cols.add("Slow Consumers", comma(num(v, "slow_consumers")));

  json cluster = v.value("cluster", json::object());
  if (!strings_of(cluster, "urls").empty()) {
    cols.section("Cluster");
    cols.add("Name", str(cluster, "name"));
    auto tags = strings_of(v, "tags");
    if (!tags.empty()) {
      std::string t;
      for (auto& x : tags) t += (t.empty() ? "" : ", ") + x;
      cols.add("Tags", t);
    }
    cols.add("Host", str(cluster, "addr") + ":" + std::to_string(num(cluster, "cluster_port")));
    cols.add_list("URLs", strings_of(cluster, "urls"));
  }

  json gw = v.value("gateway", json::object());
  if (gw.contains("gateways") && gw["gateways"].is_array() && !gw["gateways"].empty()) {
    cols.section("Super Cluster");
    cols.add("Name", str(gw, "name"));
    cols.add("Host", str(gw, "host") + ":" + std::to_string(num(gw, "port")));
    std::vector<std::string> names;
    for (auto& g : gw["gateways"]) names.push_back(str(g, "name"));
    std::sort(names.begin(), names.end());
    cols.add_list("Clusters", names);
  }
  std::cout << cols.render();
}

int server_info(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json req = json::object();
  std::string subj = "$SYS.REQ.SERVER.PING.VARZ";
  std::string target = inv.arg(0);
  // natscli treats a 56-character upper-case argument as a server ID, anything else as a name.
  bool is_id = target.size() == 56 && std::none_of(target.begin(), target.end(), [](char ch) { return ch >= 'a' && ch <= 'z'; });
  if (is_id) subj = "$SYS.REQ.SERVER." + target + ".VARZ";
  else if (!target.empty()) req["server_name"] = target;
  json resp;
  try {
    collect(c, subj, req.dump(), 1, [&](const std::string& data) { resp = parse_or_fail(data); });
  } catch (const CliError&) {
    resp = nullptr;
  }
  if (resp.is_null()) throw CliError("no results received, ensure the account used has system privileges and appropriate permissions");
  if (resp.contains("error"))
    throw CliError("invalid response received: " + resp["error"].dump());
  if (!resp.contains("data")) throw CliError("no data received in response: " + resp.dump());
  const json& v = resp["data"];
  if (inv.on("json")) {
    print_json(v);
    return 0;
  }
  render_varz(v);
  return 0;
}

}  // namespace

void register_server_commands(Registry& r) {
  r.group({"server"}, "Server information", {"srv"});
  FlagSpec json_flag{"json", 'j', true, "Produce JSON output", "", ""};
  r.add({{"server", "list"}, {"ls"}, "List known servers", {{"expect", "How many servers to expect", false}},
         {json_flag,
          {"sort", 0, false, "Sort servers by a specific key (name,cluster,conns,subs,routes,gws,mem,cpu,slow,uptime,rtt)", "rtt", ""},
          {"reverse", 'R', true, "Reverse sort servers", "", ""},
          {"compact", 0, true, "Compact server names", "true", ""}},
         server_list, ""});
  r.add({{"server", "ping"}, {}, "Ping all servers", {{"expect", "How many servers to expect", false}},
         {{"id", 0, true, "Include the Server ID in the output", "", ""}}, server_ping, ""});
  r.add({{"server", "info"}, {"i"}, "Show information about a single server", {{"server", "Server ID or Name to inspect", false}},
         {json_flag}, server_info, ""});
  r.group({"server", "report"}, "Report on various server metrics");
  r.add({{"server", "report", "jetstream"}, {"js"}, "Report on JetStream activity", {},
         {json_flag, {"account", 0, false, "Produce the report for a specific account", "", ""},
          {"compact", 0, true, "Compact server names", "true", ""}},
         report_jetstream, ""});
  r.add({{"server", "report", "connections"}, {"conn", "connz", "conns"}, "Report on connections", {},
         {json_flag, {"account", 0, false, "Limit report to a specific account", "", ""},
          {"subject", 0, false, "Limits responses only to those connections with interest in a subject", "", ""},
          {"sort", 0, false, "Sort by a specific property (in-bytes,out-bytes,in-msgs,out-msgs,cid,subs)", "subs", ""},
          {"top", 0, false, "Limit results to the top results", "1000", ""}},
         report_connections, ""});
}

}  // namespace nats::cli
