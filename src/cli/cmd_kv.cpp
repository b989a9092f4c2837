// `nats kv ...`: Key-Value buckets as ADR-8 lays them out over JetStream — stream KV_<bucket>
// with subjects $KV.<bucket>.>, history as max_msgs_per_subject, deletes as KV-Operation
// markers — driven through the $JS.API directly.
#include <csignal>
#include <ctime>
#include <iostream>

#include "cli/columns.h"
#include "cli/command.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "cli/js_util.h"
#include "cli/table.h"

using nlohmann::json;

namespace nats::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

std::string stream_of(const std::string& b) { return "KV_" + b; }
std::string subject_of(const std::string& b, const std::string& k) { return "$KV." + b + "." + k; }

bool valid_bucket(const std::string& b) {
  if (b.empty()) return false;
  for (char c : b)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

json bucket_info(Connection& c, const std::string& b) {
  try {
    return js_api(c, "STREAM.INFO." + stream_of(b), json::object());
  } catch (const CliError& e) {
    if (std::string(e.what()).find("10059") != std::string::npos) throw CliError("nats: bucket not found");
    throw;
  }
}

void render_bucket(const std::string& b, const json& info) {
  const json& cfg = info["config"];
  const json& st = info["state"];
  Columns cols("Information for Key-Value Store Bucket " + b + " created " + local_time(info.value("created", "")));
  cols.section("Configuration");
  cols.add("Bucket Name", b);
  cols.add("History Kept", comma(cfg.value("max_msgs_per_subject", 1LL)));
  int64_t ttl = cfg.value("max_age", 0LL);
  cols.add("Values Stored", comma(st.value("messages", 0LL)));
  cols.add("Backing Store Kind", "JetStream");
  cols.add("Bucket Size", ibytes(st.value("bytes", 0ULL)));
  cols.add("Maximum Bucket Size", cfg.value("max_bytes", -1LL) <= 0 ? "unlimited" : ibytes(cfg.value("max_bytes", 0ULL)));
  cols.add("Maximum Value Size", cfg.value("max_msg_size", -1LL) <= 0 ? "unlimited" : ibytes(cfg.value("max_msg_size", 0ULL)));
  cols.add("Maximum Age", ttl <= 0 ? "unlimited" : human_duration(ttl));
  cols.add("JetStream Stream", cfg.value("name", ""));
  cols.add("Storage", cfg.value("storage", "file") == "memory" ? "Memory" : "File");
  add_republish_line(cols, cfg);
  // Where a mirror or sourcing bucket copies from, as natscli shows it.
  auto origin = [&](const json& si, const char* label) {
    std::string name = si.value("name", "");
    cols.add(label, name.rfind("KV_", 0) == 0 ? name.substr(3) : name);
    if (si.contains("external") && si["external"].is_object())
      cols.add("External API", si["external"].value("api", ""));
    int64_t active = si.value("active", -1LL);
    cols.add("Last Seen", active > 0 ? human_duration(active) : "never");
    cols.add("Lag", comma(si.value("lag", 0LL)));
  };
  if (info.contains("mirror") && info["mirror"].is_object()) {
    cols.section("Mirror Information");
    origin(info["mirror"], "Origin Bucket");
  }
  if (info.contains("sources") && info["sources"].is_array() && !info["sources"].empty()) {
    cols.section("Sources Information");
    for (const auto& si : info["sources"]) origin(si, "Source Bucket");
  }
  std::cout << cols.render() << std::endl;
}

// --mirror BUCKET [--mirror-domain D] / --source BUCKET (repeatable), as natscli with the
// 2.9-era nats.go builds them: the stream copies KV_<bucket> (a mirror also serves direct
// gets for it) and takes no subjects of its own.
void apply_kv_origin_flags(const Invocation& inv, json& cfg) {
  if (!inv.has("mirror") && !inv.has("source")) {
    if (inv.has("mirror-domain")) throw CliError("--mirror-domain needs --mirror");
    return;
  }
  if (inv.has("mirror") && inv.has("source")) throw CliError("a bucket cannot both mirror and source other buckets");
  auto origin = [](const std::string& bucket) {
    if (!valid_bucket(bucket.rfind("KV_", 0) == 0 ? bucket.substr(3) : bucket))
      throw CliError("invalid bucket name \"" + bucket + "\"");
    return bucket.rfind("KV_", 0) == 0 ? bucket : stream_of(bucket);
  };
  cfg.erase("subjects");
  if (inv.has("mirror")) {
    json m = {{"name", origin(inv.get("mirror"))}};
    if (inv.has("mirror-domain")) m["external"] = {{"api", "$JS." + inv.get("mirror-domain") + ".API"}};
    cfg["mirror"] = m;
    cfg["mirror_direct"] = true;
    return;
  }
  if (inv.has("mirror-domain")) throw CliError("--mirror-domain needs --mirror");
  json sources = json::array();
  for (const auto& name : split_list(inv.all("source"))) sources.push_back({{"name", origin(name)}});
  cfg["sources"] = sources;
}

int kv_add(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string b = inv.arg(0);
  if (!valid_bucket(b)) throw CliError("invalid bucket name \"" + b + "\"");
  int64_t history = inv.integer("history", 1);
  if (history < 1 || history > 64) throw CliError("history must be between 1 and 64");
  int64_t ttl = 0;
  if (inv.has("ttl") && !parse_duration(inv.get("ttl"), ttl)) throw CliError("invalid --ttl");
  int64_t dupe = 120000000000LL;
  if (ttl > 0 && ttl < dupe) dupe = ttl;
  int64_t max_bytes = -1, max_value = -1;
  if (inv.has("max-bucket-size") && !parse_bytes(inv.get("max-bucket-size"), max_bytes)) throw CliError("invalid --max-bucket-size");
  if (inv.has("max-value-size") && !parse_bytes(inv.get("max-value-size"), max_value)) throw CliError("invalid --max-value-size");
  std::string storage = inv.get("storage", "file");
  if (storage != "file" && storage != "memory") throw CliError("invalid storage \"" + storage + "\"");
  json cfg = {{"name", stream_of(b)}, {"subjects", json::array({"$KV." + b + ".>"})}, {"retention", "limits"},
              {"max_consumers", -1}, {"max_msgs", -1}, {"max_bytes", max_bytes}, {"max_age", ttl},
              {"max_msgs_per_subject", history}, {"max_msg_size", max_value}, {"discard", "new"},
              {"storage", storage}, {"num_replicas", inv.integer("replicas", 1)}, {"duplicate_window", dupe},
              {"deny_delete", true}, {"deny_purge", false}, {"allow_rollup_hdrs", true}, {"allow_direct", true}};
  if (inv.has("description")) cfg["description"] = inv.get("description");
  if (auto rp = republish_from_flags(inv); !rp.is_null()) cfg["republish"] = rp;
  apply_kv_origin_flags(inv, cfg);
  json r = js_api(c, "STREAM.CREATE." + stream_of(b), cfg);
  render_bucket(b, r);
  return 0;
}

int kv_info(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string b = inv.arg(0);
  render_bucket(b, bucket_info(c, b));
  return 0;
}

int kv_put(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string b = inv.arg(0), k = inv.arg(1), v = inv.arg(2);
  bucket_info(c, b);
  js_publish(c, subject_of(b, k), v);
  std::cout << v << std::endl;
  return 0;
}

// The bucket whose subjects hold a bucket's keys: a mirror bucket stores its origin's
// subjects ($KV.<origin>.<key>), so its keys are read under that name, as nats.go does for
// a bucket whose stream mirrors another (also with an external API prefix).
std::string keys_bucket(const json& info, const std::string& b) {
  const json& cfg = info.contains("config") ? info["config"] : json::object();
  if (!cfg.contains("mirror") || !cfg["mirror"].is_object()) return b;
  std::string origin = cfg["mirror"].value("name", "");
  return origin.rfind("KV_", 0) == 0 ? origin.substr(3) : b;
}

// Latest entry for a key of bucket b (its keys under kb's subjects); false when absent or deleted.
bool latest(Connection& c, const std::string& b, const std::string& kb, const std::string& k, StoredMsg& m) {
  if (!get_stored(c, stream_of(b), json{{"last_by_subj", subject_of(kb, k)}}, m)) return false;
  std::string op = m.header("KV-Operation");
  return op != "DEL" && op != "PURGE";
}

int kv_get(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string b = inv.arg(0), k = inv.arg(1);
  std::string kb = keys_bucket(bucket_info(c, b), b);
  StoredMsg m;
  if (!latest(c, b, kb, k, m)) throw CliError("nats: key not found");
  if (inv.on("raw")) {
    std::cout << m.data;
    return 0;
  }
  std::cout << b << " > " << k << " revision: " << m.seq << " created @ " << local_time(m.time) << "\n\n"
            << m.data << "\n\n";
  return 0;
}

int kv_del(Invocation& inv) {
  if (!inv.on("force")) throw CliError("cannot ask for confirmation without a terminal, use --force");
  Connection c(resolve_settings(inv));
  std::string b = inv.arg(0);
  if (inv.args.size() < 2) {  // no key: delete the bucket
    js_api(c, "STREAM.DELETE." + stream_of(b), json::object());
    return 0;
  }
  bucket_info(c, b);
  js_publish(c, subject_of(b, inv.arg(1)), "", {{"KV-Operation", "DEL"}});
  return 0;
}

std::vector<std::string> keys_of(Connection& c, const std::string& b) {
  std::string kb = keys_bucket(bucket_info(c, b), b);
  json info = js_api(c, "STREAM.INFO." + stream_of(b), json{{"subjects_filter", "$KV." + kb + ".>"}});
  std::vector<std::string> keys;
  const json& st = info["state"];
  if (!st.contains("subjects") || !st["subjects"].is_object()) return keys;
  std::string prefix = "$KV." + kb + ".";
  for (auto& [subj, _] : st["subjects"].items()) {
    std::string k = subj.substr(prefix.size());
    StoredMsg m;
    if (latest(c, b, kb, k, m)) keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

int kv_ls(Invocation& inv) {
  Connection c(resolve_settings(inv));
  if (!inv.args.empty()) {
    bucket_info(c, inv.arg(0));
    auto keys = keys_of(c, inv.arg(0));
    if (keys.empty()) {
      std::cout << "No keys found in bucket\n";
      return 0;
    }
    for (auto& k : keys) std::cout << k << "\n";
    return 0;
  }
  std::vector<std::string> buckets;
  for (auto& n : stream_names(c))
    if (n.rfind("KV_", 0) == 0) buckets.push_back(n.substr(3));
  if (inv.on("names")) {
    for (auto& b : buckets) std::cout << b << "\n";
    return 0;
  }
  if (buckets.empty()) {
    std::cout << "No Key-Value buckets found\n";
    return 0;
  }
  Table t("Key-Value Buckets");
  t.add_headers({"Bucket", "Description", "Created", "Size", "Values", "Last Update"});
  for (auto& b : buckets) {
    json info = bucket_info(c, b);
    const json& st = info["state"];
    t.add_row({b, info["config"].value("description", ""), local_time(info.value("created", "")),
               ibytes(st.value("bytes", 0ULL)), comma(st.value("messages", 0LL)),
               st.value("messages", 0) == 0 ? "never" : local_time(st.value("last_ts", ""))});
  }
  std::cout << t.render();
  return 0;
}

int kv_history(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string b = inv.arg(0), k = inv.arg(1);
  std::string kb = keys_bucket(bucket_info(c, b), b);
  Table t("History for " + b + " > " + k);
  t.add_headers({"Key", "Revision", "Op", "Created", "Length", "Value"});
  uint64_t seq = 1;
  int n = 0;
  StoredMsg m;
  while (get_stored(c, stream_of(b), json{{"seq", seq}, {"next_by_subj", subject_of(kb, k)}}, m)) {
    std::string op = m.header("KV-Operation");
    if (op.empty()) op = "PUT";
    std::string v = m.data.size() > 40 ? m.data.substr(0, 37) + "..." : m.data;
    t.add_row({k, static_cast<int64_t>(m.seq), op, local_time(m.time), static_cast<int64_t>(m.data.size()), v});
    seq = m.seq + 1;
    ++n;
  }
  if (n == 0) throw CliError("nats: key not found");
  std::cout << t.render();
  return 0;
}

// Status 100 control messages on a push consumer: a flow-control request carries a reply
// subject that must be answered (an empty message) or the server stops delivering; an idle
// heartbeat may name a stalled flow-control subject in Nats-Consumer-Stalled, answered the same way.
void answer_control(Connection& c, natsMsg* m) {
  const char* reply = natsMsg_GetReply(m);
  if (reply && *reply) natsConnection_Publish(c.get(), reply, nullptr, 0);
  const char* stalled = nullptr;
  if (natsMsgHeader_Get(m, "Nats-Consumer-Stalled", &stalled) == NATS_OK && stalled && *stalled)
    natsConnection_Publish(c.get(), stalled, nullptr, 0);
}

// The stored time of a delivered message, from its $JS.ACK reply subject
// ($JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>, optionally with a domain
// and account hash before the stream), as local "2006-01-02 15:04:05".
std::string delivery_time(natsMsg* m) {
  const char* reply = natsMsg_GetReply(m);
  std::vector<std::string> t;
  if (reply) {
    std::string r = reply;
    size_t start = 0;
    for (size_t d; (d = r.find('.', start)) != std::string::npos; start = d + 1) t.push_back(r.substr(start, d - start));
    t.push_back(r.substr(start));
  }
  int64_t ns = 0;
  if (t.size() >= 9 && t[0] == "$JS" && t[1] == "ACK") {
    const std::string& ts = t.size() == 9 ? t[7] : t.size() >= 12 ? t[9] : std::string();
    try { ns = std::stoll(ts); } catch (const std::exception&) { ns = 0; }
  }
  std::time_t secs = ns ? static_cast<std::time_t>(ns / 1000000000LL) : std::time(nullptr);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

int kv_watch(Invocation& inv) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Connection c(resolve_settings(inv));
  std::string b = inv.arg(0), k = inv.arg(1, ">");
  bucket_info(c, b);
  std::string inbox = c.new_inbox();
  natsSubscription* sub = nullptr;
  check(natsConnection_SubscribeSync(&sub, c.get(), inbox.c_str()));
  natsSubscription_SetPendingLimits(sub, -1, -1);
  // The ordered push consumer nats.go's KV watcher creates: flow control and idle heartbeats
  // on, so the server paces delivery to us and we must answer its flow-control requests.
  json cfg = {{"deliver_subject", inbox}, {"deliver_policy", "last_per_subject"}, {"ack_policy", "none"},
              {"filter_subject", subject_of(b, k)}, {"replay_policy", "instant"}, {"max_deliver", 1},
              {"ack_wait", 22LL * 3600 * 1000000000LL}, {"flow_control", true}, {"idle_heartbeat", 5000000000LL},
              {"mem_storage", true}, {"num_replicas", 1}};
  json created = js_api(c, "CONSUMER.CREATE." + stream_of(b), json{{"stream_name", stream_of(b)}, {"config", cfg}});
  int64_t limit = inv.integer("count", 0), n = 0;
  std::string prefix = "$KV." + b + ".";
  while (!g_stop && (limit == 0 || n < limit)) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub, 200);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) break;
    MsgPtr msg(m);
    const char* st = nullptr;
    if (natsMsgHeader_Get(m, "Status", &st) == NATS_OK && st) {
      answer_control(c, m);
      continue;
    }
    const char* op = nullptr;
    std::string ops = natsMsgHeader_Get(m, "KV-Operation", &op) == NATS_OK && op ? op : "PUT";
    std::string subj = natsMsg_GetSubject(m);
    std::string key = subj.rfind(prefix, 0) == 0 ? subj.substr(prefix.size()) : subj;
    std::cout << "[" << delivery_time(m) << "] " << ops << " " << b << " > " << key;
    if (ops == "PUT") std::cout << ": " << msg.data();
    std::cout << std::endl;
    ++n;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  try {
    js_api(c, "CONSUMER.DELETE." + stream_of(b) + "." + created.value("name", ""), json::object());
  } catch (const CliError&) {
  }
  return 0;
}

}  // namespace

void register_kv_commands(Registry& r) {
  r.group({"kv"}, "Interacts with a JetStream based Key-Value store");
  std::vector<FlagSpec> add_flags = {
      {"history", 0, false, "How many historic values to keep per key", "1", ""},
      {"ttl", 0, false, "How long to keep values for", "", ""},
      {"replicas", 0, false, "How many replicas of the data to store", "1", ""},
      {"max-value-size", 0, false, "Maximum size for any single value", "", ""},
      {"max-bucket-size", 0, false, "Maximum size for the bucket", "", ""},
      {"storage", 0, false, "Storage backend to use (file, memory)", "file", ""},
      {"description", 0, false, "A description for the bucket", "", ""},
      {"mirror", 0, false, "Creates a mirror of a different bucket", "", ""},
      {"mirror-domain", 0, false, "When mirroring find the bucket in a different domain", "", ""},
      {"source", 0, false, "Source from a different bucket (repeatable)", "", ""}};
  for (auto& f : republish_flags()) add_flags.push_back(f);
  r.add({{"kv", "add"}, {"new"}, "Adds a new KV Store Bucket", {{"bucket", "The bucket to act on", true}}, add_flags,
         kv_add, ""});
  r.add({{"kv", "info"}, {}, "View the status of a KV store", {{"bucket", "The bucket to act on", true}}, {}, kv_info,
         ""});
  r.add({{"kv", "put"}, {}, "Puts a value into a key",
         {{"bucket", "The bucket to act on", true}, {"key", "The key to act on", true}, {"value", "The value to store", false}},
         {}, kv_put, ""});
  r.add({{"kv", "get"}, {}, "Gets a value for a key",
         {{"bucket", "The bucket to act on", true}, {"key", "The key to act on", true}},
         {{"raw", 0, true, "Show only the value string", "", ""}}, kv_get, ""});
  r.add({{"kv", "del"}, {"rm"}, "Deletes a key or the entire bucket",
         {{"bucket", "The bucket to act on", true}, {"key", "The key to act on", false}},
         {{"force", 'f', true, "Act without confirmation", "", ""}}, kv_del, ""});
  r.add({{"kv", "ls"}, {"list"}, "List available buckets or the keys in a bucket",
         {{"bucket", "The bucket to list the keys", false}},
         {{"names", 'n', true, "Show just the bucket names", "", ""}}, kv_ls, ""});
  r.add({{"kv", "history"}, {}, "Shows the full history for a key",
         {{"bucket", "The bucket to act on", true}, {"key", "The key to act on", true}}, {}, kv_history, ""});
  r.add({{"kv", "watch"}, {}, "Watch the bucket or a specific key for updated",
         {{"bucket", "The bucket to act on", true}, {"key", "The key to act on", false}},
         {{"count", 0, false, "Stop after this many updates", "", ""}}, kv_watch, ""});
}

}  // namespace nats::cli
