// JsCluster, meta snapshots and server removal: the state machine side of the meta log's
// compaction (snapshot / restore) and of `$JS.API.SERVER.REMOVE`.
#include <set>

#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/cluster/consumer_group.h"
#include "jetstream/cluster/r1_handoff.h"
#include "jetstream/consumer_api.h"
#include "jetstream/jetstream.h"
#include "jetstream/json_util.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

std::string JsCluster::snapshot() const {
  std::lock_guard lk(mu_);
  return state_.snapshot();
}

void JsCluster::restore(const std::string& blob) {
  MetaState now;
  if (!now.restore(blob)) {
    log::error("JetStream cluster: a meta snapshot does not decode ({} bytes); state kept", blob.size());
    return;
  }
  MetaState before;
  {
    std::lock_guard lk(mu_);
    before = state_;
    state_ = now;
  }
  for (const auto& id : now.removed_peers()) meta_.note_removed(id);
  if (now.removed_peers().count(self_id_))
    log::error("JetStream cluster: this server was removed from the cluster (meta snapshot)");
  reconcile_local_assets(before, now);
}

void JsCluster::reconcile_local_assets(const MetaState& before, const MetaState& now, const std::string* only) {
  std::set<std::string> accounts;
  for (const auto& a : before.accounts()) accounts.insert(a);
  for (const auto& a : now.accounts()) accounts.insert(a);
  if (only) std::erase_if(accounts, [&](const std::string& a) { return a != *only; });
  for (const auto& acc : accounts) {
    auto* jsa = js_.account(acc);
    if (!jsa) continue;
    // Kept streams whose assignment changed in the entries the snapshot covers, as applying
    // those entries would have done: R1 durables leaving this server are let go first (their
    // new host asks for their state; the stream may stop below), and a scale-down to R1 makes
    // the kept replica the plain stream (the others stop theirs).
    for (const auto& old : before.streams(acc)) {
      const auto* sa = now.stream(acc, old.name());
      if (!sa) continue;
      release_r1_durables(old, *sa);
      if (old.group.name != sa->group.name && old.group.replicas() > 1 && sa->group.replicas() == 1) {
        MetaChange ch;
        ch.op = MetaOp::update_stream;
        ch.stream_before = old;
        ch.stream_after = *sa;
        apply_scale_down(ch, RequestOrigin{}, false);
      }
    }
    // Assigned here before, not any more (deleted, or moved off this server).
    for (const auto& old : before.streams(acc)) {
      const auto* sa = now.stream(acc, old.name());
      if (!old.group.has_peer(self_id_) || (sa && sa->group.has_peer(self_id_))) continue;
      auto s = js_.lookup_stream(acc, old.name());
      if (!s) continue;
      StreamWindow window(*this, acc + " " + old.name());  // stream_gate.h
      log::debug("JetStream cluster: stream '{} > {}' no longer assigned here (meta snapshot)", acc, old.name());
      if (old.group.replicas() > 1) {
        stop_replicated_stream(s, true);
        std::lock_guard lk(jsa->mu);
        if (auto it = jsa->streams.find(old.name()); it != jsa->streams.end() && it->second == s) jsa->streams.erase(it);
      } else {
        js_.delete_stream(*jsa, old.name());
      }
    }
    // Assigned here and not running (a restart from a snapshot, or a snapshot from the leader).
    for (const auto& sa : now.streams(acc)) {
      if (!sa.group.has_peer(self_id_)) continue;
      ApiError err;
      StreamPtr s = js_.lookup_stream(acc, sa.name());
      if (sa.group.replicas() > 1) {
        if (!StreamGroup::find(js_, acc, sa.name())) s = start_replicated_stream(js_, *jsa, sa, err);
      } else if (!s) {
        s = js_.create_stream(*jsa, sa.config, err);
      }
      if (!s) {
        log::warn("JetStream cluster: could not start stream '{} > {}': {}", acc, sa.name(), err.description);
        continue;
      }
      // R1 durables that moved here: their state comes from their old host.
      if (const auto* was = before.stream(acc, sa.name())) adopt_r1_durables(*was, sa);
      for (const auto& [name, ca] : sa.consumers) {
        if (!ca.group.has_peer(self_id_)) continue;
        if (ca.group.replicas() > 1) {
          // A replicated consumer runs through its own group, never as a plain local one.
          ApiError cerr;
          if (!ConsumerGroup::find(js_, acc, sa.name(), name)) start_replicated_consumer(s, ca, {}, cerr);
          continue;
        }
        if (lookup_consumer(s, name) || r1_handoff::adopting(js_, acc, sa.name(), name)) continue;
        // The consumer's latest create request, run here without a reply.
        run_locally(RequestOrigin{ca.origin.account, {}, {}, {}, 0, ca.origin.api, ca.origin.body}, name);
      }
    }
  }
}

bool JsCluster::propose_remove_peer(const std::string& peer_id) {
  MetaEntry e;
  e.op = MetaOp::remove_peer;
  e.peer = peer_id;
  return meta_.propose(encode_meta_entry(e));
}

void JsCluster::apply_remove_peer(const MetaEntry& e) {
  {
    std::lock_guard lk(mu_);
    state_.apply(e);
  }
  meta_.note_removed(e.peer);
  if (is_leader()) replace_removed_peer(e.peer);
  if (e.peer == self_id_ && js_.enabled()) disable_removed_self();
}

// As 2.9.10's processRemovePeer on the removed server: the ERR line, the
// `$JS.EVENT.ADVISORY.SERVER.REMOVED` advisory (system account, the reference's
// JSServerRemovedAdvisory), then JetStream is disabled here (JetStream::disable, from a loop
// task: it stops the meta group, whose apply hook this is).
void JsCluster::disable_removed_self() {
  log::error("JetStream being DISABLED, our server was removed from the cluster");
  Server& srv = js_.server();
  nlohmann::ordered_json adv;
  adv["type"] = "io.nats.jetstream.advisory.v1.server_removed";
  adv["id"] = util::next_nuid();
  adv["timestamp"] = format_time(system_clock_ns());
  adv["server"] = srv.name();
  adv["server_id"] = srv.id();
  adv["cluster"] = srv.options().cluster.name;
  if (const auto& d = srv.options().jetstream.domain; !d.empty()) adv["domain"] = d;
  if (auto sys = srv.system_account()) srv.publish_internal(*sys, "$JS.EVENT.ADVISORY.SERVER.REMOVED", {}, {}, adv.dump());
  JetStream& js = js_;
  srv.pick_loop().post([&js] { js.disable(); });
}

}  // namespace nats::jetstream
