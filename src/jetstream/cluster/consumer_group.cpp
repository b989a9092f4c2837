#include "jetstream/cluster/consumer_group.h"

#include <cstdlib>
#include <map>
#include <optional>
#include <tuple>

#include "jetstream/advisories.h"
#include "jetstream/api/api_router.h"
#include "jetstream/cluster/assignment.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/raft_groups.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/consumer_api.h"
#include "jetstream/jetstream.h"
#include "net/event_loop.h"
#include "raft/wire.h"
#include "server/account.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

namespace {

enum Op : uint8_t { kDelivered = 1, kAck = 2, kDeadline = 3, kStart = 4, kRequest = 5 };

// As stream groups: 0.5-1 s without a leader, heartbeats every 100 ms.
constexpr RaftGroupTiming kConsumerTiming{5, 1, false};

// Entries between compactions (two per message: its delivery and its ack). Test servers
// compact often so the snapshot paths run in short tests.
raft::Index compact_every() {
  const char* t = std::getenv("NATSCPP_TEST_HOOKS");
  return t && std::string(t) == "1" ? 8 : 4096;
}

// The registry owns the running replicas (a consumer only knows its group weakly); stop()
// and JetStream's shutdown release them.
using Key = std::tuple<const Server*, std::string, std::string, std::string>;
std::mutex g_registry_mu;
std::map<Key, ConsumerGroupPtr> g_registry;

}  // namespace

nlohmann::json consumer_snapshot_json(const ConsumerSnapshot& s, bool started, const std::map<std::string, int64_t>& requests) {
  nlohmann::json pend = nlohmann::json::array(), rd = nlohmann::json::array(), rq = nlohmann::json::array();
  for (const auto& [seq, p] : s.pending) pend.push_back({seq, p.cseq, p.deliver_ts, p.deadline});
  for (const auto& [seq, n] : s.redelivered) rd.push_back({seq, n});
  for (const auto& [reply, exp] : requests) rq.push_back({reply, exp});
  return {{"started", started},
          {"delivered", {s.delivered_cseq, s.delivered_sseq}},
          {"ack_floor", {s.ack_floor_cseq, s.ack_floor_sseq}},
          {"pending", pend},
          {"redelivered", rd},
          {"requests", rq}};
}

bool consumer_snapshot_from_json(std::string_view blob, ConsumerSnapshot& s, bool& started,
                        std::map<std::string, int64_t>& requests) {
  auto j = nlohmann::json::parse(blob, nullptr, false);
  try {
    if (!j.is_object()) return false;
    started = j.at("started").get<bool>();
    s.delivered_cseq = j.at("delivered").at(0).get<uint64_t>();
    s.delivered_sseq = j.at("delivered").at(1).get<uint64_t>();
    s.ack_floor_cseq = j.at("ack_floor").at(0).get<uint64_t>();
    s.ack_floor_sseq = j.at("ack_floor").at(1).get<uint64_t>();
    for (const auto& p : j.at("pending"))
      s.pending[p.at(0).get<uint64_t>()] = {p.at(1).get<uint64_t>(), p.at(2).get<int64_t>(), p.at(3).get<int64_t>()};
    for (const auto& r : j.at("redelivered")) s.redelivered[r.at(0).get<uint64_t>()] = r.at(1).get<uint64_t>();
    if (auto it = j.find("requests"); it != j.end())
      for (const auto& r : *it) requests[r.at(0).get<std::string>()] = r.at(1).get<int64_t>();
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

ConsumerGroup::ConsumerGroup(JetStream& js, StreamPtr stream, ConsumerPtr consumer)
    : js_(js),
      stream_(std::move(stream)),
      consumer_(std::move(consumer)),
      committed_(consumer_->config(), stream_->store()) {}

ConsumerGroup::~ConsumerGroup() = default;

std::shared_ptr<ConsumerGroup> ConsumerGroup::start(JetStream& js, const StreamPtr& stream,
                                                    const ConsumerAssignment& ca, std::string create_reply,
                                                    ApiError& err, Start mode) {
  Server& server = js.server();
  auto* mg = server.meta_group();
  RaftGroups* groups = mg ? mg->raft_groups() : nullptr;
  if (!groups) {
    err = api_error(err::ConsumerCreate, {{"{err}", "replicated consumers need clustered JetStream"}});
    return nullptr;
  }
  if (auto existing = find(js, ca.account, ca.stream, ca.name)) return existing;
  // A plain consumer of that name (an R1 one restored from disk, or one scaled up) gives way.
  std::optional<ConsumerSnapshot> seed;
  if (auto old = lookup_consumer(stream, ca.name)) {
    if (mode == Start::seed) seed = old->state_snapshot();
    stream->remove_consumer(ca.name);
    old->stop(mode == Start::seed);  // its state file: the group's log holds the state now
  }
  ConsumerConfig cfg = ca.config;
  apply_consumer_defaults(cfg);
  auto c = std::make_shared<Consumer>(server, stream, cfg, ca.name, ca.created_ns);
  auto cg = std::shared_ptr<ConsumerGroup>(new ConsumerGroup(js, stream, c));
  cg->self_id_ = groups->self_id();
  cg->create_reply_ = std::move(create_reply);
  if (seed) {
    cg->committed_.restore(*seed);
    cg->started_ = cg->seeding_ = true;
  }
  std::vector<std::string> peers = ca.group.peers;
  if (mode == Start::seed) peers = {groups->self_id()};
  c->set_replicator(cg);
  // A replicated ephemeral (on a work-queue or interest stream): its leader proposes its
  // removal once inactive.
  c->on_inactive = remove_inactive_consumer;
  stream->add_consumer(c);
  c->start(seed ? &*seed : nullptr);

  std::weak_ptr<ConsumerGroup> weak = cg;
  RaftGroup::Hooks hooks;
  hooks.apply = [weak](const raft::Entry& e) {
    if (auto self = weak.lock()) self->apply(e);
  };
  hooks.leader_changed = [weak](const std::string& leader, bool is_self) {
    if (auto self = weak.lock()) self->on_leader_changed(leader, is_self);
  };
  hooks.restore = [weak](const raft::Snapshot& s) {
    if (auto self = weak.lock()) self->restore(s);
  };
  RaftGroupPtr g;
  try {
    RaftGroupTiming timing = kConsumerTiming;
    timing.sync_appends = server.options().jetstream.sync_always;
    g = groups->create(ca.group.name, "$SYS", timing, std::move(hooks));
  } catch (const std::exception& e) {
    err = api_error(err::ConsumerCreate, {{"{err}", std::string("could not open raft store: ") + e.what()}});
  }
  if (g) {
    // The group may already be applying (a restart) or, once bootstrapped, electing: the
    // hooks read group_ under mu_.
    std::lock_guard lk(cg->mu_);
    cg->group_ = g;
  }
  if (g && !g->bootstrapped() &&
      !(mode == Start::join ? g->join()
                            : g->bootstrap(raft::PeerState{static_cast<int>(peers.size()), peers}, true))) {
    groups->remove(ca.group.name, false);
    g = nullptr;
    err = api_error(err::ConsumerCreate, {{"{err}", "could not start the consumer's raft group"}});
  }
  if (!g) {
    if (err.empty()) err = api_error(err::ConsumerCreate, {{"{err}", "server shutting down"}});
    stream->remove_consumer(ca.name);
    c->stop(true);
    return nullptr;
  }
  {
    std::lock_guard lk(g_registry_mu);
    g_registry[Key{&server, ca.account, ca.stream, ca.name}] = cg;
  }
  log::notice("JetStream replicated consumer '{} > {} > {}' started in group '{}'", ca.account, ca.stream, ca.name,
              ca.group.name);
  err = {};
  return cg;
}

std::shared_ptr<ConsumerGroup> ConsumerGroup::find(JetStream& js, const std::string& account,
                                                   const std::string& stream, const std::string& consumer) {
  std::lock_guard lk(g_registry_mu);
  auto it = g_registry.find(Key{&js.server(), account, stream, consumer});
  return it == g_registry.end() ? nullptr : it->second;
}

void ConsumerGroup::release_all(JetStream& js) {
  std::vector<ConsumerGroupPtr> gone;
  {
    std::lock_guard lk(g_registry_mu);
    for (auto it = g_registry.begin(); it != g_registry.end();) {
      if (std::get<0>(it->first) != &js.server()) {
        ++it;
        continue;
      }
      gone.push_back(std::move(it->second));
      it = g_registry.erase(it);
    }
  }
}

void ConsumerGroup::stop(bool remove_files) {
  auto self = shared_from_this();  // the registry's reference goes first
  {
    std::lock_guard lk(g_registry_mu);
    g_registry.erase(Key{&js_.server(), stream_->account().name(), stream_->name(), consumer_->name()});
  }
  if (auto* mg = js_.server().meta_group(); mg && mg->raft_groups() && group_)
    mg->raft_groups()->remove(group_->name(), remove_files);
  else if (group_)
    group_->stop(remove_files);
  if (lookup_consumer(stream_, consumer_->name()) == consumer_) stream_->remove_consumer(consumer_->name());
  consumer_->stop(remove_files);
}

void ConsumerGroup::update_config(const ConsumerConfig& cfg) {
  {
    std::lock_guard lk(mu_);
    committed_.set_config(cfg);
  }
  consumer_->update_config(cfg);
}

ConsumerState ConsumerGroup::latest_locked(bool& started, std::map<std::string, int64_t>& requests) const {
  ConsumerState next = committed_;
  started = started_;
  requests = requests_;
  for (const auto& e : group_->unapplied_entries())
    if (!apply_request(requests, e.data)) apply_to(next, e.data, started, nullptr, nullptr, nullptr);
  return next;
}

ConsumerSnapshot ConsumerGroup::committed_snapshot() const {
  // (Not the leader's live state: the acks it took but its group has not committed may
  // never commit.)
  std::lock_guard lk(mu_);
  return committed_.snapshot();
}

ConsumerSnapshot ConsumerGroup::final_snapshot(const std::vector<raft::Entry>& rest) const {
  std::lock_guard lk(mu_);
  ConsumerState next = committed_;
  bool started = started_;
  std::map<std::string, int64_t> requests;
  for (const auto& e : rest)
    if (!apply_request(requests, e.data)) apply_to(next, e.data, started, nullptr, nullptr, nullptr);
  return next.snapshot();
}

bool ConsumerGroup::seed_log() {
  std::lock_guard lk(mu_);
  if (!seeding_) return true;
  if (!group_ || !is_leader()) return false;
  if (applying_index_ == 0) {
    // Nothing in the log yet to compact at (a seeded group proposes no start position):
    // an entry that changes nothing (forget a pull request nobody made).
    std::string noop(1, static_cast<char>(kRequest));
    noop.push_back(0);
    raft::wire::put_str(noop, "");
    raft::wire::put_uvarint(noop, 0);
    group_->propose(std::move(noop));
    return false;
  }
  compacted_index_ = applying_index_;
  group_->compact(applying_index_, consumer_snapshot_json(committed_.snapshot(), started_, requests_).dump());
  seeding_ = false;
  return true;
}

GroupStatus ConsumerGroup::cluster_info() const {
  return group_ ? raft_group_status(js_.server(), *group_) : GroupStatus{};
}

// ---- proposals (the leader's consumer) ----------------------------------------------------

void ConsumerGroup::propose_delivered(uint64_t cseq, uint64_t sseq, uint64_t dc, int64_t ts) {
  std::string e(1, static_cast<char>(kDelivered));
  raft::wire::put_uvarint(e, cseq);
  raft::wire::put_uvarint(e, sseq);
  raft::wire::put_uvarint(e, dc);
  raft::wire::put_uvarint(e, static_cast<uint64_t>(ts));
  if (group_) group_->propose(std::move(e));
}

bool ConsumerGroup::propose_ack(bool term, uint64_t sseq, uint64_t cseq, std::string_view reply) {
  std::string e(1, static_cast<char>(kAck));
  raft::wire::put_uvarint(e, cseq);
  raft::wire::put_uvarint(e, sseq);
  e.push_back(term ? 1 : 0);
  raft::wire::put_str(e, reply);
  raft::wire::put_str(e, self_id_);
  return group_ && group_->propose(std::move(e));
}

void ConsumerGroup::propose_request(std::string_view reply, int64_t expires_at, bool add) {
  std::string e(1, static_cast<char>(kRequest));
  e.push_back(add ? 1 : 0);
  raft::wire::put_str(e, reply);
  raft::wire::put_uvarint(e, static_cast<uint64_t>(expires_at));
  if (group_) group_->propose(std::move(e));
}

bool ConsumerGroup::committed_needs_ack(uint64_t seq, std::string_view subject) const {
  std::lock_guard lk(mu_);
  return committed_.needs_ack(seq, subject);
}

bool ConsumerGroup::apply_request(std::map<std::string, int64_t>& requests, std::string_view b) {
  if (b.size() < 2 || static_cast<uint8_t>(b[0]) != kRequest) return false;
  size_t pos = 2;
  std::string reply;
  uint64_t exp = 0;
  if (!raft::wire::get_str(b, pos, reply) || !raft::wire::get_uvarint(b, pos, exp)) return true;
  if (b[1] == 0) {
    requests.erase(reply);
    return true;
  }
  const int64_t now = now_unix_ns();
  std::erase_if(requests, [&](const auto& r) { return r.second && r.second <= now; });
  requests[reply] = static_cast<int64_t>(exp);
  return true;
}

void ConsumerGroup::propose_deadline(uint64_t sseq, int64_t deadline) {
  std::string e(1, static_cast<char>(kDeadline));
  raft::wire::put_uvarint(e, sseq);
  raft::wire::put_uvarint(e, static_cast<uint64_t>(deadline));
  if (group_) group_->propose(std::move(e));
}

// ---- apply ------------------------------------------------------------------------------

bool ConsumerGroup::apply_to(ConsumerState& st, std::string_view b, bool& started, std::string* reply,
                             std::string* proposer, std::vector<uint64_t>* acked) {
  if (b.empty()) return false;
  size_t pos = 1;
  uint64_t a = 0, s = 0, c = 0, d = 0;
  switch (static_cast<uint8_t>(b[0])) {
    case kDelivered:
      if (!raft::wire::get_uvarint(b, pos, a) || !raft::wire::get_uvarint(b, pos, s) ||
          !raft::wire::get_uvarint(b, pos, c) || !raft::wire::get_uvarint(b, pos, d))
        return false;
      st.record_delivery(s, a, c, static_cast<int64_t>(d));
      started = true;
      return true;
    case kAck: {
      std::string r, p;
      if (!raft::wire::get_uvarint(b, pos, a) || !raft::wire::get_uvarint(b, pos, s) || pos >= b.size()) return false;
      bool term = b[pos++] != 0;
      if (!raft::wire::get_str(b, pos, r) || !raft::wire::get_str(b, pos, p)) return false;
      std::vector<uint64_t> covered{s};
      if (st.config().ack_policy == AckPolicy::all) {  // every pending one up to s goes
        covered.clear();
        for (const auto& [seq, pa] : st.pending()) {
          if (seq > s) break;
          covered.push_back(seq);
        }
      }
      bool removed = term ? st.term(s, a) : st.ack(s, a);
      if (acked && removed) *acked = std::move(covered);
      if (reply) *reply = std::move(r);
      if (proposer) *proposer = std::move(p);
      return true;
    }
    case kDeadline:
      if (!raft::wire::get_uvarint(b, pos, s) || !raft::wire::get_uvarint(b, pos, d)) return false;
      st.set_deadline(s, static_cast<int64_t>(d));
      return true;
    case kStart:
      if (!raft::wire::get_uvarint(b, pos, s)) return false;
      st.set_start(s);
      started = true;
      return true;
    case kRequest:  // not consumer state: apply_request()
      return true;
    default:
      return false;
  }
}

void ConsumerGroup::apply(const raft::Entry& e) {
  std::string reply, proposer;
  std::vector<uint64_t> acked;
  bool answer = false;
  {
    std::lock_guard lk(mu_);
    answer = group_ && group_->applying_as_leader();
    maybe_compact(e.index);
    if (!apply_to(committed_, e.data, started_, &reply, &proposer, &acked)) {
      log::error("JetStream consumer '{} > {}': malformed log entry {}", stream_->name(), consumer_->name(), e.index);
      return;
    }
    if (apply_request(requests_, e.data)) return;
  }
  consumer_->follow([&](ConsumerState& st) {
    bool ignored = false;
    apply_to(st, e.data, ignored, nullptr, nullptr, nullptr);
  });
  // A work queue forgets what its consumer acknowledged, an interest stream what none of its
  // consumers' committed states still needs: on every replica, in log order.
  for (uint64_t seq : acked) stream_->ack_for_retention(seq, *consumer_);
  // The AckSync answer leaves from the leader that committed the ack, now that a quorum has
  // it (the proposer may have lost leadership before the commit: RaftGroup::applying_as_leader).
  if (answer && !reply.empty()) js_.server().publish_internal(stream_->account(), reply, {}, {}, {});
}

void ConsumerGroup::maybe_compact(raft::Index next_index) {
  // Proposals batched into one entry share its index: compact only between entries.
  if (next_index <= applying_index_) return;
  raft::Index done = applying_index_;
  applying_index_ = next_index;
  if (!group_ || done < compacted_index_ + compact_every()) return;
  compacted_index_ = done;
  group_->compact(done, consumer_snapshot_json(committed_.snapshot(), started_, requests_).dump());
}

void ConsumerGroup::restore(const raft::Snapshot& s) {
  ConsumerSnapshot snap;
  bool started = false;
  std::map<std::string, int64_t> requests;
  if (!consumer_snapshot_from_json(s.data, snap, started, requests)) {
    log::error("JetStream consumer '{} > {}': undecodable snapshot at {}", stream_->name(), consumer_->name(),
               s.index);
    return;
  }
  {
    std::lock_guard lk(mu_);
    committed_.restore(snap);
    started_ = started;
    requests_ = std::move(requests);
    applying_index_ = compacted_index_ = s.index;
  }
  consumer_->follow([&](ConsumerState& st) { st.restore(snap); });
  // The acks the snapshot covers were not applied here one by one: a work queue (interest
  // stream) drops what they released, as apply() does for each ack.
  stream_->release_acked(*consumer_, snap.delivered_sseq);
}

void ConsumerGroup::on_leader_changed(const std::string& leader, bool self) {
  if (!self) {
    consumer_->set_leader(false, nullptr);
    if (!leader.empty()) {
      std::lock_guard lk(mu_);
      create_reply_.clear();  // the leader answers the create
    }
    return;
  }
  ConsumerSnapshot snap;
  bool started;
  std::map<std::string, int64_t> requests;
  {
    std::lock_guard lk(mu_);
    if (!group_) return;  // still starting: elections take longer than that
    // The committed state plus what the previous leader proposed that this replica has.
    snap = latest_locked(started, requests).snapshot();
    requests_.clear();
  }
  consumer_->set_leader(true, started ? &snap : nullptr);
  // Pull requests that waited at the previous leader: their clients ask again.
  const int64_t now = now_unix_ns();
  for (const auto& [reply, exp] : requests)
    if (exp == 0 || exp > now)
      js_.server().publish_internal(stream_->account(), reply, {}, "NATS/1.0 409 Leadership Change\r\n\r\n", {});
  if (!started) {
    // The start position the deliver policy gives now is the one every later leader uses.
    std::string e(1, static_cast<char>(kStart));
    raft::wire::put_uvarint(e, consumer_->state_snapshot().delivered_sseq + 1);
    group_->propose(std::move(e));
  }
  log::notice("JetStream cluster new consumer leader for '{} > {} > {}'", stream_->account().name(), stream_->name(),
              consumer_->name());
  // Replica facts need the group's lock, which this hook must not take: from the loop.
  group_->loop().post([self = shared_from_this()] { self->answer_create(); });
}

void ConsumerGroup::answer_create() {
  std::string reply;
  {
    std::lock_guard lk(mu_);
    reply.swap(create_reply_);
  }
  if (!is_leader()) return;
  // The snapshot set_leader took before delivering (taken also without a create to answer:
  // it is not kept).
  auto info = consumer_info_json(js_, consumer_, true);  // (a temporary would die before the loop)
  if (reply.empty()) return;
  nlohmann::ordered_json j;
  j["type"] = api_type("consumer_create_response");
  for (auto& [k, v] : info.items()) j[k] = v;
  js_.server().publish_internal(stream_->account(), reply, {}, {}, j.dump());
  // 2.9.10's new leader sends the CREATED advisory after answering the create.
  send_consumer_action(js_.server(), stream_->account(), stream_->name(), consumer_->name(), AdvisoryAction::create);
}

}  // namespace nats::jetstream
