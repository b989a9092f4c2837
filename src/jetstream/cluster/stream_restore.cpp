// `$JS.API.STREAM.RESTORE.<stream>` in a cluster, with the reference 2.9.10's semantics
// (jetstream_cluster.go jsClusteredStreamRestoreRequest, processClusterCreateStream and
// monitorStream's restore handling):
//  - the meta leader checks the request as a create (limits, an existing stream: 10130),
//    places the stream's group (R1 or R>1, its first peer preferred) and proposes the
//    assignment, the request riding along (origin.api "STREAM.RESTORE.<stream>");
//  - the group's first peer receives the upload: it answers the client with the deliver
//    subject and, once the upload ends, restores the stream as a plain local one
//    (snapshot_api.h restore_stream) and answers the last chunk with the stream create
//    answer. Nothing takes publishes on the stream's subjects meanwhile (as the reference,
//    where the stream does not exist yet: no responders);
//  - the other peers of an R>1 group start their replica as joining members. The receiving
//    peer turns its restored stream into a group of itself whose log starts with a snapshot of
//    the store (the scale-up from R1 path, stream_peers.cpp), so the others copy the
//    messages as they join;
//  - the restored consumers get their assignments (the reference forwards a proposal per
//    public consumer, ephemerals included): the receiving peer sends a create per consumer
//    to the meta leader (durable, or the named ephemeral create), marked "restored". On an R>1 stream the receiving peer's plain consumer seeds its
//    group with its state and the other peers join it (cluster_consumers.cpp);
//  - a failed or stalled upload gives the assignment up (a STREAM.DELETE to the meta leader).
#include <fmt/format.h>

#include "jetstream/advisories.h"
#include "jetstream/api/api_router.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/request_util.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/consumer.h"
#include "jetstream/consumer_config.h"
#include "jetstream/jetstream.h"
#include "jetstream/js_tiers.h"
#include "jetstream/json_util.h"
#include "jetstream/snapshot/snapshot_api.h"
#include "server/account.h"
#include "server/request_info.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using namespace cluster_util;

namespace {

constexpr const char* kClusterRestoreType = "stream_restore_response";

void cluster_restore_error(const ApiRequest& req, const ApiError& e) {
  ojson j = counted_error(req, kClusterRestoreType, e);
  j["deliver_subject"] = "";
  reply_json(req, j);
}

// A request of this server to the meta leader, without reply (as finish_r1_move's update).
void restore_ask_meta_leader(Server& server, Account& account, const std::string& subject, const std::string& body) {
  server.publish_internal(account, subject, {}, kInternalRequestHeaders, body);
}

}  // namespace

bool is_restore_origin(const RequestOrigin& origin) { return origin.api.rfind("STREAM.RESTORE.", 0) == 0; }

bool is_restored_consumer_body(const std::string& body) {
  if (body.find("\"restored\"") == std::string::npos) return false;
  auto j = json::parse(body, nullptr, false);
  return j.is_object() && j.value("restored", false) == true;
}

void JsCluster::leader_stream_restore(ApiRequest& req, std::string_view rest) {
  auto args = args_after(rest, "STREAM.RESTORE");
  if (args.size() != 1) return;
  ApiError e;
  auto cfg = parse_restore_request(req.payload, args[0], true, e);
  if (!cfg) return cluster_restore_error(req, e);
  const std::string acc = req.account.name();
  {
    std::lock_guard lk(mu_);
    if (e = new_stream_limits_error(req.account, *cfg); !e.empty()) return cluster_restore_error(req, e);
    if (state_.stream(acc, cfg->name)) return cluster_restore_error(req, api_error(err::StreamNameExistRestoreFailed));
  }
  // The first peer receives the upload (the reference's preferred peer), an R1 group's too.
  auto sa = assign_new_stream(acc, std::move(*cfg), origin_of(req, rest), true, e);
  if (!sa) return cluster_restore_error(req, e);
  if (!meta_.propose(encode_meta_entry({MetaOp::assign_stream, std::move(*sa), std::nullopt, {}})))
    cluster_restore_error(req, api_error(err::ClusterNotLeader));
}

void JsCluster::apply_restore(const StreamAssignment& sa, const RequestOrigin& origin, bool live) {
  auto* jsa = js_.account(sa.account);
  if (!jsa) return;
  const bool receiver = sa.group.peers.front() == self_id_;
  if (!receiver) {
    // A replica that the receiving peer's group adds once it holds the restored stream
    // (after a restart: the group as it is on disk).
    ApiError err;
    if (!start_replicated_stream(js_, *jsa, sa, err, true))
      log::warn("JetStream cluster: could not start stream '{} > {}': {}", sa.account, sa.name(), err.description);
    return;
  }
  if (!live) {
    // Replayed after a restart: the restored stream came back from disk (a plain one for R1;
    // an R>1 one resumes its group). An upload that never finished left nothing to resume.
    if (sa.group.replicas() > 1 && js_.lookup_stream(sa.account, sa.name())) {
      ApiError err;
      start_replicated_stream(js_, *jsa, sa, err);
    }
    return;
  }
  Server& server = js_.server();
  Account& account = jsa->account;
  const std::string name = sa.name();
  RestoreHooks hooks;
  JetStream& js = js_;
  hooks.install = [this, &js, jsa, cfg = sa.config](const std::string& upload, ApiError& err) {
    StreamPtr s = restore_stream(js, *jsa, cfg, upload, err);
    if (s) {
      std::lock_guard lk(restored_mu_);
      restored_.push_back({jsa->account.name(), cfg.name});
    }
    return s;
  };
  hooks.failed = [&server, &account, name] {
    log::warn("JetStream cluster: restore of stream '{} > {}' failed: giving its assignment up", account.name(), name);
    restore_ask_meta_leader(server, account, "$JS.API.STREAM.DELETE." + name, {});
  };
  ojson client = client_info(origin.account, origin.rtt_ns, origin.server, origin.cluster);
  std::string reply = local_reply(origin.reply);
  // The first answer is an API answer of this server, audited as the standalone one (2.9.10's
  // processStreamRestore sends it with sendAPIResponse here too), naming the client's request
  // as this server's other answers to forwarded requests do (run_locally).
  std::string subject = "$JS.API." + origin.api;
  ApiRequest req{server, js_, account, *jsa, subject, {}, reply, {}, origin.body};
  req.rtt_ns = origin.rtt_ns;
  if (origin.server != self_name_) {
    req.client_server = origin.server;
    req.client_cluster = origin.cluster;
  }
  start_stream_restore(js_, *jsa, sa.config, client, std::move(hooks), [&](const ojson& j) { reply_json(req, j); });
}

void JsCluster::finish_restores() {
  std::vector<std::pair<std::string, std::string>> done;
  {
    std::lock_guard lk(restored_mu_);
    done.swap(restored_);
  }
  for (const auto& [account, name] : done) {
    auto sa = stream(account, name);
    auto* jsa = js_.account(account);
    auto s = js_.lookup_stream(account, name);
    // Deleted meanwhile, or re-created by another assignment.
    if (!sa || !jsa || !s || sa->group.peers.front() != self_id_ || !is_restore_origin(sa->origin)) continue;
    if (sa->group.replicas() > 1 && !StreamGroup::find(js_, account, name)) {
      // The restored stream becomes a group of itself; reconcile_stream_peers seeds its log
      // with a snapshot of the store, then adds the other peers (they copy the messages).
      StreamAssignment alone = *sa;
      alone.group.peers = {self_id_};
      ApiError err;
      if (!(s = start_replicated_stream(js_, *jsa, alone, err))) {
        log::warn("JetStream cluster: restored stream '{} > {}' could not start its group: {}", account, name,
                  err.description);
        continue;
      }
      seed_snapshot_.insert(sa->group.name);
    }
    // The restored consumers' assignments, from the meta leader.
    for (const auto& sc : s->consumers()) {
      auto c = std::dynamic_pointer_cast<Consumer>(sc);
      if (!c || c->replicated()) continue;
      ConsumerConfig cfg = c->config();
      // An ephemeral too, as 2.9.10 assigns every public consumer of a restored stream: by
      // the named create (CONSUMER.CREATE.<stream>.<name>), so that it keeps its name; the
      // meta leader places it here (its R1 group is seeded from this consumer), and it stays
      // ephemeral (removed once inactive, as the reference's switchToEphemeral).
      const bool durable = cfg.is_durable();
      if (!durable) cfg.name = c->name();
      ojson body;
      body["stream_name"] = name;
      body["config"] = consumer_config_json(cfg);
      body["restored"] = true;
      body["restored_peer"] = self_id_;  // where the consumer runs now (an R1 ephemeral stays here)
      restore_ask_meta_leader(js_.server(), jsa->account,
                              fmt::format("$JS.API.CONSUMER.{}CREATE.{}.{}", durable ? "DURABLE." : "", name, c->name()),
                              body.dump());
    }
  }
}

bool JsCluster::restored_consumer(const ApiRequest& req, const std::string& stream, const std::string& consumer) {
  std::lock_guard lk(mu_);
  const auto* sa = state_.stream(req.account.name(), stream);
  // Only this server's own request for a stream the restore made, for a consumer it has not
  // placed yet: a client cannot claim it.
  return req.no_audit && sa && is_restore_origin(sa->origin) && !sa->consumers.count(consumer);
}

}  // namespace nats::jetstream
