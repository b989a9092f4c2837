#include "jetstream/cluster/js_cluster.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <thread>

#include "config/options.h"
#include "jetstream/advisories.h"
#include "jetstream/advisory_mute.h"
#include "jetstream/api/api_router.h"
#include "jetstream/api/deferred_request.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/r1_handoff.h"
#include "jetstream/cluster/raft_group.h"
#include "jetstream/cluster/request_util.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/consumer_api.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream_api.h"
#include "net/event_loop.h"
#include "jetstream/store/message_store.h"
#include "server/server.h"
#include "subject/subject.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using namespace cluster_util;

namespace {

constexpr auto kLeaderWaitStep = std::chrono::milliseconds(50);

// Test-only, with NATSCPP_TEST_HOOKS=1: NATSCPP_TEST_SCALE_DOWN_HOLD_MS holds the kept server
// of a scale-down to R1 that long with its replica stopped (store closed) before the plain
// stream opens, the window stream_gate.h keeps requests out of; NATSCPP_TEST_NO_STREAM_GATE=1
// opens no such window (what a test sees without it).
int scale_down_test_hook(const char* name) {
  const char* on = std::getenv("NATSCPP_TEST_HOOKS");
  const char* v = std::getenv(name);
  return on && std::string(on) == "1" && v ? std::atoi(v) : 0;
}

}  // namespace

JsCluster::JsCluster(JetStream& js, MetaGroup& meta)
    : js_(js), meta_(meta), started_ns_(system_clock_ns()) {
  auto& srv = js.server();
  self_name_ = srv.name();
  self_id_ = util::hash_name(self_name_);
  self_cluster_ = srv.options().cluster.name;
}

JsCluster::~JsCluster() = default;

bool JsCluster::is_leader() const { return meta_.is_leader(); }

nlohmann::ordered_json JsCluster::stream_alternates(const std::string& account, const std::string& stream,
                                                   const std::string& domain, const std::string& cluster) const {
  std::vector<nlohmann::ordered_json> alts;
  {
    std::lock_guard lk(mu_);
    for (const auto& sa : state_.streams(account)) {
      const auto& c = sa.config;
      if (c.name != stream && !(c.mirror.is_object() && c.mirror.value("name", std::string()) == stream)) continue;
      nlohmann::ordered_json a;
      a["name"] = c.name;
      if (!domain.empty()) a["domain"] = domain;
      a["cluster"] = sa.group.cluster;
      alts.push_back(std::move(a));
    }
  }
  if (alts.size() <= 1) return nullptr;
  std::stable_sort(alts.begin(), alts.end(), [&](const auto& x, const auto& y) {
    return (x["cluster"] == cluster) > (y["cluster"] == cluster);
  });
  return alts;
}

std::optional<StreamAssignment> JsCluster::stream(const std::string& account, const std::string& name) const {
  std::lock_guard lk(mu_);
  const auto* sa = state_.stream(account, name);
  if (!sa) return std::nullopt;
  return *sa;
}

std::vector<StreamAssignment> JsCluster::streams(const std::string& account) const {
  std::lock_guard lk(mu_);
  return state_.streams(account);
}

std::vector<std::string> JsCluster::consumer_names(const std::string& account, const std::string& name) const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  if (const auto* sa = state_.stream(account, name))
    for (const auto& [n, _] : sa->consumers) out.push_back(n);
  return out;
}

std::vector<PlacementCandidate> JsCluster::candidates() const {
  std::map<std::string, int> load;
  {
    std::lock_guard lk(mu_);
    load = state_.assets_per_peer();
  }
  auto& srv = js_.server();
  std::vector<PlacementCandidate> out;
  PlacementCandidate self{self_name_, self_id_, self_cluster_, srv.tags(), true, false, load[self_id_]};
  out.push_back(std::move(self));
  // On the leader, only members of the meta group take assets (as the reference, which picks
  // from the meta peers): a server the directory knows but the group does not would never
  // apply the assignment.
  auto meta = meta_.snapshot();
  std::map<std::string, bool> members;  // node id -> offline
  for (const auto& r : meta.replicas) members[r.peer] = r.offline;
  if (auto* ss = srv.system_services())
    for (const auto& k : ss->known_servers()) {
      if (k.name.empty() || k.name == self_name_) continue;
      std::string id = util::hash_name(k.name);
      bool member = !meta.is_leader || members.count(id);
      bool offline = k.offline || (member && meta.is_leader && members[id]);
      out.push_back({k.name, id, k.cluster, k.tags, k.jetstream && member, offline, load[id]});
    }
  return out;
}

std::string JsCluster::origin_cluster(std::string_view reply) const {
  // `_GR_.<cluster hash>.<server hash>.<inbox>`: the gateway that brought the request in.
  if (reply.size() > 19 && starts_with(reply, "_GR_.")) {
    std::string_view hash = reply.substr(5, 6);
    for (const auto& c : candidates())
      if (util::hash_name(c.cluster, 6) == hash) return c.cluster;
  }
  return self_cluster_;
}

RequestOrigin JsCluster::origin_of(const ApiRequest& req, std::string_view rest) const {
  RequestOrigin o;
  o.account = req.account.name();
  o.server = req.client_server.empty() ? self_name_ : req.client_server;
  o.cluster = origin_cluster(req.reply);
  o.rtt_ns = req.rtt_ns;
  o.reply = std::string(req.reply);
  o.proposed_ns = system_clock_ns();
  o.api = std::string(rest);
  o.body = std::string(req.payload);
  return o;
}

bool JsCluster::propose(const MetaEntry& e, ApiRequest& req, std::string_view rest) {
  if (meta_.propose(encode_meta_entry(e))) return true;
  reply_error(req, response_type_for(rest), api_error(err::ClusterNotLeader));
  return false;
}

std::string JsCluster::health_error() const {
  std::vector<StreamAssignment> all;
  {
    std::lock_guard lk(mu_);
    for (const auto& acc : state_.accounts())
      for (auto& sa : state_.streams(acc)) all.push_back(std::move(sa));
  }
  for (const auto& sa : all) {
    if (!sa.group.has_peer(self_id_)) continue;
    auto s = js_.lookup_stream(sa.account, sa.name());
    bool ok = s != nullptr;
    if (ok && sa.group.replicas() > 1) {
      auto sg = StreamGroup::find(js_, sa.account, sa.name());
      ok = sg && sg->group() && sg->group()->current();
    }
    if (!ok) return "JetStream stream '" + sa.account + " > " + sa.name() + "' is not current";
    for (const auto& [name, ca] : sa.consumers)
      if (ca.group.has_peer(self_id_) && (!lookup_consumer(s, name) || !consumer_current(ca)))
        return "JetStream consumer '" + sa.account + " > " + sa.name() + " > " + name + "' is not current";
  }
  return {};
}

// ---- routing ----------------------------------------------------------------------------

void JsCluster::route(ApiRequest& req, std::string_view rest) {
  const bool leader = is_leader();
  auto& router = js_.api();
  if (rest == "INFO") {
    if (leader) leader_account_info(req);
    return;
  }
  if (rest == "STREAM.NAMES" || rest == "STREAM.LIST") {
    if (leader) leader_stream_names(req, rest == "STREAM.LIST");
    return;
  }
  if (starts_with(rest, "STREAM.CREATE.")) {
    if (leader) leader_stream_create(req, rest);
    return;
  }
  if (starts_with(rest, "STREAM.UPDATE.")) {
    if (leader) leader_stream_update(req, rest);
    return;
  }
  if (starts_with(rest, "STREAM.DELETE.")) {
    if (leader) leader_stream_delete(req, rest);
    return;
  }
  if (starts_with(rest, "STREAM.RESTORE.")) {
    if (leader) leader_stream_restore(req, rest);
    return;
  }
  std::string_view prefix = stream_scoped_prefix(rest);
  if (prefix.empty()) {
    // Server-wide requests (ACCOUNT.*, SERVER.*...): the meta leader, as before.
    if (leader) router.dispatch(req, rest);
    return;
  }
  auto args = args_after(rest, prefix);
  const std::string& stream_name = args[0];
  // A stream this server is changing right now (stream_gate.h): routed again after. Not the
  // pulls (the consumer's own subscription serves them; nothing here answers them).
  struct Leave {
    Leave(StreamGate& g, const std::string& k) : gate(g), key(k) {}
    ~Leave() { gate.leave(key); }
    StreamGate& gate;
    const std::string& key;
  };
  const std::string gate_key = prefix == "CONSUMER.MSG.NEXT" ? std::string() : req.account.name() + " " + stream_name;
  std::optional<Leave> leave;
  if (!gate_key.empty()) {
    auto replay = [&]() -> StreamGate::Replay {
      return [this, d = std::make_shared<DeferredRequest>(req), r = std::string(rest)] {
        ApiRequest again = d->request();
        route(again, r);
      };
    };
    if (!gate_.enter(gate_key, replay)) return;
    leave.emplace(gate_, gate_key);
  }
  if (prefix == "STREAM.PEER.REMOVE") {
    if (leader) leader_stream_peer_remove(req, rest);
    return;
  }
  if (prefix == "CONSUMER.DURABLE.CREATE") {
    if (leader) leader_consumer_create(req, rest, true);
    return;
  }
  if (prefix == "CONSUMER.NAMES" || prefix == "CONSUMER.LIST") {
    // As 2.9.10: the meta leader, from the meta assignments (so a consumer is listed as soon
    // as its create was answered, from whichever server).
    if (leader) leader_consumer_names(req, rest, prefix == "CONSUMER.LIST");
    return;
  }
  if (prefix == "CONSUMER.CREATE") {
    // Durables and ephemerals go through the meta log (as 2.9.10); a mirror's or source's
    // direct consumer lives with its stream's host.
    auto body = json::parse(req.payload, nullptr, false);
    bool direct = body.is_object() && body.contains("config") && body["config"].is_object() &&
                  body["config"].value("direct", false);
    if (!direct) {
      if (leader) leader_consumer_create(req, rest, false);
      return;
    }
  }
  if ((prefix == "CONSUMER.INFO" || prefix == "CONSUMER.LEADER.STEPDOWN") && args.size() == 2) {
    // A consumer the meta log placed: its host answers (on a replicated stream that need
    // not be the stream's leader); a replicated one's leader.
    std::optional<ConsumerAssignment> ca;
    {
      std::lock_guard lk(mu_);
      if (const auto* c = state_.consumer(req.account.name(), stream_name, args[1])) ca = *c;
    }
    if (ca) {
      if (route_replicated_consumer(req, rest, prefix, *ca)) return;
      // An R1 durable arriving with its state: silent until it runs (clients retry).
      if (r1_handoff::adopting(js_, req.account.name(), stream_name, args[1])) return;
      if (ca->group.has_peer(self_id_)) js_.api().dispatch(req, rest);
      return;
    }
    if (prefix == "CONSUMER.INFO") return route_unknown_consumer_info(req, rest, stream_name, args[1]);
  }
  if (prefix == "CONSUMER.DELETE" && args.size() == 2) {
    std::optional<ConsumerAssignment> ca;
    {
      std::lock_guard lk(mu_);
      if (const auto* c = state_.consumer(req.account.name(), stream_name, args[1])) ca = *c;
    }
    if (ca) {
      if (leader) leader_consumer_delete(req, rest, *ca);
      return;
    }
    if (!leader) return route_unknown_consumer_delete(req, rest, stream_name, args[1]);
  }
  route_to_stream_host(req, rest, stream_name);
}

void JsCluster::route_unknown_consumer_delete(ApiRequest& req, std::string_view rest, const std::string& stream,
                                              const std::string& consumer) {
  auto s = js_.lookup_stream(req.account.name(), stream);
  // Not the host, or an ephemeral it has: as any stream request.
  if (!s || !is_group_leader(s) || lookup_consumer(s, consumer)) return route_to_stream_host(req, rest, stream);
  when_meta_caught_up(req, rest, [this, stream, consumer](ApiRequest& again, const std::string& r, std::chrono::steady_clock::time_point since) {
    {
      // The meta leader's: it has it, or deleted it since the request came (that answered).
      std::lock_guard lk(mu_);
      if (state_.consumer(again.account.name(), stream, consumer)) return;
      auto it = consumers_removed_.find(again.account.name() + " " + stream + " " + consumer);
      if (it != consumers_removed_.end() && it->second >= since) return;
    }
    route_to_stream_host(again, r, stream);
  });
}

void JsCluster::route_unknown_consumer_info(ApiRequest& req, std::string_view rest, const std::string& stream,
                                            const std::string& consumer) {
  auto s = js_.lookup_stream(req.account.name(), stream);
  // Not the host (silent), or a consumer it runs outside the meta log (a mirror's or
  // source's direct consumer): as any stream request.
  if (!s || !is_group_leader(s) || lookup_consumer(s, consumer)) return route_to_stream_host(req, rest, stream);
  when_meta_caught_up(req, rest, [this, stream, consumer](ApiRequest& again, const std::string& r, std::chrono::steady_clock::time_point) {
    bool known;
    {
      std::lock_guard lk(mu_);
      known = state_.consumer(again.account.name(), stream, consumer) != nullptr;
    }
    // Assigned meanwhile: its host answers; still unknown: "consumer not found" from here.
    if (known) route(again, r);
    else route_to_stream_host(again, r, stream);
  });
}

void JsCluster::when_meta_caught_up(ApiRequest& req, std::string_view rest,
                                    std::function<void(ApiRequest&, const std::string&, std::chrono::steady_clock::time_point)> then) {
  // The request outlives this call: keep what it points at.
  struct Held {
    std::string subject, reply, payload, rest;
    Account* account;
    JsAccount* jsa;
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
    std::optional<uint64_t> read_index{};  // the meta index to have applied, once known
    int tries = 0;
  };
  auto held = std::make_shared<Held>(Held{std::string(req.subject), std::string(req.reply), std::string(req.payload),
                                          std::string(rest), &req.account, &req.jsa});
  // Timers are loop-thread only: the checks run on one loop, which also re-arms them.
  net::EventLoop& loop = js_.server().pick_loop();
  auto check = std::make_shared<std::function<void()>>();
  *check = [this, held, &loop, then = std::move(then), weak = std::weak_ptr<std::function<void()>>(check)] {
    if (!held->read_index) held->read_index = meta_.read_index_since(held->since);
    bool caught_up = held->read_index && meta_.applied_index() >= *held->read_index;
    if (!caught_up && ++held->tries < kLeaderWaitTries / 3) {  // 50 ms steps, 1 s
      if (auto again = weak.lock()) loop.add_timer(kLeaderWaitStep, [again] { (*again)(); });
      return;
    }
    ApiRequest again{js_.server(), js_, *held->account, *held->jsa, held->subject, {}, held->reply, {}, held->payload};
    then(again, held->rest, held->since);
  };
  loop.post([check] { (*check)(); });
}

void JsCluster::route_to_stream_host(ApiRequest& req, std::string_view rest, const std::string& stream_name) {
  if (auto s = js_.lookup_stream(req.account.name(), stream_name)) {
    // Of a replicated stream's peers, its leader answers (none while it has no leader).
    if (is_group_leader(s)) js_.api().dispatch(req, rest);
    return;
  }
  if (!is_leader()) return;
  bool known;
  {
    std::lock_guard lk(mu_);
    known = state_.stream(req.account.name(), stream_name) != nullptr;
  }
  // The local handlers answer "stream not found" for a stream this server does not host.
  if (!known) js_.api().dispatch(req, rest);
}

// ---- apply ------------------------------------------------------------------------------

void JsCluster::apply(const std::string& data) {
  auto e = decode_meta_entry(data);
  if (!e) {
    log::warn("JetStream cluster: skipping an undecodable meta entry ({} bytes)", data.size());
    return;
  }
  if (e->op == MetaOp::remove_peer) return apply_remove_peer(*e);
  MetaChange ch;
  {
    std::lock_guard lk(mu_);
    ch = state_.apply(*e);
    if (ch.op == MetaOp::remove_consumer && ch.consumer_before) {
      // For route_unknown_consumer_delete: a delete this server deferred may be this one.
      auto now = std::chrono::steady_clock::now();
      std::erase_if(consumers_removed_, [&](const auto& kv) { return now - kv.second > std::chrono::seconds(10); });
      const auto& c = *ch.consumer_before;
      consumers_removed_[c.account + " " + c.stream + " " + c.name] = now;
    }
  }
  const RequestOrigin& origin = e->stream ? e->stream->origin : e->consumer->origin;
  bool live = origin.proposed_ns >= started_ns_;
  // A stream hosted here that this entry updates (scale-down, move, config) or removes: no
  // request reads it until the change is done (stream_gate.h).
  std::optional<StreamWindow> window;
  if (!e->consumer && ch.stream_before && ch.stream_before->group.has_peer(self_id_) &&
      (ch.op == MetaOp::update_stream || ch.op == MetaOp::remove_stream))
    window.emplace(*this, ch.stream_before->account + " " + ch.stream_before->name());
  if (!ch.rejected.empty()) {
    // Nobody hosts what was refused: the leader answers.
    if (live && is_leader() && !origin.reply.empty()) {
      auto* jsa = js_.account(origin.account);
      if (!jsa) return;
      ApiRequest req{js_.server(), js_, jsa->account, *jsa, origin.api, {}, origin.reply, {}, origin.body};
      reply_error(req, response_type_for(origin.api), ch.rejected);
    }
    return;
  }
  const RaftGroupSpec* group = nullptr;
  if (e->consumer) group = ch.consumer_after ? &ch.consumer_after->group : &ch.consumer_before->group;
  else group = ch.stream_after ? &ch.stream_after->group : &ch.stream_before->group;
  if (ch.op == MetaOp::update_stream) {
    // R1 durables moving off a server the stream leaves: the old host lets go of them
    // before its replica stops, the new one takes them over once its stream runs.
    release_r1_durables(*ch.stream_before, *ch.stream_after);
    if (ch.stream_before->group.name != ch.stream_after->group.name) {
      apply_scale_down(ch, origin, live);
      return adopt_r1_durables(*ch.stream_before, *ch.stream_after);
    }
    if (ch.stream_before->group.peers != ch.stream_after->group.peers && ch.stream_after->group.replicas() > 1) {
      apply_peer_change(ch, origin, live);
      apply_consumers_following(*ch.stream_before, *ch.stream_after, live);
      return adopt_r1_durables(*ch.stream_before, *ch.stream_after);
    }
  }
  if (ch.op == MetaOp::remove_stream) stop_replicated_consumers(*ch.stream_before);
  if (!group->has_peer(self_id_)) return;
  if (ch.op == MetaOp::assign_stream && is_restore_origin(origin)) return apply_restore(*ch.stream_after, origin, live);
  if (e->consumer && group->replicas() > 1) return apply_replicated_consumer(ch, origin, live);
  if (!e->consumer && group->replicas() > 1) return apply_replicated_stream(ch, origin, live);
  if (ch.op == MetaOp::remove_consumer && !js_.lookup_stream(origin.account, e->consumer->stream)) {
    // An R1 ephemeral a scale-down left on this server (meta_state.cpp), whose stream is no
    // longer here: as 2.9.10, the delete succeeds (no advisory: there was no consumer to stop).
    std::string reply = live ? local_reply(origin.reply) : std::string();
    auto* jsa = js_.account(origin.account);
    if (reply.empty() || !jsa) return;
    ApiRequest req{js_.server(), js_, jsa->account, *jsa, {}, {}, reply, {}, {}};
    return reply_json(req, ojson{{"type", api_type(response_type_for(origin.api))}, {"success", true}});
  }
  std::string assigned = e->consumer && ch.op == MetaOp::assign_consumer ? e->consumer->name : std::string();
  run_locally(live ? origin : RequestOrigin{origin.account, {}, {}, {}, 0, origin.api, origin.body}, assigned);
}

std::string JsCluster::local_reply(const std::string& reply) const {
  // A reply mapped by a gateway of our own cluster goes to a client of this cluster: the
  // inbox itself reaches it over the routes.
  if (reply.size() > 19 && starts_with(reply, "_GR_.") && reply.substr(5, 6) == util::hash_name(self_cluster_, 6))
    return reply.substr(19);
  return reply;
}

// R>1: every peer runs its replica through the replication layer; the first peer of the
// group (the preferred leader) answers the request, once the group has a leader.
void JsCluster::apply_replicated_stream(const MetaChange& ch, const RequestOrigin& origin, bool live) {
  auto* jsa = js_.account(origin.account);
  if (!jsa) return;
  const StreamAssignment& sa = ch.stream_after ? *ch.stream_after : *ch.stream_before;
  std::string reply = live ? local_reply(origin.reply) : std::string();
  // The group's leader; the first peer while the group has none (a new stream) — a dead
  // first peer must not leave an update or delete unanswered.
  auto sg = StreamGroup::find(js_, sa.account, sa.name());
  const bool leads = sg && !sg->group()->leader().empty() ? sg->is_leader() : sa.group.peers.front() == self_id_;
  const bool answers = !reply.empty() && leads;
  // The action advisories, from the stream's leader as 2.9.10 (not for a replayed log).
  const bool announces = live && leads;
  std::string type = response_type_for(origin.api);
  ApiRequest req{js_.server(), js_, jsa->account, *jsa, {}, {}, reply, {}, {}};
  auto current = js_.lookup_stream(sa.account, sa.name());
  switch (ch.op) {
    case MetaOp::assign_stream: {
      ApiError err;
      auto s = start_replicated_stream(js_, *jsa, sa, err);
      if (!s) {
        log::warn("JetStream cluster: could not start stream '{} > {}': {}", sa.account, sa.name(), err.description);
        if (answers) reply_error(req, type, err);
        return;
      }
      // Every peer waits for the group's first leader; that leader answers and announces.
      if (live) reply_when_led(*jsa, s, reply, type, true, 0, true, leads);
      return;
    }
    case MetaOp::update_stream: {
      if (!current) return;
      if (starts_with(origin.api, "STREAM.CREATE.")) {  // the same create again
        if (answers) reply_when_led(*jsa, current, reply, type, true);
        return;
      }
      ApiError err = update_replicated_stream(current, sa);
      if (announces && err.empty()) send_stream_action(js_.server(), jsa->account, sa.name(), AdvisoryAction::modify);
      if (!answers) return;
      if (!err.empty()) return reply_error(req, type, err);
      reply_stream_info(req, type, *current, std::nullopt);
      return;
    }
    case MetaOp::remove_stream: {
      if (current) {
        stop_replicated_stream(current, true);
        std::lock_guard lk(jsa->mu);
        if (auto it = jsa->streams.find(sa.name()); it != jsa->streams.end() && it->second == current)
          jsa->streams.erase(it);
      }
      // The stream's delete advisory only: 2.9.10 clustered sends none for the consumers that
      // go with it (R1 or replicated), unlike a single server.
      if (announces) send_stream_action(js_.server(), jsa->account, sa.name(), AdvisoryAction::remove);
      if (answers) reply_json(req, ojson{{"type", api_type(type)}, {"success", true}});
      return;
    }
    default:
      return;
  }
}

// R>1 -> R1: the kept peer (the stream's leader when the meta leader could ask it) applies
// the rest of its committed log, stops its replica without deleting the files and reopens
// them as a plain stream (a memory stream's store is handed over); the other peers delete
// theirs.
void JsCluster::apply_scale_down(const MetaChange& ch, const RequestOrigin& origin, bool live) {
  const StreamAssignment& before = *ch.stream_before;
  const StreamAssignment& after = *ch.stream_after;
  if (!before.group.has_peer(self_id_)) return;
  auto* jsa = js_.account(after.account);
  if (!jsa) return;
  const bool keep = after.group.has_peer(self_id_);
  // Between the replica's stop and the plain stream's start no request reads the stream
  // (stream_gate.h; also when a meta snapshot brings the scale-down).
  StreamWindow window(*this, after.account + " " + after.name());
  // Pull requests waiting at this server's consumers of the stream: the kept server hands
  // them to the consumers that replace these; elsewhere they are dropped quietly (they
  // expire at their client), not answered 409 Consumer Deleted: the consumer lives on.
  std::map<std::string, std::deque<Consumer::WaitingRequest>> waiting;
  if (auto s = js_.lookup_stream(after.account, after.name()))
    for (const auto& sc : s->consumers())
      if (auto c = std::dynamic_pointer_cast<Consumer>(sc)) waiting[c->consumer_name()] = c->take_waiting();
  std::map<std::string, ConsumerSnapshot> kept;
  std::vector<ConsumerPtr> carried;
  std::unique_ptr<MessageStore> memory;
  stop_consumers_scaled_down(before, after, kept);
  if (auto s = js_.lookup_stream(after.account, after.name())) {
    // The plain consumers here (R1 durables of a file stream) stop and keep their state on
    // disk: the reopened stream restores them from it. Those with no files (ephemerals, a
    // memory stream's durables) that stay here go on from their state in memory, as the
    // replicated ones do (2.9.10 keeps the same consumer through a scale-down).
    for (const auto& sc : s->consumers()) {
      auto c = std::dynamic_pointer_cast<Consumer>(sc);
      if (!c || c->replicated()) continue;
      c->stop(!keep);
      auto ca = after.consumers.find(c->name());
      if (keep && !c->persistent() && ca != after.consumers.end() && ca->second.group.replicas() == 1 &&
          ca->second.group.has_peer(self_id_))
        carried.push_back(c);
    }
    stop_replicated_stream(s, !keep, keep);
    // A memory stream has no files to reopen: its messages go to the plain stream.
    if (keep) memory = s->hand_over_memory();
    static const int hold_ms = scale_down_test_hook("NATSCPP_TEST_SCALE_DOWN_HOLD_MS");
    if (keep && hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    std::lock_guard lk(jsa->mu);
    if (auto it = jsa->streams.find(after.name()); it != jsa->streams.end() && it->second == s) jsa->streams.erase(it);
  }
  if (!keep) return;
  ApiError err;
  auto s = js_.create_stream(*jsa, after.config, err, nullptr, 0, std::move(memory));
  if (!s) log::warn("JetStream cluster: could not reopen stream '{} > {}' as R1: {}", after.account, after.name(),
                    err.description);
  else start_consumers_scaled_down(s, after, kept, carried);
  if (s)
    for (auto& [name, w] : waiting)
      if (auto c = lookup_consumer(s, name)) c->adopt_waiting(std::move(w));
  std::string reply = live ? local_reply(origin.reply) : std::string();
  if (reply.empty()) return;
  ApiRequest req{js_.server(), js_, jsa->account, *jsa, {}, {}, reply, {}, {}};
  std::string type = response_type_for(origin.api);
  if (!s) return reply_error(req, type, err);
  reply_stream_info(req, type, *s, std::nullopt);
}

JsCluster::StreamWindow::StreamWindow(JsCluster& c, std::string key) : c_(c), key_(std::move(key)) {
  static const bool off = scale_down_test_hook("NATSCPP_TEST_NO_STREAM_GATE") == 1;
  if (off) key_.clear();
  else c_.gate_.begin(key_);
}

JsCluster::StreamWindow::~StreamWindow() {
  if (key_.empty()) return;
  // The held requests go through route() again, on a loop (not inside this apply).
  for (auto& r : c_.gate_.end(key_)) c_.js_.server().pick_loop().post(std::move(r));
}

void JsCluster::reply_when_led(JsAccount& jsa, StreamPtr s, std::string reply, std::string type, bool did_create,
                               int tries, bool announce, bool fallback) {
  // The reference's leader answers a create: wait (briefly) for the new group to elect one.
  const std::string leader = group_status(s).leader;
  if (leader.empty() && tries < kLeaderWaitTries) {
    js_.server().pick_loop().run_after(kLeaderWaitStep, [this, &jsa, s, reply, type, did_create, tries, announce,
                                                         fallback] {
      reply_when_led(jsa, s, reply, type, did_create, tries + 1, announce, fallback);
    });
    return;
  }
  if (leader.empty() ? !fallback : leader != self_name_) return;
  ApiRequest req{js_.server(), js_, jsa.account, jsa, {}, {}, reply, {}, {}};
  if (!reply.empty()) reply_stream_info(req, type, *s, did_create ? std::optional<bool>(true) : std::nullopt);
  // 2.9.10's new leader sends the CREATED advisory after its answer.
  if (announce) send_stream_action(js_.server(), jsa.account, s->name(), AdvisoryAction::create);
}

void JsCluster::run_locally(const RequestOrigin& origin, const std::string& assigned_name) {
  std::string reply = local_reply(origin.reply);
  auto* jsa = js_.account(origin.account);
  if (!jsa) {
    log::warn("JetStream cluster: account {} has no JetStream here; asset not hosted", origin.account);
    return;
  }
  std::string subject = "$JS.API." + origin.api;
  ApiRequest req{js_.server(), js_, jsa->account, *jsa, subject, {}, reply, {}, origin.body, assigned_name};
  req.rtt_ns = origin.rtt_ns;
  if (origin.server != self_name_) {
    req.client_server = origin.server;
    req.client_cluster = origin.cluster;
  }
  // A replayed entry (no proposal time: see apply and meta_snapshot) recreates what exists
  // already as far as clients know: as 2.9.10, no action advisory and no API audit again.
  std::optional<AdvisoryMute> mute;
  if (origin.proposed_ns == 0) mute.emplace();
  js_.api().dispatch(req, origin.api);
}

}  // namespace nats::jetstream
