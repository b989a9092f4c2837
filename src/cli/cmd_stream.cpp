// `nats stream ...`, `nats consumer ...` and `nats account info`, talking to the $JS.API JSON
// API directly (ADR-1 subjects) with flags for the common settings and no interactive prompts.
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/columns.h"
#include "cli/command.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "cli/js_util.h"
#include "cli/table.h"

using nlohmann::json;

namespace nats::cli {
namespace {

std::string title_case(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  for (size_t i = 1; i < s.size(); ++i) if (s[i - 1] == '_') s[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[i])));
  for (auto& ch : s) if (ch == '_') ch = ' ';
  return s;
}
std::string limit_str(int64_t v, bool bytes = false) {
  if (v <= 0) return "unlimited";
  return bytes ? ibytes(static_cast<uint64_t>(v)) : comma(v);
}
std::string dur_limit(int64_t ns) { return ns <= 0 ? "unlimited" : human_duration(ns); }

int64_t flag_bytes(const Invocation& inv, const char* f, int64_t dflt) {
  if (!inv.has(f)) return dflt;
  int64_t v;
  if (!parse_bytes(inv.get(f), v)) throw CliError("invalid value for --" + std::string(f) + ": " + inv.get(f));
  return v;
}
int64_t flag_duration(const Invocation& inv, const char* f, int64_t dflt) {
  if (!inv.has(f)) return dflt;
  std::string v = inv.get(f);
  if (v == "-1" || v == "0" || v.empty()) return 0;
  int64_t ns;
  if (!parse_duration(v, ns)) throw CliError("invalid duration for --" + std::string(f) + ": " + v);
  return ns;
}

// Applies stream flags onto cfg (used by add with defaults and by edit on the current config).
void apply_stream_flags(const Invocation& inv, json& cfg) {
  if (inv.has("subjects")) cfg["subjects"] = split_list(inv.all("subjects"));
  if (inv.has("description")) cfg["description"] = inv.get("description");
  if (inv.has("storage")) {
    std::string s = inv.get("storage");
    if (s == "file" || s == "f") cfg["storage"] = "file";
    else if (s == "memory" || s == "m" || s == "mem") cfg["storage"] = "memory";
    else throw CliError("invalid storage \"" + s + "\", expected file or memory");
  }
  if (inv.has("replicas")) cfg["num_replicas"] = inv.integer("replicas", 1);
  if (inv.has("cluster")) cfg["placement"]["cluster"] = inv.get("cluster");
  if (inv.has("tag")) cfg["placement"]["tags"] = split_list(inv.all("tag"));
  if (inv.has("retention")) {
    std::string r = inv.get("retention");
    if (r == "limits" || r == "limit") cfg["retention"] = "limits";
    else if (r == "interest") cfg["retention"] = "interest";
    else if (r == "work" || r == "workq" || r == "workqueue") cfg["retention"] = "workqueue";
    else throw CliError("invalid retention \"" + r + "\", expected limits, interest or work");
  }
  if (inv.has("discard")) {
    std::string d = inv.get("discard");
    if (d != "old" && d != "new") throw CliError("invalid discard policy \"" + d + "\"");
    cfg["discard"] = d;
  }
  if (inv.has("max-msgs")) cfg["max_msgs"] = inv.integer("max-msgs", -1);
  if (inv.has("max-msgs-per-subject")) cfg["max_msgs_per_subject"] = inv.integer("max-msgs-per-subject", -1);
  if (inv.has("max-bytes")) cfg["max_bytes"] = flag_bytes(inv, "max-bytes", -1);
  if (inv.has("max-msg-size")) cfg["max_msg_size"] = flag_bytes(inv, "max-msg-size", -1);
  if (inv.has("max-consumers")) cfg["max_consumers"] = inv.integer("max-consumers", -1);
  if (inv.has("max-age")) cfg["max_age"] = flag_duration(inv, "max-age", 0);
  if (inv.has("dupe-window")) cfg["duplicate_window"] = flag_duration(inv, "dupe-window", 0);
  if (inv.has("allow-rollup")) cfg["allow_rollup_hdrs"] = inv.on("allow-rollup");
  if (inv.has("deny-delete")) cfg["deny_delete"] = inv.on("deny-delete");
  if (inv.has("deny-purge")) cfg["deny_purge"] = inv.on("deny-purge");
  if (auto rp = republish_from_flags(inv); !rp.is_null()) cfg["republish"] = rp;
}

// natscli's "Cluster Information" block: name, leader, then one "Replica" line per follower
// ("n2, current, seen 0.07s ago[, 3 operations behind]").
void add_cluster_section(Columns& cols, const json& c) {
  cols.section("Cluster Information");
  cols.add("Name", c.value("name", ""));
  cols.add("Leader", c.value("leader", ""));
  if (!c.contains("replicas") || !c["replicas"].is_array()) return;
  for (const auto& r : c["replicas"]) {
    std::string line = r.value("name", "");
    line += r.value("current", false) ? ", current" : ", outdated";
    if (r.value("offline", false)) line += ", OFFLINE";
    int64_t active = r.value("active", 0LL);
    if (active > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, ", seen %.2fs ago", static_cast<double>(active) / 1e9);
      line += buf;
    } else {
      line += ", not seen";
    }
    uint64_t lag = r.value("lag", 0ULL);
    if (lag == 1) line += ", 1 operation behind";
    else if (lag > 1) line += ", " + comma(static_cast<int64_t>(lag)) + " operations behind";
    cols.add("Replica", line);
  }
}

// --mirror STREAM / --source STREAM (repeatable): a copy of other streams, which then
// takes no subjects of its own unless --subjects is given.
void apply_origin_flags(const Invocation& inv, json& cfg) {
  if (!inv.has("mirror") && !inv.has("source")) return;
  if (!inv.has("subjects")) cfg.erase("subjects");
  if (inv.has("mirror")) cfg["mirror"] = {{"name", inv.get("mirror")}};
  if (inv.has("source")) {
    json sources = json::array();
    for (const auto& name : split_list(inv.all("source"))) sources.push_back({{"name", name}});
    cfg["sources"] = sources;
  }
}

void add_origin_section(Columns& cols, const char* title, const json& si) {
  cols.section(title);
  cols.add("Stream Name", si.value("name", ""));
  cols.add("Lag", comma(si.value("lag", 0LL)));
  int64_t active = si.value("active", -1LL);
  cols.add("Last Seen", active < 0 ? "never" : human_duration(active));
  if (si.contains("external") && si["external"].is_object()) {
    cols.add("Ext. API Prefix", si["external"].value("api", ""));
    cols.add("Ext. Delivery Prefix", si["external"].value("deliver", ""));
  }
  if (si.contains("error") && si["error"].is_object()) cols.add("Error", si["error"].value("description", ""));
}

void render_stream(const json& info) {
  const json& cfg = info["config"];
  const json& st = info["state"];
  Columns cols("Information for Stream " + cfg.value("name", "") + " created " + local_time(info.value("created", "")));
  cols.add_if_not_empty("Description", cfg.value("description", ""));
  std::string subjects;
  if (cfg.contains("subjects") && cfg["subjects"].is_array())
    for (auto& s : cfg["subjects"]) subjects += (subjects.empty() ? "" : ", ") + s.get<std::string>();
  cols.add_if_not_empty("Subjects", subjects);
  cols.add("Replicas", std::to_string(cfg.value("num_replicas", 1)));
  cols.add("Storage", cfg.value("storage", "file") == "memory" ? "Memory" : "File");
  add_republish_line(cols, cfg);
  cols.section("Options");
  std::string ret = cfg.value("retention", "limits");
  cols.add("Retention", ret == "workqueue" ? "WorkQueue" : title_case(ret));
  cols.add("Acknowledgments", cfg.value("no_ack", false) ? "false" : "true");
  cols.add("Discard Policy", title_case(cfg.value("discard", "old")));
  cols.add("Duplicate Window", human_duration(cfg.value("duplicate_window", 0LL)));
  cols.add("Direct Get", cfg.value("allow_direct", false) ? "true" : "false");
  cols.add("Allows Msg Delete", cfg.value("deny_delete", false) ? "false" : "true");
  cols.add("Allows Purge", cfg.value("deny_purge", false) ? "false" : "true");
  cols.add("Allows Rollups", cfg.value("allow_rollup_hdrs", false) ? "true" : "false");
  cols.section("Limits");
  cols.add("Maximum Messages", limit_str(cfg.value("max_msgs", -1LL)));
  cols.add("Maximum Per Subject", limit_str(cfg.value("max_msgs_per_subject", -1LL)));
  cols.add("Maximum Bytes", limit_str(cfg.value("max_bytes", -1LL), true));
  cols.add("Maximum Age", dur_limit(cfg.value("max_age", 0LL)));
  cols.add("Maximum Message Size", limit_str(cfg.value("max_msg_size", -1LL), true));
  cols.add("Maximum Consumers", limit_str(cfg.value("max_consumers", -1LL)));
  if (info.contains("cluster") && info["cluster"].is_object()) add_cluster_section(cols, info["cluster"]);
  if (info.contains("mirror") && info["mirror"].is_object()) add_origin_section(cols, "Mirror Information", info["mirror"]);
  if (info.contains("sources") && info["sources"].is_array())
    for (const auto& si : info["sources"]) add_origin_section(cols, "Source Information", si);
  cols.section("State");
  cols.add("Messages", comma(st.value("messages", 0LL)));
  cols.add("Bytes", ibytes(st.value("bytes", 0ULL)));
  cols.add("First Sequence", comma(st.value("first_seq", 0LL)) +
                                 (st.value("first_ts", "").rfind("0001", 0) == 0 || st.value("messages", 0) == 0
                                      ? "" : " @ " + local_time(st.value("first_ts", ""))));
  cols.add("Last Sequence", comma(st.value("last_seq", 0LL)) +
                                (st.value("last_ts", "").rfind("0001", 0) == 0 || st.value("messages", 0) == 0
                                     ? "" : " @ " + local_time(st.value("last_ts", ""))));
  if (st.value("num_deleted", 0) > 0) cols.add("Deleted Messages", comma(st.value("num_deleted", 0LL)));
  cols.add("Active Consumers", comma(st.value("consumer_count", 0LL)));
  if (st.value("num_subjects", 0) > 0) cols.add("Number of Subjects", comma(st.value("num_subjects", 0LL)));
  std::cout << cols.render() << std::endl;
}

json stream_info(Connection& c, const std::string& name) { return js_api(c, "STREAM.INFO." + name, json::object()); }

int stream_add(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string name = inv.arg(0);
  json cfg;
  if (inv.has("config")) {
    std::ifstream in(inv.get("config"));
    if (!in) throw CliError("could not read " + inv.get("config"));
    cfg = json::parse(in);
  } else {
    cfg = {{"name", name}, {"subjects", json::array({name})}, {"retention", "limits"}, {"max_consumers", -1},
           {"max_msgs", -1}, {"max_bytes", -1}, {"max_age", 0}, {"max_msgs_per_subject", -1}, {"max_msg_size", -1},
           {"discard", "old"}, {"storage", "file"}, {"num_replicas", 1}, {"duplicate_window", 120000000000LL},
           {"sealed", false}, {"deny_delete", false}, {"deny_purge", false}, {"allow_rollup_hdrs", false},
           {"allow_direct", true}};
  }
  if (name.empty()) name = cfg.value("name", "");
  if (name.empty()) throw CliError("a stream name is required");
  cfg["name"] = name;
  apply_stream_flags(inv, cfg);
  apply_origin_flags(inv, cfg);
  json r = js_api(c, "STREAM.CREATE." + name, cfg);
  if (inv.on("json")) { print_json(r); return 0; }
  std::cout << "Stream " << name << " was created\n\n";
  render_stream(r);
  return 0;
}

int stream_edit(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string name = inv.arg(0);
  json cfg = stream_info(c, name)["config"];
  apply_stream_flags(inv, cfg);
  json r = js_api(c, "STREAM.UPDATE." + name, cfg);
  if (inv.on("json")) { print_json(r); return 0; }
  std::cout << "Stream " << name << " was updated\n\n";
  render_stream(r);
  return 0;
}

int stream_info_cmd(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json r = stream_info(c, inv.arg(0));
  if (inv.on("json")) { print_json(r); return 0; }
  render_stream(r);
  return 0;
}

int stream_ls(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::vector<json> infos;
  int64_t offset = 0;
  while (true) {
    json req = {{"offset", offset}};
    if (inv.has("subject")) req["subject"] = inv.get("subject");
    json r = js_api(c, "STREAM.LIST", req);
    if (!r.contains("streams") || !r["streams"].is_array() || r["streams"].empty()) break;
    for (auto& s : r["streams"]) infos.push_back(s);
    offset += static_cast<int64_t>(r["streams"].size());
    if (offset >= r.value("total", 0)) break;
  }
  bool all = inv.on("all");
  std::vector<json> shown;
  for (auto& s : infos) {
    std::string n = s["config"].value("name", "");
    if (!all && (n.rfind("KV_", 0) == 0 || n.rfind("OBJ_", 0) == 0)) continue;
    shown.push_back(s);
  }
  std::sort(shown.begin(), shown.end(), [](const json& a, const json& b) {
    return a["config"].value("name", "") < b["config"].value("name", "");
  });
  if (inv.on("names")) {
    for (auto& s : shown) std::cout << s["config"].value("name", "") << "\n";
    return 0;
  }
  if (inv.on("json")) {
    json arr = json::array();
    for (auto& s : shown) arr.push_back(s["config"].value("name", ""));
    print_json(arr);
    return 0;
  }
  if (shown.empty()) {
    std::cout << "No Streams defined\n";
    return 0;
  }
  Table t("Streams");
  t.add_headers({"Name", "Description", "Created", "Messages", "Size", "Last Message"});
  for (auto& s : shown) {
    const json& st = s["state"];
    std::string last = "never";
    if (st.value("messages", 0) > 0) last = human_duration(parse_rfc3339(s.value("ts", s.value("created", ""))) > 0
        ? std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count() - parse_rfc3339(st.value("last_ts", ""))) : 0);
    t.add_row({s["config"].value("name", ""), s["config"].value("description", ""), local_time(s.value("created", "")),
               comma(st.value("messages", 0LL)), ibytes(st.value("bytes", 0ULL)), last});
  }
  std::cout << t.render();
  return 0;
}

int stream_rm(Invocation& inv) {
  if (!inv.on("force")) throw CliError("cannot ask for confirmation without a terminal, use --force");
  Connection c(resolve_settings(inv));
  js_api(c, "STREAM.DELETE." + inv.arg(0), json::object());
  return 0;
}

int stream_purge(Invocation& inv) {
  if (!inv.on("force")) throw CliError("cannot ask for confirmation without a terminal, use --force");
  Connection c(resolve_settings(inv));
  json req = json::object();
  if (inv.has("subject")) req["filter"] = inv.get("subject");
  if (inv.has("seq")) req["seq"] = inv.integer("seq", 0);
  if (inv.has("keep")) req["keep"] = inv.integer("keep", 0);
  js_api(c, "STREAM.PURGE." + inv.arg(0), req);
  render_stream(stream_info(c, inv.arg(0)));
  return 0;
}

void print_stored(const std::string& stream, const StoredMsg& m) {
  std::cout << "Item: " << stream << "#" << m.seq << " received " << local_time(m.time) << " on Subject " << m.subject
            << "\n\n";
  if (!m.headers.empty()) {
    std::cout << "Headers:\n\n";
    for (auto& [k, v] : m.headers) std::cout << "  " << k << ": " << v << "\n";
    std::cout << "\n";
  }
  std::cout << m.data << "\n";
  if (!m.data.empty() && m.data.back() != '\n') std::cout << "\n";
}

int stream_get(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json req;
  if (inv.has("last-for")) req = {{"last_by_subj", inv.get("last-for")}};
  else if (inv.args.size() > 1) req = {{"seq", std::stoll(inv.arg(1))}};
  else throw CliError("a sequence or --last-for is required");
  StoredMsg m;
  if (!get_stored(c, inv.arg(0), req, m)) throw CliError("no message found");
  if (inv.on("json")) {
    json j = {{"subject", m.subject}, {"seq", m.seq}, {"time", m.time}, {"data", base64_encode(m.data)}};
    print_json(j);
    return 0;
  }
  if (inv.on("raw")) { std::cout << m.data << std::endl; return 0; }
  print_stored(inv.arg(0), m);
  return 0;
}

int stream_view(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json info = stream_info(c, inv.arg(0));
  uint64_t seq = info["state"].value("first_seq", 1ULL);
  uint64_t last = info["state"].value("last_seq", 0ULL);
  int64_t limit = inv.integer("count", 0);
  std::string filter = inv.get("subject");
  int64_t shown = 0;
  if (info["state"].value("messages", 0) == 0) {
    std::cout << "No messages in stream " << inv.arg(0) << "\n";
    return 0;
  }
  while (seq <= last && (limit == 0 || shown < limit)) {
    json req = {{"seq", seq}};
    if (!filter.empty()) req["next_by_subj"] = filter;
    StoredMsg m;
    if (!get_stored(c, inv.arg(0), req, m)) {
      if (!filter.empty()) break;
      ++seq;
      continue;
    }
    ++shown;
    if (inv.on("raw")) {
      std::cout << m.data << "\n";
    } else {
      std::cout << "[" << m.seq << "] Subject: " << m.subject << " Received: " << local_time(m.time) << "\n\n";
      for (auto& [k, v] : m.headers) std::cout << "  " << k << ": " << v << "\n";
      if (!m.headers.empty()) std::cout << "\n";
      std::cout << m.data << "\n\n";
    }
    seq = m.seq + 1;
  }
  return 0;
}

// --- consumers ---

std::string cap(const std::string& s) { return title_case(s); }

void render_consumer(const json& info) {
  const json& cfg = info["config"];
  Columns cols("Information for Consumer " + info.value("stream_name", "") + " > " + info.value("name", "") +
               " created " + local_time(info.value("created", "")));
  cols.section("Configuration");
  cols.add("Name", info.value("name", ""));
  if (cfg.contains("durable_name")) cols.add("Durable Name", cfg.value("durable_name", ""));
  cols.add_if_not_empty("Description", cfg.value("description", ""));
  if (cfg.contains("deliver_subject")) cols.add("Delivery Subject", cfg.value("deliver_subject", ""));
  else cols.add("Pull Mode", "true");
  cols.add_if_not_empty("Filter Subject", cfg.value("filter_subject", ""));
  cols.add("Deliver Policy", cap(cfg.value("deliver_policy", "all")));
  cols.add("Ack Policy", cap(cfg.value("ack_policy", "explicit")));
  if (cfg.value("ack_policy", "") != "none") cols.add("Ack Wait", human_duration(cfg.value("ack_wait", 0LL)));
  cols.add("Replay Policy", cap(cfg.value("replay_policy", "instant")));
  if (cfg.value("max_deliver", -1) > 0) cols.add("Maximum Deliveries", comma(cfg.value("max_deliver", 0LL)));
  if (cfg.value("max_ack_pending", 0) > 0) cols.add("Max Ack Pending", comma(cfg.value("max_ack_pending", 0LL)));
  if (cfg.value("max_waiting", 0) > 0) cols.add("Max Waiting Pulls", comma(cfg.value("max_waiting", 0LL)));
  if (info.contains("cluster") && info["cluster"].is_object()) add_cluster_section(cols, info["cluster"]);
  if (info.contains("mirror") && info["mirror"].is_object()) add_origin_section(cols, "Mirror Information", info["mirror"]);
  if (info.contains("sources") && info["sources"].is_array())
    for (const auto& si : info["sources"]) add_origin_section(cols, "Source Information", si);
  cols.section("State");
  auto seqs = [](const json& j) {
    return "Consumer sequence: " + comma(j.value("consumer_seq", 0LL)) + " Stream sequence: " + comma(j.value("stream_seq", 0LL));
  };
  cols.add("Last Delivered Message", seqs(info.value("delivered", json::object())));
  cols.add("Acknowledgment Floor", seqs(info.value("ack_floor", json::object())));
  std::string oa = comma(info.value("num_ack_pending", 0LL));
  if (cfg.value("max_ack_pending", 0) > 0) oa += " out of maximum " + comma(cfg.value("max_ack_pending", 0LL));
  cols.add("Outstanding Acks", oa);
  cols.add("Redelivered Messages", comma(info.value("num_redelivered", 0LL)));
  cols.add("Unprocessed Messages", comma(info.value("num_pending", 0LL)));
  if (!cfg.contains("deliver_subject"))
    cols.add("Waiting Pulls", comma(info.value("num_waiting", 0LL)) + " of maximum " + comma(cfg.value("max_waiting", 0LL)));
  std::cout << cols.render() << std::endl;
}

int consumer_add(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string stream = inv.arg(0), name = inv.arg(1);
  if (name.empty()) name = inv.get("durable");
  json cfg;
  if (inv.has("config")) {
    std::ifstream in(inv.get("config"));
    if (!in) throw CliError("could not read " + inv.get("config"));
    cfg = json::parse(in);
  } else {
    cfg = {{"deliver_policy", "all"}, {"ack_policy", "explicit"}, {"ack_wait", 30000000000LL}, {"max_deliver", -1},
           {"replay_policy", "instant"}, {"max_ack_pending", 1000}, {"max_waiting", 512}};
  }
  if (!name.empty() && !inv.on("ephemeral")) cfg["durable_name"] = name;
  if (!name.empty()) cfg["name"] = name;
  if (inv.has("description")) cfg["description"] = inv.get("description");
  if (inv.has("filter")) cfg["filter_subject"] = inv.get("filter");
  if (inv.has("ack")) {
    std::string a = inv.get("ack");
    if (a != "none" && a != "all" && a != "explicit") throw CliError("invalid ack policy \"" + a + "\"");
    cfg["ack_policy"] = a;
  }
  if (inv.has("deliver")) {
    std::string d = inv.get("deliver");
    if (d == "all" || d == "last" || d == "new") cfg["deliver_policy"] = d;
    else if (d == "last_per_subject" || d == "subject") cfg["deliver_policy"] = "last_per_subject";
    else {
      cfg["deliver_policy"] = "by_start_sequence";
      cfg["opt_start_seq"] = std::stoll(d);
    }
  }
  if (inv.has("replay")) cfg["replay_policy"] = inv.get("replay");
  if (inv.has("max-deliver")) cfg["max_deliver"] = inv.integer("max-deliver", -1);
  if (inv.has("max-pending")) cfg["max_ack_pending"] = inv.integer("max-pending", 1000);
  if (inv.has("wait")) cfg["ack_wait"] = flag_duration(inv, "wait", 30000000000LL);
  if (inv.has("target")) {
    cfg["deliver_subject"] = inv.get("target");
    cfg.erase("max_waiting");
  }
  json req = {{"stream_name", stream}, {"config", cfg}};
  std::string subj = name.empty() ? "CONSUMER.CREATE." + stream : "CONSUMER.CREATE." + stream + "." + name;
  json r = js_api(c, subj, req);
  if (inv.on("json")) { print_json(r); return 0; }
  render_consumer(r);
  return 0;
}

int consumer_info(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json r = js_api(c, "CONSUMER.INFO." + inv.arg(0) + "." + inv.arg(1), json::object());
  if (inv.on("json")) { print_json(r); return 0; }
  render_consumer(r);
  return 0;
}

int consumer_ls(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::vector<json> list;
  int64_t offset = 0;
  while (true) {
    json r = js_api(c, "CONSUMER.LIST." + inv.arg(0), json{{"offset", offset}});
    if (!r.contains("consumers") || !r["consumers"].is_array() || r["consumers"].empty()) break;
    for (auto& x : r["consumers"]) list.push_back(x);
    offset += static_cast<int64_t>(r["consumers"].size());
    if (offset >= r.value("total", 0)) break;
  }
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) { return a.value("name", "") < b.value("name", ""); });
  if (inv.on("names")) {
    for (auto& x : list) std::cout << x.value("name", "") << "\n";
    return 0;
  }
  if (inv.on("json")) {
    json arr = json::array();
    for (auto& x : list) arr.push_back(x.value("name", ""));
    print_json(arr);
    return 0;
  }
  if (list.empty()) {
    std::cout << "No Consumers defined\n";
    return 0;
  }
  Table t("Consumers");
  t.add_headers({"Name", "Description", "Created", "Ack Pending", "Unprocessed", "Last Delivery"});
  for (auto& x : list)
    t.add_row({x.value("name", ""), x["config"].value("description", ""), local_time(x.value("created", "")),
               comma(x.value("num_ack_pending", 0LL)), comma(x.value("num_pending", 0LL)),
               x["delivered"].value("stream_seq", 0) == 0 ? "never" : comma(x["delivered"].value("stream_seq", 0LL))});
  std::cout << t.render();
  return 0;
}

int consumer_rm(Invocation& inv) {
  if (!inv.on("force")) throw CliError("cannot ask for confirmation without a terminal, use --force");
  Connection c(resolve_settings(inv));
  js_api(c, "CONSUMER.DELETE." + inv.arg(0) + "." + inv.arg(1), json::object());
  return 0;
}

int consumer_next(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string stream = inv.arg(0), cons = inv.arg(1);
  int64_t count = inv.integer("count", 1);
  bool ack = !inv.on("no-ack");
  bool raw = inv.on("raw");
  std::string subj = (c.settings().js_domain.empty() ? std::string("$JS.API.") : "$JS." + c.settings().js_domain + ".API.") +
                     "CONSUMER.MSG.NEXT." + stream + "." + cons;
  for (int64_t i = 0; i < count; ++i) {
    std::string inbox = c.new_inbox();
    natsSubscription* sub = nullptr;
    check(natsConnection_SubscribeSync(&sub, c.get(), inbox.c_str()));
    json req = {{"batch", 1}, {"expires", c.settings().timeout_ns - 100000000}};
    std::string body = req.dump();
    natsStatus s = natsConnection_PublishRequest(c.get(), subj.c_str(), inbox.c_str(), body.data(), static_cast<int>(body.size()));
    if (s != NATS_OK) { natsSubscription_Destroy(sub); fail(s); }
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, c.settings().timeout_ns / 1000000);
    natsSubscription_Destroy(sub);
    if (s == NATS_NO_RESPONDERS) throw CliError("nats: no responders available for request");
    if (s != NATS_OK) fail(s);
    MsgPtr msg(m);
    const char* status = nullptr;
    if (natsMsgHeader_Get(m, "Status", &status) == NATS_OK && status && *status) {
      const char* desc = nullptr;
      natsMsgHeader_Get(m, "Description", &desc);
      std::string st = status;
      if (st == "404" || st == "408") throw CliError("no message received: " + std::string(desc ? desc : st));
      throw CliError("status " + st + (desc ? std::string(" ") + desc : ""));
    }
    const char* reply = natsMsg_GetReply(m);
    std::string r = reply ? reply : "";
    if (raw) {
      std::cout << msg.data() << std::endl;
    } else {
      // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (v1; v2 adds domain+hash)
      std::vector<std::string> tok;
      std::stringstream ts(r);
      for (std::string t; std::getline(ts, t, '.');) tok.push_back(t);
      size_t o = tok.size() >= 12 ? 4 : 2;
      auto at = [&](size_t k) { return o + k < tok.size() ? tok[o + k] : std::string("?"); };
      std::cout << "[" << log_prefix().substr(0, 8) << "] subj: " << natsMsg_GetSubject(m) << " / tries: " << at(2)
                << " / cons seq: " << at(4) << " / str seq: " << at(3) << " / pending: " << at(6) << "\n\n";
      auto hdrs = headers_of(m);
      for (auto& [k, v] : hdrs) std::cout << k << ": " << v << "\n";
      if (!hdrs.empty()) std::cout << "\n";
      std::cout << msg.data() << "\n\n";
    }
    if (ack && !r.empty()) {
      natsMsg* a = nullptr;
      natsMsg_Create(&a, r.c_str(), nullptr, "+ACK", 4);
      natsMsg* ar = nullptr;
      natsStatus as = natsConnection_RequestMsg(&ar, c.get(), a, c.settings().timeout_ns / 1000000);
      natsMsg_Destroy(a);
      if (ar) natsMsg_Destroy(ar);
      if (as != NATS_OK && as != NATS_NO_RESPONDERS && as != NATS_TIMEOUT) fail(as, "acknowledgement failed");
      if (!raw) std::cout << "Acknowledged message\n\n";
    }
  }
  return 0;
}

int account_info(Invocation& inv) {
  Connection c(resolve_settings(inv));
  json r;
  std::string js_err;
  try {
    r = js_api(c, "INFO", json::object());
  } catch (const CliError& e) {
    js_err = e.what();
  }
  if (inv.on("json")) { print_json(r.is_null() ? json{{"error", js_err}} : r); return 0; }
  char url[256] = {0};
  natsConnection_GetConnectedUrl(c.get(), url, sizeof url);
  char sid[128] = {0};
  natsConnection_GetConnectedServerId(c.get(), sid, sizeof sid);
  Columns cols("Account Information");
  cols.add_if_not_empty("User", c.settings().user);
  cols.add("Connected URL", url);
  cols.add("Connected Server ID", sid);
  if (r.is_null()) {
    cols.section("JetStream Account Information");
    cols.add("JetStream", "not supported in this account (" + js_err + ")");
  } else {
    cols.section("JetStream Account Information");
    cols.add("Memory", ibytes(r.value("memory", 0ULL)) + " of " + limit_str(r["limits"].value("max_memory", -1LL), true));
    cols.add("Storage", ibytes(r.value("storage", 0ULL)) + " of " + limit_str(r["limits"].value("max_storage", -1LL), true));
    cols.add("Streams", comma(r.value("streams", 0LL)) + " of " + limit_str(r["limits"].value("max_streams", -1LL)));
    cols.add("Consumers", comma(r.value("consumers", 0LL)) + " of " + limit_str(r["limits"].value("max_consumers", -1LL)));
    if (r.contains("api")) {
      cols.add("API Requests", comma(r["api"].value("total", 0LL)));
      cols.add("API Errors", comma(r["api"].value("errors", 0LL)));
    }
    cols.add_if_not_empty("Domain", r.value("domain", ""));
  }
  std::cout << cols.render() << std::endl;
  return 0;
}

}  // namespace

void show_stream_info(const json& info) { render_stream(info); }

void register_stream_commands(Registry& r) {
  FlagSpec json_flag{"json", 'j', true, "Produce JSON output", "", ""};
  FlagSpec force{"force", 'f', true, "Force the action without prompting", "", ""};
  std::vector<FlagSpec> stream_flags{
      {"subjects", 0, false, "Subjects that are consumed by the Stream", "", ""},
      {"description", 0, false, "Sets a contextual description for the stream", "", ""},
      {"storage", 0, false, "Storage backend to use (file, memory)", "", ""},
      {"replicas", 0, false, "When clustered, how many replicas of the data to create", "", ""},
      {"cluster", 0, false, "Place the stream on a specific cluster", "", ""},
      {"tag", 0, false, "Place the stream on servers that has specific tags (pass multiple times)", "", ""},
      {"retention", 0, false, "Defines a retention policy (limits, interest, work)", "", ""},
      {"discard", 0, false, "Defines the discard policy (new, old)", "", ""},
      {"max-msgs", 0, false, "Maximum amount of messages to keep", "", ""},
      {"max-msgs-per-subject", 0, false, "Maximum amount of messages to keep per subject", "", ""},
      {"max-bytes", 0, false, "Maximum bytes to keep", "", ""},
      {"max-age", 0, false, "Maximum age of messages to keep", "", ""},
      {"max-msg-size", 0, false, "Maximum size any 1 message may be", "", ""},
      {"max-consumers", 0, false, "Maximum number of consumers to allow", "", ""},
      {"dupe-window", 0, false, "Duration of the duplicate message tracking window", "", ""},
      {"allow-rollup", 0, true, "Allows roll-ups to be done by publishing messages with special headers", "", ""},
      {"deny-delete", 0, true, "Deny messages from being deleted via the API", "", ""},
      {"deny-purge", 0, true, "Deny entire stream or subject purges via the API", "", ""},
      json_flag};
  for (auto& f : republish_flags()) stream_flags.push_back(f);
  auto add_flags = stream_flags;
  add_flags.push_back({"mirror", 0, false, "Completely mirrors another stream", "", ""});
  add_flags.push_back({"source", 0, false, "Source data from other Streams, merging into this one", "", ""});
  add_flags.push_back({"defaults", 0, true, "Accept default values for all prompts", "", ""});
  add_flags.push_back({"config", 0, false, "JSON file to read configuration from", "", ""});

  r.group({"stream"}, "JetStream Stream management", {"str"});
  r.add({{"stream", "add"}, {"create", "new"}, "Create a new Stream", {{"stream", "Stream name", false}}, add_flags, stream_add, ""});
  r.add({{"stream", "edit"}, {"update"}, "Edits an existing stream", {{"stream", "Stream to edit", true}}, stream_flags,
         stream_edit, ""});
  r.add({{"stream", "info"}, {"nfo"}, "Stream information", {{"stream", "Stream to retrieve information for", true}},
         {json_flag}, stream_info_cmd, ""});
  r.add({{"stream", "ls"}, {"list"}, "List all known Streams", {},
         {json_flag, {"names", 'n', true, "Show just the stream names", "", ""},
          {"all", 'a', true, "When listing with a subject filter include all streams", "", ""},
          {"subject", 0, false, "Limit the list to streams with matching subjects", "", ""}},
         stream_ls, ""});
  r.add({{"stream", "rm"}, {"delete", "del"}, "Removes a Stream", {{"stream", "Stream name", true}}, {force}, stream_rm, ""});
  r.add({{"stream", "purge"}, {}, "Purge a Stream without deleting it", {{"stream", "Stream name", true}},
         {force, {"subject", 0, false, "Limits the purge to a specific subject", "", ""},
          {"seq", 0, false, "Purge up to but not including a specific message sequence", "", ""},
          {"keep", 0, false, "Keeps a certain number of messages after the purge", "", ""}},
         stream_purge, ""});
  r.add({{"stream", "get"}, {}, "Retrieves a specific message from a Stream",
         {{"stream", "Stream name", true}, {"id", "Message Sequence to retrieve", false}},
         {json_flag, {"last-for", 'S', false, "Retrieves the message for a specific subject", "", ""},
          {"raw", 0, true, "Show only the message data", "", ""}},
         stream_get, ""});
  r.add({{"stream", "view"}, {}, "View messages in a stream", {{"stream", "Stream name", true}},
         {{"count", 0, false, "Maximum number of messages to show", "", ""},
          {"subject", 0, false, "Filter the stream using a subject", "", ""},
          {"raw", 0, true, "Show only the message data", "", ""}},
         stream_view, ""});

  register_stream_backup_commands(r);

  r.group({"consumer"}, "JetStream Consumer management", {"con", "obs"});
  r.add({{"consumer", "add"}, {"create", "new"}, "Creates a new Consumer",
         {{"stream", "Stream name", true}, {"consumer", "Consumer name", false}},
         {json_flag, {"durable", 0, false, "Durable name (same as the consumer argument)", "", ""},
          {"filter", 0, false, "Filter Stream by subjects", "", ""},
          {"ack", 0, false, "Acknowledgment policy (none, all, explicit)", "", ""},
          {"deliver", 0, false, "Start policy (all, new, last, subject, 1h, msg sequence)", "", ""},
          {"replay", 0, false, "Replay rate (instant, original)", "", ""},
          {"max-deliver", 0, false, "Maximum amount of times a message will be delivered", "", ""},
          {"max-pending", 0, false, "Maximum pending Acks before consumers are paused", "", ""},
          {"wait", 0, false, "Acknowledgment waiting time", "", ""},
          {"target", 0, false, "Push based delivery target subject", "", ""},
          {"pull", 0, true, "Deliver messages in 'pull' mode (the default)", "", ""},
          {"ephemeral", 0, true, "Create an ephemeral Consumer", "", ""},
          {"description", 0, false, "Sets a contextual description for the consumer", "", ""},
          {"defaults", 0, true, "Accept default values for all prompts", "", ""},
          {"config", 0, false, "JSON file to read configuration from", "", ""}},
         consumer_add, ""});
  r.add({{"consumer", "info"}, {"nfo"}, "Consumer information",
         {{"stream", "Stream name", true}, {"consumer", "Consumer name", true}}, {json_flag}, consumer_info, ""});
  r.add({{"consumer", "ls"}, {"list"}, "List known Consumers", {{"stream", "Stream name", true}},
         {json_flag, {"names", 'n', true, "Show just the consumer names", "", ""}}, consumer_ls, ""});
  r.add({{"consumer", "rm"}, {"delete", "del"}, "Removes a Consumer from a Stream",
         {{"stream", "Stream name", true}, {"consumer", "Consumer name", true}}, {force}, consumer_rm, ""});
  r.add({{"consumer", "next"}, {}, "Retrieves messages from Pull Consumers without interactive prompts",
         {{"stream", "Stream name", true}, {"consumer", "Consumer name", true}},
         {{"count", 0, false, "Number of messages to try to fetch from the Pull Consumer", "1", ""},
          {"no-ack", 0, true, "Do not acknowledge the message", "", ""},
          {"raw", 'r', true, "Show only the message", "", ""}},
         consumer_next, ""});

  r.group({"account"}, "Account information and status");
  r.add({{"account", "info"}, {}, "Account information", {}, {json_flag}, account_info, ""});
}

}  // namespace nats::cli
