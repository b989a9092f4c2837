// JsCluster, peer changes of replicated streams: `$JS.API.STREAM.PEER.REMOVE`, the
// replacement of a removed server's replicas, and the Raft membership changes that follow
// an assignment's new peer set. The meta log says who the peers are; each stream's Raft
// leader makes its group match, one single-server change at a time: the new server joins as
// a learner (it catches up from the leader's log, or its snapshot and the missing messages)
// and becomes a voter once current; the old one is removed after that.
#include <algorithm>

#include "jetstream/api/api_router.h"
#include "jetstream/cluster/consumer_follow.h"
#include "jetstream/cluster/consumer_group.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/request_util.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/jetstream.h"
#include "jetstream/store/file_store.h"
#include "server/server.h"
#include "jetstream/stream_api.h"
#include "server/account.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using namespace cluster_util;

namespace {
// When a removed peer's replacement was last proposed, by "account stream" (under the
// cluster's mu_; one JsCluster per process).
std::map<std::string, std::chrono::steady_clock::time_point>& remap_sent() {
  static std::map<std::string, std::chrono::steady_clock::time_point> m;
  return m;
}
}  // namespace

void JsCluster::leader_stream_peer_remove(ApiRequest& req, std::string_view rest) {
  const char* type = "stream_remove_peer_response";
  auto args = args_after(rest, "STREAM.PEER.REMOVE");
  if (args.size() != 1) return;
  if (empty_request(req.payload)) return reply_error(req, type, api_error(err::BadRequest));
  auto body = json::parse(req.payload, nullptr, false);
  if (!body.is_object()) return reply_error(req, type, ApiError{400, 10025, "invalid JSON"});
  auto it = body.find("peer");
  std::string peer = it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  if (peer.empty()) return reply_error(req, type, api_error(err::BadRequest));
  auto sa = stream(req.account.name(), args[0]);
  if (!sa) return reply_error(req, type, api_error(err::StreamNotFound));
  // The request names a server; groups hold node ids.
  std::string id = util::hash_name(peer);
  if (!sa->group.has_peer(id)) return reply_error(req, type, api_error(err::ClusterPeerNotMember));
  if (!remap_stream_peer(*sa, id)) return reply_error(req, type, api_error(err::PeerRemap));
  reply_json(req, ojson{{"type", api_type(type)}, {"success", true}});
}

bool JsCluster::remap_stream_peer(const StreamAssignment& sa, const std::string& peer) {
  PlacementRequest preq;
  preq.replicas = 1;
  placement_from_json(sa.config.placement, preq.cluster, preq.tags);
  preq.cluster = sa.group.cluster;
  preq.default_cluster = sa.group.cluster;
  preq.exclude = sa.group.peers;  // the staying peers and the one leaving
  auto placed = place(preq, candidates());
  StreamAssignment next = sa;
  auto pos = std::find(next.group.peers.begin(), next.group.peers.end(), peer);
  if (placed.ok()) {
    *pos = placed.peers.front();
  } else if (next.group.peers.size() > 1) {
    next.group.peers.erase(pos);  // as the reference: at least the peer goes
  } else {
    return false;  // the only peer of an R1 stream stays rather than leave it nowhere
  }
  next.group.preferred.clear();
  next.consumers = consumers_following(sa, next.group.peers, false);
  next.origin = RequestOrigin{sa.account, self_name_, self_cluster_, {}, system_clock_ns(),
                              "STREAM.PEER.REMOVE." + sa.name(), json{{"peer", peer}}.dump()};
  if (!meta_.propose(encode_meta_entry({MetaOp::update_stream, std::move(next), std::nullopt, {}}))) return false;
  if (placed.ok())
    log::notice("JetStream cluster: stream '{} > {}' peer {} replaced by {}", sa.account, sa.name(), peer,
                placed.peers.front());
  return placed.ok();
}

void JsCluster::replace_removed_peer(const std::string& peer) {
  std::vector<StreamAssignment> hosted;
  {
    std::lock_guard lk(mu_);
    auto now = std::chrono::steady_clock::now();
    for (const auto& acc : state_.accounts())
      for (auto& sa : state_.streams(acc))
        if (sa.group.has_peer(peer)) {
          remap_sent()[sa.account + " " + sa.name()] = now;
          hosted.push_back(std::move(sa));
        }
  }
  for (const auto& sa : hosted)
    if (!remap_stream_peer(sa, peer))
      log::warn("JetStream cluster could not replace peer for stream '{} > {}'", sa.account, sa.name());
}

void JsCluster::apply_peer_change(const MetaChange& ch, const RequestOrigin& origin, bool live) {
  const StreamAssignment& before = *ch.stream_before;
  const StreamAssignment& after = *ch.stream_after;
  auto* jsa = js_.account(after.account);
  if (!jsa) return;
  // The first peer before the change answers (as the first peer answers a create).
  std::string reply = live && before.group.peers.front() == self_id_ ? local_reply(origin.reply) : std::string();
  ApiRequest req{js_.server(), js_, jsa->account, *jsa, {}, {}, reply, {}, {}};
  std::string type = response_type_for(origin.api);
  if (!after.group.has_peer(self_id_)) {
    // Leaving (a move): this replica runs until the group lets it go.
    auto s = js_.lookup_stream(after.account, after.name());
    if (!s) return;
    if (!(s->config() == after.config)) update_replicated_stream(s, after);
    if (!reply.empty()) reply_stream_info(req, type, *s, std::nullopt);
    return;
  }
  const bool from_r1 = before.group.replicas() == 1 && before.group.has_peer(self_id_);
  StreamPtr s;
  ApiError err;
  if (from_r1) {
    // The plain stream becomes a group of one (it leads at once); the others join it.
    StreamAssignment alone = after;
    alone.group.peers = {self_id_};
    if ((s = start_replicated_stream(js_, *jsa, alone, err))) {
      seed_snapshot_.insert(after.group.name);
      if (!(s->config() == after.config)) err = update_replicated_stream(s, after);
    }
  } else if (!StreamGroup::find(js_, after.account, after.name())) {
    // New here: join the running group (its leader adds us and sends what we miss).
    s = start_replicated_stream(js_, *jsa, after, err, true);
  } else {
    s = js_.lookup_stream(after.account, after.name());
    if (s && !(s->config() == after.config)) err = update_replicated_stream(s, after);
  }
  if (!s && err.empty()) err = api_error(err::StreamNotFound);
  if (!err.empty())
    log::warn("JetStream cluster: stream '{} > {}' peer change: {}", after.account, after.name(), err.description);
  if (reply.empty()) return;
  if (!err.empty()) return reply_error(req, type, err);
  reply_stream_info(req, type, *s, std::nullopt);
}

namespace {

// A replica this server no longer holds: stop it and delete its data.
void drop_replica(JsAccount& jsa, const StreamPtr& s) {
  log::notice("JetStream cluster: stream '{} > {}' left this server", jsa.account.name(), s->config().name);
  stop_replicated_stream(s, true);
  std::lock_guard lk(jsa.mu);
  if (auto it = jsa.streams.find(s->config().name); it != jsa.streams.end() && it->second == s) jsa.streams.erase(it);
}

// The group leader's next membership change towards `want`: add what is missing (one at a
// time; a new member is a learner until caught up), then remove the others, itself last (a
// leader that removed itself steps down once that commits).
void change_membership(RaftGroup& g, const std::vector<std::string>& want, const std::string& self) {
  raft::Membership m = g.membership();
  auto log_done = [name = g.name()](const char* what, const std::string& p) {
    return [name, what, p](bool ok) {
      if (ok) log::notice("JetStream cluster: {} peer {} in group '{}'", what, p, name);
    };
  };
  for (const auto& p : want)
    if (!m.contains(p)) return g.add_peer(p, log_done("adding", p));
  if (!m.learners.empty()) return;  // wait for the new members to catch up and vote
  auto unwanted = [&](const std::string& p) { return std::find(want.begin(), want.end(), p) == want.end(); };
  for (const auto& p : m.voters)
    if (p != self && unwanted(p)) return g.remove_peer(p, log_done("removing", p));
  if (unwanted(self)) g.remove_peer(self, log_done("removing", self));
}

}  // namespace

void JsCluster::reconcile_consumer_peers() {
  std::vector<ConsumerAssignment> all;
  {
    std::lock_guard lk(mu_);
    for (const auto& acc : state_.accounts())
      for (const auto& sa : state_.streams(acc))
        for (const auto& [_, ca] : sa.consumers)
          if (ca.group.replicas() > 1) all.push_back(ca);
  }
  for (const auto& ca : all) {
    auto cg = ConsumerGroup::find(js_, ca.account, ca.stream, ca.name);
    if (!cg || !cg->group() || cg->group()->name() != ca.group.name) continue;
    if (cg->group()->is_leader()) {
      if (cg->seed_log()) change_membership(*cg->group(), ca.group.peers, self_id_);
      continue;
    }
    if (ca.group.has_peer(self_id_)) continue;
    // Leaving: once the group no longer counts us (or we have lost it), stop for good.
    raft::Membership m = cg->group()->membership();
    if ((!m.voters.empty() && !m.contains(self_id_)) || !cg->group()->current(std::chrono::seconds(10))) {
      log::notice("JetStream cluster: consumer '{} > {} > {}' left this server", ca.account, ca.stream, ca.name);
      cg->stop(true);
    }
  }
}

void JsCluster::reconcile_stream_peers() {
  // On the meta leader: a stream whose peers still name a removed server (the leader that
  // proposed its replacement went before it committed, as when the meta leader removed
  // itself) gets it proposed again, at most every 5 s per stream.
  if (is_leader()) {
    constexpr auto kRetry = std::chrono::seconds(5);
    std::vector<std::pair<StreamAssignment, std::string>> todo;  // stream, removed peer
    {
      std::lock_guard lk(mu_);
      const auto& removed = state_.removed_peers();
      auto now = std::chrono::steady_clock::now();
      for (const auto& acc : state_.accounts())
        for (auto& sa : state_.streams(acc))
          for (const auto& p : sa.group.peers) {
            if (!removed.count(p)) continue;
            auto& last = remap_sent()[sa.account + " " + sa.name()];
            if (now - last < kRetry) break;
            last = now;
            todo.emplace_back(sa, p);
            break;
          }
    }
    for (const auto& [sa, peer] : todo) {
      log::notice("JetStream cluster: stream '{} > {}' still has removed peer {}: replacing it", sa.account, sa.name(),
                  peer);
      remap_stream_peer(sa, peer);
    }
  }
  finish_restores();
  reconcile_consumer_peers();
  std::vector<StreamAssignment> all;
  {
    std::lock_guard lk(mu_);
    for (const auto& acc : state_.accounts())
      for (auto& sa : state_.streams(acc))
        if (sa.group.replicas() > 1) all.push_back(std::move(sa));
  }
  for (auto* jsa : js_.accounts_snapshot()) {
    const std::string jsa_name = jsa->account.name();
    std::vector<StreamPtr> local;
    {
      std::lock_guard lk(jsa->mu);
      for (auto& [_, s] : jsa->streams) local.push_back(s);
    }
    for (auto& s : local) {
      auto sg = StreamGroup::find(js_, jsa_name, s->config().name);
      if (!sg || !sg->group()) continue;
      auto sa = std::find_if(all.begin(), all.end(), [&](const StreamAssignment& a) {
        return a.account == jsa_name && a.name() == s->config().name && a.group.name == sg->group()->name();
      });
      // Deleted, or re-created under another group: those paths stop this replica.
      if (sa == all.end()) continue;
      if (!sg->is_leader()) {
        if (sa->group.has_peer(self_id_)) continue;
        // Leaving: once the group no longer counts us (or we have lost it), stop for good.
        raft::Membership m = sg->group()->membership();
        if ((!m.voters.empty() && !m.contains(self_id_)) || !sg->group()->current(std::chrono::seconds(10))) {
          StreamWindow window(*this, jsa_name + " " + s->config().name);  // stream_gate.h
          drop_replica(*jsa, s);
        }
        continue;
      }
      if (seed_snapshot_.count(sa->group.name)) {
        // Scaled up from R1: the history predates the group's log, so the log starts with a
        // snapshot of the store; joining servers copy the messages it covers.
        auto st = sg->group()->status();
        if (st.applied == 0) continue;  // not yet elected and past its first entry
        if (auto* fs = dynamic_cast<FileStore*>(&s->store())) fs->flush();
        StoreState ss = s->store().fast_state();
        log::debug("JetStream cluster: group '{}' seeded with a snapshot of messages {}..{}", sa->group.name,
                   ss.first_seq, ss.last_seq);
        sg->group()->compact(st.applied, json{{"first_seq", ss.first_seq}, {"last_seq", ss.last_seq}}.dump());
        seed_snapshot_.erase(sa->group.name);
        continue;
      }
      change_membership(*sg->group(), sa->group.peers, self_id_);
      if (sa->config.num_replicas == 1) finish_r1_move(*sa, *sg);
    }
  }
}

// An R1 stream moving (a group of two, the target first; leader_stream_update): once the
// group is exactly the two and the target has every entry, the leader hands leadership to the
// target; the target, leading, asks the meta leader to scale the stream down to R1 (a
// STREAM.UPDATE with the config as it is, no reply), which keeps the leader: the target.
void JsCluster::finish_r1_move(const StreamAssignment& sa, StreamGroup& sg) {
  const std::string& target = sa.group.peers.front();
  raft::Membership m = sg.group()->membership();
  if (!m.learners.empty() || m.voters.size() != sa.group.peers.size()) return;
  for (const auto& p : sa.group.peers)
    if (!m.contains(p)) return;
  if (self_id_ != target) {
    RaftStatus st = sg.group()->status();
    for (const auto& r : st.replicas)
      if (r.peer == target && r.current && r.lag == 0 && sg.group()->match_index(target) >= st.last_index) {
        log::notice("JetStream cluster: stream '{} > {}' moving: leadership to its new server", sa.account,
                    sa.name());
        sg.step_down();
      }
    return;
  }
  // Leading while still copying messages (elected before its catch-up began, stepping down
  // now): scaling down would drop the only complete copy.
  if (sg.catching_up()) return;
  RaftStatus own = sg.group()->status();
  if (own.applied < own.commit) return;
  auto now = std::chrono::steady_clock::now();
  auto& sent = move_finish_sent_[sa.group.name];
  if (now - sent < std::chrono::seconds(3)) return;
  sent = now;
  auto* jsa = js_.account(sa.account);
  if (!jsa) return;
  log::notice("JetStream cluster: stream '{} > {}' moved here: scaling down to R1", sa.account, sa.name());
  js_.server().publish_internal(jsa->account, "$JS.API.STREAM.UPDATE." + sa.name(), {}, {},
                                sa.config.to_json().dump());
}

}  // namespace nats::jetstream
