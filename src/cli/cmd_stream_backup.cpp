// `nats stream backup <stream> <dir>` and `nats stream restore <dir>`, as natscli (with jsm.go's
// SnapshotToDirectory / RestoreSnapshotFromDirectory) does them, so backups move between the
// two tools and between our server and 2.9.10:
//   <dir>/stream.tar.s2  the snapshot chunks exactly as the server sent them (an S2 stream)
//   <dir>/backup.json    {"config": ..., "state": ...} of the snapshot answer, as jsm.go
//                        encodes it (backup_meta.h)
// The backup acks each chunk (the server's flow control) and ends at the empty message; the
// restore sends 64 KiB chunks as requests to the restore subject and then an empty one, whose
// answer is the restored stream's create answer.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/backup_meta.h"
#include "cli/command.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "cli/js_util.h"
#include "cli/progress.h"

using nlohmann::json;

namespace nats::cli {
namespace {

constexpr int64_t kDefaultChunk = 128 * 1024;  // jsm.go's default snapshot chunk size
constexpr size_t kRestoreChunk = 64 * 1024;     // jsm.go's restore chunk size
const char* const kMemoryErr = "memory streams do not support snapshots";

// Counts the uncompressed bytes of an S2/Snappy framed stream from the chunk headers alone:
// a compressed chunk starts (after its CRC) with the block's decoded length, an uncompressed
// one holds its bytes. Fed piecewise as chunks arrive; for the summary line only.
class S2SizeCounter {
 public:
  void feed(const std::string& data) {
    pending_ += data;
    size_t off = 0;
    while (pending_.size() - off >= 4) {
      auto p = reinterpret_cast<const unsigned char*>(pending_.data()) + off;
      size_t len = p[1] | (p[2] << 8) | (p[3] << 16);
      if (pending_.size() - off < 4 + len) break;
      if (p[0] == 0x01 && len >= 4) total_ += len - 4;
      if (p[0] == 0x00 && len > 4) total_ += uvarint(p + 8, len - 4);
      off += 4 + len;
    }
    pending_.erase(0, off);
  }
  uint64_t total() const { return total_; }

 private:
  static uint64_t uvarint(const unsigned char* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 10; ++i) {
      v |= static_cast<uint64_t>(p[i] & 0x7f) << (7 * i);
      if (!(p[i] & 0x80)) return v;
    }
    return 0;
  }
  std::string pending_;
  uint64_t total_ = 0;
};

std::string header_value(natsMsg* m, const char* key) {
  const char* v = nullptr;
  return natsMsgHeader_Get(m, key, &v) == NATS_OK && v ? v : "";
}

std::string go_quote(const std::string& s) { return json(s).dump(); }

int stream_backup(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string name = inv.arg(0), dir = inv.arg(1);
  bool show_progress = inv.on("progress"), consumers = inv.on("consumers"), check_msgs = inv.on("check");
  int64_t chunk = kDefaultChunk;
  if (inv.has("chunk-size")) {
    if (!parse_bytes(inv.get("chunk-size"), chunk) || chunk <= 0)
      throw CliError("invalid value for --chunk-size: " + inv.get("chunk-size"));
  }
  json info = js_api(c, "STREAM.INFO." + name, json::object());
  if (info["config"].value("storage", "file") == "memory") throw CliError(std::string("snapshot failed: ") + kMemoryErr);

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw CliError("snapshot failed: mkdir " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  std::string data_path = dir + "/stream.tar.s2", meta_path = dir + "/backup.json";
  std::ofstream meta_out(meta_path, std::ios::binary | std::ios::trunc);
  std::ofstream data_out(data_path, std::ios::binary | std::ios::trunc);
  if (!meta_out || !data_out) throw CliError("snapshot failed: cannot create files in " + dir);

  std::string inbox = c.new_inbox();
  natsSubscription* sub = nullptr;
  check(natsConnection_SubscribeSync(&sub, c.get(), inbox.c_str()), "snapshot failed");
  natsSubscription_SetPendingLimits(sub, -1, -1);
  struct SubGuard {
    natsSubscription* s;
    ~SubGuard() { natsSubscription_Destroy(s); }
  } guard{sub};

  json req = {{"deliver_subject", inbox}, {"no_consumers", !consumers}, {"chunk_size", chunk}};
  if (check_msgs) req["jsck"] = true;
  auto start = std::chrono::steady_clock::now();
  json resp;
  try {
    resp = js_api(c, "STREAM.SNAPSHOT." + name, req);
  } catch (const CliError& e) {
    throw CliError(std::string("snapshot failed: ") + e.what());
  }
  uint64_t expected = resp["state"].value("bytes", uint64_t{0});
  std::cout << "Starting backup of Stream " << go_quote(name) << " with " << ibytes(expected) << "\n";
  bool bar = show_progress && ProgressBars::is_terminal(1);
  if (show_progress) std::cout << "\n";
  if (check_msgs) std::cout << "Health Check was requested, this can take a long time without progress reports\n\n";
  std::cout.flush();

  ProgressBars bars;
  ProgressBars::Bar* b = nullptr;
  if (bar) {
    b = &bars.add(static_cast<int64_t>(std::max<uint64_t>(expected, 1)));
    bars.start();
  }
  // natscli gives up after 5 s (or the connection timeout, if longer) without a chunk.
  int64_t idle_ms = std::max<int64_t>(5000, c.settings().timeout_ns / 1000000);
  uint64_t received = 0, chunks = 0;
  S2SizeCounter uncompressed;
  for (;;) {
    natsMsg* raw = nullptr;
    natsStatus s = natsSubscription_NextMsg(&raw, sub, idle_ms);
    if (s == NATS_TIMEOUT) throw CliError("snapshot failed: backup timed out after receiving no data for a long period");
    if (s != NATS_OK) fail(s, "snapshot failed");
    MsgPtr m(raw);
    int len = natsMsg_GetDataLength(raw);
    if (len == 0) {
      std::string status = header_value(raw, "Status");
      if (!status.empty() && status.find("204") == std::string::npos)
        throw CliError("snapshot failed: " + status + " " + header_value(raw, "Description"));
      break;
    }
    if (const char* reply = natsMsg_GetReply(raw); reply && *reply) natsConnection_Publish(c.get(), reply, nullptr, 0);
    std::string piece(natsMsg_GetData(raw), static_cast<size_t>(len));
    data_out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    if (!data_out) throw CliError("snapshot failed: failed to write " + std::to_string(len) + " bytes to " + data_path);
    received += piece.size();
    ++chunks;
    uncompressed.feed(piece);
    if (b) b->current = static_cast<int64_t>(std::min<uint64_t>(uncompressed.total(), expected));
  }
  if (b) b->current = b->total;
  bars.stop();
  data_out.close();
  meta_out << backup_meta_json(resp["config"], resp["state"]);
  meta_out.close();
  if (!meta_out || !data_out) throw CliError("snapshot failed: could not write the backup files in " + dir);

  int64_t took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nReceived " << ibytes(received) << " compressed data in " << comma(static_cast<int64_t>(chunks))
            << " chunks for stream " << go_quote(name) << " in " << go_duration(took * 1000000) << ", "
            << ibytes(uncompressed.total()) << " uncompressed \n";
  return 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError("restore failed: open " + path + ": no such file or directory");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int stream_restore(Invocation& inv) {
  std::string dir = inv.arg(0);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw CliError("path '" + dir + "' does not exist or is not a directory");
  Connection c(resolve_settings(inv));
  json bm = json::parse(read_file(dir + "/backup.json"), nullptr, false);
  if (!bm.is_object() || !bm["config"].is_object()) throw CliError("restore failed: invalid backup.json in " + dir);
  std::string name = bm["config"].value("name", "");

  // natscli's IsKnownStream: only "stream not found" (10059) means unknown.
  bool known = true;
  try {
    js_api(c, "STREAM.INFO." + name, json::object());
  } catch (const CliError& e) {
    if (std::string(e.what()).find("(10059)") == std::string::npos)
      throw CliError(std::string("Could not check if the stream already exist: ") + e.what());
    known = false;
  }
  if (known) throw CliError("Stream " + go_quote(name) + " already exist");

  json cfg = bm["config"];
  if (inv.has("config")) {
    json file_cfg = json::parse(read_file(inv.get("config")), nullptr, false);
    if (!file_cfg.is_object()) throw CliError("invalid configuration in " + inv.get("config"));
    // The server cannot rename a stream on restore (nats-server issue 2850), so natscli refuses.
    if (file_cfg.value("name", "") != name) throw CliError("stream names may not be changed during restore");
    cfg = file_cfg;
  }
  if (inv.has("cluster") || inv.has("tag")) {
    cfg["placement"] = json::object();
    if (inv.has("cluster")) cfg["placement"]["cluster"] = inv.get("cluster");
    if (inv.has("tag")) cfg["placement"]["tags"] = inv.all("tag");
  }
  if (int64_t r = inv.integer("replicas", 0); r > 0) cfg["num_replicas"] = r;
  if (cfg.value("storage", "file") == "memory") throw CliError(std::string("restore failed: ") + kMemoryErr);

  std::string data_path = dir + "/stream.tar.s2";
  std::ifstream data(data_path, std::ios::binary);
  if (!data) throw CliError("restore failed: stat " + data_path + ": no such file or directory");
  uint64_t data_size = std::filesystem::file_size(data_path, ec);

  std::cout << "Starting restore of Stream " << go_quote(name) << " from file " << go_quote(dir) << "\n\n";
  std::cout.flush();
  auto start = std::chrono::steady_clock::now();
  json req = {{"config", cfg}, {"state", bm.value("state", json::object())}};
  json first;
  try {
    first = js_api(c, "STREAM.RESTORE." + name, req);
  } catch (const CliError& e) {
    throw CliError(std::string("restore failed: ") + e.what());
  }
  std::string subj = first.value("deliver_subject", "");
  if (subj.empty()) throw CliError("restore failed: no restore subject in the server's answer");

  bool bar = inv.on("progress") && ProgressBars::is_terminal(1);
  ProgressBars bars;
  ProgressBars::Bar* b = nullptr;
  if (bar) {
    b = &bars.add(static_cast<int64_t>((1 + data_size / kRestoreChunk) * kRestoreChunk));
    bars.start();
  }
  int timeout_ms = static_cast<int>(c.settings().timeout_ns / 1000000);
  std::string chunk(kRestoreChunk, '\0');
  uint64_t sent = 0;
  for (;;) {
    data.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    std::streamsize n = data.gcount();
    if (n <= 0) break;
    natsMsg* reply = nullptr;
    natsStatus s = natsConnection_Request(&reply, c.get(), subj.c_str(), chunk.data(), static_cast<int>(n), timeout_ms);
    if (s != NATS_OK) fail(s, "restore failed");
    MsgPtr r(reply);
    // jsm.go's IsErrorResponse: a "-ERR" text or an API error answer.
    json rj = json::parse(r.data(), nullptr, false);
    if (r.data().rfind("-ERR", 0) == 0 || (rj.is_object() && rj.contains("error")))
      throw CliError("restore failed: restore failed: " + go_quote(r.data()));
    sent += static_cast<uint64_t>(n);
    if (b) b->current = static_cast<int64_t>(sent);
  }
  if (b) b->current = b->total;
  bars.stop();
  // The server now builds the stream; that can take long, so wait as natscli does (an hour).
  natsMsg* done = nullptr;
  natsStatus s = natsConnection_Request(&done, c.get(), subj.c_str(), nullptr, 0, 3600 * 1000);
  if (s != NATS_OK) fail(s, "restore failed");
  MsgPtr d(done);
  json final_answer = json::parse(d.data(), nullptr, false);
  std::string kind = final_answer.is_object() ? final_answer.value("type", "") : "";
  if (kind != "io.nats.jetstream.api.v1.stream_create_response")
    throw CliError("restore failed: invalid final response, expected a io.nats.jetstream.api.v1.stream_create_response "
                   "message but got " + go_quote(kind));
  if (final_answer.contains("error")) {
    const json& e = final_answer["error"];
    throw CliError("restore failed: " + e.value("description", std::string("unknown error")) + " (" +
                   std::to_string(e.value("err_code", 0)) + ")");
  }
  int64_t took = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nRestored stream " << go_quote(name) << " in " << go_duration(took * 1000000000) << "\n\n";
  show_stream_info(js_api(c, "STREAM.INFO." + name, json::object()));
  return 0;
}

}  // namespace

void register_stream_backup_commands(Registry& r) {
  r.add({{"stream", "backup"}, {"snapshot"}, "Creates a backup of a stream over the NATS network",
         {{"stream", "Stream to backup", true}, {"target", "Directory to create the backup in", true}},
         {{"progress", 0, true, "Enables or disables progress reporting using a progress bar", "true", ""},
          {"check", 0, true, "Checks the stream for health prior to backup", "", ""},
          {"consumers", 0, true, "Enable or disable consumer backups", "true", ""},
          {"chunk-size", 0, false, "Sets a specific chunk size that the server will send", "", ""}},
         stream_backup, ""});
  r.add({{"stream", "restore"}, {}, "Restore a stream over the NATS network",
         {{"file", "The directory holding the backup to restore", true}},
         {{"progress", 0, true, "Enables or disables progress reporting using a progress bar", "true", ""},
          {"config", 0, false, "Load a different configuration when restoring the stream", "", ""},
          {"cluster", 0, false, "Place the stream in a specific cluster", "", ""},
          {"tag", 0, false, "Place the stream on servers that has specific tags (pass multiple times)", "", ""},
          {"replicas", 0, false, "Override how many replicas of the data to create", "", ""}},
         stream_restore, ""});
}

}  // namespace nats::cli
