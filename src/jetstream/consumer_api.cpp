#include "jetstream/consumer_api.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "jetstream/advisories.h"
#include "jetstream/cluster/cluster_info.h"
#include "jetstream/cluster/consumer_group.h"
#include "jetstream/cluster/consumer_list.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/jetstream.h"
#include "jetstream/js_tiers.h"
#include "server/account.h"
#include "server/server.h"
#include "subject/subject.h"
#include "util/ids.h"
#include "util/log.h"

namespace nats::jetstream {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

namespace {

// Create/delete are serialised so two requests for one name cannot both create it.
std::mutex& lifecycle_mu() {
  static std::mutex mu;
  return mu;
}

std::string random_name() {
  static const char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  unsigned char b[8];
  util::random_bytes(b, sizeof b);
  std::string s;
  for (unsigned char c : b) s += kAlnum[c % 62];
  return s;
}

StreamContext stream_context(const StreamPtr& s) {
  StreamContext ctx;
  StreamConfig sc = s->config();
  ctx.retention = sc.retention;
  ctx.replicas = sc.num_replicas;
  ctx.subjects = sc.subjects;
  return ctx;
}

void remove_inactive(const ConsumerPtr& c) {
  auto& js = c->stream()->jetstream();
  if (js.clustered() && !c->config().direct) {
    // The meta leader removes the assignment; every host applies it (as 2.9.10's
    // deleteNotActive, which proposes the removal). The consumer stops ticking meanwhile.
    std::string subject = "$JS.API.CONSUMER.DELETE." + c->stream()->name() + "." + c->name();
    js.server().publish_internal(c->stream()->account(), subject, {}, {}, {});
    return;
  }
  std::lock_guard lk(lifecycle_mu());
  auto cur = c->stream()->lookup_consumer(c->name());
  if (cur.get() != c.get()) return;
  c->stream()->remove_consumer(c->name());
  c->stop(true);
  send_consumer_action(c->stream()->jetstream().server(), c->stream()->account(), c->stream()->name(), c->name(),
                       AdvisoryAction::remove);
}

ojson consumer_info(const ApiRequest& req, const ConsumerPtr& c) { return consumer_info_json(req.js, c); }

ojson info_response(const ApiRequest& req, const ConsumerPtr& c, const char* type, bool initial = false) {
  ojson j;
  j["type"] = api_type(type);
  ojson info = consumer_info_json(req.js, c, initial);
  for (auto it = info.begin(); it != info.end(); ++it) j[it.key()] = std::move(it.value());
  return j;
}

// The reference's isEmptyRequest: nothing, or a JSON object without fields ("{}").
bool is_empty_request(std::string_view payload) {
  if (empty_request(payload)) return true;
  auto j = json::parse(payload, nullptr, false);
  return j.is_object() && j.empty();
}

std::string join_tokens(const std::vector<std::string_view>& args, size_t from) {
  std::string s;
  for (size_t i = from; i < args.size(); ++i) {
    if (i > from) s += '.';
    s += args[i];
  }
  return s;
}

void handle_create(const ApiRequest& req, bool durable_api) {
  static const char* kType = "consumer_create_response";
  std::string stream_name, consumer_name, filter;
  if (durable_api) {
    if (req.args.size() != 2) return reply_error(req, kType, api_error(err::BadRequest));
    stream_name = req.args[0];
    consumer_name = req.args[1];
  } else {
    if (req.args.empty()) return reply_error(req, kType, api_error(err::BadRequest));
    stream_name = req.args[0];
    if (req.args.size() >= 2) consumer_name = req.args[1];
    if (req.args.size() >= 3) filter = join_tokens(req.args, 2);
  }
  auto body = json::parse(req.payload, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return reply_error(req, kType, cerr::invalid_json(""));
  std::string body_stream;
  if (auto it = body.find("stream_name"); it != body.end() && it->is_string()) body_stream = it->get<std::string>();
  if (body_stream != stream_name) return reply_error(req, kType, api_error(err::StreamMismatch));
  // 2.9 decodes "config" into a value, so a missing config is an all-defaults ephemeral.
  ConsumerConfig cfg;
  auto cit = body.find("config");
  if (cit != body.end() && !cit->is_null()) {
    if (auto e = parse_consumer_config(*cit, cfg)) return reply_error(req, kType, *e);
  }
  if (cfg.num_replicas > 1 && !req.js.clustered()) return reply_error(req, kType, cerr::replicas_not_supported());

  if (!consumer_name.empty()) {
    if (consumer_name.find_first_of("\\/") != std::string::npos)
      return reply_error(req, kType, api_error(err::ConsumerNameContainsPathSeparators));
    if (consumer_name.size() > kMaxNameLen)
      return reply_error(req, kType, api_error(err::ConsumerNameTooLong, {{"{max}", std::to_string(kMaxNameLen)}}));
  }
  if (!filter.empty() && cfg.filter_subject != filter)
    return reply_error(req, kType, api_error(err::ConsumerCreateFilterSubjectMismatch));
  if (durable_api) {
    if (cfg.durable_name.empty()) return reply_error(req, kType, api_error(err::ConsumerDurableNameNotSet));
    if (cfg.durable_name != consumer_name)
      return reply_error(req, kType, api_error(err::ConsumerDurableNameNotMatchSubject));
  } else if (consumer_name.empty()) {
    if (!cfg.durable_name.empty()) return reply_error(req, kType, api_error(err::ConsumerEphemeralWithDurableName));
  } else {
    // 2.9 named form: the name in the subject is the consumer's name.
    if (!cfg.durable_name.empty() && cfg.durable_name != consumer_name)
      return reply_error(req, kType, api_error(err::ConsumerDurableNameNotMatchSubject));
    if (!cfg.name.empty() && cfg.name != consumer_name)
      return reply_error(req, kType, api_error(err::ConsumerCreateDurableAndNameMismatch));
    cfg.name = consumer_name;
  }
  if (!cfg.durable_name.empty() && !is_valid_consumer_name(cfg.durable_name))
    return reply_error(req, kType, api_error(err::ConsumerBadDurableName));

  auto stream = req.js.lookup_stream(req.account.name(), stream_name);
  if (!stream) return reply_error(req, kType, api_error(err::StreamNotFound));
  ApiError e;
  auto c = add_consumer(req.server, stream, std::move(cfg), e, req.assigned_name);
  if (!c) return reply_error(req, kType, e);
  // As created, not as delivery (already running) has moved it since: see take_initial_info.
  reply_json(req, info_response(req, c, kType, true));
}

void handle_info(const ApiRequest& req) {
  static const char* kType = "consumer_info_response";
  if (req.args.size() != 2) return reply_error(req, kType, api_error(err::BadRequest));
  if (!is_empty_request(req.payload)) return reply_error(req, kType, api_error(err::NotEmptyRequest));
  auto stream = req.js.lookup_stream(req.account.name(), std::string(req.args[0]));
  if (!stream) return reply_error(req, kType, api_error(err::StreamNotFound));
  auto c = lookup_consumer(stream, std::string(req.args[1]));
  if (!c) return reply_error(req, kType, api_error(err::ConsumerNotFound));
  reply_json(req, info_response(req, c, kType));
}

void handle_delete(const ApiRequest& req) {
  static const char* kType = "consumer_delete_response";
  if (req.args.size() != 2) return reply_error(req, kType, api_error(err::BadRequest));
  if (!is_empty_request(req.payload)) return reply_error(req, kType, api_error(err::NotEmptyRequest));
  auto stream = req.js.lookup_stream(req.account.name(), std::string(req.args[0]));
  if (!stream) return reply_error(req, kType, api_error(err::StreamNotFound));
  if (!delete_consumer(stream, std::string(req.args[1])))
    return reply_error(req, kType, api_error(err::ConsumerNotFound));
  ojson j;
  j["type"] = api_type(kType);
  j["success"] = true;
  reply_json(req, j);
}

// CONSUMER.LEADER.STEPDOWN of a consumer without a Raft group of its own (R1, ephemeral):
// nothing to move, success as the reference; replicated ones are the cluster's
// (cluster/cluster_consumers.cpp). Standalone: 10010.
void handle_leader_stepdown(const ApiRequest& req) {
  static const char* kType = "consumer_leader_stepdown_response";
  if (!req.js.clustered()) return reply_error(req, kType, api_error(err::ClusterRequired));
  if (req.args.size() != 2) return reply_error(req, kType, api_error(err::BadRequest));
  auto stream = req.js.lookup_stream(req.account.name(), std::string(req.args[0]));
  if (!stream) return reply_error(req, kType, api_error(err::StreamNotFound));
  if (!lookup_consumer(stream, std::string(req.args[1])))
    return reply_error(req, kType, api_error(err::ConsumerNotFound));
  if (!is_empty_request(req.payload)) return reply_error(req, kType, api_error(err::BadRequest));
  ojson j;
  j["type"] = api_type(kType);
  j["success"] = true;
  reply_json(req, j);
}

// NAMES/LIST errors carry the (empty) paging fields too, as the reference's paged response.
void paged_error(const ApiRequest& req, const char* type, const ApiError& e) {
  ojson j = counted_error(req, type, e);
  j["total"] = 0;
  j["offset"] = 0;
  j["limit"] = 0;
  j["consumers"] = ojson::array();
  reply_json(req, j);
}

void handle_names_or_list(const ApiRequest& req, bool list) {
  const char* type = list ? "consumer_list_response" : "consumer_names_response";
  auto reply_error = [](const ApiRequest& r, const char* t, const ApiError& e) { paged_error(r, t, e); };
  if (req.args.size() != 1) return reply_error(req, type, api_error(err::BadRequest));
  int64_t offset = 0;
  if (!empty_request(req.payload)) {
    auto body = json::parse(req.payload, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return reply_error(req, type, cerr::invalid_json(""));
    if (auto it = body.find("offset"); it != body.end() && it->is_number_integer()) offset = it->get<int64_t>();
    if (offset < 0) offset = 0;
  }
  auto stream = req.js.lookup_stream(req.account.name(), std::string(req.args[0]));
  if (!stream) return reply_error(req, type, api_error(err::StreamNotFound));
  std::map<std::string, ConsumerPtr> all;  // by name; null: placed on another server
  for (auto& sc : stream->consumers())
    if (auto c = std::dynamic_pointer_cast<Consumer>(sc)) all[c->name()] = c;
  // In a cluster, the consumers the meta log placed on the stream's other peers (an R1
  // durable of a replicated stream lives on one of them) are named too.
  auto* cl = req.js.cluster();
  if (cl)
    for (auto& name : cl->consumer_names(req.account.name(), stream->name())) all.try_emplace(name);
  const size_t limit = list ? 256 : 1024;
  offset = std::min<int64_t>(offset, static_cast<int64_t>(all.size()));
  if (list && cl) {
    std::vector<std::pair<std::string, ConsumerPtr>> page;
    for (auto it = std::next(all.begin(), offset); it != all.end() && page.size() < limit; ++it) page.push_back(*it);
    return gather_consumer_list(req, stream->name(), std::move(page), static_cast<uint64_t>(offset), limit);
  }
  if (!list) {
    std::vector<std::string> names;
    names.reserve(all.size());
    for (const auto& [name, _] : all) names.push_back(name);
    return reply_consumer_names(req, names, static_cast<uint64_t>(offset), limit);
  }
  ojson j;
  j["type"] = api_type(type);
  j["total"] = all.size();
  j["offset"] = offset;
  j["limit"] = limit;
  ojson arr = ojson::array();
  for (auto it = std::next(all.begin(), offset); it != all.end() && arr.size() < limit; ++it)
    arr.push_back(consumer_info(req, it->second));
  j["consumers"] = arr;
  reply_json(req, j);
}

bool overlaps(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return true;
  return subjects_collide(a, b);
}

}  // namespace

ojson consumer_info_json(JetStream& js, const ConsumerPtr& c, bool initial) {
  ojson info = initial ? c->take_initial_info() : c->info_json();
  if (!js.clustered()) return info;
  // Replicated: its Raft group's view; R1: this server leads it.
  GroupStatus st{js.server().name(), {}};
  if (c->replicated())
    if (auto cg = ConsumerGroup::find(js, c->stream()->account().name(), c->stream()->name(), c->name()))
      st = cg->cluster_info();
  info["cluster"] = cluster_info_json(js.server().options().cluster.name, st);
  return info;
}

ConsumerPtr lookup_consumer(const StreamPtr& stream, const std::string& name) {
  return std::dynamic_pointer_cast<Consumer>(stream->lookup_consumer(name));
}

void remove_inactive_consumer(const ConsumerPtr& c) { remove_inactive(c); }

void reply_consumer_paged_error(const ApiRequest& req, const char* type, const ApiError& e) { paged_error(req, type, e); }

void reply_consumer_names(const ApiRequest& req, const std::vector<std::string>& names, uint64_t offset,
                          uint64_t limit) {
  ojson j;
  j["type"] = api_type("consumer_names_response");
  j["total"] = names.size();
  j["offset"] = offset;
  j["limit"] = limit;
  ojson arr = ojson::array();
  for (uint64_t i = offset; i < names.size() && arr.size() < limit; ++i) arr.push_back(names[i]);
  j["consumers"] = std::move(arr);
  reply_json(req, j);
}

ConsumerPtr add_consumer(Server& server, const StreamPtr& stream, ConsumerConfig cfg, ApiError& err,
                         std::string_view assigned) {
  StreamConfig sc = stream->config();
  // The limits of the stream's tier (tiered JWT limits), as the reference's addConsumer.
  SelectedLimits sel = select_limits(stream->account(), sc.num_replicas);
  if (!sel.found) {
    err = api_error(err::NoLimits);
    return nullptr;
  }
  int64_t acc_max_ack_pending = sel.limits.max_ack_pending;
  apply_consumer_defaults(cfg, acc_max_ack_pending);
  StreamContext ctx = stream_context(stream);
  ctx.account_max_ack_pending = acc_max_ack_pending;
  if (auto e = validate_consumer_config(cfg, ctx)) {
    err = *e;
    return nullptr;
  }
  std::lock_guard lk(lifecycle_mu());
  std::string name = cfg.effective_name();
  if (!name.empty()) {
    if (auto existing = lookup_consumer(stream, name)) {
      ConsumerConfig old = existing->config();
      if (auto e = check_consumer_update(old, cfg)) {
        err = *e;
        return nullptr;
      }
      existing->update_config(cfg);
      return existing;
    }
  }
  int64_t max_consumers = effective_max_consumers(sc.max_consumers, sel.limits.max_consumers);
  if (max_consumers > 0 && static_cast<int64_t>(stream->consumer_count()) >= max_consumers) {
    err = api_error(err::MaximumConsumersLimit);
    return nullptr;
  }
  if (sc.retention == RetentionPolicy::workqueue) {
    if (cfg.ack_policy != AckPolicy::explicit_ack) {
      err = api_error(err::ConsumerWQRequiresExplicitAck);
      return nullptr;
    }
    auto others = stream->consumers();
    if (!others.empty()) {
      if (cfg.filter_subject.empty()) {
        err = api_error(err::ConsumerWQMultipleUnfiltered);
        return nullptr;
      }
      for (auto& o : others) {
        if (overlaps(o->filter_subject(), cfg.filter_subject)) {
          err = api_error(err::ConsumerWQConsumerNotUnique);
          return nullptr;
        }
      }
    }
    if (cfg.deliver_policy != DeliverPolicy::all) {
      err = api_error(err::ConsumerWQConsumerNotDeliverAll);
      return nullptr;
    }
  }
  if (name.empty() && !assigned.empty()) {
    name = std::string(assigned);
    if (lookup_consumer(stream, name)) return lookup_consumer(stream, name);  // replayed create
  }
  if (name.empty()) {
    do {
      name = random_name();
    } while (stream->lookup_consumer(name));
  }
  auto c = std::make_shared<Consumer>(server, stream, std::move(cfg), name, now_unix_ns());
  c->on_inactive = remove_inactive;
  stream->add_consumer(c);
  c->start();
  send_consumer_action(server, stream->account(), stream->name(), name, AdvisoryAction::create);
  return c;
}

bool delete_consumer(const StreamPtr& stream, const std::string& name) {
  std::lock_guard lk(lifecycle_mu());
  auto c = lookup_consumer(stream, name);
  if (!c) return false;
  stream->remove_consumer(name);
  c->stop(true);
  send_consumer_action(stream->jetstream().server(), stream->account(), stream->name(), name, AdvisoryAction::remove);
  return true;
}

void register_consumer_api(ApiRouter& router) {
  router.add("CONSUMER.CREATE", [](const ApiRequest& r) { handle_create(r, false); });
  router.add("CONSUMER.DURABLE.CREATE", [](const ApiRequest& r) { handle_create(r, true); });
  router.add("CONSUMER.INFO", handle_info);
  router.add("CONSUMER.DELETE", handle_delete);
  router.add("CONSUMER.NAMES", [](const ApiRequest& r) { handle_names_or_list(r, false); });
  router.add("CONSUMER.LIST", [](const ApiRequest& r) { handle_names_or_list(r, true); });
  router.add("CONSUMER.LEADER.STEPDOWN", handle_leader_stepdown);
}

namespace {
std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

ConsumerPtr restore_consumer(JetStream& js, const StreamPtr& stream, ConsumerConfig cfg, const std::string& name,
                             int64_t created_ns, const ConsumerSnapshot* state) {
  auto c = std::make_shared<Consumer>(js.server(), stream, std::move(cfg), name, created_ns);
  c->on_inactive = remove_inactive;
  stream->add_consumer(c);
  c->start(state);
  return c;
}

void restore_consumers(JetStream& js, const StreamPtr& stream) {
  if (stream->dir().empty()) return;
  fs::path obs = fs::path(stream->dir()) / "obs";
  std::error_code ec;
  if (!fs::is_directory(obs, ec)) return;
  for (auto& entry : fs::directory_iterator(obs, ec)) {
    if (!entry.is_directory()) continue;
    auto meta = read_file(entry.path() / "meta.inf");
    if (!meta) continue;
    auto mj = json::parse(*meta, nullptr, false);
    if (!mj.is_object() || !mj.contains("config") || !mj.contains("name")) continue;
    ConsumerConfig cfg;
    if (parse_consumer_config(mj["config"], cfg)) continue;
    std::string name = mj["name"].get<std::string>();
    int64_t created = mj.value("created", int64_t{0});
    ConsumerSnapshot snap;
    bool have_state = false;
    if (auto st = read_file(entry.path() / "o.dat")) {
      auto sj = json::parse(*st, nullptr, false);
      if (sj.is_object()) {
        have_state = true;
        snap.delivered_cseq = sj["delivered"].value("consumer_seq", uint64_t{0});
        snap.delivered_sseq = sj["delivered"].value("stream_seq", uint64_t{0});
        snap.ack_floor_cseq = sj["ack_floor"].value("consumer_seq", uint64_t{0});
        snap.ack_floor_sseq = sj["ack_floor"].value("stream_seq", uint64_t{0});
        for (auto& p : sj["pending"]) {
          if (!p.is_array() || p.size() != 4) continue;
          snap.pending[p[0].get<uint64_t>()] =
              PendingAck{p[1].get<uint64_t>(), p[2].get<int64_t>(), p[3].get<int64_t>()};
        }
        for (auto& r : sj["redelivered"]) {
          if (r.is_array() && r.size() == 2) snap.redelivered[r[0].get<uint64_t>()] = r[1].get<uint64_t>();
        }
      }
    }
    restore_consumer(js, stream, std::move(cfg), name, created, have_state ? &snap : nullptr);
    log::notice("  Restored consumer '{} > {} > {}'", stream->account().name(), stream->name(), name);
  }
}

}  // namespace nats::jetstream
