// The meta group's I/O shell around raft::RaftNode: peer discovery from the $SYS directory,
// the `$NRG.*` transport, the tick timer and the durable store. All RaftNode work runs on one
// event loop: subscription handlers only copy the
// payload and post it there, so the node sees a single thread and a handler never blocks a
// route or gateway loop on fsync. `mu` guards the node for readers on other threads
// (monitoring, the JetStream API's is_leader()).
#include "jetstream/cluster/meta_group.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

#include "config/options.h"
#include "jetstream/cluster/meta_peers.h"
#include "jetstream/jetstream.h"
#include "net/event_loop.h"
#include "raft/log_store.h"
#include "raft/raft_node.h"
#include "raft/wire.h"
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
constexpr auto kTick = std::chrono::milliseconds(100);
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
// A replica silent for this long is reported not current (the reference's lostQuorumInterval).
constexpr auto kLostQuorum = std::chrono::seconds(10);

std::string vote_subject() { return std::string("$NRG.V.") + kGroup; }
std::string append_subject() { return std::string("$NRG.AE.") + kGroup; }
std::string reply_subject(const std::string& id) { return std::string("$NRG.R.") + kGroup + "." + id; }
}  // namespace

struct MetaGroup::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(Server& s) : server(s) {}

  Server& server;
  AccountPtr sys;
  net::EventLoop* loop = nullptr;
  std::atomic<bool> stopped{false};
  std::vector<SubscriptionPtr> subs;

  std::string self_name, self_id, cluster_name;
  Clock::time_point started_at = Clock::now();
  Clock::time_point last_discover{};
  std::vector<std::string> candidate;  // the known peer set while waiting to bootstrap
  Clock::time_point candidate_since{};

  mutable std::mutex mu;  // guards everything below
  std::unique_ptr<raft::LogStore> store;
  std::unique_ptr<raft::RaftNode> node;  // null until the membership is known
  int cluster_size = 0;
  std::map<std::string, Clock::time_point> last_heard;  // peer id -> last message from it
  mutable std::map<std::string, std::string> names;     // peer id -> server name (never forgotten)
  std::string last_leader;                              // for the leader-change log line
  ApplyFn apply;
  raft::Index applied = 0;

  void start();
  void stop();
  void on_tick();
  void on_wire(const std::string& payload);
  bool try_bootstrap();  // false while peers are missing
  void bootstrap(raft::PeerState ps, bool fresh);
  void maybe_discover();
  void on_stepdown_request(const std::string& reply);
  // Persist, then send, then apply (RaftNode's output contract). Called with `lk` held; it
  // releases the lock for sending and applying.
  void drain(std::unique_lock<std::mutex>& lk);
  void refresh_names() const;
  std::string name_of(const std::string& id) const;
  void arm_timer();
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
  std::string dir = root + "/jetstream/$SYS/_js_/" + kGroup;
  log::notice("Starting JetStream cluster");
  log::notice("Creating JetStream metadata controller");
  try {
    std::lock_guard lk(mu);
    store = std::make_unique<raft::LogStore>(dir);
    if (auto ps = store->load_peers()) {
      log::notice("JetStream cluster recovering state");
      bootstrap(std::move(*ps), false);
    }
  } catch (const std::exception& e) {
    log::error("JetStream meta group store error: {}", e.what());
    store.reset();
    return;
  }

  std::weak_ptr<Impl> weak = weak_from_this();
  auto handler = [weak](const Subscription&, std::string_view, std::string_view, std::string_view,
                        std::string_view payload) {
    auto self = weak.lock();
    if (!self || self->stopped) return;
    // Copy and hand over: the node runs on one loop, and fsync must not stall this one.
    self->loop->post([self, data = std::string(payload)] { self->on_wire(data); });
  };
  loop = &server.pick_loop();  // any one loop: the node only needs a single thread
  for (const auto& subj : {vote_subject(), append_subject(), reply_subject(self_id)})
    subs.push_back(server.subscribe_internal(*sys, subj, handler));
  // `$JS.API.META.LEADER.STEPDOWN` lives in the system account (as the reference's API
  // handlers do); only the leader answers, then steps down.
  subs.push_back(server.subscribe_internal(
      *sys, "$JS.API.META.LEADER.STEPDOWN",
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view, std::string_view) {
        auto self = weak.lock();
        if (!self || self->stopped || reply.empty()) return;
        self->loop->post([self, reply = std::string(reply)] { self->on_stepdown_request(reply); });
      }));
  loop->post([self = shared_from_this()] { self->arm_timer(); });
}

void MetaGroup::Impl::on_stepdown_request(const std::string& reply) {
  if (stopped) return;
  std::unique_lock lk(mu);
  if (!node || node->role() != raft::Role::kLeader) return;
  node->step_down();
  drain(lk);
  if (lk.owns_lock()) lk.unlock();
  server.publish_internal(*sys, reply, {}, {},
                          R"({"type":"io.nats.jetstream.api.v1.meta_leader_stepdown_response","success":true})");
}

void MetaGroup::Impl::arm_timer() {
  if (stopped) return;
  loop->add_timer(kTick, [self = shared_from_this()] { self->on_tick(); });
}

void MetaGroup::Impl::stop() {
  if (stopped.exchange(true)) return;
  if (sys)
    for (auto& s : subs) server.unsubscribe_internal(*sys, s);
  subs.clear();
}

void MetaGroup::Impl::on_tick() {
  if (stopped) return;
  std::unique_lock lk(mu);
  if (!store) return;
  bool discover = false;
  if (!node) {
    discover = !try_bootstrap();
  } else {
    node->tick();
  }
  if (node) drain(lk);
  if (lk.owns_lock()) lk.unlock();
  // Never publish with `mu` held: a local handler (STATSZ embeds our snapshot) may need it.
  if (discover) maybe_discover();
  arm_timer();
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
  }
  const Options& o = server.options();
  size_t other_gateways = 0;
  if (o.gateway.configured)
    for (const auto& g : o.gateway.gateways)
      if (g.name != o.gateway.name) ++other_gateways;
  if (static_cast<int>(peers.size()) < expected || now - candidate_since < kSettle ||
      (other_gateways && server.gateway_stats().size() < other_gateways))
    return false;
  for (const auto& s : servers) names[util::hash_name(s.name)] = s.name;
  raft::PeerState ps{static_cast<int>(peers.size()), peers};
  try {
    store->save_peers(ps);
  } catch (const std::exception& e) {
    log::error("JetStream meta group store error: {}", e.what());
    return true;
  }
  log::notice("JetStream cluster bootstrapping");
  bootstrap(std::move(ps), true);
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

void MetaGroup::Impl::bootstrap(raft::PeerState ps, bool fresh) {
  raft::Config cfg;
  cfg.id = self_id;
  cfg.peers = ps.peers;
  if (std::find(cfg.peers.begin(), cfg.peers.end(), self_id) == cfg.peers.end()) {
    log::error("JetStream meta group: this server ({}) is not in the stored membership; not starting", self_id);
    return;
  }
  cfg.election_timeout = kElectionTicks;
  cfg.heartbeat_interval = kHeartbeatTicks;
  cfg.rng_seed = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  cluster_size = ps.cluster_size;
  raft::PersistedState restored = store->load();
  node = std::make_unique<raft::RaftNode>(std::move(cfg), std::move(restored));
  if (fresh) node->campaign_now();
}

void MetaGroup::Impl::on_wire(const std::string& payload) {
  if (stopped) return;
  auto msg = raft::wire::decode(payload);
  if (!msg || msg->to != self_id || msg->from == self_id) return;
  std::unique_lock lk(mu);
  if (!node) return;  // not bootstrapped yet: the sender retries
  last_heard[msg->from] = Clock::now();
  node->step(*msg);
  drain(lk);
}

void MetaGroup::Impl::drain(std::unique_lock<std::mutex>& lk) {
  std::vector<raft::Message> out_msgs;
  std::vector<raft::Entry> committed;
  while (node->has_output()) {
    raft::Output out = node->get_output();
    try {
      if (out.hard_state) store->save_hard_state(*out.hard_state);
      if (!out.entries.empty()) store->append(out.entries);
    } catch (const std::exception& e) {
      // Without durable state we must not vote or ack: stop taking part.
      log::error("JetStream meta group store error, leaving the group: {}", e.what());
      node.reset();
      return;
    }
    for (auto& m : out.messages) out_msgs.push_back(std::move(m));
    for (auto& e : out.committed) committed.push_back(std::move(e));
  }
  const std::string& leader = node->leader();
  if (leader != last_leader) {
    last_leader = leader;
    if (leader == self_id) log::notice("Self is new JetStream cluster metadata leader");
    else if (leader.empty()) log::notice("JetStream cluster no metadata leader");
    else {
      refresh_names();
      std::string name = name_of(leader);
      std::string cluster;
      if (auto* ss = server.system_services())
        for (const auto& s : ss->known_servers())
          if (s.name == name) cluster = s.cluster;
      log::notice("JetStream cluster new metadata leader: {}/{}", name.empty() ? leader : name, cluster);
    }
  }
  ApplyFn fn = apply;
  if (!committed.empty()) applied = committed.back().index;
  lk.unlock();

  for (const auto& m : out_msgs) {
    std::string subject = std::holds_alternative<raft::VoteRequest>(m.payload)     ? vote_subject()
                          : std::holds_alternative<raft::AppendEntries>(m.payload) ? append_subject()
                                                                                    : reply_subject(m.to);
    server.publish_internal(*sys, subject, {}, {}, raft::wire::encode(m));
  }
  // The replicated state machine. No-ops keep only the log moving; normal entries go to the
  // hook (stream and consumer assignments will be applied there).
  for (const auto& e : committed)
    if (e.type == raft::EntryType::kNormal && fn) fn(e.data);
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

bool MetaGroup::is_leader() const {
  std::lock_guard lk(impl_->mu);
  return impl_->node && impl_->node->role() == raft::Role::kLeader;
}

std::string MetaGroup::leader_name() const {
  std::lock_guard lk(impl_->mu);
  if (!impl_->node || impl_->node->leader().empty()) return {};
  impl_->refresh_names();
  return impl_->name_of(impl_->node->leader());
}

bool MetaGroup::leader_known() const {
  std::lock_guard lk(impl_->mu);
  return impl_->node && !impl_->node->leader().empty();
}

bool MetaGroup::current() const {
  std::lock_guard lk(impl_->mu);
  if (!impl_->node || impl_->node->leader().empty()) return false;
  if (impl_->node->role() == raft::Role::kLeader) return true;
  auto it = impl_->last_heard.find(impl_->node->leader());
  return it != impl_->last_heard.end() && Clock::now() - it->second <= kCurrentWithin;
}

MetaSnapshot MetaGroup::snapshot() const {
  auto& d = *impl_;
  MetaSnapshot s;
  std::vector<KnownServer> servers;
  if (auto* ss = d.server.system_services()) servers = ss->known_servers();
  std::lock_guard lk(d.mu);
  s.cluster_name = d.cluster_name;
  s.self_peer = d.self_id;
  if (!d.node) return s;
  d.refresh_names();
  s.cluster_size = d.cluster_size;
  s.leader_peer = d.node->leader();
  s.leader = d.name_of(s.leader_peer);
  s.is_leader = d.node->role() == raft::Role::kLeader;
  if (!s.is_leader) return s;
  auto now = Clock::now();
  raft::Index commit = d.node->commit_index();
  for (const auto& p : d.node->peers()) {
    if (p == d.self_id) continue;
    MetaReplica r;
    r.peer = p;
    r.name = d.name_of(p);
    if (r.name.empty()) r.name = "Server name unknown at this time (peerID: " + p + ")";
    auto heard = d.last_heard.find(p);
    auto since = heard == d.last_heard.end() ? now - d.started_at : now - heard->second;
    r.active_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since).count();
    raft::Index match = d.node->match_index(p);
    r.current = match >= commit && since <= kLostQuorum;
    r.lag = match < commit ? commit - match : 0;
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

bool MetaGroup::propose(std::string data) {
  if (!is_leader() || !impl_->loop) return false;
  impl_->loop->post([self = impl_, data = std::move(data)]() mutable {
    if (self->stopped) return;
    std::unique_lock lk(self->mu);
    if (!self->node || !self->node->propose(std::move(data))) return;
    self->drain(lk);
  });
  return true;
}

bool MetaGroup::step_down() {
  if (!is_leader() || !impl_->loop) return false;
  impl_->loop->post([self = impl_] {
    if (self->stopped) return;
    std::unique_lock lk(self->mu);
    if (!self->node) return;
    self->node->step_down();
    self->drain(lk);
  });
  return true;
}

}  // namespace nats::jetstream
