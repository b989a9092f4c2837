#include "jetstream/cluster/raft_group.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "net/event_loop.h"
#include "raft/wire.h"
#include "server/account.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

namespace {
// A replica silent for this long is not current (the reference's lostQuorumInterval).
constexpr auto kLostQuorum = std::chrono::seconds(10);

std::atomic<bool> g_any_blocked{false};
std::mutex g_blocked_mu;
std::map<const Server*, std::vector<std::string>> g_blocked;
// The batch envelope of an entry (see raft_group.h).
std::string wrap(std::vector<std::string>& batch) {
  std::string out;
  if (batch.size() == 1) {
    out.reserve(1 + batch[0].size());
    out.push_back(0);
    out += batch[0];
    return out;
  }
  size_t n = 16;
  for (const auto& b : batch) n += b.size() + 5;
  out.reserve(n);
  out.push_back(1);
  raft::wire::put_uvarint(out, batch.size());
  for (const auto& b : batch) raft::wire::put_str(out, b);
  return out;
}

// Calls fn(entry) for each proposal in `e` (index and term of the entry).
template <class Fn>
void unwrap(const raft::Entry& e, Fn&& fn) {
  if (e.data.empty()) return;
  raft::Entry one{e.term, e.index, e.type, {}};
  if (e.data[0] == 0) {
    one.data = e.data.substr(1);
    fn(one);
    return;
  }
  std::string_view b = e.data;
  size_t pos = 1;
  uint64_t count = 0;
  if (b[0] != 1 || !raft::wire::get_uvarint(b, pos, count)) return;
  for (uint64_t i = 0; i < count; ++i) {
    if (!raft::wire::get_str(b, pos, one.data)) return;
    fn(one);
  }
}
}  // namespace

void RaftGroup::set_blocked_peers(const Server* server, std::vector<std::string> peers) {
  std::lock_guard lk(g_blocked_mu);
  if (peers.empty()) g_blocked.erase(server);
  else g_blocked[server] = std::move(peers);
  g_any_blocked = !g_blocked.empty();
}

bool RaftGroup::blocked(const std::string& peer) const {
  if (!g_any_blocked) return false;
  std::lock_guard lk(g_blocked_mu);
  auto it = g_blocked.find(&server_);
  return it != g_blocked.end() && std::find(it->second.begin(), it->second.end(), peer) != it->second.end();
}

RaftGroup::RaftGroup(Server& server, Account& sys, std::string name, std::string self_id, std::string store_dir,
                     net::EventLoop& loop, RaftGroupTiming timing, Hooks hooks)
    : server_(server),
      sys_(sys),
      name_(std::move(name)),
      self_id_(std::move(self_id)),
      dir_(std::move(store_dir)),
      loop_(loop),
      timing_(timing),
      hooks_(std::move(hooks)) {}

RaftGroup::~RaftGroup() = default;

std::string RaftGroup::vote_subject() const { return "$NRG.V." + name_; }
std::string RaftGroup::append_subject() const { return "$NRG.AE." + name_; }
std::string RaftGroup::reply_subject(const std::string& id) const { return "$NRG.R." + name_ + "." + id; }

void RaftGroup::open() {
  {
    std::lock_guard lk(mu_);
    store_ = std::make_unique<raft::LogStore>(dir_);
  }
  if (auto ps = store_->load_peers()) bootstrap(std::move(*ps), false);
  std::weak_ptr<RaftGroup> weak = weak_from_this();
  auto handler = [weak](const Subscription&, std::string_view, std::string_view, std::string_view,
                        std::string_view payload) {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    if (!self->timing_.sync_appends) return self->on_wire(payload);
    // Copy and hand over: fsync must not stall this loop.
    self->loop_.post([self, data = std::string(payload)] { self->on_wire(data); });
  };
  for (const auto& subj : {vote_subject(), append_subject(), reply_subject(self_id_)})
    subs_.push_back(server_.subscribe_internal(sys_, subj, handler));
}

bool RaftGroup::bootstrap(raft::PeerState ps, bool fresh, int first_campaign_ticks) {
  return start_node(std::move(ps), fresh, first_campaign_ticks);
}

bool RaftGroup::join() { return start_node(raft::PeerState{0, {}, true}, true); }

bool RaftGroup::start_node(raft::PeerState ps, bool fresh, int first_campaign_ticks) {
  std::lock_guard lk(mu_);
  if (node_ || !store_) return node_ != nullptr;
  if (!ps.joining && std::find(ps.peers.begin(), ps.peers.end(), self_id_) == ps.peers.end()) {
    log::error("Raft group '{}': this server ({}) is not in its membership; not starting", name_, self_id_);
    return false;
  }
  raft::Config cfg;
  cfg.id = self_id_;
  cfg.peers = ps.peers;
  cfg.election_timeout = timing_.election_ticks;
  cfg.heartbeat_interval = timing_.heartbeat_ticks;
  // Followers apply a commit at once, not at the next heartbeat (200 ms): a replica reads
  // a message right after its PubAck, a host applies a meta entry right after the leader.
  cfg.notify_commit = true;
  cfg.rng_seed = static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^ std::hash<std::string>{}(name_);
  store_->set_sync_appends(timing_.sync_appends);
  try {
    if (fresh) store_->save_peers(ps);
    raft::PersistedState restored = store_->load();
    node_ = std::make_unique<raft::RaftNode>(std::move(cfg), std::move(restored));
  } catch (const std::exception& e) {
    log::error("Raft group '{}' store error: {}", name_, e.what());
    return false;
  }
  if (fresh && !ps.joining) {
    if (first_campaign_ticks > 0 && ps.peers.size() > 1) node_->campaign_within(first_campaign_ticks);
    else node_->campaign_now();
  }
  return true;
}

bool RaftGroup::bootstrapped() const {
  std::lock_guard lk(mu_);
  return node_ != nullptr;
}

void RaftGroup::stop(bool remove_files) {
  if (stopped_.exchange(true)) {
    // Halted before (halt_applying_rest keeps the files): its store may still have to go.
    if (remove_files) {
      std::lock_guard lk(mu_);
      if (!node_ && !store_) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        log::debug("Raft group '{}' removed", name_);
      }
    }
    return;
  }
  stop_now(remove_files);
}

std::vector<raft::Entry> RaftGroup::halt_applying_rest() {
  if (stopped_.exchange(true)) return {};  // from here no message or tick reaches the node
  {
    std::unique_lock lk(mu_);
    // A drain on another thread either finished (its entries are handed out) or is waiting
    // for mu_ and will see stopped_: what the node still has to hand out is drained here.
    if (node_ && node_->has_output()) drain(lk);
  }
  // drain() takes apply_mu_ before it releases mu_: an apply of entries handed out before we
  // got mu_ is either done or holds apply_mu_ until it is.
  { std::lock_guard alk(apply_mu_); }
  raft::Index applied;
  std::vector<raft::Entry> rest;
  {
    std::lock_guard lk(mu_);
    applied = applied_;
    if (node_)
      for (const auto& e : node_->log())
        if (e.index > applied_ && e.type == raft::EntryType::kNormal)
          unwrap(e, [&](const raft::Entry& one) { rest.push_back(one); });
  }
  {
    // And the proposals queued for the next append (flush_proposals drops them once
    // stopped): a leader numbered them already; as the only member it would commit them.
    std::lock_guard lk(qmu_);
    for (auto& d : queued_) rest.push_back(raft::Entry{0, 0, raft::EntryType::kNormal, std::move(d)});
    queued_.clear();
  }
  log::debug("Raft group '{}' halted after applying up to {} ({} proposals past it)", name_, applied, rest.size());
  stop_now(false);
  return rest;
}

void RaftGroup::stop_now(bool remove_files) {
  log::debug("Raft group '{}' stopped{}", name_, remove_files ? " and removed" : "");
  for (auto& s : subs_) server_.unsubscribe_internal(sys_, s);
  subs_.clear();
  std::lock_guard lk(mu_);
  node_.reset();
  leader_flag_ = false;
  store_.reset();
  if (remove_files) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void RaftGroup::tick() {
  if (stopped_) return;
  std::unique_lock lk(mu_);
  if (!node_) {
    lk.unlock();
    if (hooks_.unbootstrapped_tick) hooks_.unbootstrapped_tick();
    return;
  }
  node_->set_campaign_allowed(may_campaign_);
  node_->tick();
  drain(lk);
  if (hooks_.tick) hooks_.tick();
}

void RaftGroup::peer_connection_lost(const std::string& peer) {
  if (stopped_ || leader() != peer) return;
  loop_.post([self = shared_from_this(), peer] {
    if (self->stopped_) return;
    std::unique_lock lk(self->mu_);
    if (!self->node_ || self->node_->leader() != peer) return;
    log::debug("Raft group '{}': connection to leader {} closed, campaigning early", self->name_, peer);
    self->node_->leader_lost(peer);
    self->drain(lk);
  });
}

void RaftGroup::on_wire(std::string_view payload) {
  if (stopped_) return;
  auto msg = raft::wire::decode(payload);
  if (!msg || msg->to != self_id_ || msg->from == self_id_ || blocked(msg->from)) return;
  std::unique_lock lk(mu_);
  if (!node_) return;  // not bootstrapped yet: the sender retries
  last_heard_[msg->from] = Clock::now();
  node_->set_campaign_allowed(may_campaign_);
  node_->step(*msg);
  drain(lk);
}

bool RaftGroup::propose(std::string data) {
  if (stopped_ || !is_leader()) return false;
  bool first;
  {
    std::lock_guard lk(qmu_);
    first = queued_.empty();
    queued_.push_back(std::move(data));
  }
  // One wake-up per batch: whoever queues into an empty queue schedules the flush.
  if (first) loop_.post([self = shared_from_this()] { self->flush_proposals(); });
  return true;
}

void RaftGroup::flush_proposals() {
  std::vector<std::string> batch;
  {
    std::lock_guard lk(qmu_);
    batch.swap(queued_);
  }
  if (stopped_ || batch.empty()) return;
  std::unique_lock lk(mu_);
  if (!node_) return;
  // Lost leadership: the batch is dropped (its clients time out and retry).
  if (node_->propose(wrap(batch))) drain(lk);
}

bool RaftGroup::step_down() {
  if (stopped_ || !is_leader()) return false;
  loop_.post([self = shared_from_this()] {
    if (self->stopped_) return;
    std::unique_lock lk(self->mu_);
    if (!self->node_ || self->node_->role() != raft::Role::kLeader) return;
    if (!self->node_->transfer_leadership()) self->node_->step_down();
    self->drain(lk);
  });
  return true;
}

void RaftGroup::add_peer(const std::string& id, std::function<void(bool)> done) {
  change_peer(id, true, std::move(done));
}

void RaftGroup::remove_peer(const std::string& id, std::function<void(bool)> done) {
  change_peer(id, false, std::move(done));
}

void RaftGroup::change_peer(const std::string& id, bool add, std::function<void(bool)> done) {
  loop_.post([self = shared_from_this(), id, add, done = std::move(done)] {
    bool ok = false;
    if (!self->stopped_) {
      std::unique_lock lk(self->mu_);
      if (self->node_) {
        ok = (add ? self->node_->add_peer(id) : self->node_->remove_peer(id)).has_value();
        if (ok) self->drain(lk);
      }
    }
    if (done) done(ok);
  });
}

raft::Membership RaftGroup::membership() const {
  std::lock_guard lk(mu_);
  return node_ ? node_->membership() : raft::Membership{};
}

void RaftGroup::compact(raft::Index index, std::string data) {
  loop_.post([self = shared_from_this(), index, data = std::move(data)]() mutable {
    if (self->stopped_) return;
    std::unique_lock lk(self->mu_);
    if (!self->node_ || !self->node_->compact(index, std::move(data))) return;
    self->drain(lk);
  });
}

void RaftGroup::drain(std::unique_lock<std::mutex>& lk) {
  std::vector<raft::Message> out_msgs;
  std::vector<raft::Entry> committed;
  std::optional<raft::Snapshot> to_apply;
  while (node_->has_output()) {
    raft::Output out = node_->get_output();
    try {
      if (out.hard_state) store_->save_hard_state(*out.hard_state);
      if (out.snapshot) store_->save_snapshot(*out.snapshot, out.snapshot_discards_log);
      if (!out.entries.empty()) store_->append(out.entries);
    } catch (const std::exception& e) {
      // Without durable state we must not vote or ack: stop taking part.
      log::error("Raft group '{}' store error, leaving the group: {}", name_, e.what());
      node_.reset();
      leader_flag_ = false;
      return;
    }
    for (auto& m : out.messages) out_msgs.push_back(std::move(m));
    if (out.snapshot_to_apply) {
      // It replaces everything applied so far, committed entries not yet handed out included.
      committed.clear();
      to_apply = std::move(out.snapshot_to_apply);
    }
    for (auto& e : out.committed) committed.push_back(std::move(e));
  }
  std::string leader = node_->leader();
  bool leader_changed = leader != last_leader_;
  last_leader_ = leader;
  leader_flag_ = node_->role() == raft::Role::kLeader;
  if (to_apply) applied_ = to_apply->index;
  if (!committed.empty()) applied_ = committed.back().index;
  std::unique_lock alk(apply_mu_);
  applying_as_leader_ = node_->role() == raft::Role::kLeader;
  if (leader_changed && leader == self_id_) {
    elected_unapplied_.clear();
    for (const auto& e : node_->log())
      if (e.index > applied_ && e.type == raft::EntryType::kNormal)
        unwrap(e, [&](const raft::Entry& one) { elected_unapplied_.push_back(one); });
  }
  lk.unlock();

  for (const auto& m : out_msgs) {
    if (blocked(m.to)) continue;
    std::string subject = std::holds_alternative<raft::VoteRequest>(m.payload)     ? vote_subject()
                          : std::holds_alternative<raft::AppendEntries>(m.payload) ? append_subject()
                                                                                    : reply_subject(m.to);
    server_.publish_internal(sys_, subject, {}, {}, raft::wire::encode(m));
  }
  if (to_apply && hooks_.restore) hooks_.restore(*to_apply);
  if (hooks_.apply)
    for (const auto& e : committed)
      if (e.type == raft::EntryType::kNormal) unwrap(e, hooks_.apply);
  if (to_apply) applied_through_.store(to_apply->index, std::memory_order_release);
  if (!committed.empty()) applied_through_.store(committed.back().index, std::memory_order_release);
  if (leader_changed && hooks_.leader_changed) hooks_.leader_changed(leader, leader == self_id_);
}

bool RaftGroup::is_leader() const { return leader_flag_ && !stopped_; }

std::string RaftGroup::leader() const {
  std::lock_guard lk(mu_);
  return node_ ? node_->leader() : std::string();
}

bool RaftGroup::current(std::chrono::milliseconds within) const {
  std::lock_guard lk(mu_);
  if (!node_ || node_->leader().empty()) return false;
  if (node_->role() == raft::Role::kLeader) return true;
  auto it = last_heard_.find(node_->leader());
  return it != last_heard_.end() && Clock::now() - it->second <= within;
}

RaftStatus RaftGroup::status() const {
  std::lock_guard lk(mu_);
  RaftStatus s;
  if (!node_) return s;
  s.bootstrapped = true;
  s.leader = node_->leader();
  s.term = node_->term();
  s.is_leader = node_->role() == raft::Role::kLeader;
  s.commit = node_->commit_index();
  s.applied = applied_;
  s.last_index = node_->last_index();
  s.snapshot_index = node_->snapshot_index();
  if (!s.is_leader) return s;
  auto now = Clock::now();
  for (const auto& p : node_->peers()) {
    if (p == self_id_) continue;
    RaftReplica r;
    r.peer = p;
    auto heard = last_heard_.find(p);
    auto since = heard == last_heard_.end() ? now - started_at_ : now - heard->second;
    r.active_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since).count();
    raft::Index match = node_->match_index(p);
    r.current = match >= s.commit && since <= kLostQuorum;
    r.lag = match < s.commit ? s.commit - match : 0;
    s.replicas.push_back(std::move(r));
  }
  return s;
}

std::vector<std::string> RaftGroup::peers() const {
  std::lock_guard lk(mu_);
  return node_ ? node_->peers() : std::vector<std::string>{};
}

raft::Index RaftGroup::match_index(const std::string& peer) const {
  std::lock_guard lk(mu_);
  return node_ ? node_->match_index(peer) : 0;
}

std::map<std::string, RaftGroup::Clock::time_point> RaftGroup::last_heard() const {
  std::lock_guard lk(mu_);
  return last_heard_;
}

}  // namespace nats::jetstream
