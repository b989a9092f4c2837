// JsCluster's side of replicated (R>1) consumers: applying their assignments on the peers
// (consumer_group.h runs them) and answering the requests only their leader answers
// (CONSUMER.INFO, CONSUMER.LEADER.STEPDOWN), with the reference's errors.
#include "jetstream/advisories.h"
#include "jetstream/api/api_router.h"
#include "jetstream/cluster/consumer_group.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/r1_handoff.h"
#include "jetstream/cluster/raft_groups.h"
#include "jetstream/cluster/request_util.h"
#include "jetstream/consumer.h"
#include "jetstream/consumer_api.h"
#include "jetstream/jetstream.h"
#include "server/account.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

using ojson = nlohmann::ordered_json;
using namespace cluster_util;

namespace {

// Who answers a request about a replicated consumer: its leader; while it has none, its
// first peer (so a delete or update of a leaderless consumer still gets an answer).
bool answers_for(const ConsumerGroupPtr& cg, const RaftGroupSpec& group, const std::string& self_id) {
  if (cg && cg->is_leader()) return true;
  return (!cg || !cg->has_leader()) && !group.peers.empty() && group.peers.front() == self_id;
}

}  // namespace

void JsCluster::apply_replicated_consumer(const MetaChange& ch, const RequestOrigin& origin, bool live) {
  const ConsumerAssignment& ca = ch.consumer_after ? *ch.consumer_after : *ch.consumer_before;
  auto* jsa = js_.account(ca.account);
  if (!jsa) return;
  std::string reply = live ? local_reply(origin.reply) : std::string();
  std::string type = response_type_for(origin.api);
  ApiRequest req{js_.server(), js_, jsa->account, *jsa, {}, {}, reply, {}, {}};
  auto cg = ConsumerGroup::find(js_, ca.account, ca.stream, ca.name);
  if (ch.op == MetaOp::remove_consumer) {
    bool leads = answers_for(cg, ca.group, self_id_);
    if (cg) cg->stop(true);
    // The DELETED advisory from the consumer's (former) leader, as 2.9.10.
    if (live && leads) send_consumer_action(js_.server(), jsa->account, ca.stream, ca.name, AdvisoryAction::remove);
    if (!reply.empty() && leads) reply_json(req, ojson{{"type", api_type(type)}, {"success", true}});
    return;
  }
  if (cg) {
    // The same create again, or a config update: every peer applies it; the leader answers.
    bool answer = !reply.empty() && answers_for(cg, ca.group, self_id_);
    ConsumerConfig cfg = ca.config;
    apply_consumer_defaults(cfg);
    auto e = check_consumer_update(cg->consumer()->config(), cfg);
    if (!e) cg->update_config(cfg);
    if (!answer) return;
    if (e) return reply_error(req, type, *e);
    ojson j;
    j["type"] = api_type(type);
    auto info = consumer_info_json(js_, cg->consumer());
    for (auto& [k, v] : info.items()) j[k] = v;
    reply_json(req, j);
    return;
  }
  ApiError err;
  if (live && is_restored_consumer_body(origin.body)) {
    // A restored stream's consumer (stream_restore.cpp): the server that restored it seeds
    // the group with the plain consumer's state, the others join.
    auto stream = js_.lookup_stream(ca.account, ca.stream);
    auto plain = stream ? lookup_consumer(stream, ca.name) : nullptr;
    auto c = std::dynamic_pointer_cast<Consumer>(plain);
    auto mode = c && !c->replicated() ? ConsumerGroup::Start::seed : ConsumerGroup::Start::join;
    if (!stream || !ConsumerGroup::start(js_, stream, ca, {}, err, mode))
      log::warn("JetStream cluster: could not start restored consumer '{} > {} > {}': {}", ca.account, ca.stream,
                ca.name, stream ? err.description : "no stream");
    return;
  }
  if (!start_replicated_consumer(js_.lookup_stream(ca.account, ca.stream), ca, reply, err) && !reply.empty() &&
      ca.group.peers.front() == self_id_)
    reply_error(req, type, err);
}

bool JsCluster::start_replicated_consumer(const StreamPtr& stream, const ConsumerAssignment& ca,
                                          const std::string& reply, ApiError& err) {
  if (stream && ConsumerGroup::start(js_, stream, ca, reply, err)) return true;
  if (!stream) err = api_error(err::StreamNotFound);
  log::warn("JetStream cluster: could not start consumer '{} > {} > {}': {}", ca.account, ca.stream, ca.name,
            err.description);
  return false;
}

void JsCluster::apply_consumers_following(const StreamAssignment& before, const StreamAssignment& after, bool live) {
  for (const auto& [name, ca] : after.consumers) {
    auto old = before.consumers.find(name);
    if (ca.group.replicas() <= 1 || old == before.consumers.end()) continue;
    if (old->second.group.peers == ca.group.peers) continue;
    if (!ca.group.has_peer(self_id_) || ConsumerGroup::find(js_, ca.account, ca.stream, name)) continue;
    auto stream = js_.lookup_stream(ca.account, ca.stream);
    // A plain consumer here scaled up: its state seeds the group; elsewhere: join. Replayed
    // after a restart, the group's own store has it (a seeded group of one was bootstrapped).
    const bool was_here = old->second.group.replicas() == 1 && old->second.group.has_peer(self_id_);
    const bool seed = was_here && live;
    auto mode = seed ? ConsumerGroup::Start::seed : was_here ? ConsumerGroup::Start::fresh : ConsumerGroup::Start::join;
    // Entering the group now (not a replay): a log of that name here is an older group's.
    if (live && (seed || !old->second.group.has_peer(self_id_)))
      if (auto* mg = js_.server().meta_group(); mg && mg->raft_groups() &&
                                                mg->raft_groups()->discard_stale(ca.group.name, "$SYS"))
        log::warn("JetStream cluster: consumer '{} > {} > {}': discarded a stale log of group '{}'", ca.account,
                  ca.stream, name, ca.group.name);
    ApiError err;
    if (stream && ConsumerGroup::start(js_, stream, ca, {}, err, mode)) {
      log::notice("JetStream cluster: consumer '{} > {} > {}' {} its group '{}' here", ca.account, ca.stream, name,
                  seed ? "seeds" : "joins", ca.group.name);
      continue;
    }
    if (!stream) err = api_error(err::StreamNotFound);
    log::warn("JetStream cluster: could not join consumer '{} > {} > {}': {}", ca.account, ca.stream, name,
              err.description);
  }
}

void JsCluster::stop_consumers_scaled_down(const StreamAssignment& before, const StreamAssignment& after,
                                           std::map<std::string, ConsumerSnapshot>& kept) {
  for (const auto& [name, ca] : after.consumers) {
    auto old = before.consumers.find(name);
    if (old == before.consumers.end() || old->second.group.replicas() <= 1 || ca.group.replicas() > 1) continue;
    auto cg = ConsumerGroup::find(js_, ca.account, ca.stream, name);
    if (!cg) continue;
    if (ca.group.has_peer(self_id_)) {
      // Every ack its group committed that this server has in its log is in the state it
      // keeps: those it knows committed, and those it has not learnt committed yet (the
      // leader may have answered the AckSync already). As the group's only member it would
      // commit them all. (One a quorum without this server committed is not here: that
      // message is redelivered, as after a failover; the reference keeps the same replica.)
      std::vector<raft::Entry> rest;
      if (cg->group()) rest = cg->group()->halt_applying_rest();
      kept[name] = cg->final_snapshot(rest);
    }
    cg->stop(true);
  }
}

void JsCluster::start_consumers_scaled_down(const StreamPtr& stream, const StreamAssignment& after,
                                            const std::map<std::string, ConsumerSnapshot>& kept,
                                            const std::vector<ConsumerPtr>& carried) {
  // restore_consumer: with the inactivity cleanup of any consumer the API starts.
  for (const auto& [name, snap] : kept) {
    const ConsumerAssignment& ca = after.consumers.at(name);
    if (lookup_consumer(stream, name)) continue;
    ConsumerConfig cfg = ca.config;
    apply_consumer_defaults(cfg);
    restore_consumer(js_, stream, cfg, name, ca.created_ns, &snap);
    log::notice("JetStream cluster: consumer '{} > {} > {}' runs here alone (scaled down)", ca.account, ca.stream,
                name);
  }
  for (const auto& old : carried) {
    if (lookup_consumer(stream, old->name())) continue;
    ConsumerSnapshot snap = old->state_snapshot();
    auto c = restore_consumer(js_, stream, old->config(), old->name(), old->created_ns(), &snap);
    c->set_last_active(old->last_active());
  }
}

namespace {

// The R1 durables of `after` that were R1 on another server in `before`: (name, old host).
std::vector<std::pair<std::string, std::string>> r1_moves(const StreamAssignment& before,
                                                          const StreamAssignment& after) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, ca] : after.consumers) {
    auto old = before.consumers.find(name);
    if (old == before.consumers.end() || ca.group.replicas() != 1 || old->second.group.replicas() != 1) continue;
    if (ca.group.peers != old->second.group.peers) out.emplace_back(name, old->second.group.peers.front());
  }
  return out;
}

}  // namespace

void JsCluster::release_r1_durables(const StreamAssignment& before, const StreamAssignment& after) {
  for (const auto& [name, from] : r1_moves(before, after))
    if (from == self_id_) r1_handoff::release(js_, js_.lookup_stream(after.account, after.name()), name);
}

void JsCluster::adopt_r1_durables(const StreamAssignment& before, const StreamAssignment& after) {
  // Replayed after a restart too: the durable then runs from its own files already, or is
  // asked for again (and starts afresh if its old host no longer has it).
  for (const auto& [name, from] : r1_moves(before, after)) {
    const ConsumerAssignment& ca = after.consumers.at(name);
    if (ca.group.has_peer(self_id_)) r1_handoff::adopt(js_, ca, from);
  }
}

bool JsCluster::consumer_current(const ConsumerAssignment& ca) const {
  if (ca.group.replicas() <= 1) return true;
  auto cg = ConsumerGroup::find(js_, ca.account, ca.stream, ca.name);
  return cg && cg->group() && cg->group()->current();
}

void JsCluster::stop_replicated_consumers(const StreamAssignment& sa) {
  for (const auto& [name, ca] : sa.consumers)
    if (ca.group.replicas() > 1 && ca.group.has_peer(self_id_))
      if (auto cg = ConsumerGroup::find(js_, sa.account, sa.name(), name)) cg->stop(true);
}

bool JsCluster::route_replicated_consumer(ApiRequest& req, std::string_view rest, std::string_view prefix,
                                          const ConsumerAssignment& ca) {
  if (ca.group.replicas() <= 1 || !ca.group.has_peer(self_id_)) return false;
  auto cg = ConsumerGroup::find(js_, ca.account, ca.stream, ca.name);
  if (prefix == "CONSUMER.INFO") {
    if (cg && cg->is_leader()) js_.api().dispatch(req, rest);
    return true;
  }
  // CONSUMER.LEADER.STEPDOWN, as the reference: 10008 while the group has no leader, the
  // leader checks the request and hands leadership to a current follower.
  const char* type = "consumer_leader_stepdown_response";
  if (!cg || !cg->has_leader()) {
    if (ca.group.peers.front() == self_id_) reply_error(req, type, api_error(err::ClusterNotAvail));
    return true;
  }
  if (!cg->is_leader()) return true;
  if (!empty_request(req.payload)) reply_error(req, type, api_error(err::BadRequest));
  else if (cg->step_down()) reply_json(req, ojson{{"type", api_type(type)}, {"success", true}});
  return true;
}

}  // namespace nats::jetstream
