#include "jetstream/cluster/js_cluster.h"

#include <algorithm>

#include "config/options.h"
#include "jetstream/api/api_router.h"
#include "jetstream/cluster/meta_group.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/cluster/stream_list.h"
#include "jetstream/stream_api.h"
#include "net/event_loop.h"
#include "jetstream/jetstream.h"
#include "jetstream/store/message_store.h"
#include "server/server.h"
#include "subject/subject.h"
#include "sys/system_services.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

constexpr int kNamesLimit = 1024;  // JSApiNamesLimit
constexpr auto kLeaderWaitStep = std::chrono::milliseconds(50);

// Refusal of what needs replicated groups (R>1, moves) until they exist: fail closed.
ApiError not_supported_yet() { return api_error(err::ClusterUnSupportFeature); }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The tokens after `prefix.` in `rest`.
std::vector<std::string> args_after(std::string_view rest, std::string_view prefix) {
  std::vector<std::string> out;
  if (rest.size() <= prefix.size()) return out;
  std::string_view tail = rest.substr(prefix.size() + 1);
  size_t start = 0;
  while (start <= tail.size()) {
    size_t dot = tail.find('.', start);
    if (dot == std::string_view::npos) dot = tail.size();
    out.emplace_back(tail.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

// Requests naming a stream as their first argument, answered by the stream's host.
constexpr std::string_view kStreamScoped[] = {
    "STREAM.INFO",   "STREAM.MSG.GET",  "STREAM.MSG.DELETE",       "STREAM.PURGE",   "STREAM.SNAPSHOT",
    "STREAM.RESTORE", "CONSUMER.INFO",  "CONSUMER.NAMES",          "CONSUMER.LIST",  "CONSUMER.MSG.NEXT",
    "DIRECT.GET",    "CONSUMER.CREATE", "CONSUMER.DURABLE.CREATE", "CONSUMER.DELETE", "STREAM.LEADER.STEPDOWN",
    "CONSUMER.LEADER.STEPDOWN", "STREAM.PEER.REMOVE"};

std::string_view stream_scoped_prefix(std::string_view rest) {
  std::string_view best;
  for (auto p : kStreamScoped)
    if (starts_with(rest, p) && rest.size() > p.size() + 1 && rest[p.size()] == '.' && p.size() > best.size()) best = p;
  return best;
}

bool subjects_overlap(const StreamConfig& a, const StreamConfig& b) {
  for (const auto& x : a.subjects)
    for (const auto& y : b.subjects)
      if (subjects_collide(x, y)) return true;
  return false;
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

std::vector<PlacementCandidate> JsCluster::candidates() const {
  std::map<std::string, int> load;
  {
    std::lock_guard lk(mu_);
    load = state_.assets_per_peer();
  }
  auto& srv = js_.server();
  std::vector<PlacementCandidate> out;
  PlacementCandidate self{self_name_, self_id_, self_cluster_, srv.options().tags, true, false, load[self_id_]};
  out.push_back(std::move(self));
  if (auto* ss = srv.system_services())
    for (const auto& k : ss->known_servers()) {
      if (k.name.empty() || k.name == self_name_) continue;
      std::string id = util::hash_name(k.name);
      out.push_back({k.name, id, k.cluster, k.tags, k.jetstream, k.offline, load[id]});
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
  o.server = self_name_;
  o.cluster = origin_cluster(req.reply);
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
  std::string_view prefix = stream_scoped_prefix(rest);
  if (prefix.empty()) {
    // Server-wide requests (ACCOUNT.*, SERVER.*...): the meta leader, as before.
    if (leader) router.dispatch(req, rest);
    return;
  }
  auto args = args_after(rest, prefix);
  const std::string& stream_name = args[0];
  if (prefix == "CONSUMER.DURABLE.CREATE") {
    if (leader) leader_consumer_create(req, rest, true);
    return;
  }
  if (prefix == "CONSUMER.CREATE") {
    // Durables go through the meta log; ephemerals live with their stream's host.
    auto body = json::parse(req.payload, nullptr, false);
    bool durable = body.is_object() && body.contains("config") && body["config"].is_object() &&
                   body["config"].value("durable_name", std::string()).size() > 0;
    if (durable) {
      if (leader) leader_consumer_create(req, rest, false);
      return;
    }
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
  }
  route_to_stream_host(req, rest, stream_name);
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

// ---- the meta leader's handlers -----------------------------------------------------------

void JsCluster::leader_stream_create(ApiRequest& req, std::string_view rest) {
  const char* type = "stream_create_response";
  auto args = args_after(rest, "STREAM.CREATE");
  if (args.size() != 1) return;
  ApiError e;
  auto cfg = parse_stream_config(req.payload, e);
  if (!cfg) return reply_error(req, type, e);
  if (cfg->name != args[0]) return reply_error(req, type, api_error(err::StreamMismatch));
  if (e = check_stream_config(*cfg, true); !e.empty()) return reply_error(req, type, e);
  if (cfg->sealed)
    return reply_error(req, type,
                       api_error(err::StreamInvalidConfig, "stream configuration for create can not be sealed"));
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
    sa.origin = origin;
    propose({MetaOp::update_stream, sa, std::nullopt}, req, rest);
    return;
  }
  PlacementRequest preq;
  preq.replicas = cfg->num_replicas;
  placement_from_json(cfg->placement, preq.cluster, preq.tags);
  preq.default_cluster = origin.cluster;
  auto placed = place(preq, candidates());
  if (!placed.ok()) return reply_error(req, type, placed.error);

  StreamAssignment sa;
  sa.account = acc;
  sa.created_ns = origin.proposed_ns;
  sa.group.name = group_name('S', static_cast<int>(placed.peers.size()), cfg->storage, random_group_id());
  sa.group.peers = placed.peers;
  sa.group.storage = to_string(cfg->storage);
  sa.group.cluster = placed.cluster;
  if (placed.peers.size() > 1) sa.group.preferred = placed.peers.front();
  sa.origin = std::move(origin);
  sa.config = std::move(*cfg);
  propose({MetaOp::assign_stream, std::move(sa), std::nullopt}, req, rest);
}

void JsCluster::leader_stream_update(ApiRequest& req, std::string_view rest) {
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
  // Scaling and moving need replicated groups: refused until they exist.
  if (cfg->num_replicas != cur->config.num_replicas || cfg->placement != cur->config.placement)
    return reply_error(req, type, not_supported_yet());
  StreamAssignment sa = *cur;
  sa.config = std::move(*cfg);
  sa.origin = origin_of(req, rest);
  propose({MetaOp::update_stream, std::move(sa), std::nullopt}, req, rest);
}

void JsCluster::leader_stream_delete(ApiRequest& req, std::string_view rest) {
  const char* type = "stream_delete_response";
  auto args = args_after(rest, "STREAM.DELETE");
  if (args.size() != 1) return;
  if (!empty_request(req.payload)) return reply_error(req, type, api_error(err::NotEmptyRequest));
  auto cur = stream(req.account.name(), args[0]);
  if (!cur) return reply_error(req, type, api_error(err::StreamNotFound));
  cur->origin = origin_of(req, rest);
  propose({MetaOp::remove_stream, std::move(*cur), std::nullopt}, req, rest);
}

void JsCluster::leader_consumer_create(ApiRequest& req, std::string_view rest, bool durable_api) {
  const char* type = "consumer_create_response";
  auto args = args_after(rest, durable_api ? "CONSUMER.DURABLE.CREATE" : "CONSUMER.CREATE");
  if (args.empty()) return reply_error(req, type, api_error(err::BadRequest));
  auto body = json::parse(req.payload, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return reply_error(req, type, cerr::invalid_json(""));
  ConsumerConfig cfg;
  if (auto it = body.find("config"); it != body.end() && !it->is_null())
    if (auto ce = parse_consumer_config(*it, cfg)) return reply_error(req, type, *ce);
  auto sa = stream(req.account.name(), args[0]);
  if (!sa) return reply_error(req, type, api_error(err::StreamNotFound));
  // Replicated consumers, and consumers of replicated streams, need consumer groups.
  if (cfg.num_replicas > 1 || sa->group.replicas() > 1) return reply_error(req, type, not_supported_yet());
  apply_consumer_defaults(cfg);
  StreamContext ctx{sa->config.retention, sa->config.num_replicas, sa->config.subjects};
  if (auto ce = validate_consumer_config(cfg, ctx)) return reply_error(req, type, *ce);
  // The subject's own checks (names, filter) are the host's: it runs the same request.
  if (!is_valid_consumer_name(cfg.durable_name)) return reply_error(req, type, api_error(err::ConsumerBadDurableName));
  if (durable_api && (args.size() != 2 || args[1] != cfg.durable_name))
    return reply_error(req, type, api_error(err::ConsumerDurableNameNotMatchSubject));
  ConsumerAssignment ca;
  ca.account = sa->account;
  ca.stream = sa->name();
  ca.name = cfg.durable_name;
  ca.config = std::move(cfg);
  ca.origin = origin_of(req, rest);
  ca.created_ns = ca.origin.proposed_ns;
  ca.api_subject = std::string(rest);
  if (auto it = sa->consumers.find(ca.name); it != sa->consumers.end()) {
    ca.group = it->second.group;
    ca.created_ns = it->second.created_ns;
  } else {
    // Consumers live with their stream (the reference picks from the stream's peers).
    ca.group = sa->group;
    ca.group.name = group_name('C', sa->group.replicas(), sa->config.storage, random_group_id());
  }
  propose({MetaOp::assign_consumer, std::nullopt, std::move(ca)}, req, rest);
}

void JsCluster::leader_consumer_delete(ApiRequest& req, std::string_view rest, const ConsumerAssignment& cur) {
  if (!empty_request(req.payload))
    return reply_error(req, "consumer_delete_response", api_error(err::NotEmptyRequest));
  ConsumerAssignment ca = cur;
  ca.origin = origin_of(req, rest);
  propose({MetaOp::remove_consumer, std::nullopt, std::move(ca)}, req, rest);
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
  if (list) return gather_stream_list(js_, req, std::move(all), offset);
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

void JsCluster::leader_account_info(ApiRequest& req) {
  ojson j;
  j["type"] = api_type("account_info_response");
  ojson info = js_.account_info(req.jsa);  // limits, domain, api; usage of the local streams
  uint64_t streams_n = 0, consumers_n = 0;
  for (const auto& sa : streams(req.account.name())) {
    ++streams_n;
    consumers_n += sa.consumers.size();
  }
  info["streams"] = streams_n;
  info["consumers"] = std::max<uint64_t>(consumers_n, info["consumers"].get<uint64_t>());
  j.update(info);
  reply_json(req, j);
}

// ---- apply ------------------------------------------------------------------------------

void JsCluster::apply(const std::string& data) {
  auto e = decode_meta_entry(data);
  if (!e) {
    log::warn("JetStream cluster: skipping an undecodable meta entry ({} bytes)", data.size());
    return;
  }
  MetaChange ch;
  {
    std::lock_guard lk(mu_);
    ch = state_.apply(*e);
  }
  const RequestOrigin& origin = e->stream ? e->stream->origin : e->consumer->origin;
  bool live = origin.proposed_ns >= started_ns_;
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
  if (!group->has_peer(self_id_)) return;
  if (!e->consumer && group->replicas() > 1) return apply_replicated_stream(ch, origin, live);
  run_locally(live ? origin : RequestOrigin{origin.account, {}, {}, {}, 0, origin.api, origin.body});
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
  const bool answers = !reply.empty() && sa.group.peers.front() == self_id_;
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
      if (answers) reply_when_led(*jsa, s, reply, type, true);
      return;
    }
    case MetaOp::update_stream: {
      if (!current) return;
      if (starts_with(origin.api, "STREAM.CREATE.")) {  // the same create again
        if (answers) reply_when_led(*jsa, current, reply, type, true);
        return;
      }
      ApiError err = update_replicated_stream(current, sa);
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
      if (answers) reply_json(req, ojson{{"type", api_type(type)}, {"success", true}});
      return;
    }
    default:
      return;
  }
}

void JsCluster::reply_when_led(JsAccount& jsa, StreamPtr s, std::string reply, std::string type, bool did_create,
                               int tries) {
  // The reference's leader answers a create: wait (briefly) for the new group to elect one.
  if (group_status(s).leader.empty() && tries < kLeaderWaitTries) {
    js_.server().pick_loop().add_timer(kLeaderWaitStep, [this, &jsa, s, reply, type, did_create, tries] {
      reply_when_led(jsa, s, reply, type, did_create, tries + 1);
    });
    return;
  }
  ApiRequest req{js_.server(), js_, jsa.account, jsa, {}, {}, reply, {}, {}};
  reply_stream_info(req, type, *s, did_create ? std::optional<bool>(true) : std::nullopt);
}

void JsCluster::run_locally(const RequestOrigin& origin) {
  std::string reply = local_reply(origin.reply);
  auto* jsa = js_.account(origin.account);
  if (!jsa) {
    log::warn("JetStream cluster: account {} has no JetStream here; asset not hosted", origin.account);
    return;
  }
  std::string subject = "$JS.API." + origin.api;
  ApiRequest req{js_.server(), js_, jsa->account, *jsa, subject, {}, reply, {}, origin.body};
  js_.api().dispatch(req, origin.api);
}

}  // namespace nats::jetstream
