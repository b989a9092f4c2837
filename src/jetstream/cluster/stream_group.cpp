#include "jetstream/cluster/stream_group.h"

#include <map>
#include <mutex>
#include <tuple>

#include "jetstream/cluster/assignment.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/raft_groups.h"
#include "jetstream/headers.h"
#include "jetstream/jetstream.h"
#include "jetstream/json_util.h"
#include "raft/wire.h"
#include "server/account.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

namespace {

enum Op : uint8_t { kMsg = 1, kPurge = 2, kDelete = 3, kUpdate = 4 };

// Stream groups time out faster than the meta group (0.5-1 s without a leader, heartbeats
// every 100 ms), so a stream accepts writes again within about a second of losing its leader.
constexpr RaftGroupTiming kStreamTiming{5, 1, false};

using Key = std::tuple<const Server*, std::string, std::string>;
std::mutex g_registry_mu;
std::map<Key, std::weak_ptr<StreamGroup>> g_registry;

std::string server_name_of(Server& server, const std::string& id) {
  if (id == util::hash_name(server.name())) return server.name();
  if (auto* ss = server.system_services())
    for (const auto& s : ss->known_servers())
      if (util::hash_name(s.name) == id) return s.name;
  return {};
}

bool server_offline(Server& server, const std::string& name) {
  if (auto* ss = server.system_services())
    for (const auto& s : ss->known_servers())
      if (s.name == name) return s.offline;
  return true;
}

}  // namespace

StreamGroup::StreamGroup(JetStream& js, StreamPtr stream) : js_(js), stream_(std::move(stream)) {}

StreamGroup::~StreamGroup() = default;

std::shared_ptr<StreamGroup> StreamGroup::start(JetStream& js, JsAccount& jsa, StreamConfig cfg, int64_t created_ns,
                                                const std::string& group, const std::vector<std::string>& peers,
                                                ApiError& err) {
  Server& server = js.server();
  auto* mg = server.meta_group();
  RaftGroups* groups = mg ? mg->raft_groups() : nullptr;
  if (!groups) {
    err = api_error(err::StreamCreate, "replicated streams need clustered JetStream");
    return nullptr;
  }
  err = check_stream_config(cfg, true);  // defaults; idempotent on a config already checked
  if (!err.empty()) return nullptr;
  if (auto existing = find(js, jsa.account.name(), cfg.name)) return existing;
  // The stream may have been restored from disk at start-up as a plain stream: take it over.
  StreamPtr stream;
  {
    std::lock_guard lk(jsa.mu);
    if (auto it = jsa.streams.find(cfg.name); it != jsa.streams.end()) stream = it->second;
  }
  if (!stream) {
    stream = Stream::create(js, jsa.account, cfg, created_ns, err);
    if (!stream) return nullptr;
    stream->restore_dedupe_later();
  }
  auto sg = std::shared_ptr<StreamGroup>(new StreamGroup(js, stream));
  sg->self_id_ = groups->self_id();
  stream->set_replicator(sg);

  std::weak_ptr<StreamGroup> weak = sg;
  RaftGroup::Hooks hooks;
  hooks.apply = [weak](const raft::Entry& e) {
    if (auto self = weak.lock()) self->apply(e);
  };
  hooks.leader_changed = [weak](const std::string&, bool is_self) {
    if (auto self = weak.lock()) self->on_leader_changed(is_self);
  };
  hooks.restore = [weak](const raft::Snapshot& s) {
    if (auto self = weak.lock()) self->restore(s);
  };
  try {
    RaftGroupTiming timing = kStreamTiming;
    // As the reference: stream logs are synced per write only with sync_always.
    timing.sync_appends = server.options().jetstream.sync_always;
    auto g = groups->create(group, "$SYS", timing, std::move(hooks));
    // The group may already be applying (a restart): hooks read group_ under cu_mu_.
    std::lock_guard lk(sg->cu_mu_);
    sg->group_ = std::move(g);
    sg->allow_campaign_locked();  // a restored snapshot may have started a catch-up already
  } catch (const std::exception& e) {
    err = api_error(err::StreamCreate, std::string("could not open raft store: ") + e.what());
    return nullptr;
  }
  if (!sg->group_) {
    err = api_error(err::StreamCreate, "server shutting down");
    return nullptr;
  }
  if (!sg->group_->bootstrapped() &&
      !(peers.empty() ? sg->group_->join()
                      : sg->group_->bootstrap(raft::PeerState{static_cast<int>(peers.size()), peers}, true))) {
    groups->remove(group, false);
    err = api_error(err::StreamCreate, "could not start the stream's raft group");
    return nullptr;
  }
  {
    std::lock_guard lk(jsa.mu);
    jsa.streams[cfg.name] = stream;
  }
  sg->subscribe_stepdown();
  sg->subscribe_catchup();
  {
    std::lock_guard lk(g_registry_mu);
    g_registry[Key{&server, jsa.account.name(), cfg.name}] = sg;
  }
  log::notice("JetStream replicated stream '{} > {}' started in group '{}'", jsa.account.name(), cfg.name, group);
  err = {};
  return sg;
}

std::shared_ptr<StreamGroup> StreamGroup::find(JetStream& js, const std::string& account, const std::string& stream) {
  std::lock_guard lk(g_registry_mu);
  auto it = g_registry.find(Key{&js.server(), account, stream});
  if (it == g_registry.end()) return nullptr;
  auto sg = it->second.lock();
  if (!sg) g_registry.erase(it);
  return sg;
}

void StreamGroup::stop(bool remove_files, bool apply_rest) {
  if (apply_rest) {
    // The proposals past what the group knows committed are applied too (the stream's one
    // server commits them all), and the leader that proposed them answers their PubAcks:
    // dropped, their publishers waited for a PubAck that never came (a client timeout at
    // every scale-down; 2.9.10 keeps the same stream and answers them). Not while catching
    // up (what it lacks comes before them); a kept server is its group's leader anyway.
    const bool led = group_->is_leader();
    std::vector<raft::Entry> rest = group_->halt_applying_rest();
    std::lock_guard lk(cu_mu_);
    if (!catching_up_)
      for (const auto& e : rest) apply_now(e, led);
    if (!rest.empty())
      log::debug("JetStream stream '{} > {}': {} proposals past the commit applied at the scale-down",
                 stream_->account().name(), stream_->name(), rest.size());
  }
  {
    std::lock_guard lk(g_registry_mu);
    g_registry.erase(Key{&js_.server(), stream_->account().name(), stream_->name()});
  }
  if (stepdown_sub_) js_.server().unsubscribe_internal(stream_->account(), stepdown_sub_);
  if (auto sys = js_.server().system_account())
    for (auto& s : catchup_subs_) js_.server().unsubscribe_internal(*sys, s);
  // A log applied to its end (apply_rest) is of no more use: the stream lives on as a plain
  // one (a later scale-up starts a group of another name).
  const bool remove_log = remove_files || apply_rest;
  if (auto* mg = js_.server().meta_group(); mg && mg->raft_groups())
    mg->raft_groups()->remove(group_->name(), remove_log);
  else
    group_->stop(remove_log);
  stream_->stop(remove_files);
  stream_->set_replicator(nullptr);  // the stream and its group hold each other
}

void StreamGroup::subscribe_stepdown() {
  // Only the leader answers (as the reference); the others see the request and stay silent.
  std::weak_ptr<StreamGroup> weak = shared_from_this();
  stepdown_sub_ = js_.server().subscribe_internal(
      stream_->account(), "$JS.API.STREAM.LEADER.STEPDOWN." + stream_->name(),
      [weak](const Subscription&, std::string_view, std::string_view reply, std::string_view, std::string_view) {
        auto self = weak.lock();
        if (!self || !self->group_->is_leader() || !self->step_down()) return;
        if (!reply.empty())
          self->js_.server().publish_internal(
              self->stream_->account(), reply, {}, {},
              R"({"type":"io.nats.jetstream.api.v1.stream_leader_stepdown_response","success":true})");
      });
}

std::string StreamGroup::leader_name() const {
  std::string id = group_->leader();
  return id.empty() ? std::string() : server_name_of(js_.server(), id);
}

GroupStatus StreamGroup::cluster_info() const { return raft_group_status(js_.server(), *group_); }

GroupStatus raft_group_status(Server& server, const RaftGroup& group) {
  GroupStatus ci;
  RaftStatus st = group.status();
  if (!st.leader.empty()) ci.leader = server_name_of(server, st.leader);
  for (const auto& r : st.replicas) {
    ReplicaStatus ri;
    ri.peer = r.peer;
    ri.name = server_name_of(server, r.peer);
    ri.current = r.current;
    ri.active_ns = r.active_ns;
    ri.lag = r.lag;
    ri.offline = ri.name.empty() || server_offline(server, ri.name);
    ci.replicas.push_back(std::move(ri));
  }
  std::sort(ci.replicas.begin(), ci.replicas.end(),
            [](const ReplicaStatus& a, const ReplicaStatus& b) { return a.name < b.name; });
  return ci;
}

bool StreamGroup::propose_msg(uint64_t seq, int64_t ts, std::string_view subject, std::string_view reply,
                              std::string_view headers, std::string_view payload) {
  std::string e;
  e.reserve(32 + subject.size() + reply.size() + headers.size() + payload.size() + self_id_.size());
  e.push_back(static_cast<char>(kMsg));
  raft::wire::put_uvarint(e, seq);
  raft::wire::put_uvarint(e, static_cast<uint64_t>(ts));
  raft::wire::put_str(e, subject);
  raft::wire::put_str(e, reply);
  raft::wire::put_str(e, headers);
  raft::wire::put_str(e, payload);
  raft::wire::put_str(e, self_id_);
  return group_->propose(std::move(e));
}

bool StreamGroup::propose_purge(std::string_view filter, uint64_t seq, uint64_t keep, uint64_t last_seq,
                                uint64_t answer_token) {
  std::string e(1, static_cast<char>(kPurge));
  raft::wire::put_str(e, filter);
  raft::wire::put_uvarint(e, seq);
  raft::wire::put_uvarint(e, keep);
  raft::wire::put_uvarint(e, last_seq);
  raft::wire::put_uvarint(e, answer_token);
  return group_->propose(std::move(e));
}

bool StreamGroup::propose_delete(uint64_t seq, bool erase, uint64_t answer_token) {
  std::string e(1, static_cast<char>(kDelete));
  raft::wire::put_uvarint(e, seq);
  e.push_back(erase ? 1 : 0);
  raft::wire::put_uvarint(e, answer_token);
  return group_->propose(std::move(e));
}

bool StreamGroup::propose_update(const StreamConfig& cfg) {
  std::string e(1, static_cast<char>(kUpdate));
  raft::wire::put_str(e, cfg.to_json().dump());
  return group_->propose(std::move(e));
}

void StreamGroup::apply(const raft::Entry& entry) {
  std::lock_guard lk(cu_mu_);
  if (catching_up_) {
    deferred_.push_back(entry);
    return;
  }
  maybe_compact(entry.index);
  bytes_since_compact_ += entry.data.size();
  apply_now(entry, group_ && group_->applying_as_leader());
}

void StreamGroup::apply_now(const raft::Entry& entry, bool answer) {
  std::string_view b = entry.data;
  if (b.empty()) return;
  size_t pos = 1;
  bool ok = true;
  switch (static_cast<uint8_t>(b[0])) {
    case kMsg: {
      uint64_t seq = 0, ts = 0;
      std::string subject, reply, headers, payload, proposer;
      ok = raft::wire::get_uvarint(b, pos, seq) && raft::wire::get_uvarint(b, pos, ts) &&
           raft::wire::get_str(b, pos, subject) && raft::wire::get_str(b, pos, reply) &&
           raft::wire::get_str(b, pos, headers) && raft::wire::get_str(b, pos, payload) &&
           raft::wire::get_str(b, pos, proposer);
      if (!ok) break;
      PubResult r = stream_->apply_msg(seq, static_cast<int64_t>(ts), subject, headers, payload);
      // The PubAck comes from the leader that committed it (not the proposer: a proposal
      // committed by the next leader, as across a move's leader transfer, would go
      // unanswered though stored). `proposer` is kept in the format, unused.
      if (answer && !reply.empty()) stream_->send_pub_ack(reply, r);
      if (!r.error.empty()) failed_since_compact_ = true;
      else if (failed_since_compact_) compact_to(entry.index);
      if (!r.error.empty())
        log::warn("JetStream stream '{} > {}': committed message {} not stored: {}", stream_->account().name(),
                  stream_->name(), seq, r.error.description);
      break;
    }
    case kPurge: {
      std::string filter;
      uint64_t seq = 0, keep = 0, last = 0;
      ok = raft::wire::get_str(b, pos, filter) && raft::wire::get_uvarint(b, pos, seq) &&
           raft::wire::get_uvarint(b, pos, keep) && raft::wire::get_uvarint(b, pos, last);
      // The answer token is absent in entries written before it existed.
      uint64_t token = 0;
      if (ok && pos < b.size()) ok = raft::wire::get_uvarint(b, pos, token);
      if (ok) stream_->apply_purge(filter, seq, keep, last, token);
      break;
    }
    case kDelete: {
      uint64_t seq = 0;
      ok = raft::wire::get_uvarint(b, pos, seq) && pos < b.size();
      if (!ok) break;
      const bool erase = b[pos++] != 0;
      uint64_t token = 0;  // absent in entries written before it existed
      if (pos < b.size()) ok = raft::wire::get_uvarint(b, pos, token);
      if (ok) stream_->apply_delete(seq, erase, token);
      break;
    }
    case kUpdate: {
      std::string js;
      ok = raft::wire::get_str(b, pos, js);
      if (!ok) break;
      auto j = nlohmann::ordered_json::parse(js, nullptr, false);
      ApiError e;
      std::optional<StreamConfig> cfg;
      if (!j.is_discarded()) cfg = parse_stream_config_json(j, e);
      if (cfg) stream_->apply_update(std::move(*cfg));
      else ok = false;
      break;
    }
    default: ok = false;
  }
  if (!ok)
    log::error("JetStream stream '{} > {}': malformed log entry {}", stream_->account().name(), stream_->name(),
               entry.index);
}

void StreamGroup::on_leader_changed(bool self) {
  {
    std::lock_guard lk(cu_mu_);
    if (!group_) return;  // still starting: elections take longer than that
  }
  if (!self) {
    stream_->set_leader(false, 0);
    return;
  }
  {
    // Elected before the campaign hold took effect: a replica missing messages must not lead.
    std::lock_guard lk(cu_mu_);
    if (catching_up_) {
      log::warn("JetStream stream '{} > {}' elected while catching up: stepping down", stream_->account().name(),
                stream_->name());
      group_->step_down();
      return;
    }
  }
  // Continue numbering after whatever the log already holds beyond what was applied (the
  // previous leader's proposals commit under this leader with their sequences).
  uint64_t last = 0;
  std::vector<Stream::PendingId> pending;
  for (const auto& e : group_->unapplied_entries()) {
    if (e.type != raft::EntryType::kNormal || e.data.empty() || static_cast<uint8_t>(e.data[0]) != kMsg) continue;
    std::string_view b = e.data;
    size_t pos = 1;
    uint64_t seq = 0, ts = 0;
    std::string subject, reply, headers;
    if (!raft::wire::get_uvarint(b, pos, seq) || !raft::wire::get_uvarint(b, pos, ts) ||
        !raft::wire::get_str(b, pos, subject) || !raft::wire::get_str(b, pos, reply) ||
        !raft::wire::get_str(b, pos, headers))
      continue;
    last = std::max(last, seq);
    auto id = header_value(headers, kMsgIdHdr);
    auto source = header_value(headers, "Nats-Stream-Source");
    if ((id && !id->empty()) || source)
      pending.push_back({id ? std::string(*id) : std::string(), seq, static_cast<int64_t>(ts),
                         source ? std::string(*source) : std::string()});
  }
  stream_->set_leader(true, last, pending);
  log::notice("JetStream cluster new stream leader for '{} > {}'", stream_->account().name(), stream_->name());
  // Replica facts need the group's lock, which this hook must not take: from the loop.
  group_->loop().post([self = shared_from_this()] { self->send_leader_elected(); });
}

// `$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.<stream>` in the stream's account, as the
// reference's JSStreamLeaderElectedAdvisory.
void StreamGroup::send_leader_elected() {
  if (!group_->is_leader()) return;
  GroupStatus st = cluster_info();
  auto cluster = cluster_info_json(js_.server().options().cluster.name, st);
  nlohmann::ordered_json j;
  j["type"] = "io.nats.jetstream.advisory.v1.stream_leader_elected";
  j["id"] = util::next_nuid();
  j["timestamp"] = format_time(system_clock_ns());
  j["account"] = stream_->account().name();
  j["stream"] = stream_->name();
  j["leader"] = js_.server().name();
  j["replicas"] = cluster.contains("replicas") ? cluster["replicas"] : nlohmann::ordered_json(nullptr);
  const std::string& domain = js_.server().options().jetstream.domain;
  if (!domain.empty()) j["domain"] = domain;
  js_.server().publish_internal(stream_->account(), "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED." + stream_->name(), {},
                                {}, j.dump());
}

namespace {
StreamGroupPtr group_of(const StreamPtr& s) {
  return s ? StreamGroup::find(s->jetstream(), s->account().name(), s->name()) : nullptr;
}
}  // namespace

StreamPtr start_replicated_stream(JetStream& js, JsAccount& jsa, const StreamAssignment& sa, ApiError& err,
                                  bool joining) {
  auto sg = StreamGroup::start(js, jsa, sa.config, sa.created_ns, sa.group.name,
                               joining ? std::vector<std::string>{} : sa.group.peers, err);
  return sg ? sg->stream() : nullptr;
}

ApiError update_replicated_stream(const StreamPtr& s, const StreamAssignment& sa) {
  // The meta log already ordered this update on every replica: apply it here directly.
  if (!group_of(s)) return api_error(err::StreamNotFound);
  StreamConfig cfg = sa.config;
  if (auto e = check_stream_config(cfg, true); !e.empty()) return e;
  s->apply_update(std::move(cfg));
  return {};
}

void stop_replicated_stream(const StreamPtr& s, bool delete_data, bool apply_rest) {
  if (auto sg = group_of(s)) sg->stop(delete_data, apply_rest);
  else if (s) s->stop(delete_data);
}

bool is_group_leader(const StreamPtr& s) {
  auto sg = group_of(s);
  return sg ? sg->is_leader() : true;
}

GroupStatus group_status(const StreamPtr& s) {
  auto sg = group_of(s);
  return sg ? sg->cluster_info() : GroupStatus{};
}

}  // namespace nats::jetstream
