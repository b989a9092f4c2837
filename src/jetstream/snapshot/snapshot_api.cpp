#include "jetstream/snapshot/snapshot_api.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "jetstream/advisories.h"
#include "jetstream/api/api_router.h"
#include "jetstream/consumer_api.h"
#include "jetstream/consumer_config.h"
#include "jetstream/jetstream.h"
#include "jetstream/json_util.h"
#include "jetstream/snapshot/snapshot_archive.h"
#include "jetstream/stream.h"
#include "server/account.h"
#include "server/server.h"
#include "subject/subject.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using namespace std::chrono_literals;

constexpr size_t kDefaultChunkSize = 128 * 1024;       // defaultSnapshotChunkSize
constexpr int64_t kWindowSize = 8 * 1024 * 1024;       // defaultSnapshotWindowSize
constexpr auto kInterestWait = 2s;                     // for the deliver subject's interest
constexpr auto kAckWait = 10ms;                        // per chunk past the window
constexpr auto kRestoreIdle = 5s;                      // a restore upload idle this long is stalled

// The transfers of each JetStream (snapshot senders and restore uploads): counted so that
// shutdown waits for their threads, which check `stopping` in their waits.
struct Transfers {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  bool stopping = false;
  std::set<std::string> snapshotting;  // "<account> <stream>" with a snapshot in progress
};
std::mutex g_mu;
std::map<const JetStream*, std::shared_ptr<Transfers>> g_transfers;

std::shared_ptr<Transfers> transfers(const JetStream& js) {
  std::lock_guard lk(g_mu);
  auto& t = g_transfers[&js];
  if (!t) t = std::make_shared<Transfers>();
  return t;
}

// Runs fn on its own thread unless shutdown began; false then.
bool spawn(const std::shared_ptr<Transfers>& t, std::function<void()> fn) {
  {
    std::lock_guard lk(t->mu);
    if (t->stopping) return false;
    ++t->running;
  }
  std::thread([t, fn = std::move(fn)] {
    try {
      fn();
    } catch (const std::exception& e) {
      log::warn("JetStream snapshot transfer failed: {}", e.what());
    }
    std::lock_guard lk(t->mu);
    --t->running;
    t->cv.notify_all();
  }).detach();
  return true;
}

bool stopping(const std::shared_ptr<Transfers>& t) {
  std::lock_guard lk(t->mu);
  return t->stopping;
}

// The reference's NewJSInvalidJSONError() without detail.
ApiError snapshot_invalid_json() {
  ApiError e = api_error(err::InvalidJSON);
  e.description = "invalid JSON";
  return e;
}

// ---- snapshot -----------------------------------------------------------------------------

struct SnapshotFlow {
  std::mutex mu;
  std::condition_variable cv;
  int64_t out = 0;  // bytes sent and not acked
};

void stream_snapshot(Server& server, Account& account, const StreamPtr& stream, std::string deliver,
                     size_t chunk_size, bool include_consumers, const std::shared_ptr<Transfers>& t) {
  auto start = std::chrono::steady_clock::now();
  // The archive is built as it is sent (one message block at a time), so a large stream is
  // never held whole: what is in memory is one block and the chunks not yet sent.
  SnapshotBuilder builder(*stream, include_consumers);
  std::string data;  // built and not yet sent
  size_t off = 0, total = 0;
  auto refill = [&] {
    while (data.size() - off < chunk_size && !builder.done()) {
      data.erase(0, off);
      off = 0;
      std::string part = builder.next();
      total += part.size();
      data += part;
    }
  };

  // Give the deliver subject's interest up to 2 s to show up (the requester subscribes after
  // reading the answer).
  auto interest = [&] { return account.sublist().has_interest(deliver); };
  for (auto until = std::chrono::steady_clock::now() + kInterestWait;
       !interest() && std::chrono::steady_clock::now() < until && !stopping(t);)
    std::this_thread::sleep_for(5ms);

  auto flow = std::make_shared<SnapshotFlow>();
  std::string ack = fmt::format("$JS.SNAPSHOT.ACK.{}.{}", stream->name(), util::next_nuid());
  auto sub = server.subscribe_internal(
      account, ack + ".>",
      [flow](const Subscription&, std::string_view subject, std::string_view, std::string_view, std::string_view) {
        // $JS.SNAPSHOT.ACK.<stream>.<nuid>.<size>.<index>: the size is the 6th token.
        size_t pos = 0;
        for (int i = 0; i < 5 && pos != std::string_view::npos; ++i) pos = subject.find('.', pos + (i ? 1 : 0));
        int64_t size = 0;
        if (pos != std::string_view::npos)
          for (size_t i = pos + 1; i < subject.size() && subject[i] >= '0' && subject[i] <= '9'; ++i)
            size = size * 10 + (subject[i] - '0');
        std::lock_guard lk(flow->mu);
        flow->out -= size;
        flow->cv.notify_all();
      });

  refill();
  for (uint64_t index = 1; off < data.size(); ++index) {
    if (stopping(t)) break;
    {
      std::unique_lock lk(flow->mu);
      if (flow->out > kWindowSize) {
        if (!interest()) break;  // the receiver went away
        flow->cv.wait_for(lk, kAckWait, [&] { return flow->out <= kWindowSize; });
      }
    }
    size_t n = std::min(chunk_size, data.size() - off);
    server.publish_internal(account, deliver, fmt::format("{}.{}.{}", ack, n, index), {},
                            std::string_view(data).substr(off, n));
    {
      std::lock_guard lk(flow->mu);
      flow->out += static_cast<int64_t>(n);
    }
    off += n;
    refill();
  }
  // The end of the snapshot: an empty message without reply.
  server.publish_internal(account, deliver, {}, {}, {});
  server.unsubscribe_internal(account, sub);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  log::notice("Completed snapshot of {} bytes for stream '{} > {}' in {}ms", total, account.name(),
              stream->name(), ms);
}

// Reads every message, as the reference's jsck (checkMsgs) before a snapshot: the number of
// messages the store could not read back.
uint64_t bad_messages(MessageStore& store) {
  StoreState st = store.fast_state();
  uint64_t bad = 0;
  StoredMsg m;
  for (uint64_t seq = st.first_seq; seq > 0 && seq <= st.last_seq;) {
    StoreErr e = store.load_next_msg("", seq, m);
    if (e == StoreErr::ok) {
      seq = m.seq + 1;
    } else if (e == StoreErr::eof || e == StoreErr::not_found) {
      break;
    } else {
      ++bad;
      ++seq;
    }
  }
  return bad;
}

void handle_snapshot(const ApiRequest& req) {
  const char* type = "stream_snapshot_response";
  if (req.args.size() != 1) return;
  if (empty_request(req.payload)) return reply_error(req, type, api_error(err::BadRequest));
  auto stream = req.js.lookup_stream(req.account.name(), std::string(req.args[0]));
  if (!stream) return reply_error(req, type, api_error(err::StreamNotFound));
  auto body = json::parse(req.payload, nullptr, false);
  std::string deliver;
  bool no_consumers = false, check = false;
  int64_t chunk = 0;
  try {
    if (!body.is_object()) throw std::runtime_error("not an object");
    if (auto it = body.find("deliver_subject"); it != body.end() && !it->is_null()) deliver = it->get<std::string>();
    if (auto it = body.find("no_consumers"); it != body.end() && !it->is_null()) no_consumers = it->get<bool>();
    if (auto it = body.find("jsck"); it != body.end() && !it->is_null()) check = it->get<bool>();
    if (auto it = body.find("chunk_size"); it != body.end() && !it->is_null()) {
      if (!it->is_number_integer()) throw std::runtime_error("chunk_size");
      chunk = it->get<int64_t>();
    }
  } catch (const std::exception&) {
    return reply_error(req, type, snapshot_invalid_json());
  }
  if (!is_valid_subject(deliver)) return reply_error(req, type, api_error(err::SnapshotDeliverSubjectInvalid));
  // The reference takes any chunk size (0: its default; a negative one panics it): ours
  // takes the default for those.
  size_t chunk_size = chunk > 0 ? static_cast<size_t>(chunk) : kDefaultChunkSize;

  auto failed = [&](std::string_view why) {
    log::warn("Snapshot of stream '{} > {}' failed: {}", req.account.name(), stream->name(), why);
    reply_error(req, type, api_error(err::StreamSnapshotFailed, why));
  };
  if (stream->storage_type() == StorageType::memory) return failed("no impl");
  auto t = transfers(req.js);
  std::string key = req.account.name() + " " + stream->name();
  {
    std::lock_guard lk(t->mu);
    if (!t->snapshotting.insert(key).second) return failed("snapshot in progress");
  }
  auto release = [t, key] {
    std::lock_guard lk(t->mu);
    t->snapshotting.erase(key);
  };
  if (check) {
    if (uint64_t bad = bad_messages(stream->store()); bad > 0) {
      release();
      return failed(fmt::format("snapshot check detected {} bad messages", bad));
    }
  }
  log::notice("Starting {}snapshot for stream '{} > {}'", check ? "health check and " : "", req.account.name(),
              stream->name());
  ojson j;
  j["type"] = api_type(type);
  j["config"] = stream->config().to_json();
  j["state"] = stream->state_json(false, {});
  reply_json(req, j);

  Server& server = req.server;
  Account& account = req.account;
  int64_t start_ns = system_clock_ns();
  ojson client = client_info(req);
  send_snapshot_create(server, account, stream->name(), j["state"], client);
  bool started = spawn(t, [&server, &account, stream, deliver, chunk_size, no_consumers, t, release, client, start_ns] {
    stream_snapshot(server, account, stream, deliver, chunk_size, !no_consumers, t);
    send_snapshot_complete(server, account, stream->name(), start_ns, system_clock_ns(), client);
    release();
  });
  if (!started) release();
}

// ---- restore ------------------------------------------------------------------------------

// The upload is staged in a file of <store_root>/.snap-staging (2.9.10's snapStagingDir, its
// "js-restore-*" temp files), not in memory: a multi-GB restore needs disk, not RAM. The
// server removes the directory at start (JetStream::start), as the reference does.
struct RestoreUpload {
  std::mutex mu;
  std::condition_variable cv;
  std::string path;         // the staged upload
  std::FILE* file = nullptr;
  uint64_t bytes = 0;       // received
  uint64_t chunks = 0;     // chunks received (activity)
  bool done = false;       // the final empty message came
  std::string done_reply;  // where the answer goes
  ApiError error;          // an upload failure (missing reply subject, limits, storage)
  ~RestoreUpload() { discard(); }
  void close_file() {
    if (file) std::fclose(file);
    file = nullptr;
  }
  void discard() {
    close_file();
    if (!path.empty()) std::remove(path.c_str());
    path.clear();
  }
};

void reply_restore_result(Server& server, Account& account, const std::string& reply, const ojson& body) {
  if (reply.empty()) return;
  std::string s = go_json_escape(body.dump(-1, ' ', false, ojson::error_handler_t::replace));
  server.publish_internal(account, reply, {}, {}, s);
}

struct RestoreJob {
  Server& server;
  JetStream& js;
  JsAccount& jsa;
  StreamConfig cfg;
  std::shared_ptr<RestoreUpload> up;
  SubscriptionPtr sub;
  ojson client;
  RestoreHooks hooks;
  int64_t start_ns;
};

void run_restore(RestoreJob job, const std::shared_ptr<Transfers>& t) {
  Account& account = job.jsa.account;
  auto& up = job.up;
  const StreamConfig& cfg = job.cfg;
  auto start = std::chrono::steady_clock::now();
  // Waits in short slices so that a shutdown need not wait out the idle time.
  std::unique_lock lk(up->mu);
  uint64_t seen = up->chunks;
  auto last_activity = std::chrono::steady_clock::now();
  while (!up->done) {
    up->cv.wait_for(lk, 50ms, [&] { return up->done || up->chunks != seen; });
    if (up->done) break;
    auto now = std::chrono::steady_clock::now();
    if (up->chunks != seen) {
      seen = up->chunks;
      last_activity = now;
    } else if (now - last_activity >= kRestoreIdle || stopping(t)) {
      up->done = true;  // later chunks are dropped
      up->discard();
      lk.unlock();
      job.server.unsubscribe_internal(account, job.sub);
      log::warn("Restore for stream '{} > {}' is stalled", account.name(), cfg.name);
      if (job.hooks.failed) job.hooks.failed();
      return;
    }
  }
  // The callback writes no more (done is set): the file is complete.
  if (up->file && std::fflush(up->file) != 0 && up->error.empty())
    up->error = api_error(err::StreamRestoreFailed, "storage failure during restore");
  up->close_file();
  lk.unlock();
  job.server.unsubscribe_internal(account, job.sub);
  ApiError err = up->error;
  StreamPtr s;
  if (err.empty()) s = job.hooks.install(up->path, err);
  up->discard();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  // As the reference, the complete advisory comes whether the restore worked or not.
  send_restore_complete(job.server, account, cfg.name, job.start_ns, system_clock_ns(),
                        static_cast<int64_t>(up->bytes), job.client);
  ojson j;
  j["type"] = api_type("stream_create_response");
  if (!s) {
    if (err.empty()) err = api_error(err::StreamRestoreFailed, "unknown error");
    j["error"] = err.to_json();
    log::warn("Restore failed for {} bytes for stream '{} > {}' in {}ms", up->bytes, cfg.name, account.name(), ms);
  } else {
    j["config"] = s->config().to_json();
    j["created"] = format_time(s->created_ns());
    j["state"] = s->state_json(false, {});
    log::notice("Completed restore of {} bytes for stream '{} > {}' in {}ms", up->bytes, cfg.name, account.name(),
                ms);
  }
  reply_restore_result(job.server, account, up->done_reply, j);
  if (!s && job.hooks.failed) job.hooks.failed();
}

void reply_restore_error(const ApiRequest& req, const ApiError& e) {
  ojson j = counted_error(req, "stream_restore_response", e);
  j["deliver_subject"] = "";
  reply_json(req, j);
}

void handle_restore(const ApiRequest& req) {
  if (req.args.size() != 1) return;
  ApiError e;
  auto cfg = parse_restore_request(req.payload, std::string(req.args[0]), req.js.clustered(), e);
  if (!cfg) return reply_restore_error(req, e);
  if (req.js.clustered())  // the cluster routes restores to its meta leader (restore_cluster.cpp)
    return reply_restore_error(req, api_error(err::StreamRestoreFailed, "not supported in clustered mode by this server"));
  {
    std::vector<StreamConfig> others;
    {
      std::lock_guard lk(req.jsa.mu);
      for (const auto& [n, s] : req.jsa.streams) others.push_back(s->config());
    }
    e = account_limits_error(req.account, others.size(), account_reservation(others, *cfg), *cfg);
    if (e.empty()) e = req.js.check_server_reservation(*cfg);
    if (!e.empty()) return reply_restore_error(req, e);
  }
  if (req.js.lookup_stream(req.account.name(), cfg->name))
    return reply_restore_error(req, api_error(err::StreamNameExistRestoreFailed));
  JetStream& js = req.js;
  JsAccount& jsa = req.jsa;
  RestoreHooks hooks;
  hooks.install = [&js, &jsa, c = *cfg](const std::string& upload, ApiError& err) {
    return restore_stream(js, jsa, c, upload, err);
  };
  start_stream_restore(js, jsa, *cfg, client_info(req), std::move(hooks), [&req](const ojson& j) { reply_json(req, j); });
}

}  // namespace

std::optional<StreamConfig> parse_restore_request(std::string_view payload, const std::string& name, bool clustered,
                                                  ApiError& e) {
  if (empty_request(payload)) {
    e = api_error(err::BadRequest);
    return std::nullopt;
  }
  auto body = json::parse(payload, nullptr, false);
  if (!body.is_object()) {
    e = snapshot_invalid_json();
    return std::nullopt;
  }
  ojson cj = ojson::object();
  if (auto it = body.find("config"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) {
      e = snapshot_invalid_json();
      return std::nullopt;
    }
    cj = ojson::parse(it->dump());
  }
  if (!cj.contains("name") || cj["name"].is_null() || cj["name"] == "") cj["name"] = name;
  auto cfg = parse_stream_config_json(cj, e);
  if (!cfg) return std::nullopt;
  if (e = check_stream_config(*cfg, clustered); !e.empty()) return std::nullopt;
  return cfg;
}

// The reference's RestoreStream: the archive's stream must be the one named, and not exist;
// the stream is created with the request's config, then its messages (block by block from
// the staged archive) and consumers.
StreamPtr restore_stream(JetStream& js, JsAccount& jsa, const StreamConfig& cfg, const std::string& upload,
                         ApiError& err) {
  std::FILE* f = std::fopen(upload.c_str(), "rb");
  if (!f) {
    err = api_error(err::StreamRestoreFailed, std::strerror(errno));
    return nullptr;
  }
  std::setvbuf(f, nullptr, _IOFBF, 256 * 1024);
  bool read_failed = false;
  auto src = [&](char* dst, size_t n) {
    size_t k = std::fread(dst, 1, n, f);
    if (k == 0 && std::ferror(f)) read_failed = true;
    return k;
  };
  // The blocks go next to the upload (in the staging directory) and are removed with it.
  const std::string dir = upload + ".blocks";
  struct Cleanup {
    std::FILE* f;
    const std::string& dir;
    ~Cleanup() {
      std::fclose(f);
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{f, dir};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    err = api_error(err::TempStorageFailed);
    return nullptr;
  }
  StagedSnapshot a;
  std::string why;
  if (!stage_snapshot(src, dir, a, why) || read_failed) {
    err = api_error(err::StreamRestoreFailed, read_failed ? "storage failure during restore" : why);
    return nullptr;
  }
  if (a.config.value("name", std::string()) != cfg.name) {
    err = api_error(err::StreamRestoreFailed, "stream names do not match");
    return nullptr;
  }
  if (js.lookup_stream(jsa.account.name(), cfg.name)) {
    err = api_error(err::StreamNameExistRestoreFailed);
    return nullptr;
  }
  StreamPtr s = js.create_stream(jsa, cfg, err, nullptr, a.created_ns);
  if (!s) return nullptr;
  bool blocks_ok = true;
  s->restore_messages([&](MessageStore& store) {
    std::string last_subject;
    ArchiveSeqs seqs;
    // Blocks come in ascending order; a message at or below what is stored (a block out of
    // order, a sequence twice) is refused by the store and left out.
    blocks_ok = for_each_block(
        a,
        [&](std::vector<StoredMsg>& msgs) {
          for (const auto& m : msgs) {
            if (store.store_msg_at(m.seq, m.ts, m.subject, m.headers, m.payload).err == StoreErr::ok)
              last_subject = m.subject;
          }
        },
        seqs, why);
    if (!blocks_ok) return;
    if (seqs.last_seq > store.last_seq()) {
      if (last_subject.empty()) {
        store.compact(seqs.last_seq + 1);  // nothing left: the stream starts past its last sequence
      } else {
        // Removed messages at the end: the last sequence stays theirs.
        store.store_msg_at(seqs.last_seq, seqs.last_ts, last_subject, {}, {});
        store.remove_msg(seqs.last_seq);
      }
    }
  });
  if (!blocks_ok) {
    js.delete_stream(jsa, cfg.name);
    err = api_error(err::StreamRestoreFailed, why);
    return nullptr;
  }
  for (auto& ac : a.consumers) {
    ConsumerConfig ccfg;
    if (auto e = parse_consumer_config(ac.config, ccfg)) {
      js.delete_stream(jsa, cfg.name);
      err = api_error(err::StreamRestoreFailed, fmt::format("error restoring consumer [\"{}\"]: {}", ac.name,
                                                            e->description));
      return nullptr;
    }
    // 2.9.10 restores an ephemeral as a durable of its name, then makes it ephemeral again:
    // its config keeps the name.
    if (!ccfg.is_durable()) ccfg.name = ac.name;
    restore_consumer(js, s, std::move(ccfg), ac.name, ac.created_ns, ac.has_state ? &ac.state : nullptr);
  }
  return s;
}

void start_stream_restore(JetStream& js, JsAccount& jsa, const StreamConfig& cfg, const ojson& client,
                          RestoreHooks hooks, const std::function<void(const ojson&)>& answer) {
  Server& server = js.server();
  Account& account = jsa.account;
  auto t = transfers(js);
  auto up = std::make_shared<RestoreUpload>();
  {
    std::error_code ec;
    std::string dir = js.store_root() + "/" + kRestoreStagingDir;
    std::filesystem::create_directories(dir, ec);
    up->path = fmt::format("{}/js-restore-{}", dir, util::next_nuid());
    up->file = ec ? nullptr : std::fopen(up->path.c_str(), "wb");
    if (up->file) std::setvbuf(up->file, nullptr, _IOFBF, 256 * 1024);
    if (!up->file) {
      log::warn("Restore for stream '{} > {}': could not create {}: {}", account.name(), cfg.name, up->path,
                ec ? ec.message() : std::strerror(errno));
      up->path.clear();
      ojson j;
      j["type"] = api_type("stream_restore_response");
      j["error"] = api_error(err::TempStorageFailed).to_json();
      j["deliver_subject"] = "";
      answer(j);
      if (hooks.failed) hooks.failed();
      return;
    }
  }
  std::string deliver = fmt::format("$JS.SNAPSHOT.RESTORE.{}.{}", cfg.name, util::next_nuid());
  int64_t max_store = js.limits().max_store;
  int64_t start_ns = system_clock_ns();
  log::notice("Starting restore for stream '{} > {}'", account.name(), cfg.name);
  send_restore_create(server, account, cfg.name, client);
  auto sub = server.subscribe_internal(
      account, deliver,
      [up, &server, &account, &js, max_store](const Subscription&, std::string_view, std::string_view reply,
                                              std::string_view, std::string_view payload) {
        std::lock_guard lk(up->mu);
        if (up->done) return;
        auto finish = [&](ApiError e) {
          up->error = std::move(e);
          up->done = true;
          up->done_reply = std::string(reply);
          up->cv.notify_all();
        };
        if (reply.empty()) {
          // The reference requires a reply subject on each chunk and gives up without one.
          return finish(api_error(err::StreamRestoreFailed, "restore requires reply subject for each chunk"));
        }
        if (payload.empty()) return finish({});
        up->bytes += payload.size();
        ++up->chunks;
        if (max_store > 0 && static_cast<int64_t>(js.usage().store + up->bytes) > max_store)
          return finish(api_error(err::InsufficientResources));
        if (std::fwrite(payload.data(), 1, payload.size(), up->file) != payload.size()) {
          // As the reference: the chunk's reply hears of it, the restore fails.
          server.publish_internal(account, reply, {}, {}, "-ERR 'storage failure during restore'");
          return finish(api_error(err::StreamRestoreFailed, "storage failure during restore"));
        }
        up->cv.notify_all();
        server.publish_internal(account, reply, {}, {}, {});
      });
  ojson j;
  j["type"] = api_type("stream_restore_response");
  j["deliver_subject"] = deliver;
  answer(j);
  auto failed = hooks.failed;
  RestoreJob job{server, js, jsa, cfg, up, sub, client, std::move(hooks), start_ns};
  if (!spawn(t, [job = std::move(job), t]() mutable { run_restore(std::move(job), t); })) {
    server.unsubscribe_internal(account, sub);
    if (failed) failed();
  }
}

void register_snapshot_api(ApiRouter& router) {
  router.add("STREAM.SNAPSHOT", handle_snapshot);
  router.add("STREAM.RESTORE", handle_restore);
}

void stop_snapshot_transfers(JetStream& js) {
  std::shared_ptr<Transfers> t;
  {
    std::lock_guard lk(g_mu);
    auto it = g_transfers.find(&js);
    if (it == g_transfers.end()) return;
    t = it->second;
    g_transfers.erase(it);
  }
  std::unique_lock lk(t->mu);
  t->stopping = true;
  t->cv.wait(lk, [&] { return t->running == 0; });
}

}  // namespace nats::jetstream
