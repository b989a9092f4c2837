// JsCluster, peer changes of replicated streams: `$JS.API.STREAM.PEER.REMOVE`, the
// replacement of a removed server's replicas, and the Raft membership changes that follow
// an assignment's new peer set. The meta log says who the peers are; each stream's Raft
// leader makes its group match, one single-server change at a time: the new server joins as
// a learner (it catches up from the leader's log, or its snapshot and the missing messages)
// and becomes a voter once current; the old one is removed after that.
#include <algorithm>

#include "jetstream/api/api_router.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/request_util.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/jetstream.h"
#include "server/account.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using namespace cluster_util;

void JsCluster::leader_stream_peer_remove(ApiRequest& req, std::string_view rest) {
  const char* type = "stream_remove_peer_response";
  auto args = args_after(rest, "STREAM.PEER.REMOVE");
  if (args.size() != 1) return;
  if (empty_request(req.payload)) return reply_error(req, type, api_error(err::BadRequest));
  auto body = json::parse(req.payload, nullptr, false);
  if (!body.is_object()) return reply_error(req, type, api_error(err::InvalidJSON, "not a JSON object"));
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
  next.origin = RequestOrigin{sa.account, self_name_, self_cluster_, {}, system_clock_ns(),
                              "STREAM.PEER.REMOVE." + sa.name(), json{{"peer", peer}}.dump()};
  if (!meta_.propose(encode_meta_entry({MetaOp::update_stream, std::move(next), std::nullopt}))) return false;
  if (placed.ok())
    log::notice("JetStream cluster: stream '{} > {}' peer {} replaced by {}", sa.account, sa.name(), peer,
                placed.peers.front());
  return placed.ok();
}

void JsCluster::replace_removed_peer(const std::string& peer) {
  std::vector<StreamAssignment> hosted;
  {
    std::lock_guard lk(mu_);
    for (const auto& acc : state_.accounts())
      for (auto& sa : state_.streams(acc))
        if (sa.group.has_peer(peer)) hosted.push_back(std::move(sa));
  }
  for (const auto& sa : hosted)
    if (!remap_stream_peer(sa, peer))
      log::warn("JetStream cluster could not replace peer for stream '{} > {}'", sa.account, sa.name());
}

void JsCluster::apply_peer_change(const MetaChange& ch) {
  const StreamAssignment& after = *ch.stream_after;
  if (!after.group.has_peer(self_id_) || StreamGroup::find(js_, after.account, after.name())) return;
  auto* jsa = js_.account(after.account);
  if (!jsa) return;
  // New here: join the running group (its leader adds us and sends us what we miss).
  ApiError err;
  if (!start_replicated_stream(js_, *jsa, after, err, true))
    log::warn("JetStream cluster: could not start stream '{} > {}': {}", after.account, after.name(),
              err.description);
}

void JsCluster::reconcile_stream_peers() {
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
      raft::Membership m = sg->group()->membership();
      if (sa == all.end() || !sa->group.has_peer(self_id_)) {
        // Leaving: once the group no longer counts us (or we have lost it), stop for good.
        if (sg->is_leader()) {
          sg->step_down();  // a member that stays becomes leader and changes the group
          continue;
        }
        bool let_go = !m.voters.empty() && !m.contains(self_id_);
        if (!sg->group()->current(std::chrono::seconds(10))) let_go = true;
        if (!let_go) continue;
        log::notice("JetStream cluster: stream '{} > {}' left this server", jsa_name, s->config().name);
        stop_replicated_stream(s, true);
        std::lock_guard lk(jsa->mu);
        if (auto it = jsa->streams.find(s->config().name); it != jsa->streams.end() && it->second == s)
          jsa->streams.erase(it);
        continue;
      }
      if (!sg->is_leader()) continue;
      const auto& want = sa->group.peers;
      // Add first, remove after: the group never runs below the replicas asked for.
      for (const auto& p : want)
        if (!m.contains(p)) {
          sg->group()->add_peer(p);
          goto next;
        }
      if (!m.learners.empty()) continue;  // wait for the new member to catch up and vote
      for (const auto& p : m.voters)
        if (std::find(want.begin(), want.end(), p) == want.end()) {
          sg->group()->remove_peer(p);
          break;
        }
    next:;
    }
  }
}

}  // namespace nats::jetstream
