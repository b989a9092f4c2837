// The meta group: peer discovery from the $SYS directory until the fixed membership is known,
// then a RaftGroup (the generic shell: `$NRG.*` transport, ticks, durable store) named
// `_meta_`. It also creates the server's RaftGroups, which every other group joins.
#include "jetstream/cluster/meta_group.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/ranges.h>

#include "config/options.h"
#include "jetstream/cluster/meta_peers.h"
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
// node), the leader heartbeats every 200 ms. A fresh group campaigns at once (as the
// reference), so the first leader normally appears well within a second of the peers being
// known.
constexpr int kElectionTicks = 10;
constexpr int kHeartbeatTicks = 2;
// While waiting for peers, ask every server for its STATSZ this often (see maybe_discover).
constexpr auto kDiscoverEvery = std::chrono::milliseconds(500);
// The known peer set must stay unchanged this long before a fresh group starts with it
// (membership is fixed at bootstrap, so every server must see the same set: on a loaded
// machine servers of a large supercluster can come up more than a second apart).
constexpr auto kSettle = std::chrono::milliseconds(2000);
// A follower that has not heard from its leader for this long (10 heartbeats) is not current.
constexpr auto kCurrentWithin = std::chrono::seconds(2);

}  // namespace

struct MetaGroup::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(Server& s) : server(s) {}

  Server& server;
  AccountPtr sys;
  std::atomic<bool> stopped{false};
  std::vector<SubscriptionPtr> subs;
  std::shared_ptr<RaftGroups> groups;  // every Raft group of this server, the meta group's too
  RaftGroupPtr group;
  std::shared_ptr<void> test_hooks;

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

  void start();
  void stop();
  void on_unbootstrapped_tick();  // group loop: discovery until the membership is known
  bool try_bootstrap();           // false while peers are missing
  void maybe_discover();
  void on_leader_changed(const std::string& leader, bool self);
  void on_stepdown_request(const std::string& reply);
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
  std::weak_ptr<Impl> weak = weak_from_this();
  RaftGroup::Hooks hooks;
  hooks.apply = [weak](const raft::Entry& e) {
    auto self = weak.lock();
    if (!self) return;
    ApplyFn fn;
    {
      std::lock_guard lk(self->mu);
      fn = self->apply;
    }
    if (fn) fn(e.data);
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
  if (group->bootstrapped()) {
    log::notice("JetStream cluster recovering state");
    // Read the group before taking mu: the group's apply path takes mu (on_leader_changed)
    // while holding its own locks, so mu must never be held around a group call.
    int size = static_cast<int>(group->peers().size());
    std::lock_guard lk(mu);
    cluster_size = size;
  }
  test_hooks = start_test_hooks(server);
  // `$JS.API.META.LEADER.STEPDOWN` lives in the system account (as the reference's API
  // handlers do); only the leader answers, then steps down.
  subs.push_back(server.subscribe_internal(
      *sys, "$JS.API.META.LEADER.STEPDOWN",
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view, std::string_view) {
        auto self = weak.lock();
        if (!self || self->stopped || reply.empty()) return;
        self->on_stepdown_request(std::string(reply));
      }));
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
  auto peers = known_js_peers(self_name, servers);
  int expected = expected_cluster_size(server.options(), peers.size());
  // Membership is fixed at bootstrap (no membership changes yet), so every server must pick
  // the same set. The expected size can be below the real one (a 3x3 supercluster whose
  // gateways list one URL each expects 5), so also wait for every configured gateway to be
  // connected and for the known set to stay unchanged for a moment: discovery pings then
  // reach everyone, and all servers settle on the same full set.
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
  group->bootstrap(raft::PeerState{static_cast<int>(peers.size()), peers}, true);
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

bool MetaGroup::is_leader() const { return impl_->group && impl_->group->is_leader(); }

std::string MetaGroup::leader_name() const {
  if (!impl_->group) return {};
  std::string leader = impl_->group->leader();
  if (leader.empty()) return {};
  std::lock_guard lk(impl_->mu);
  impl_->refresh_names();
  return impl_->name_of(leader);
}

bool MetaGroup::leader_known() const { return impl_->group && !impl_->group->leader().empty(); }

bool MetaGroup::current() const {
  return impl_->group && impl_->group->current(std::chrono::duration_cast<std::chrono::milliseconds>(kCurrentWithin));
}

MetaSnapshot MetaGroup::snapshot() const {
  auto& d = *impl_;
  MetaSnapshot s;
  std::vector<KnownServer> servers;
  if (auto* ss = d.server.system_services()) servers = ss->known_servers();
  s.cluster_name = d.cluster_name;
  s.self_peer = d.self_id;
  if (!d.group) return s;
  RaftStatus st = d.group->status();
  if (!st.bootstrapped) return s;
  std::lock_guard lk(d.mu);
  d.refresh_names();
  s.cluster_size = d.cluster_size;
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

bool MetaGroup::propose(std::string data) { return impl_->group && impl_->group->propose(std::move(data)); }

bool MetaGroup::step_down() { return impl_->group && impl_->group->step_down(); }

}  // namespace nats::jetstream
