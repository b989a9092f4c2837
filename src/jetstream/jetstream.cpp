#include "jetstream/jetstream.h"
#include "jetstream/domain_mappings.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "jetstream/account_purge.h"
#include "jetstream/api/api_router.h"
#include "jetstream/cluster/consumer_group.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/raft_groups.h"
#include "jetstream/js_tiers.h"
#include "jetstream/json_util.h"
#include "jetstream/store/file_store.h"
#include "jetstream/stream.h"
#include "jetstream/snapshot/snapshot_api.h"
#include "jetstream/stream_api.h"
#include "jetstream/stream_template.h"
#include "server/request_info.h"
#include "server/connection.h"
#include "server/current_reader.h"
#include "server/imports.h"
#include "server/server.h"
#include "subject/subject.h"
#include "util/log.h"

#if __has_include("jetstream/consumer_api.h")
#include "jetstream/consumer_api.h"
#define NATS_HAVE_CONSUMER_API 1
#endif

namespace nats::jetstream {

namespace fs = std::filesystem;

namespace {

int64_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<int64_t>(pages) * page;
}

// The reference: 75% of the space available to the store directory (1 TB if unknown).
int64_t disk_available(const std::string& dir) {
  struct statvfs st {};
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (statvfs(dir.c_str(), &st) != 0) return 1LL << 40;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_bsize) / 4 * 3;
}

std::string human_bytes(int64_t b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

// Test-only (NATSCPP_TEST_HOOKS=1): NATSCPP_TEST_JS_OFF_HOLD_MS holds a JWT update's
// "JetStream off" for that long once the account's streams have stopped, before its 10039
// answerer subscribes: a test sends the next update while this one is under way.
void test_hold_switch_off() {
  static const int ms = [] {
    const char* on = std::getenv("NATSCPP_TEST_HOOKS");
    const char* hold = std::getenv("NATSCPP_TEST_JS_OFF_HOLD_MS");
    return on && std::string(on) == "1" && hold ? std::atoi(hold) : 0;
  }();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

struct JetStream::Impl {
  explicit Impl(Server& s) : server(s) {}
  Server& server;
  JetStreamLimits limits;
  std::string store_dir;
  ApiRouter router;
  mutable std::mutex mu;  // accounts
  std::map<std::string, std::unique_ptr<JsAccount>> accounts;
  std::vector<std::unique_ptr<JsAccount>> disabled;  // accounts answered with 10039
  // JsAccounts whose JetStream a JWT update switched off or on: kept until shutdown, since
  // subscriptions and requests in flight may still point at them.
  std::vector<std::unique_ptr<JsAccount>> retired;
  // One account switch (add_account, update_account) at a time, each deciding from the state
  // the one before left: JWT updates and reloads call in from any thread. Recursive: an
  // update of an account not seen yet adds it. Clustered, switches run on the meta loop.
  std::recursive_mutex switch_mu;
  std::atomic<bool> running{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::thread ticker;
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  std::unique_ptr<JsCluster> cluster;
};

JetStream::JetStream(Server& server) : JetStream(server, server.options().jetstream) {}

JetStream::JetStream(Server& server, const JetStreamOptions& o) : impl_(std::make_unique<Impl>(server)) {
  impl_->store_dir = o.store_dir;
  if (impl_->store_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    impl_->store_dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/nats";
  }
  while (impl_->store_dir.size() > 1 && impl_->store_dir.back() == '/') impl_->store_dir.pop_back();
  impl_->limits.max_memory = o.max_memory >= 0 ? o.max_memory : physical_memory() / 4 * 3;
  impl_->limits.max_store = o.max_file >= 0 ? o.max_file : disk_available(store_root());
}

JetStream::~JetStream() { shutdown(); }

Server& JetStream::server() const { return impl_->server; }
ApiRouter& JetStream::api() { return impl_->router; }
const JetStreamLimits& JetStream::limits() const { return impl_->limits; }
const std::string& JetStream::store_dir() const { return impl_->store_dir; }
std::string JetStream::store_root() const { return impl_->store_dir + "/jetstream"; }
bool JetStream::clustered() const { return impl_->server.meta_group() != nullptr; }
void JetStream::attach_meta(MetaGroup& meta) {
  impl_->cluster = std::make_unique<JsCluster>(*this, meta);
  auto* c = impl_->cluster.get();
  meta.set_apply_handler([c](const std::string& data) { c->apply(data); });
  meta.set_snapshot_handlers([c] { return c->snapshot(); }, [c](const std::string& blob) { c->restore(blob); });
  meta.set_server_remove_handler([c](const std::string& id) { return c->propose_remove_peer(id); });
  meta.set_tick_handler([c] { c->reconcile_stream_peers(); });
}
JsCluster* JetStream::cluster() const { return impl_->cluster.get(); }

bool JetStream::should_answer() const {
  auto* mg = impl_->server.meta_group();
  return mg == nullptr || mg->is_leader();
}

bool JetStream::leaderless() const {
  // As the reference's isLeaderless: no meta leader, and long enough since start that one
  // should have been elected (lostQuorumInterval, 10 s).
  auto* mg = impl_->server.meta_group();
  return mg != nullptr && !mg->leader_known() &&
         std::chrono::steady_clock::now() - impl_->started > std::chrono::seconds(10);
}


void JetStream::answer_leaderless(ApiRequest& req, std::string_view rest) {
  std::string type = response_type_for(rest);
  if (type.empty()) return;  // pulls, acks, direct gets: no API answer
  reply_error(req, type, api_error(err::ClusterNotAvail));
}

JsAccount* JetStream::account(const std::string& name) const {
  {
    std::lock_guard lk(impl_->mu);
    auto it = impl_->accounts.find(name);
    if (it != impl_->accounts.end()) return it->second.get();
  }
  // Operator mode: an account the resolver knows but no client of it used here yet (the
  // meta log names it first on the servers that host its assets) is registered now, which
  // enables its JetStream (add_account), as 2.9.10 looks accounts up from the resolver.
  auto& srv = impl_->server;
  if (!srv.options().operator_mode() || srv.lookup_account(name)) return nullptr;
  srv.jwt_account_claims(name);
  std::lock_guard lk(impl_->mu);
  auto it = impl_->accounts.find(name);
  return it == impl_->accounts.end() ? nullptr : it->second.get();
}

std::vector<JsAccount*> JetStream::accounts_snapshot() const {
  std::lock_guard lk(impl_->mu);
  std::vector<JsAccount*> out;
  for (auto& [_, a] : impl_->accounts) out.push_back(a.get());
  return out;
}

StreamPtr JetStream::lookup_stream(const std::string& account_name, const std::string& stream) const {
  JsAccount* jsa = account(account_name);
  if (!jsa) return nullptr;
  std::lock_guard lk(jsa->mu);
  auto it = jsa->streams.find(stream);
  return it == jsa->streams.end() ? nullptr : it->second;
}

namespace {
// Whether the meta log, not the store directory, says which streams exist here.
bool in_cluster_mode(const Server& srv) { return srv.options().cluster.configured; }

bool overlaps_other(const JsAccount& jsa, const StreamConfig& cfg) {
  for (const auto& [name, s] : jsa.streams) {
    if (name == cfg.name) continue;
    for (const auto& a : s->config().subjects)
      for (const auto& b : cfg.subjects)
        if (subjects_collide(a, b)) return true;
  }
  return false;
}
}  // namespace

namespace {
// Origins of a mirror/sources among the account's streams (jsa.mu held by the caller).
StreamConfigLookup local_origins(JsAccount& jsa) {
  return [&jsa](const std::string& name) -> std::optional<StreamConfig> {
    auto it = jsa.streams.find(name);
    if (it == jsa.streams.end()) return std::nullopt;
    return it->second->config();
  };
}
}  // namespace

StreamPtr JetStream::create_stream(JsAccount& jsa, StreamConfig cfg, ApiError& err, bool* did_create, int64_t created_ns,
                                   std::unique_ptr<MessageStore> memory) {
  if (did_create) *did_create = false;
  // On a single server the replica count is refused only after the account's limits (2.9.10
  // checks them before addStream: a replica count without a tier gets 10120 first).
  err = check_stream_config(cfg, /*clustered=*/true);
  if (err.empty() && !clustered()) {
    std::vector<StreamConfig> others;
    {
      std::lock_guard lk(jsa.mu);
      for (const auto& [name, s] : jsa.streams) others.push_back(s->config());
    }
    keep_same_tier(jsa.account, others, cfg);  // tiered limits: the stream's tier only
    err = account_limits_error(jsa.account, others.size(), account_reservation(others, cfg), cfg);
  }
  if (err.empty() && !clustered()) err = check_server_reservation(cfg);
  if (err.empty() && !clustered() && cfg.num_replicas > 1) err = api_error(err::StreamReplicasNotSupported);
  if (err.empty()) err = stream_max_bytes_error(jsa.account, cfg);
  if (!err.empty()) return nullptr;
  StreamPtr s;
  {
    std::lock_guard lk(jsa.mu);
    // A stream naming a template owner must be one that template created (addStream).
    if (!clustered() && !cfg.template_owner.empty() && !jsa.templates.owns(cfg.template_owner, cfg.name)) {
      err = api_error(err::StreamCreate, "stream not owned by template");
      return nullptr;
    }
    if (!clustered()) {  // the meta leader checked this against every server's streams
      err = check_stream_origins(cfg, local_origins(jsa));
      if (!err.empty()) return nullptr;
    }
    if (auto it = jsa.streams.find(cfg.name); it != jsa.streams.end()) {
      // Same config: idempotent create (the reference answers as if created).
      if (it->second->config().to_json() == cfg.to_json()) {
        if (did_create) *did_create = true;
        return it->second;
      }
      err = api_error(err::StreamNameExist);
      return nullptr;
    }
    if (overlaps_other(jsa, cfg)) {
      err = api_error(err::StreamSubjectOverlap);
      return nullptr;
    }

    // In a cluster the stream was created when the meta leader assigned it (the same time on
    // every replica, and again after a restart).
    int64_t created = created_ns > 0 ? created_ns : system_clock_ns();
    if (auto* c = impl_->cluster.get())
      if (auto sa = c->stream(jsa.account.name(), cfg.name); sa && sa->created_ns) created = sa->created_ns;
    s = Stream::create(*this, jsa.account, cfg, created, err, std::move(memory));
    if (!s) return nullptr;
    // A host re-creating its stream from the meta log after a restart finds its files: take
    // over the dedupe window kept there.
    if (in_cluster_mode(impl_->server)) s->restore_dedupe_later();
    s->subscribe();
    jsa.streams[cfg.name] = s;
  }
  if (did_create) *did_create = true;
#ifdef NATS_HAVE_CONSUMER_API
  // ... and its durable consumers with their state (the meta log then re-applies them).
  if (in_cluster_mode(impl_->server)) restore_consumers(*this, s);
#endif
  return s;
}

ApiError JetStream::update_stream(JsAccount& jsa, StreamConfig cfg, StreamPtr* out) {
  StreamPtr s;
  {
    std::lock_guard lk(jsa.mu);
    auto it = jsa.streams.find(cfg.name);
    if (it == jsa.streams.end()) return api_error(err::StreamNotFound);
    s = it->second;
    StreamConfig old = s->config();
    if (auto e = check_stream_update(old, cfg, clustered()); !e.empty()) return e;
    if (!clustered()) {
      // The byte limits, as the reference's configUpdateCheck (the meta leader checks a
      // clustered update).
      std::vector<StreamConfig> others;
      for (const auto& [name, o] : jsa.streams) others.push_back(o->config());
      keep_same_tier(jsa.account, others, cfg);
      if (auto e = account_update_limits_error(jsa.account, account_reservation(others, cfg), old, cfg); !e.empty())
        return e;
    }
    if (overlaps_other(jsa, cfg)) return api_error(err::StreamSubjectOverlap);
    if (!clustered())
      if (auto e = check_stream_origins(cfg, local_origins(jsa)); !e.empty()) return e;
  }
  // Outside jsa.mu: the server's reservations lock every account.
  if (!clustered())
    if (auto e = check_server_update_reservation(s->config(), cfg); !e.empty()) return e;
  if (out) *out = s;
  return s->update(std::move(cfg));
}

bool JetStream::delete_stream(JsAccount& jsa, const std::string& name) {
  StreamPtr s;
  {
    std::lock_guard lk(jsa.mu);
    auto it = jsa.streams.find(name);
    if (it == jsa.streams.end()) return false;
    s = it->second;
    jsa.streams.erase(it);
  }
  s->stop(true);
  return true;
}

nlohmann::ordered_json JetStream::account_info(JsAccount& jsa) const {
  uint64_t mem = 0, store = 0, streams = 0, consumers = 0;
  std::vector<TierStreamUsage> usage;  // per stream, for the tiers of tiered limits
  {
    std::lock_guard lk(jsa.mu);
    for (auto& [_, s] : jsa.streams) {
      ++streams;
      uint64_t n = s->consumer_count();
      consumers += n;
      uint64_t b = s->store().fast_state().bytes;
      StreamConfig c = s->config();
      if (c.storage == StorageType::memory) mem += b;
      else store += b;
      usage.push_back({c.num_replicas, c.storage == StorageType::memory, b, n});
    }
  }
  nlohmann::ordered_json j;
  j["memory"] = mem;
  j["storage"] = store;
  j["streams"] = streams;
  j["consumers"] = consumers;
  j["limits"] = account_limits_json(jsa.account.js_limits());
  const auto& domain = impl_->server.options().jetstream.domain;
  if (!domain.empty()) j["domain"] = domain;
  j["api"] = {{"total", jsa.api_total.load()}, {"errors", jsa.api_errors.load()}};
  add_tiers_json(jsa.account, usage, j);
  return j;
}

void JetStream::start() {
  auto& srv = impl_->server;
  std::error_code ec;
  fs::create_directories(store_root(), ec);
  if (ec) throw std::runtime_error("could not create JetStream store directory " + store_root() + ": " + ec.message());
  // Restore uploads a previous run left staged (it stopped during one): as the reference.
  fs::remove_all(store_root() + "/" + kRestoreStagingDir, ec);

  log::notice("Starting JetStream");
  log::notice("---------------- JETSTREAM ----------------");
  log::notice("  Max Memory:      {}", human_bytes(impl_->limits.max_memory));
  log::notice("  Max Storage:     {}", human_bytes(impl_->limits.max_store));
  log::notice("  Store Directory: \"{}\"", store_root());
  if (!srv.options().jetstream.domain.empty()) log::notice("  Domain:          {}", srv.options().jetstream.domain);
  log::notice("-------------------------------------------");

  register_stream_api(impl_->router);
  register_stream_template_api(impl_->router);
  register_snapshot_api(impl_->router);
  impl_->router.add("ACCOUNT.PURGE", handle_account_purge, false);
#ifdef NATS_HAVE_CONSUMER_API
  register_consumer_api(impl_->router);
#endif

  // Which accounts get JetStream: those whose config enables it; with no such account and
  // only $G (plus the system account), $G (the reference's "simple" mode).
  std::vector<AccountPtr> enabled;
  auto sys = srv.system_account();
  size_t non_sys = 0;
  for (auto& a : srv.accounts()) {
    if (a == sys) continue;
    ++non_sys;
    if (a->jetstream_enabled.load()) enabled.push_back(a);
  }
  if (enabled.empty() && non_sys == 1 && srv.global_account()) enabled.push_back(srv.global_account());

  for (auto& acc : enabled) enable_account(*acc, !in_cluster_mode(srv));
  // The other accounts (not the system account) get an answer saying JetStream is off.
  for (auto& a : srv.accounts()) {
    if (a == sys) continue;
    bool known;
    {
      std::lock_guard lk(impl_->mu);
      known = impl_->accounts.count(a->name()) > 0;
    }
    if (!known) add_disabled_account(*a);
  }
  if (sys) {
    auto sjsa = std::make_unique<JsAccount>(*sys);
    sjsa->enabled = false;
    sjsa->system_info_only = true;
    subscribe_api(*sjsa);
    std::lock_guard lk(impl_->mu);
    impl_->disabled.push_back(std::move(sjsa));
  }
  impl_->running = true;
  impl_->ticker = std::thread([this] { tick_loop(); });
}

namespace {

// An account that imports another's API uses that one only (one answer per request), as
// 2.9.10: an enabled account's own API is left out when it imports exactly "$JS.API.>", a
// disabled account's "not enabled" answer when any import covers $JS.API.INFO.
bool imports_api(const Account& a, bool exact) {
  auto lk = lock_account_wiring();  // a reload may replace the list
  for (auto& si : a.service_imports) {
    const std::string& from = si.to.empty() ? si.subject : si.to;  // the importer's subject
    if (from == "$JS.API.>" || (!exact && subject_is_subset_match("$JS.API.INFO", from))) return true;
  }
  return false;
}

}  // namespace

void JetStream::enable_account(Account& acc, bool restore) {
  if (!impl_->server.options().jetstream.domain.empty())
    install_domain_mappings(acc, impl_->server.options().jetstream.domain);
  auto jsa = std::make_unique<JsAccount>(acc);
  JsAccount* raw = jsa.get();
  JsAccount* off = nullptr;
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->accounts.count(acc.name())) return;
    impl_->accounts[acc.name()] = std::move(jsa);
    // Switched on by a JWT update: its 10039 answerer goes in the same step, so no one ever
    // sees the account in neither list (that reads as "not seen yet"). Kept until shutdown:
    // requests in flight may still point at it.
    for (auto it = impl_->disabled.begin(); it != impl_->disabled.end(); ++it)
      if (&(*it)->account == &acc) {
        off = it->get();
        impl_->retired.push_back(std::move(*it));
        impl_->disabled.erase(it);
        break;
      }
  }
  if (off && off->api_sub) impl_->server.unsubscribe_internal(acc, off->api_sub);
  if (restore) restore_account(*raw);
  if (!imports_api(acc, true)) subscribe_api(*raw);
}

void JetStream::add_disabled_account(Account& acc) {
  if (imports_api(acc, false)) return;
  auto jsa = std::make_unique<JsAccount>(acc);
  jsa->enabled = false;
  subscribe_api(*jsa);
  std::lock_guard lk(impl_->mu);
  impl_->disabled.push_back(std::move(jsa));
}

void JetStream::add_account(Account& acc) {
  if (!impl_->running.load()) return;
  auto sys = impl_->server.system_account();
  if (sys.get() == &acc) return;
  std::lock_guard sw(impl_->switch_mu);
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->accounts.count(acc.name())) return;
    for (auto& d : impl_->disabled)
      if (&d->account == &acc) return;
  }
  if (!acc.jetstream_enabled.load()) return add_disabled_account(acc);
  enable_account(acc, !in_cluster_mode(impl_->server));
  // Clustered: an account the meta state already has assets of (a config account removed by
  // a reload and added again) gets them started here, in apply order on the meta group's
  // thread (after the stop of the removed account's, queued there by remove_account).
  auto* groups = impl_->server.meta_group() ? impl_->server.meta_group()->raft_groups() : nullptr;
  auto meta = groups ? groups->find("_meta_") : nullptr;
  if (impl_->cluster && meta) {
    std::string name = acc.name();
    meta->loop().post([this, name] {
      if (!impl_->running.load() || !impl_->cluster) return;
      std::lock_guard sw(impl_->switch_mu);
      if (account(name)) impl_->cluster->host_account(name);
    });
  }
}

void JetStream::remove_account(Account& acc) {
  if (!impl_->running.load()) return;
  std::unique_ptr<JsAccount> jsa, off;
  {
    std::lock_guard sw(impl_->switch_mu);
    std::lock_guard lk(impl_->mu);
    if (auto it = impl_->accounts.find(acc.name()); it != impl_->accounts.end() && &it->second->account == &acc) {
      jsa = std::move(it->second);
      impl_->accounts.erase(it);
    }
    for (auto it = impl_->disabled.begin(); it != impl_->disabled.end(); ++it)
      if (&(*it)->account == &acc) {
        off = std::move(*it);
        impl_->disabled.erase(it);
        break;
      }
  }
  auto& srv = impl_->server;
  // No API answers from here on, for the account or its 10039 answerer.
  if (off && off->api_sub) srv.unsubscribe_internal(acc, off->api_sub);
  if (jsa && jsa->api_sub) srv.unsubscribe_internal(acc, jsa->api_sub);
  JsAccount* gone = jsa.get();
  {
    std::lock_guard lk(impl_->mu);  // kept until shutdown: requests in flight may point at them
    if (off) impl_->retired.push_back(std::move(off));
    if (jsa) impl_->retired.push_back(std::move(jsa));
  }
  if (!gone) return;
  // Its streams and consumers stop with their Raft groups, files kept (as an account whose
  // JetStream is switched off). Clustered, on the meta group's thread: an entry being applied
  // there may still start an asset on it; later ones no longer find the account.
  auto stop = [this, gone] {
    std::lock_guard sw(impl_->switch_mu);
    drop_stream_templates(*this, *gone);
    if (impl_->cluster && impl_->running.load()) impl_->cluster->unhost_account(*gone);
    std::vector<StreamPtr> streams;
    {
      std::lock_guard lk(gone->mu);
      for (auto& [_, st] : gone->streams) streams.push_back(st);
      gone->streams.clear();
    }
    for (auto& st : streams) {
      st->stop(false);
      st->release_replicator();
    }
    log::notice("JetStream stopped for removed account [{}]", gone->account.name());
  };
  auto* groups = srv.meta_group() ? srv.meta_group()->raft_groups() : nullptr;
  auto meta = groups ? groups->find("_meta_") : nullptr;
  if (impl_->cluster && meta && !meta->loop().in_loop_thread()) meta->loop().post(stop);
  else stop();
}

void JetStream::update_account(Account& acc) {
  if (!impl_->running.load()) return;
  auto sys = impl_->server.system_account();
  if (sys.get() == &acc) return;
  auto& srv = impl_->server;
  JsCluster* cl = nullptr;
  if (in_cluster_mode(srv)) {
    auto* groups = srv.meta_group() ? srv.meta_group()->raft_groups() : nullptr;
    auto meta = groups ? groups->find("_meta_") : nullptr;
    if (impl_->cluster && meta) {
      // Every server gets the JWT update and switches, in the meta group's apply order: the
      // assets the meta state assigns here start or stop on the thread that applies entries.
      // What to do is decided there too, from the account's flag as it is when the task runs:
      // decided here, an update arriving while the previous one is still switching would act
      // on a half-done switch (an "on" taken for a first sight while an "off" was stopping
      // the streams left the account on with none of its replicas started).
      if (!meta->loop().in_loop_thread()) {
        Account* a = &acc;
        meta->loop().post([this, a] { update_account(*a); });
        return;
      }
      cl = impl_->cluster.get();
    }
  }
  std::lock_guard sw(impl_->switch_mu);
  bool is_enabled, is_disabled = false;
  {
    std::lock_guard lk(impl_->mu);
    is_enabled = impl_->accounts.count(acc.name()) > 0;
    for (auto& d : impl_->disabled)
      if (&d->account == &acc) is_disabled = true;
  }
  const bool want = acc.jetstream_enabled.load();  // read once: another update may be storing it
  if (want == is_enabled) return;
  if (!is_enabled && !is_disabled) return add_account(acc);  // not seen yet
  if (in_cluster_mode(srv) && !cl) {
    log::warn("Account [{}] update {} JetStream: not applied until a restart (no meta group yet)", acc.name(),
              want ? "enables" : "disables");
    return;
  }
  if (want) {
    // The 10039 answerer goes (enable_account); JetStream comes with what the store
    // directory holds (standalone) or what the meta state assigns here (clustered).
    enable_account(acc, !cl);
    if (cl) cl->host_account(acc.name());
    log::notice("JetStream enabled for account [{}]", acc.name());  // a JWT update or a config reload
    return;
  }
  // Disabled: as the reference's jsAccount.delete, streams (and their consumers) stop with
  // their files kept, templates are forgotten; the account then answers 10039.
  // Unlike an account that never had JetStream, the reference keeps the account's import of
  // the whole API: every request is answered 10039. The answerer takes the account's place in
  // the same step (never in neither list: see enable_account); it subscribes once the streams
  // have stopped.
  std::unique_ptr<JsAccount> jsa;
  auto off = std::make_unique<JsAccount>(acc);
  off->enabled = false;
  JsAccount* off_raw = off.get();
  {
    std::lock_guard lk(impl_->mu);
    auto it = impl_->accounts.find(acc.name());
    if (it == impl_->accounts.end()) return;
    jsa = std::move(it->second);
    impl_->accounts.erase(it);
    impl_->disabled.push_back(std::move(off));
  }
  if (jsa->api_sub) srv.unsubscribe_internal(acc, jsa->api_sub);
  drop_stream_templates(*this, *jsa);
  if (cl) cl->unhost_account(*jsa);  // its replicated consumers' and streams' groups too
  std::vector<StreamPtr> streams;
  {
    std::lock_guard lk(jsa->mu);
    for (auto& [_, st] : jsa->streams) streams.push_back(st);
    jsa->streams.clear();
  }
  for (auto& st : streams) {
    st->stop(false);
    st->release_replicator();
  }
  {
    std::lock_guard lk(impl_->mu);
    impl_->retired.push_back(std::move(jsa));
  }
  test_hold_switch_off();
  subscribe_api(*off_raw);
  log::notice("JetStream disabled for account [{}]", acc.name());
}

void JetStream::subscribe_api(JsAccount& jsa) {
  JsAccount* raw = &jsa;
  raw->api_sub = impl_->server.subscribe_internal(
      raw->account, "$JS.API.>",
      [this, raw](const Subscription&, std::string_view subject, std::string_view reply, std::string_view headers,
                  std::string_view payload) {
        if (!impl_->running.load()) return;
        bool purge = raw->system_info_only && subject.starts_with("$JS.API.ACCOUNT.PURGE.");
        if (raw->system_info_only && subject != "$JS.API.INFO" && !purge) return;
        ApiRequest req{impl_->server, *this, raw->account, *raw, subject, {}, reply, headers, payload};
        // Handled inline in the requester's read: its rtt for the audit advisory; from another
        // server, the client's info that server added (server/request_info.h).
        // A server's own request (e.g. the meta leader's stream info gathering, which may run
        // inside a client's read) is not audited; a client could only mute its own audit.
        auto* c = current_reader_connection();
        if ((!c || c->kind() != ConnKind::Leaf) && is_internal_request(headers)) {
          req.no_audit = true;
        } else if (c && c->kind() == ConnKind::Client) {
          req.rtt_ns = c->rtt_ns();
        } else if (c && (c->kind() == ConnKind::Router || c->kind() == ConnKind::Gateway)) {
          if (auto ri = read_request_info(headers)) {
            req.rtt_ns = ri->rtt_ns;
            req.client_server = std::move(ri->server);
            req.client_cluster = std::move(ri->cluster);
          }
        }
        if (purge) return handle_account_purge(req);  // the system account's (account_purge.h)
        std::string_view rest = subject.substr(8);  // after "$JS.API."
        if (leaderless()) return answer_leaderless(req, rest);
        if (in_cluster_mode(impl_->server)) {
          if (!raw->enabled) {
            if (should_answer()) impl_->router.dispatch(req, rest);  // 10039 from the leader
          } else if (auto* c = impl_->cluster.get()) {
            c->route(req, rest);
          }
          return;
        }
        impl_->router.dispatch(req, rest);
      });
}

void JetStream::restore_account(JsAccount& jsa) {
  // Templates first: the streams they own are restored only with them (as the reference).
  restore_stream_templates(*this, jsa);
  std::string dir = store_root() + "/" + jsa.account.name() + "/streams";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (auto& ent : fs::directory_iterator(dir, ec)) {
    std::string meta = ent.path().string() + "/meta.inf";
    std::ifstream f(meta);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    auto j = nlohmann::ordered_json::parse(ss.str(), nullptr, false);
    ApiError e;
    std::optional<StreamConfig> cfg;
    if (!j.is_discarded()) cfg = parse_stream_config_json(j, e);
    if (!cfg) {
      log::warn("  Error unmarshalling stream metafile \"{}\"", meta);
      continue;
    }
    int64_t created = j.contains("created") && j["created"].is_string()
                          ? parse_time(j["created"].get<std::string>())
                          : system_clock_ns();
    if (!cfg->template_owner.empty() && !jsa.templates.adopt(cfg->template_owner, cfg->name)) {
      log::warn("  Error adding stream \"{}\" to template \"{}\": template not found", cfg->name, cfg->template_owner);
      log::warn("  Error recreating stream \"{}\": stream not owned by template", cfg->name);
      continue;
    }
    if (auto ce = check_stream_config(*cfg, clustered()); !ce.empty()) {
      log::warn("  Error recreating stream \"{}\": {}", cfg->name, ce.description);
      continue;
    }
    auto s = Stream::create(*this, jsa.account, *cfg, created, e);
    if (!s) {
      log::warn("  Error recreating stream \"{}\": {}", cfg->name, e.description);
      continue;
    }
    s->restore_dedupe_later();
    s->subscribe();
    {
      std::lock_guard lk(jsa.mu);
      jsa.streams[cfg->name] = s;
    }
    auto st = s->store().fast_state();
    log::notice("  Restored {} messages for stream '{} > {}'", st.msgs, jsa.account.name(), cfg->name);
#ifdef NATS_HAVE_CONSUMER_API
    restore_consumers(*this, s);
#endif
  }
}

void JetStream::tick_loop() {
  using namespace std::chrono;
  auto sync_every = impl_->server.options().jetstream.sync_interval;
  auto last_sync = steady_clock::now();
  std::unique_lock lk(impl_->tick_mu);
  while (impl_->running) {
    impl_->tick_cv.wait_for(lk, seconds(1));
    if (!impl_->running) break;
    lk.unlock();
    bool do_sync = steady_clock::now() - last_sync >= sync_every;
    if (do_sync) last_sync = steady_clock::now();
    for (auto* jsa : accounts_snapshot()) {
      std::vector<StreamPtr> streams;
      {
        std::lock_guard alk(jsa->mu);
        for (auto& [_, s] : jsa->streams) streams.push_back(s);
      }
      for (auto& s : streams) {
        if (s->is_deleted()) continue;
        s->store().expire_msgs();
        if (do_sync) {
          if (auto* f = dynamic_cast<FileStore*>(&s->store())) f->sync();
        }
      }
    }
    lk.lock();
  }
}

void JetStream::shutdown(bool announce) {
  if (!impl_->running.exchange(false)) return;
  if (announce) impl_->server.on_jetstream_disabled();
  {
    std::lock_guard lk(impl_->tick_mu);
  }
  impl_->tick_cv.notify_all();
  if (impl_->ticker.joinable()) impl_->ticker.join();
  stop_snapshot_transfers(*this);
  std::lock_guard sw(impl_->switch_mu);  // a switch under way finishes first
  for (auto& jsa : impl_->disabled) {
    if (jsa->api_sub) impl_->server.unsubscribe_internal(jsa->account, jsa->api_sub);
  }
  ConsumerGroup::release_all(*this);
  for (auto* jsa : accounts_snapshot()) {
    if (jsa->api_sub) impl_->server.unsubscribe_internal(jsa->account, jsa->api_sub);
    drop_stream_templates(*this, *jsa);  // no stream is auto-created past this point
    std::vector<StreamPtr> streams;
    {
      std::lock_guard lk(jsa->mu);
      for (auto& [_, s] : jsa->streams) streams.push_back(s);
    }
    for (auto& s : streams) {
      s->stop(false);
      s->release_replicator();
    }
  }
}

bool JetStream::enabled() const { return impl_->running; }

void JetStream::disable(int tries) {
  if (!impl_->running) return;
  if (auto* mg = impl_->server.meta_group()) {
    // As the reference: a leader hands on first (it waits 2 s, then goes on regardless).
    if (mg->is_leader() && tries < 20) {
      if (tries == 0) {
        log::warn("JetStream initiating meta leader transfer");
        mg->step_down();
      }
      // Timers are loop-thread only: re-armed on the loop this runs on (disable is posted).
      if (auto* loop = net::EventLoop::current()) {
        loop->add_timer(std::chrono::milliseconds(100), [this, tries] { disable(tries + 1); });
        return;
      }
    }
    if (tries >= 20) log::warn("JetStream timeout waiting for meta leader transfer");
    mg->shutdown();
  }
  // /jsz and /healthz say "disabled" as soon as shutdown begins; new clients' INFO too.
  shutdown(true);
  log::notice("JetStream disabled");
}

JetStreamUsage JetStream::usage() const {
  JetStreamUsage u;
  for (auto* jsa : accounts_snapshot()) {
    ++u.accounts;
    std::lock_guard lk(jsa->mu);
    for (auto& [_, s] : jsa->streams) {
      ++u.streams;
      u.consumers += s->consumer_count();
      auto st = s->store().fast_state();
      u.messages += st.msgs;
      u.bytes += st.bytes;
      if (s->config().storage == StorageType::memory) u.memory += st.bytes;
      else u.store += st.bytes;
    }
  }
  u.api_total = api_total.load();
  u.api_errors = api_errors.load();
  return u;
}

}  // namespace nats::jetstream
