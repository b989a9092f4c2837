// The meta group: peer discovery from the $SYS directory until the fixed membership is known,
// then a RaftGroup (the generic shell: `$NRG.*` transport, ticks, durable store) named
// `_meta_`. It also creates the server's RaftGroups, which every other group joins.
#include "jetstream/cluster/meta_group.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include <fmt/ranges.h>

#include "config/options.h"
#include "jetstream/api/errors.h"
#include "jetstream/cluster/meta_peers.h"
#include "jetstream/cluster/meta_read_index.h"
#include "jetstream/cluster/raft_groups.h"
#include "jetstream/cluster/test_hooks.h"
#include "jetstream/jetstream.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

namespace {
using Clock = std::chrono::steady_clock;

constexpr const char* kGroup = "_meta_";
// Timing: a 100 ms tick; elections time out after 1-2 s without a leader (randomized per
// node), the leader heartbeats every 200 ms.
constexpr int kElectionTicks = 10;
constexpr int kHeartbeatTicks = 2;
// A fresh group's first campaign comes within this many ticks (drawn at random per server,
// as the reference's 100-800 ms campaign timeout): all members bootstrap within a tick or
// so of each other, and campaigning all at once splits the vote (then the election timeout,
// 1-2 s, passes before the next try).
constexpr int kFirstCampaignTicks = 8;
// While waiting for peers, ask every server for its STATSZ this often (see maybe_discover).
constexpr auto kDiscoverEvery = std::chrono::milliseconds(500);
// The known peer set must stay unchanged this long before a fresh group starts with it
// (membership is fixed at bootstrap, so every server must see the same set: on a loaded
// machine servers of a large supercluster can come up more than a second apart).
constexpr auto kSettle = std::chrono::milliseconds(2000);
// A follower that has not heard from its leader for this long (10 heartbeats) is not current.
constexpr auto kCurrentWithin = std::chrono::seconds(2);
// The leader reconciles the membership (adds servers that joined later, takes removed ones
// out) every this many ticks.
constexpr int kReconcileTicks = 5;

// Applied meta entries between compactions of the meta log. Test servers
// (NATSCPP_TEST_HOOKS=1) compact often so that tests reach the snapshot paths.
raft::Index meta_compact_every() {
  const char* t = std::getenv("NATSCPP_TEST_HOOKS");
  return t && std::string(t) == "1" ? 8 : 1024;
}

}  // namespace

struct MetaGroup::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(Server& s) : server(s) {}

  Server& server;
  AccountPtr sys;
  std::atomic<bool> stopped{false};
  std::vector<SubscriptionPtr> subs;
  std::shared_ptr<RaftGroups> groups;  // every Raft group of this server, the meta group's too
  std::atomic<bool> groups_ready{false};  // `groups` is set (read by other threads after this)
  RaftGroupPtr group;  // set once by start(); other threads read it through ready_group()
  std::atomic<bool> group_ready{false};
  std::shared_ptr<void> test_hooks;

  // The monitor thread runs before start() (server.cpp starts it first): it may read the
  // group only once start() has published it.
  RaftGroup* ready_group() const { return group_ready.load(std::memory_order_acquire) ? group.get() : nullptr; }

  std::string self_name, self_id, cluster_name;
  Clock::time_point started_at = Clock::now();
  Clock::time_point last_discover{};
  std::vector<std::string> candidate;  // the known peer set while waiting to bootstrap
  Clock::time_point candidate_since{};
  Clock::time_point last_wait_log = Clock::now();

  mutable std::mutex mu;  // guards everything below
  int cluster_size = 0;
  mutable std::map<std::string, std::string> names;  // peer id -> server name (never forgotten)
  ApplyFn apply;
  SnapshotFn snapshot_fn;
  RestoreFn restore_fn;
  RemoveFn remove_fn;
  std::function<void()> tick_fn;
  std::set<std::string> removed;  // node ids taken out by SERVER.REMOVE
  std::shared_ptr<MetaReadIndex> read_index;  // once the group exists

  // Group loop only.
  raft::Index applying_index = 0, compacted_index = 0;
  int ticks = 0;
  std::atomic<bool> change_inflight{false};

  void start();
  void stop();
  void on_unbootstrapped_tick();  // group loop: discovery until the membership is known
  bool try_bootstrap();           // false while peers are missing
  void maybe_discover();
  void on_leader_changed(const std::string& leader, bool self);
  void on_stepdown_request(const std::string& reply);
  void on_server_remove_request(const std::string& reply, std::string_view body);
  void on_applied(const raft::Entry& e);
  void on_restore(const raft::Snapshot& s);
  void on_tick();
  void reconcile_membership();
  void refresh_names() const;
  std::string name_of(const std::string& id) const;
};

void MetaGroup::Impl::start() {
  const Options& o = server.options();
  {
    std::lock_guard lk(mu);  // snapshot() (monitor thread) reads these under mu
    sys = server.system_account();
    self_name = server.name();
    self_id = util::hash_name(self_name);
    cluster_name = o.cluster.name;
    names[self_id] = self_name;
  }
  if (!sys) {
    log::error("JetStream cluster requires a system account; meta group not started");
    return;
  }
  std::string root;
  if (auto* js = server.jetstream(); js && !js->store_dir().empty()) root = js->store_dir();
  else if (!o.jetstream.store_dir.empty()) root = o.jetstream.store_dir;
  else root = (std::filesystem::temp_directory_path() / "nats").string();
  log::notice("Starting JetStream cluster");
  log::notice("Creating JetStream metadata controller");
  groups = std::make_shared<RaftGroups>(server, sys, self_id, root + "/jetstream");
  groups->start();
  groups_ready.store(true, std::memory_order_release);
  std::weak_ptr<Impl> weak = weak_from_this();
  RaftGroup::Hooks hooks;
  hooks.apply = [weak](const raft::Entry& e) {
    if (auto self = weak.lock()) self->on_applied(e);
  };
  hooks.restore = [weak](const raft::Snapshot& s) {
    if (auto self = weak.lock()) self->on_restore(s);
  };
  hooks.tick = [weak] {
    if (auto self = weak.lock()) self->on_tick();
  };
  hooks.leader_changed = [weak](const std::string& leader, bool is_self) {
    if (auto self = weak.lock()) self->on_leader_changed(leader, is_self);
  };
  hooks.unbootstrapped_tick = [weak] {
    if (auto self = weak.lock()) self->on_unbootstrapped_tick();
  };
  RaftGroupTiming timing{kElectionTicks, kHeartbeatTicks};
  try {
    group = groups->create(kGroup, "$SYS", timing, std::move(hooks));
  } catch (const std::exception& e) {
    log::error("JetStream meta group store error: {}", e.what());
    return;
  }
  if (!group) return;
  group_ready.store(true, std::memory_order_release);
  if (group->bootstrapped()) {
    log::notice("JetStream cluster recovering state");
    // Read the group before taking mu: the group's apply path takes mu (on_leader_changed)
    // while holding its own locks, so mu must never be held around a group call.
    int size = static_cast<int>(group->peers().size());
    std::lock_guard lk(mu);
    cluster_size = size;
  }
  test_hooks = start_test_hooks(server);
  {
    auto ri = std::make_shared<MetaReadIndex>(server, *sys, self_id, [weak] {
      auto self = weak.lock();
      return self ? self->ready_group() : nullptr;
    });
    ri->start();
    std::lock_guard lk(mu);
    read_index = std::move(ri);
  }
  // `$JS.API.META.LEADER.STEPDOWN` lives in the system account (as the reference's API
  // handlers do); only the leader answers, then steps down.
  subs.push_back(server.subscribe_internal(
      *sys, "$JS.API.META.LEADER.STEPDOWN",
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view, std::string_view) {
        auto self = weak.lock();
        if (!self || self->stopped || reply.empty()) return;
        self->on_stepdown_request(std::string(reply));
      }));
  subs.push_back(server.subscribe_internal(
      *sys, "$JS.API.SERVER.REMOVE",
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view, std::string_view body) {
        auto self = weak.lock();
        if (!self || self->stopped || reply.empty()) return;
        self->on_server_remove_request(std::string(reply), body);
      }));
}

void MetaGroup::Impl::on_applied(const raft::Entry& e) {
  // Proposals batched into one log entry share its index: an entry is wholly applied once
  // the next one begins, and only then may the log be compacted up to it.
  if (e.index > applying_index) {
    raft::Index done = applying_index;
    applying_index = e.index;
    SnapshotFn snap;
    {
      std::lock_guard lk(mu);
      snap = snapshot_fn;
    }
    if (snap && done >= compacted_index + meta_compact_every()) {
      group->compact(done, snap());
      compacted_index = done;
    }
  }
  ApplyFn fn;
  {
    std::lock_guard lk(mu);
    fn = apply;
  }
  if (fn) fn(e.data);
}

void MetaGroup::Impl::on_restore(const raft::Snapshot& s) {
  applying_index = compacted_index = s.index;
  RestoreFn fn;
  {
    std::lock_guard lk(mu);
    fn = restore_fn;
  }
  log::debug("JetStream cluster applying a meta snapshot (index {}, {} bytes)", s.index, s.data.size());
  if (fn) fn(s.data);
}

void MetaGroup::Impl::on_tick() {
  if (stopped || ++ticks < kReconcileTicks) return;
  ticks = 0;
  if (group->is_leader()) reconcile_membership();
  std::function<void()> fn;
  {
    std::lock_guard lk(mu);
    fn = tick_fn;
  }
  if (fn) fn();
}

// One change at a time (the Raft core refuses a second one until the first commits): first
// the removed servers still in the membership, then online JetStream servers not in it.
void MetaGroup::Impl::reconcile_membership() {
  if (change_inflight) return;
  raft::Membership m = group->membership();
  std::set<std::string> gone;
  {
    std::lock_guard lk(mu);
    gone = removed;
  }
  std::string target;
  bool add = false;
  for (const auto& id : gone)
    if (m.contains(id)) {
      target = id;
      break;
    }
  if (target.empty()) {
    auto* ss = server.system_services();
    if (!ss) return;
    for (const auto& id : known_js_peers(self_name, ss->known_servers(), server.options().jetstream.domain))
      if (!m.contains(id) && !gone.count(id)) {
        target = id;
        add = true;
        break;
      }
  }
  if (target.empty()) return;
  change_inflight = true;
  std::weak_ptr<Impl> weak = weak_from_this();
  auto done = [weak, target, add](bool ok) {
    auto self = weak.lock();
    if (!self) return;
    self->change_inflight = false;
    if (ok) log::notice("JetStream cluster {} peer {}", add ? "adding" : "removing", target);
  };
  if (add) group->add_peer(target, done);
  else group->remove_peer(target, done);
}

void MetaGroup::Impl::on_server_remove_request(const std::string& reply, std::string_view body) {
  if (!group || !group->is_leader()) return;
  const std::string type = "io.nats.jetstream.api.v1.meta_server_remove_response";
  auto answer = [&](nlohmann::ordered_json j) { server.publish_internal(*sys, reply, {}, {}, j.dump()); };
  auto error = [&](const ApiError& e) { answer({{"type", type}, {"error", e.to_json()}}); };
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return error(api_error(err::BadRequest));
  auto req = nlohmann::json::parse(body, nullptr, false);
  if (!req.is_object()) return error(ApiError{400, 10025, "invalid JSON"});
  auto str = [&](const char* key) {
    auto it = req.find(key);
    return it != req.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string name = str("peer"), id = str("peer_id");
  std::string found;
  auto voters = group->membership().voters;  // never call the group holding mu
  {
    std::lock_guard lk(mu);
    refresh_names();
    for (const auto& p : voters) {
      // The node id, when given, takes precedence over the name (as the reference).
      // A node id is the hash of its server's name, so a member the directory has not
      // named yet is still found.
      if (id.empty() ? (!name.empty() && (name_of(p) == name || util::hash_name(name) == p)) : p == id) found = p;
    }
  }
  if (found.empty()) return error(api_error(err::ClusterServerNotMember));
  RemoveFn fn;
  {
    std::lock_guard lk(mu);
    fn = remove_fn;
  }
  if (!fn || !fn(found)) return error(api_error(err::ClusterNotLeader));
  answer({{"type", type}, {"success", true}});
}

void MetaGroup::Impl::on_stepdown_request(const std::string& reply) {
  if (stopped || !group || !group->step_down()) return;
  server.publish_internal(*sys, reply, {}, {},
                          R"({"type":"io.nats.jetstream.api.v1.meta_leader_stepdown_response","success":true})");
}

void MetaGroup::Impl::stop() {
  if (stopped.exchange(true)) return;
  if (sys)
    for (auto& s : subs) server.unsubscribe_internal(*sys, s);
  subs.clear();
  std::shared_ptr<MetaReadIndex> ri;
  {
    std::lock_guard lk(mu);
    ri = std::move(read_index);
  }
  if (ri) ri->stop();
  test_hooks.reset();
  if (groups) groups->stop();
}

void MetaGroup::Impl::on_unbootstrapped_tick() {
  if (stopped) return;
  // Never publish with `mu` held: a local handler (STATSZ embeds our snapshot) may need it.
  if (!try_bootstrap()) maybe_discover();
}

bool MetaGroup::Impl::try_bootstrap() {
  auto* ss = server.system_services();
  if (!ss) return true;
  auto servers = ss->known_servers();
  auto peers = known_js_peers(self_name, servers, server.options().jetstream.domain);
  int expected = expected_cluster_size(server.options(), peers.size());
  // Membership is fixed at bootstrap (no membership changes yet), so every server must pick
  // the same set. The expected size can be below the real one (a 3x3 supercluster whose
  // gateways list one URL each expects 5), so also wait for every configured gateway to be
  // connected and for the known set to stay unchanged for a moment: discovery pings then
  // reach everyone, and all servers settle on the same full set.
  if (meta_group_runs_without(self_id, servers)) {
    // Added later to a running group: the leader adds us once it sees us in its directory.
    {
      std::lock_guard lk(mu);
      for (const auto& s : servers) names[util::hash_name(s.name)] = s.name;
    }
    log::notice("JetStream cluster joining the running meta group");
    group->join();
    return true;
  }
  auto now = Clock::now();
  if (peers != candidate) {
    candidate = peers;
    candidate_since = now;
    log::debug("JetStream cluster peer candidates: [{}] ({} known, {} expected)", fmt::join(peers, ","),
               peers.size(), expected);
  }
  const Options& o = server.options();
  size_t other_gateways = 0;
  if (o.gateway.configured)
    for (const auto& g : o.gateway.gateways)
      if (g.name != o.gateway.name) ++other_gateways;
  if (static_cast<int>(peers.size()) < expected || now - candidate_since < kSettle ||
      (other_gateways && server.gateway_stats().size() < other_gateways)) {
    if (now - last_wait_log >= std::chrono::seconds(5)) {
      last_wait_log = now;
      log::debug("JetStream cluster waiting to bootstrap: {} of {} peers known, stable for {} ms, {} of {} gateways",
                 peers.size(), expected,
                 std::chrono::duration_cast<std::chrono::milliseconds>(now - candidate_since).count(),
                 server.gateway_stats().size(), other_gateways);
    }
    return false;
  }
  {
    std::lock_guard lk(mu);
    for (const auto& s : servers) names[util::hash_name(s.name)] = s.name;
    cluster_size = static_cast<int>(peers.size());
  }
  log::notice("JetStream cluster bootstrapping");
  log::debug("JetStream cluster bootstrapping with peers [{}]", fmt::join(peers, ","));
  group->bootstrap(raft::PeerState{static_cast<int>(peers.size()), peers}, true, kFirstCampaignTicks);
  return true;
}

// Until every expected peer is known, ask all servers to broadcast their STATSZ now: the
// request's reply subject is our own `$SYS.SERVER.<id>.STATSZ` broadcast subject, so the
// answers reach every server's directory at once, not only ours. Without this, discovery
// waits for the STATSZ heartbeat, which backs off to 10 s.
void MetaGroup::Impl::maybe_discover() {
  auto now = Clock::now();
  if (now - last_discover < kDiscoverEvery) return;
  last_discover = now;
  server.publish_internal(*sys, "$SYS.REQ.SERVER.PING", "$SYS.SERVER." + server.id() + ".STATSZ", {}, {});
}

void MetaGroup::Impl::on_leader_changed(const std::string& leader, bool is_self) {
  if (is_self) {
    log::notice("Self is new JetStream cluster metadata leader");
  } else if (leader.empty()) {
    log::notice("JetStream cluster no metadata leader");
  } else {
    std::string name;
    {
      std::lock_guard lk(mu);
      refresh_names();
      name = name_of(leader);
    }
    std::string cluster;
    if (auto* ss = server.system_services())
      for (const auto& s : ss->known_servers())
        if (s.name == name) cluster = s.cluster;
    log::notice("JetStream cluster new metadata leader: {}/{}", name.empty() ? leader : name, cluster);
  }
}

void MetaGroup::Impl::refresh_names() const {
  if (auto* ss = server.system_services())
    for (const auto& s : ss->known_servers())
      if (!s.name.empty()) names[util::hash_name(s.name)] = s.name;
}

std::string MetaGroup::Impl::name_of(const std::string& id) const {
  auto it = names.find(id);
  return it == names.end() ? std::string() : it->second;
}

MetaGroup::MetaGroup(Server& server) : impl_(std::make_shared<Impl>(server)) {}
MetaGroup::~MetaGroup() { shutdown(); }

void MetaGroup::start() { impl_->start(); }
void MetaGroup::shutdown() { impl_->stop(); }

RaftGroups* MetaGroup::raft_groups() const { return impl_->groups.get(); }

void MetaGroup::peer_connection_lost(const std::string& server_name) {
  if (server_name.empty() || impl_->stopped || !impl_->groups_ready.load(std::memory_order_acquire)) return;
  impl_->groups->peer_connection_lost(util::hash_name(server_name));
}

void MetaGroup::server_connection_lost(const std::string& server_id) {
  if (server_id.empty() || impl_->stopped || !impl_->groups_ready.load(std::memory_order_acquire)) return;
  auto* ss = impl_->server.system_services();
  if (!ss) return;
  for (const auto& s : ss->known_servers())
    if (s.id == server_id) return peer_connection_lost(s.name);
}

bool MetaGroup::is_leader() const { auto* g = impl_->ready_group();
  return g && g->is_leader(); }

std::string MetaGroup::leader_name() const {
  auto* g = impl_->ready_group();
  if (!g) return {};
  std::string leader = g->leader();
  if (leader.empty()) return {};
  std::lock_guard lk(impl_->mu);
  impl_->refresh_names();
  return impl_->name_of(leader);
}

bool MetaGroup::leader_known() const { auto* g = impl_->ready_group();
  return g && !g->leader().empty(); }

bool MetaGroup::current() const {
  auto* g = impl_->ready_group();
  return g && g->current(std::chrono::duration_cast<std::chrono::milliseconds>(kCurrentWithin));
}

std::optional<uint64_t> MetaGroup::read_index_since(std::chrono::steady_clock::time_point since) const {
  std::shared_ptr<MetaReadIndex> ri;
  {
    std::lock_guard lk(impl_->mu);
    ri = impl_->read_index;
  }
  return ri ? ri->index_since(since) : std::nullopt;
}

uint64_t MetaGroup::applied_index() const {
  auto* g = impl_->ready_group();
  return g ? g->applied_through() : 0;
}

MetaSnapshot MetaGroup::snapshot() const {
  auto& d = *impl_;
  MetaSnapshot s;
  std::vector<KnownServer> servers;
  if (auto* ss = d.server.system_services()) servers = ss->known_servers();
  {
    std::lock_guard lk(d.mu);  // start() sets these under mu
    s.cluster_name = d.cluster_name;
    s.self_peer = d.self_id;
  }
  auto* g = d.ready_group();
  if (!g) return s;
  RaftStatus st = g->status();
  if (!st.bootstrapped) return s;
  auto voters = g->membership().voters;  // before mu: never call the group holding it
  std::lock_guard lk(d.mu);
  d.refresh_names();
  s.cluster_size = d.cluster_size;
  if (!voters.empty()) s.cluster_size = static_cast<int>(voters.size());
  s.leader_peer = st.leader;
  s.leader = d.name_of(s.leader_peer);
  s.is_leader = st.is_leader;
  if (!s.is_leader) return s;
  for (const auto& g : st.replicas) {
    MetaReplica r;
    r.peer = g.peer;
    r.name = d.name_of(g.peer);
    if (r.name.empty()) r.name = "Server name unknown at this time (peerID: " + g.peer + ")";
    r.active_ns = g.active_ns;
    r.current = g.current;
    r.lag = g.lag;
    // Offline: the directory has marked it so, or forgot it (it announced its shutdown).
    r.offline = true;
    for (const auto& k : servers)
      if (k.name == r.name) r.offline = k.offline;
    s.replicas.push_back(std::move(r));
  }
  std::sort(s.replicas.begin(), s.replicas.end(),
            [](const MetaReplica& a, const MetaReplica& b) { return a.name < b.name; });
  return s;
}

void MetaGroup::set_apply_handler(ApplyFn fn) {
  std::lock_guard lk(impl_->mu);
  impl_->apply = std::move(fn);
}

bool MetaGroup::propose(std::string data) { auto* g = impl_->ready_group();
  return g && g->propose(std::move(data)); }

bool MetaGroup::step_down() { auto* g = impl_->ready_group();
  return g && g->step_down(); }

void MetaGroup::set_snapshot_handlers(SnapshotFn snapshot_fn, RestoreFn restore_fn) {
  std::lock_guard lk(impl_->mu);
  impl_->snapshot_fn = std::move(snapshot_fn);
  impl_->restore_fn = std::move(restore_fn);
}

void MetaGroup::set_server_remove_handler(RemoveFn fn) {
  std::lock_guard lk(impl_->mu);
  impl_->remove_fn = std::move(fn);
}

void MetaGroup::set_tick_handler(std::function<void()> fn) {
  std::lock_guard lk(impl_->mu);
  impl_->tick_fn = std::move(fn);
}

void MetaGroup::note_removed(const std::string& peer_id) {
  std::lock_guard lk(impl_->mu);
  impl_->removed.insert(peer_id);
}

std::vector<std::string> MetaGroup::members() const {
  auto* g = impl_->ready_group();
  if (!g) return {};
  raft::Membership m = g->membership();
  std::vector<std::string> out = m.voters;
  out.insert(out.end(), m.learners.begin(), m.learners.end());
  return out;
}

std::string MetaGroup::name_of(const std::string& peer_id) const {
  std::lock_guard lk(impl_->mu);
  impl_->refresh_names();
  return impl_->name_of(peer_id);
}

}  // namespace nats::jetstream
