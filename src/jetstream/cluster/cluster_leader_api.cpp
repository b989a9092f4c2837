// The meta leader's side of the clustered `$JS.API`: validate a stream or durable-consumer
// request against the meta state, place it, and propose the assignment (the asset's hosts
// answer once it applies); answer STREAM.NAMES/LIST and INFO from the meta state. Mirrors
// the reference's jsClusteredStreamRequest / jsClusteredConsumerRequest checks.
#include <algorithm>
#include <memory>
#include <set>

#include "jetstream/api/api_router.h"
#include "jetstream/cluster/consumer_follow.h"
#include "jetstream/cluster/consumer_list.h"
#include "jetstream/consumer_api.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/offline_info.h"
#include "jetstream/cluster/request_util.h"
#include "jetstream/cluster/stream_list.h"
#include "jetstream/jetstream.h"
#include "jetstream/js_tiers.h"
#include "server/account.h"
#include "subject/subject.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using namespace cluster_util;

namespace {
constexpr int kNamesLimit = 1024;  // JSApiNamesLimit
constexpr int kListLimit = 256;    // JSApiListLimit

// A new consumer against the ones the meta log already placed on its stream: the limit on
// consumers and the work-queue rules (the host checks them again for what it holds alone).
ApiError check_new_consumer(const StreamAssignment& sa, const ConsumerConfig& cfg, int64_t account_max) {
  int64_t max_consumers = effective_max_consumers(sa.config.max_consumers, account_max);
  if (max_consumers > 0 && static_cast<int64_t>(sa.consumers.size()) >= max_consumers)
    return api_error(err::MaximumConsumersLimit);
  if (sa.config.retention != RetentionPolicy::workqueue) return {};
  if (cfg.ack_policy != AckPolicy::explicit_ack) return api_error(err::ConsumerWQRequiresExplicitAck);
  if (!sa.consumers.empty()) {
    if (cfg.filter_subject.empty()) return api_error(err::ConsumerWQMultipleUnfiltered);
    for (const auto& [_, other] : sa.consumers) {
      const std::string& f = other.config.filter_subject;
      if (f.empty() || subjects_collide(f, cfg.filter_subject)) return api_error(err::ConsumerWQConsumerNotUnique);
    }
  }
  if (cfg.deliver_policy != DeliverPolicy::all) return api_error(err::ConsumerWQConsumerNotDeliverAll);
  return {};
}
}  // namespace


StreamConfigLookup JsCluster::origin_lookup(const std::string& account) {
  return [this, account](const std::string& name) -> std::optional<StreamConfig> {
    std::lock_guard lk(mu_);
    if (const auto* sa = state_.stream(account, name)) return sa->config;
    return std::nullopt;
  };
}

void JsCluster::leader_stream_create(ApiRequest& req, std::string_view rest) {
  const char* type = "stream_create_response";
  auto args = args_after(rest, "STREAM.CREATE");
  if (args.size() != 1) return;
  ApiError e;
  auto cfg = parse_stream_config(req.payload, e);
  if (!cfg) return reply_error(req, type, e);
  if (cfg->name != args[0]) return reply_error(req, type, api_error(err::StreamMismatch));
  if (e = sealed_at_create_error(*cfg); !e.empty()) return reply_error(req, type, e);
  if (e = check_stream_config(*cfg, true); !e.empty()) return reply_error(req, type, e);
  if (e = check_stream_origins(*cfg, origin_lookup(req.account.name())); !e.empty()) return reply_error(req, type, e);
  const std::string acc = req.account.name();
  std::optional<StreamAssignment> existing;
  {
    std::lock_guard lk(mu_);
    if (const auto* sa = state_.stream(acc, cfg->name)) existing = *sa;
    for (const auto& other : state_.streams(acc))
      if (other.name() != cfg->name && subjects_overlap(other.config, *cfg))
        return reply_error(req, type, api_error(err::StreamSubjectOverlap));
  }
  RequestOrigin origin = origin_of(req, rest);
  if (existing) {
    if (!(existing->config == *cfg)) return reply_error(req, type, api_error(err::StreamNameExist));
    // The same create again: its host answers it as a single server does (the stream info).
    StreamAssignment sa = *existing;
    sa.consumers.clear();
    sa.origin = origin;
    propose({MetaOp::update_stream, sa, std::nullopt, {}}, req, rest);
    return;
  }
  {
    std::lock_guard lk(mu_);
    if (e = new_stream_limits_error(req.account, *cfg); !e.empty()) return reply_error(req, type, e);
  }
  if (e = stream_max_bytes_error(req.account, *cfg); !e.empty()) return reply_error(req, type, e);
  auto sa = assign_new_stream(acc, std::move(*cfg), std::move(origin), false, e);
  if (!sa) return reply_error(req, type, e);
  propose({MetaOp::assign_stream, std::move(*sa), std::nullopt, {}}, req, rest);
}

// Shared by STREAM.CREATE and STREAM.RESTORE (a restore is checked as a create).
ApiError JsCluster::new_stream_limits_error(const Account& account, const StreamConfig& cfg) const {
  std::vector<StreamConfig> others;
  for (const auto& a : state_.streams(account.name())) others.push_back(a.config);
  keep_same_tier(account, others, cfg);  // tiered limits: the stream's tier only
  return account_limits_error(account, others.size(), account_reservation(others, cfg), cfg);
}

std::optional<StreamAssignment> JsCluster::assign_new_stream(const std::string& account, StreamConfig cfg,
                                                             RequestOrigin origin, bool preferred_always,
                                                             ApiError& e) const {
  PlacementRequest preq;
  preq.replicas = cfg.num_replicas;
  placement_from_json(cfg.placement, preq.cluster, preq.tags);
  preq.default_cluster = origin.cluster;
  auto placed = place(preq, candidates());
  if (!placed.ok()) {
    e = placed.error;
    return std::nullopt;
  }
  StreamAssignment sa;
  sa.account = account;
  sa.created_ns = origin.proposed_ns;
  sa.group.name = group_name('S', static_cast<int>(placed.peers.size()), cfg.storage, random_group_id());
  sa.group.peers = placed.peers;
  sa.group.storage = to_string(cfg.storage);
  sa.group.cluster = placed.cluster;
  if (preferred_always || placed.peers.size() > 1) sa.group.preferred = placed.peers.front();
  sa.origin = std::move(origin);
  sa.config = std::move(cfg);
  return sa;
}

void JsCluster::leader_stream_update(ApiRequest& req, std::string_view rest, const StreamLeaderView* seen) {
  const char* type = "stream_update_response";
  auto args = args_after(rest, "STREAM.UPDATE");
  if (args.size() != 1) return;
  ApiError e;
  auto cfg = parse_stream_config(req.payload, e);
  if (!cfg) return reply_error(req, type, e);
  if (cfg->name != args[0]) return reply_error(req, type, api_error(err::StreamMismatch));
  const std::string acc = req.account.name();
  std::optional<StreamAssignment> cur;
  {
    std::lock_guard lk(mu_);
    if (const auto* sa = state_.stream(acc, cfg->name)) cur = *sa;
    if (cur)
      for (const auto& other : state_.streams(acc))
        if (other.name() != cfg->name && subjects_overlap(other.config, *cfg))
          return reply_error(req, type, api_error(err::StreamSubjectOverlap));
  }
  if (!cur) return reply_error(req, type, api_error(err::StreamNotFound));
  if (e = check_stream_update(cur->config, *cfg, true); !e.empty()) return reply_error(req, type, e);
  {
    // The account's byte limit against the growth of max_bytes (configUpdateCheck), the
    // other streams' reservations taken from the cluster's assignments.
    std::lock_guard lk(mu_);
    std::vector<StreamConfig> others;
    for (const auto& a : state_.streams(acc)) others.push_back(a.config);
    keep_same_tier(req.account, others, *cfg);
    if (e = account_update_limits_error(req.account, account_reservation(others, *cfg), cur->config, *cfg); !e.empty())
      return reply_error(req, type, e);
  }
  if (e = check_stream_origins(*cfg, origin_lookup(acc)); !e.empty()) return reply_error(req, type, e);
  // Scaling down to R1 keeps the stream's current leader (as the reference: the leader has
  // applied every message it acknowledged; a follower may not even know they committed), the
  // preferred peer when no leader answers. Other replica changes keep the group and change
  // its peers (stream_peers.cpp): new servers join and catch up before old ones leave, and so
  // does a move (placement change), of an R1 stream too (through a group of two).
  const bool move = cfg->placement != cur->config.placement;
  if (move && cfg->num_replicas != cur->group.replicas())
    return reply_error(req, type, api_error(err::StreamMoveAndScale));
  // An R1 stream on its way to another server runs as a group of two until the new one has
  // caught up (then its leader finishes the move, see reconcile_stream_peers): a client's
  // update meanwhile is refused; the finishing one (internal, no reply) scales it down.
  const bool r1_moving = cur->config.num_replicas == 1 && cur->group.replicas() > 1;
  if (r1_moving && !req.reply.empty())
    return reply_error(req, type,
                       api_error(err::StreamMoveInProgress,
                                 {{"{msg}", "total peers: " + std::to_string(cur->group.replicas()) +
                                                ", current peers: 1, combined lag: 0"}}));
  const bool scale_down = cur->group.replicas() > 1 && cfg->num_replicas == 1;
  if ((move || scale_down) && !seen) return ask_stream_leader(req, rest, *cur);
  if (move) {
    if (ApiError busy = move_in_progress(*seen, *cur); !busy.empty()) return reply_error(req, type, busy);
  }
  // Consumers follow the stream's new peers in the same entry (consumer_follow.h).
  StreamAssignment sa = *cur;
  if (move) {
    // A move: the new placement's servers join the group, then the old ones leave.
    PlacementRequest preq;
    preq.replicas = cfg->num_replicas;
    placement_from_json(cfg->placement, preq.cluster, preq.tags);
    preq.default_cluster = origin_of(req, rest).cluster;
    auto placed = place(preq, candidates());
    if (!placed.ok()) return reply_error(req, type, placed.error);
    if (cur->group.replicas() == 1 && placed.peers != cur->group.peers) {
      // R1: the new server joins the stream's one as a group of two (it copies the messages,
      // its R1 consumers follow with their state); the new one first, the move's target.
      sa.group.peers = {placed.peers.front(), cur->group.peers.front()};
    } else {
      sa.group.peers = placed.peers;
    }
    sa.group.cluster = placed.cluster;
    sa.group.preferred.clear();
  } else if (scale_down) {
    std::string keep = cur->group.preferred.empty() ? cur->group.peers.front() : cur->group.preferred;
    // The leader (a follower may not have every message it acknowledged). An R1 durable on
    // another peer moves there with its state (consumer_follow.h, r1_handoff.h).
    const std::string leader_id = seen->leader.empty() ? std::string() : util::hash_name(seen->leader);
    if (!leader_id.empty() && cur->group.has_peer(leader_id)) keep = leader_id;
    sa.group.peers = {keep};
    sa.group.preferred.clear();
    sa.group.name = group_name('S', 1, cfg->storage, random_group_id());
  } else if (cfg->num_replicas > cur->group.replicas()) {
    PlacementRequest preq;
    preq.replicas = cfg->num_replicas - cur->group.replicas();
    placement_from_json(cfg->placement, preq.cluster, preq.tags);
    preq.cluster = cur->group.cluster;
    preq.default_cluster = cur->group.cluster;
    preq.exclude = cur->group.peers;
    auto placed = place(preq, candidates());
    if (!placed.ok()) return reply_error(req, type, placed.error);
    for (auto& p : placed.peers) sa.group.peers.push_back(std::move(p));
  } else if (cfg->num_replicas < cur->group.replicas()) {
    sa.group.peers.resize(static_cast<size_t>(cfg->num_replicas));
    sa.group.preferred.clear();
  }
  // An R1 move grows the group like a scale-up: R1 consumers follow it with their state.
  sa.consumers = consumers_following(*cur, sa.group.peers, sa.group.replicas() != cur->group.replicas());
  sa.config = std::move(*cfg);
  sa.origin = origin_of(req, rest);
  propose({MetaOp::update_stream, std::move(sa), std::nullopt, {}}, req, rest);
}

void JsCluster::ask_stream_leader(ApiRequest& req, std::string_view rest, const StreamAssignment& cur) {
  // The request outlives this call: keep what it points at.
  struct Held {
    std::string subject, reply, payload, rest;
    int64_t rtt_ns;
    std::string client_server, client_cluster;
  };
  auto held = std::make_shared<Held>(Held{std::string(req.subject), std::string(req.reply), std::string(req.payload),
                                          std::string(rest), req.rtt_ns, req.client_server, req.client_cluster});
  Account& account = req.account;
  JsAccount& jsa = req.jsa;
  gather_api_infos(js_, req, {"$JS.API.STREAM.INFO." + cur.name()},
                   [this, held, &account, &jsa](std::map<size_t, ojson>& got) {
                     ApiRequest again{js_.server(), js_, account, jsa, held->subject,
                                      {}, held->reply, {}, held->payload};
                     again.rtt_ns = held->rtt_ns;
                     again.client_server = held->client_server;
                     again.client_cluster = held->client_cluster;
                     StreamLeaderView seen;
                     auto it = got.find(0);
                     if (it != got.end() && it->second.contains("cluster") && it->second["cluster"].is_object()) {
                       seen.cluster = it->second["cluster"];
                       seen.leader = seen.cluster.value("leader", std::string());
                     }
                     leader_stream_update(again, held->rest, &seen);
                   });
}

ApiError JsCluster::move_in_progress(const StreamLeaderView& seen, const StreamAssignment& cur) const {
  // The group's members (its leader's view) against the assignment's peers.
  if (seen.cluster.is_null()) return {};
  std::set<std::string> assigned(cur.group.peers.begin(), cur.group.peers.end());
  std::set<std::string> members;
  uint64_t current = 0, lag = 0;
  if (!seen.leader.empty()) {
    members.insert(util::hash_name(seen.leader));
    ++current;
  }
  for (const auto& r : seen.cluster.value("replicas", ojson::array())) {
    members.insert(util::hash_name(r.value("name", std::string())));
    current += r.value("current", false) ? 1 : 0;
    lag += r.value("lag", uint64_t{0});
  }
  if (members.empty() || members == assigned) return {};
  std::string msg = "total peers: " + std::to_string(members.size()) + ", current peers: " + std::to_string(current) +
                    ", combined lag: " + std::to_string(lag);
  return api_error(err::StreamMoveInProgress, {{"{msg}", msg}});
}

void JsCluster::leader_stream_delete(ApiRequest& req, std::string_view rest) {
  const char* type = "stream_delete_response";
  auto args = args_after(rest, "STREAM.DELETE");
  if (args.size() != 1) return;
  if (!empty_request(req.payload)) return reply_error(req, type, api_error(err::NotEmptyRequest));
  auto cur = stream(req.account.name(), args[0]);
  if (!cur) return reply_error(req, type, api_error(err::StreamNotFound));
  cur->origin = origin_of(req, rest);
  propose({MetaOp::remove_stream, std::move(*cur), std::nullopt, {}}, req, rest);
}

bool JsCluster::purge_account(const std::string& account) {
  if (!is_leader()) return false;
  auto all = streams(account);
  for (auto& sa : all) {
    RequestOrigin o;
    o.account = account;
    o.server = self_name_;
    o.proposed_ns = system_clock_ns();
    o.api = "STREAM.DELETE." + sa.name();
    sa.origin = std::move(o);
    meta_.propose(encode_meta_entry({MetaOp::remove_stream, std::move(sa), std::nullopt, {}}));
  }
  log::notice("Purge request for account {} (streams: {})", account, all.size());
  return true;
}

void JsCluster::leader_consumer_create(ApiRequest& req, std::string_view rest, bool durable_api) {
  const char* type = "consumer_create_response";
  auto args = args_after(rest, durable_api ? "CONSUMER.DURABLE.CREATE" : "CONSUMER.CREATE");
  if (args.empty()) return reply_error(req, type, api_error(err::BadRequest));
  auto body = json::parse(req.payload, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return reply_error(req, type, cerr::invalid_json(""));
  if (auto it = body.find("stream_name"); !(it != body.end() && it->is_string() && *it == args[0]))
    return reply_error(req, type, api_error(err::StreamMismatch));
  ConsumerConfig cfg;
  if (auto it = body.find("config"); it != body.end() && !it->is_null())
    if (auto ce = parse_consumer_config(*it, cfg)) return reply_error(req, type, *ce);
  // The subject's checks that decide what is assigned (as the host's handle_create, which
  // runs the same request again): nothing is placed for a request it would refuse.
  if (!durable_api && args.size() == 1 && !cfg.durable_name.empty())
    return reply_error(req, type, api_error(err::ConsumerEphemeralWithDurableName));
  if (!durable_api && args.size() >= 2) {
    const std::string& n = args[1];
    if (n.find_first_of("\\/") != std::string::npos)
      return reply_error(req, type, api_error(err::ConsumerNameContainsPathSeparators));
    if (n.size() > kMaxNameLen)
      return reply_error(req, type, api_error(err::ConsumerNameTooLong, {{"{max}", std::to_string(kMaxNameLen)}}));
    std::string filter;
    for (size_t i = 2; i < args.size(); ++i) filter += (i > 2 ? "." : "") + args[i];
    if (!filter.empty() && cfg.filter_subject != filter)
      return reply_error(req, type, api_error(err::ConsumerCreateFilterSubjectMismatch));
    if (!cfg.durable_name.empty() && cfg.durable_name != n)
      return reply_error(req, type, api_error(err::ConsumerDurableNameNotMatchSubject));
    if (!cfg.name.empty() && cfg.name != n)
      return reply_error(req, type, api_error(err::ConsumerCreateDurableAndNameMismatch));
  }
  auto sa = stream(req.account.name(), args[0]);
  if (!sa) return reply_error(req, type, api_error(err::StreamNotFound));
  // The limits of the stream's tier (tiered JWT limits), as the reference's selectLimits.
  SelectedLimits sel = select_limits(req.account, sa->config.num_replicas);
  if (!sel.found) return reply_error(req, type, api_error(err::NoLimits));
  int64_t acc_max_ack_pending = sel.limits.max_ack_pending;
  apply_consumer_defaults(cfg, acc_max_ack_pending);
  StreamContext ctx{sa->config.retention, sa->config.num_replicas, sa->config.subjects, acc_max_ack_pending};
  if (auto ce = validate_consumer_config(cfg, ctx)) return reply_error(req, type, *ce);
  const bool durable = !cfg.durable_name.empty();
  // As the reference: the replicas default to the stream's, an ephemeral's on a limits
  // stream to 1 (2.9.10 ConsumerConfig.replicas; also when it asks for 1 or 0). On a
  // replicated work-queue or interest stream the consumer runs on every peer (each replica
  // removes what the committed acks release). Other replicas there are refused with 10134, as
  // from 2.9.12: 2.9.10 accepts them and its replicas diverge (an R1 consumer's acks remove
  // messages on its host only, and an interest stream's other replicas keep nothing).
  int replicas =
      std::min(cfg.num_replicas > 0 ? static_cast<int>(cfg.num_replicas) : sa->group.replicas(), sa->group.replicas());
  const bool r1_ephemeral = !durable && sa->config.retention == RetentionPolicy::limits && cfg.num_replicas <= 1;
  if (r1_ephemeral) replicas = 1;
  if (sa->group.replicas() > 1 && sa->config.retention != RetentionPolicy::limits && replicas != sa->group.replicas())
    return reply_error(req, type, api_error(err::ConsumerReplicasShouldMatchStream));
  // The subject's own checks (names, filter) are the host's: it runs the same request.
  if (durable && !is_valid_consumer_name(cfg.durable_name))
    return reply_error(req, type, api_error(err::ConsumerBadDurableName));
  if (durable_api && (args.size() != 2 || args[1] != cfg.durable_name))
    return reply_error(req, type, api_error(err::ConsumerDurableNameNotMatchSubject));
  // A non-durable: the name of the 2.9 named form (subject, or config), else one drawn here
  // (every host must use this one: the create carries it, see ApiRequest::assigned_name).
  std::string name = cfg.durable_name;
  if (!durable) name = args.size() >= 2 ? args[1] : cfg.name;
  if (name.empty()) {
    do {
      name = util::hash_name(util::next_nuid());
    } while (sa->consumers.count(name));
  }
  ConsumerAssignment ca;
  ca.account = sa->account;
  ca.stream = sa->name();
  ca.name = name;
  ca.config = std::move(cfg);
  ca.origin = origin_of(req, rest);
  ca.created_ns = ca.origin.proposed_ns;
  ca.api_subject = std::string(rest);
  bool restored = is_restored_consumer_body(ca.origin.body);
  if (restored && !restored_consumer(req, sa->name(), name)) {
    // Only the restore's own consumers join a group that their receiving server seeds.
    auto b = json::parse(ca.origin.body);
    b.erase("restored");
    ca.origin.body = b.dump();
    restored = false;
  }
  if (auto it = sa->consumers.find(ca.name); it != sa->consumers.end()) {
    // Changing the replicas of a consumer would move it between groups: not yet.
    if (it->second.group.replicas() != replicas) return reply_error(req, type, not_supported_yet());
    ca.group = it->second.group;
    ca.created_ns = it->second.created_ns;
  } else {
    if (auto e = check_new_consumer(*sa, ca.config, sel.limits.max_consumers); !e.empty()) return reply_error(req, type, e);
    // Consumers live with their stream, on its peers (as the reference picks them): an R1
    // one on the first (its preferred leader), an R>1 one on that many of them.
    ca.group = sa->group;
    std::string restored_peer;
    if (auto it = body.find("restored_peer"); restored && it != body.end() && it->is_string()) restored_peer = *it;
    if (r1_ephemeral && ca.group.has_peer(restored_peer)) {
      // A restored ephemeral runs where the restore made it (the server that received the
      // upload, a peer of the stream) and seeds its group there.
      ca.group.peers = {restored_peer};
    } else if (r1_ephemeral && !ca.group.peers.empty()) {
      // As the reference's ephemerals: R1 on a random peer of the stream.
      uint32_t pick = 0;
      util::random_bytes(&pick, sizeof pick);
      ca.group.peers = {ca.group.peers[pick % ca.group.peers.size()]};
    }
    ca.group.peers.resize(static_cast<size_t>(replicas));
    ca.group.preferred.clear();
    StorageType storage = ca.config.mem_storage ? StorageType::memory : sa->config.storage;
    ca.group.storage = to_string(storage);
    ca.group.name = group_name('C', replicas, storage, random_group_id());
  }
  propose({MetaOp::assign_consumer, std::nullopt, std::move(ca), {}}, req, rest);
}

void JsCluster::leader_consumer_delete(ApiRequest& req, std::string_view rest, const ConsumerAssignment& cur) {
  if (!empty_request(req.payload))
    return reply_error(req, "consumer_delete_response", api_error(err::NotEmptyRequest));
  ConsumerAssignment ca = cur;
  ca.origin = origin_of(req, rest);
  propose({MetaOp::remove_consumer, std::nullopt, std::move(ca), {}}, req, rest);
}

void JsCluster::leader_stream_names(ApiRequest& req, bool list) {
  const char* type = list ? "stream_list_response" : "stream_names_response";
  json body = json::object();
  if (!empty_request(req.payload)) body = json::parse(req.payload, nullptr, false);
  uint64_t offset = 0;
  std::string subject;
  if (!body.is_object()) return reply_error(req, type, api_error(err::InvalidJSON, "invalid JSON"));
  if (auto it = body.find("offset"); it != body.end() && it->is_number_unsigned()) offset = it->get<uint64_t>();
  if (auto it = body.find("subject"); it != body.end() && it->is_string()) subject = it->get<std::string>();
  std::vector<StreamAssignment> all;
  for (auto& sa : streams(req.account.name())) {
    if (!subject.empty() &&
        std::none_of(sa.config.subjects.begin(), sa.config.subjects.end(),
                     [&](const std::string& s) { return subjects_collide(s, subject); }))
      continue;
    all.push_back(std::move(sa));
  }
  if (list) {
    OfflinePeers offline = offline_peers();
    std::string cluster = self_cluster_;
    return gather_stream_list(js_, req, std::move(all), offset, [offline, cluster](const StreamAssignment& sa) {
      return all_peers_offline(sa.group, offline) ? offline_stream_info(sa, cluster, offline) : ojson();
    });
  }
  uint64_t total = all.size();
  offset = std::min<uint64_t>(offset, total);
  ojson j;
  j["type"] = api_type(type);
  j["total"] = total;
  j["offset"] = offset;
  j["limit"] = kNamesLimit;
  ojson arr = ojson::array();
  for (uint64_t i = offset; i < total && arr.size() < static_cast<size_t>(kNamesLimit); ++i) arr.push_back(all[i].name());
  if (arr.empty()) j["streams"] = nullptr;
  else j["streams"] = std::move(arr);
  reply_json(req, j);
}

void JsCluster::leader_consumer_names(ApiRequest& req, std::string_view rest, bool list) {
  const char* type = list ? "consumer_list_response" : "consumer_names_response";
  auto args = args_after(rest, list ? "CONSUMER.LIST" : "CONSUMER.NAMES");
  if (args.size() != 1) return reply_consumer_paged_error(req, type, api_error(err::BadRequest));
  uint64_t offset = 0;
  if (!empty_request(req.payload)) {
    auto body = json::parse(req.payload, nullptr, false);
    if (!body.is_object()) return reply_consumer_paged_error(req, type, cerr::invalid_json(""));
    if (auto it = body.find("offset"); it != body.end() && it->is_number_integer())
      offset = static_cast<uint64_t>(std::max<int64_t>(it->get<int64_t>(), 0));
  }
  auto sa = stream(req.account.name(), args[0]);
  // LIST of an unknown stream: an empty list, no error (as 2.9.10's clustered LIST).
  if (!sa && list) return gather_consumer_list(req, std::string(args[0]), {}, 0, kListLimit);
  if (!sa) return reply_consumer_paged_error(req, type, api_error(err::StreamNotFound));
  std::vector<std::string> all;  // sorted: the assignments are a std::map by name
  for (const auto& [name, _] : sa->consumers) all.push_back(name);
  const uint64_t limit = list ? kListLimit : kNamesLimit;
  offset = std::min<uint64_t>(offset, all.size());
  if (list) {
    // Every info from its consumer's host (CONSUMER.INFO), as the reference's gather.
    std::vector<std::pair<std::string, ConsumerPtr>> page;
    std::map<std::string, ojson> off;
    OfflinePeers offline = offline_peers();
    for (uint64_t i = offset; i < all.size() && page.size() < limit; ++i) {
      page.emplace_back(all[i], nullptr);
      const ConsumerAssignment& ca = sa->consumers.at(all[i]);
      if (all_peers_offline(ca.group, offline)) off[all[i]] = offline_consumer_info(ca, self_cluster_, offline);
    }
    return gather_consumer_list(req, sa->name(), std::move(page), offset, limit, std::move(off));
  }
  reply_consumer_names(req, all, offset, limit);
}

// As the reference in clustered mode: the account's usage summed over every server, so a
// replicated stream's bytes count once per replica; streams and consumers of the whole
// cluster. The stream hosts report their streams (as for STREAM.LIST).
void JsCluster::leader_account_info(ApiRequest& req) {
  ojson base = js_.account_info(req.jsa);  // limits, domain, api
  auto all = streams(req.account.name());
  uint64_t durables = 0;
  for (const auto& sa : all) durables += sa.consumers.size();
  JetStream& js = js_;
  JsAccount& jsa = req.jsa;
  std::string reply(req.reply);
  uint64_t streams_n = all.size();
  // The answer is audited as the request's (2.9.10 audits $JS.API.INFO), naming the requester.
  struct Asker {
    int64_t rtt_ns;
    std::string server, cluster;
    bool no_audit;
  };
  Asker asker{req.rtt_ns, req.client_server, req.client_cluster, req.no_audit};
  gather_stream_infos(js_, req, all, [&js, &jsa, reply, base, streams_n, durables, asker](std::vector<ojson>& infos) {
    uint64_t memory = 0, storage = 0, consumers = 0;
    std::vector<TierStreamUsage> usage;  // for the tiers of tiered limits
    for (const auto& i : infos) {
      uint64_t bytes = i.contains("state") ? i["state"].value("bytes", uint64_t{0}) : 0;
      uint64_t replicas = i.contains("config") ? i["config"].value("num_replicas", uint64_t{1}) : 1;
      bool mem = i.contains("config") && i["config"].value("storage", std::string()) == "memory";
      (mem ? memory : storage) += bytes * std::max<uint64_t>(replicas, 1);
      uint64_t n = i.contains("state") ? i["state"].value("consumer_count", uint64_t{0}) : 0;
      consumers += n;
      usage.push_back({static_cast<int>(std::max<uint64_t>(replicas, 1)), mem, bytes * std::max<uint64_t>(replicas, 1), n});
    }
    ojson j;
    j["type"] = api_type("account_info_response");
    ojson info = base;
    info["memory"] = memory;
    info["storage"] = storage;
    info["streams"] = streams_n;
    info["consumers"] = std::max(consumers, durables);
    info.erase("tiers");  // the local view's; the cluster's instead
    add_tiers_json(jsa.account, usage, info);
    j.update(info);
    ApiRequest out{js.server(), js, jsa.account, jsa, "$JS.API.INFO", {}, reply, {}, {}};
    out.rtt_ns = asker.rtt_ns;
    out.client_server = asker.server;
    out.client_cluster = asker.cluster;
    out.no_audit = asker.no_audit;
    reply_json(out, j);
  });
}

}  // namespace nats::jetstream

namespace nats::jetstream {

OfflinePeers JsCluster::offline_peers() const {
  OfflinePeers out;
  for (const auto& r : meta_.snapshot().replicas)
    if (r.offline && r.peer != self_id_) out[r.peer] = r.name.starts_with("Server name unknown") ? "" : r.name;
  return out;
}

}  // namespace nats::jetstream
