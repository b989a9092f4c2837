#include "jetstream/stream_api.h"

#include <algorithm>

#include "jetstream/api/api_router.h"
#include "jetstream/api/deferred_request.h"
#include "jetstream/cluster/cluster_info.h"
#include "jetstream/cluster/js_cluster.h"
#include "jetstream/cluster/stream_group.h"
#include "jetstream/headers.h"
#include "jetstream/advisories.h"
#include "jetstream/jetstream.h"
#include "jetstream/json_util.h"
#include "jetstream/stream.h"
#include "server/server.h"
#include "subject/subject.h"

namespace nats::jetstream {

namespace {

constexpr int kNamesLimit = 1024;   // JSApiNamesLimit
constexpr int kListLimit = 256;     // JSApiListLimit
constexpr int kSubjectsLimit = 100000;  // JSMaxSubjectDetails

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// Parses an optional JSON object body; an empty body is {}. Returns false on bad JSON.
bool parse_body(std::string_view payload, json& out) {
  if (empty_request(payload)) {
    out = json::object();
    return true;
  }
  out = json::parse(payload, nullptr, false);
  return !out.is_discarded() && out.is_object();
}

template <typename T>
bool get_uint(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer() || (it->is_number_integer() && !it->is_number_unsigned() && it->get<int64_t>() < 0))
    return false;
  out = it->get<T>();
  return true;
}
bool get_str(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}
bool get_bool(const json& j, const char* key, bool& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

ApiError invalid_json() {
  ApiError e = api_error(err::InvalidJSON);
  e.description = "invalid JSON";
  return e;
}

// StreamInfo body fields (config, created, state[, domain][, cluster]). The reference names
// the domain in STREAM.INFO and in the single-server UPDATE and LIST answers only.
void fill_info(const ApiRequest& req, ojson& j, Stream& s, bool deleted_details, std::string_view subjects_filter,
               bool with_domain = false) {
  j["config"] = s.config().to_json();
  j["created"] = format_time(s.created_ns());
  j["state"] = s.state_json(deleted_details, subjects_filter);
  if (auto* c = req.js.cluster()) {
    // As the reference: the count of the consumers the meta log placed on the stream, so
    // that R1 ephemerals on other peers of the stream count too.
    if (auto n = c->consumer_names(s.account().name(), s.name()).size(); n > 0) j["state"]["consumer_count"] = n;
  }
  const auto& domain = req.server.options().jetstream.domain;
  if (with_domain && !domain.empty()) j["domain"] = domain;
  if (auto c = stream_cluster_json(req.js, s); !c.is_null()) j["cluster"] = std::move(c);
  if (auto m = s.mirror_info(); !m.is_null()) j["mirror"] = std::move(m);
  if (auto src = s.sources_info(); !src.is_null()) j["sources"] = std::move(src);
  if (auto* c = req.js.cluster()) {
    const auto& o = req.server.options();
    if (auto alts = c->stream_alternates(s.account().name(), s.name(), o.jetstream.domain, o.cluster.name);
        !alts.is_null())
      j["alternates"] = std::move(alts);
  }
}

// The stream named by the single subject argument, or an error reply (false).
StreamPtr stream_arg(const ApiRequest& req, std::string_view type, ojson* extra = nullptr) {
  std::string name(req.args[0]);
  std::lock_guard lk(req.jsa.mu);
  auto it = req.jsa.streams.find(name);
  if (it != req.jsa.streams.end()) return it->second;
  return nullptr;
}

void reply_stream_info_error(const ApiRequest& req, const ApiError& e) {
  // StreamInfo embeds ApiPaged: the error reply carries zeroed paging fields.
  ojson j = counted_error(req, "stream_info_response", e);
  j["total"] = 0;
  j["offset"] = 0;
  j["limit"] = 0;
  reply_json(req, j);
}

void handle_info(const ApiRequest& req) {
  ojson j;
  j["type"] = api_type("account_info_response");
  ojson info = req.js.account_info(req.jsa);
  j.update(info);
  reply_json(req, j);
}

void handle_create(const ApiRequest& req, bool update) {
  const char* type = update ? "stream_update_response" : "stream_create_response";
  if (req.args.size() != 1) return;
  ApiError e;
  auto cfg = parse_stream_config(req.payload, e);
  if (!cfg) return reply_error(req, type, e);
  if (cfg->name != req.args[0]) return reply_error(req, type, api_error(err::StreamMismatch));
  if (!update)
    if (auto se = sealed_at_create_error(*cfg); !se.empty()) return reply_error(req, type, se);
  StreamPtr s;
  bool did_create = false;
  bool existed = false;
  if (update) {
    e = req.js.update_stream(req.jsa, std::move(*cfg), &s);
  } else {
    existed = req.js.lookup_stream(req.account.name(), cfg->name) != nullptr;
    s = req.js.create_stream(req.jsa, std::move(*cfg), e, &did_create);
  }
  if (!e.empty() || !s) return reply_error(req, type, e.empty() ? api_error(err::StreamNotFound) : e);
  // The reference's stream advisories, before the answer (an idempotent create sends none).
  if (update) send_stream_action(req.server, req.account, s->name(), AdvisoryAction::modify);
  else if (!existed) send_stream_action(req.server, req.account, s->name(), AdvisoryAction::create);
  ojson j;
  j["type"] = api_type(type);
  fill_info(req, j, *s, false, {}, update);
  if (!update) j["did_create"] = did_create;
  reply_json(req, j);
}

void handle_stream_info(const ApiRequest& req) {
  if (req.args.size() != 1) return;
  json body;
  bool deleted_details = false;
  std::string filter;
  uint64_t offset = 0;
  if (!parse_body(req.payload, body) || !get_bool(body, "deleted_details", deleted_details) ||
      !get_str(body, "subjects_filter", filter) || !get_uint(body, "offset", offset))
    return reply_stream_info_error(req, invalid_json());
  auto s = stream_arg(req, "stream_info_response");
  if (!s) return reply_stream_info_error(req, api_error(err::StreamNotFound));
  ojson j;
  j["type"] = api_type("stream_info_response");
  uint64_t total = 0;
  if (!filter.empty()) total = s->store().subjects_state(filter).size();
  j["total"] = total;
  j["offset"] = offset;
  j["limit"] = filter.empty() ? 0 : kSubjectsLimit;
  fill_info(req, j, *s, deleted_details, filter, true);
  reply_json(req, j);
}

void handle_delete(const ApiRequest& req) {
  const char* type = "stream_delete_response";
  if (req.args.size() != 1) return;
  if (!empty_request(req.payload)) return reply_error(req, type, api_error(err::NotEmptyRequest));
  std::vector<std::string> consumers;
  std::string owner;  // a template's stream: the delete advisory names it
  if (auto st = req.js.lookup_stream(req.account.name(), std::string(req.args[0]))) {
    for (auto& c : st->consumers()) consumers.push_back(c->consumer_name());
    owner = st->config().template_owner;
  }
  if (!req.js.delete_stream(req.jsa, std::string(req.args[0])))
    return reply_error(req, type, api_error(err::StreamNotFound));
  // As the reference's stream stop: each consumer's delete advisory, then the stream's.
  for (auto& c : consumers) send_consumer_action(req.server, req.account, std::string(req.args[0]), c, AdvisoryAction::remove);
  send_stream_action(req.server, req.account, std::string(req.args[0]), AdvisoryAction::remove, owner);
  ojson j;
  j["type"] = api_type(type);
  j["success"] = true;
  reply_json(req, j);
}

std::vector<StreamPtr> sorted_streams(const ApiRequest& req, const std::string& subject_filter) {
  std::vector<StreamPtr> out;
  std::lock_guard lk(req.jsa.mu);
  for (auto& [name, s] : req.jsa.streams) {
    if (!subject_filter.empty()) {
      bool match = false;
      for (const auto& subj : s->config().subjects) {
        if (subjects_collide(subj, subject_filter)) match = true;
      }
      if (!match) continue;
    }
    out.push_back(s);
  }
  return out;  // std::map: already sorted by name
}

void handle_names_or_list(const ApiRequest& req, bool list) {
  const char* type = list ? "stream_list_response" : "stream_names_response";
  if (!req.args.empty()) return;
  json body;
  uint64_t offset = 0;
  std::string subject;
  if (!parse_body(req.payload, body) || !get_uint(body, "offset", offset) || !get_str(body, "subject", subject))
    return reply_error(req, type, invalid_json());
  auto streams = sorted_streams(req, subject);
  uint64_t total = streams.size();
  if (offset > total) offset = total;
  uint64_t limit = list ? kListLimit : kNamesLimit;
  ojson j;
  j["type"] = api_type(type);
  j["total"] = total;
  j["offset"] = offset;
  j["limit"] = limit;
  ojson arr = ojson::array();
  for (uint64_t i = offset; i < total && i < offset + limit; ++i) {
    if (list) {
      ojson info;
      fill_info(req, info, *streams[i], false, {}, true);
      arr.push_back(info);
    } else {
      arr.push_back(streams[i]->name());
    }
  }
  // Go marshals an empty (nil) slice as null.
  if (arr.empty()) j["streams"] = nullptr;
  else j["streams"] = arr;
  reply_json(req, j);
}

// Purge replies always carry "purged" (not omitempty in the reference), errors included.
void reply_purge_error(const ApiRequest& req, const ApiError& e) {
  ojson j = counted_error(req, "stream_purge_response", e);
  j["purged"] = 0;
  reply_json(req, j);
}

void handle_purge(const ApiRequest& req) {
  const char* type = "stream_purge_response";
  if (req.args.size() != 1) return;
  json body;
  std::string filter;
  uint64_t seq = 0, keep = 0;
  if (!parse_body(req.payload, body) || !get_str(body, "filter", filter) || !get_uint(body, "seq", seq) ||
      !get_uint(body, "keep", keep))
    return reply_purge_error(req, invalid_json());
  auto s = stream_arg(req, type);
  if (!s) return reply_purge_error(req, api_error(err::StreamNotFound));
  auto cfg = s->config();
  if (cfg.sealed) return reply_purge_error(req, api_error(err::StreamSealed));
  if (cfg.deny_purge) return reply_purge_error(req, api_error(err::StreamPurgeFailed, "stream purge not permitted"));
  if (seq > 0 && keep > 0) return reply_purge_error(req, api_error(err::BadRequest));
  auto answer = [type](const ApiRequest& r, uint64_t n) {
    ojson j;
    j["type"] = api_type(type);
    j["success"] = true;
    j["purged"] = n;
    reply_json(r, j);
  };
  // Answered once the purge is in place (a replicated stream: applied here), with what it removed.
  auto kept = std::make_shared<DeferredRequest>(req);
  if (!s->purge(filter, seq, keep, [kept, answer](uint64_t n) { answer(kept->request(), n); }))
    reply_purge_error(req, api_error(err::StreamPurgeFailed, "not the stream leader"));
}

struct GetRequest {
  uint64_t seq = 0;
  std::string last_by_subj, next_by_subj;
  bool ok = true;      // JSON decoded
  bool valid = true;   // a meaningful combination
};

GetRequest parse_get(std::string_view payload) {
  GetRequest g;
  json body;
  if (empty_request(payload)) {
    g.valid = false;  // the reference: bad request, not invalid JSON
    return g;
  }
  if (!parse_body(payload, body) || !get_uint(body, "seq", g.seq) ||
      !get_str(body, "last_by_subj", g.last_by_subj) || !get_str(body, "next_by_subj", g.next_by_subj)) {
    g.ok = false;
    return g;
  }
  uint64_t batch = 0, max_bytes = 0;
  get_uint(body, "batch", batch);
  get_uint(body, "max_bytes", max_bytes);
  if (batch > 0 || max_bytes > 0) g.valid = false;
  if ((g.seq > 0 && !g.last_by_subj.empty()) ||
      (g.seq == 0 && g.last_by_subj.empty() && g.next_by_subj.empty()) ||
      (!g.last_by_subj.empty() && !g.next_by_subj.empty()))
    g.valid = false;
  return g;
}

StoreErr load_for_get(Stream& s, const GetRequest& g, StoredMsg& m) {
  if (!g.next_by_subj.empty()) return s.store().load_next_msg(g.next_by_subj, g.seq, m);
  if (g.seq > 0) return s.store().load_msg(g.seq, m);
  return s.store().load_last_msg(g.last_by_subj, m);
}

// The reference counts a STREAM.MSG.GET in the API totals only when it fails.
void msg_get_error(const ApiRequest& req, const ApiError& e) {
  req.jsa.api_total.fetch_add(1);
  req.js.api_total.fetch_add(1);
  reply_error(req, "stream_msg_get_response", e);
}

void handle_msg_get(const ApiRequest& req) {
  const char* type = "stream_msg_get_response";
  if (req.args.size() != 1) return;
  // A single server checks for an empty request before the stream, as 2.9.10; in a cluster the
  // meta leader answers "stream not found" first.
  if (!req.js.clustered() && empty_request(req.payload)) return msg_get_error(req, api_error(err::BadRequest));
  GetRequest g = parse_get(req.payload);
  if (!g.ok) return msg_get_error(req, invalid_json());
  auto s = stream_arg(req, type);
  if (!s) return msg_get_error(req, api_error(err::StreamNotFound));
  if (!g.valid) return msg_get_error(req, api_error(err::BadRequest));
  StoredMsg m;
  if (load_for_get(*s, g, m) != StoreErr::ok) return msg_get_error(req, api_error(err::NoMessageFound));
  ojson msg;
  msg["subject"] = m.subject;
  msg["seq"] = m.seq;
  if (!m.headers.empty()) msg["hdrs"] = base64_encode(m.headers);
  if (!m.payload.empty()) msg["data"] = base64_encode(m.payload);
  msg["time"] = format_time(m.ts);
  ojson j;
  j["type"] = api_type(type);
  j["message"] = msg;
  reply_json(req, j);
}

// The reference does not count a failed delete as an API error. A message that is not there
// is "not removed": 10043 "sequence <n> not found". Its file store alone fails sequences
// below the first ("no message found") and past the last ("stream store EOF") with the store
// error 10057; only a deleted message inside the range is "not removed" there.
void answer_msg_delete(const ApiRequest& req, uint64_t seq, StoreErr e, bool file_store, uint64_t first_seq,
                       uint64_t last_seq) {
  const char* type = "stream_msg_delete_response";
  if (e != StoreErr::ok) {
    bool missing = e == StoreErr::not_found || e == StoreErr::eof;
    if (missing && file_store && (seq < first_seq || seq > last_seq))
      return reply_error(req, type,
                         api_error(err::StreamMsgDeleteFailed,
                                   store_err_text(seq > last_seq ? StoreErr::eof : StoreErr::not_found)),
                         false);
    if (missing) return reply_error(req, type, api_error(err::SequenceNotFound, {{"{seq}", std::to_string(seq)}}), false);
    return reply_error(req, type, api_error(err::StreamMsgDeleteFailed, store_err_text(e)), false);
  }
  ojson j;
  j["type"] = api_type(type);
  j["success"] = true;
  reply_json(req, j);
}

void handle_msg_delete(const ApiRequest& req) {
  const char* type = "stream_msg_delete_response";
  if (req.args.size() != 1) return;
  json body;
  uint64_t seq = 0;
  bool no_erase = false;
  if (empty_request(req.payload)) return reply_error(req, type, api_error(err::BadRequest));
  if (!parse_body(req.payload, body) || !get_uint(body, "seq", seq) || !get_bool(body, "no_erase", no_erase))
    return reply_error(req, type, invalid_json());
  auto s = stream_arg(req, type);
  if (!s) return reply_error(req, type, api_error(err::StreamNotFound));
  auto cfg = s->config();
  if (cfg.sealed) return reply_error(req, type, api_error(err::StreamSealed));
  if (cfg.deny_delete)
    return reply_error(req, type, api_error(err::StreamMsgDeleteFailed, "message delete not permitted"));
  const bool file = cfg.storage == StorageType::file;
  // Answered once the delete is in place (a replicated stream: applied here; a delete of a
  // message another delete in flight removes is then "not found", as on the reference).
  auto kept = std::make_shared<DeferredRequest>(req);
  std::weak_ptr<Stream> weak = s;
  bool done = s->delete_msg(seq, !no_erase, [kept, weak, seq, file](StoreErr e) {
    StoreState state;
    if (auto st = weak.lock()) state = st->store().fast_state();
    answer_msg_delete(kept->request(), seq, e, file, state.first_seq, state.last_seq);
  });
  if (!done) reply_error(req, type, api_error(err::StreamMsgDeleteFailed, "not the stream leader"), false);
}

// DIRECT.GET answers with the message itself (headers carry the metadata) or a status.
void handle_direct_get(const ApiRequest& req) {
  if (req.args.empty() || req.reply.empty()) return;
  auto s = stream_arg(req, "");
  if (!s) return;
  auto cfg = s->config();
  if (!cfg.allow_direct && !cfg.mirror_direct) return;
  auto status = [&](std::string_view st) {
    req.server.publish_internal(req.account, req.reply, {}, build_headers({}, st), {});
  };
  GetRequest g;
  if (req.args.size() > 1) {
    // $JS.API.DIRECT.GET.<stream>.<subject>: the last message on that subject.
    const char* begin = req.args[1].data();
    const char* end = req.args.back().data() + req.args.back().size();
    g.last_by_subj.assign(begin, end);
  } else {
    if (empty_request(req.payload)) return status("408 Empty Request");
    g = parse_get(req.payload);
    if (!g.ok) return status("408 Malformed Request");
    if (!g.valid) return status("408 Bad Request");
  }
  StoredMsg m;
  if (load_for_get(*s, g, m) != StoreErr::ok) return status("404 Message Not Found");
  std::vector<std::pair<std::string, std::string>> meta = {{"Nats-Stream", s->name()},
                                                           {"Nats-Subject", m.subject},
                                                           {"Nats-Sequence", std::to_string(m.seq)},
                                                           {"Nats-Time-Stamp", format_time(m.ts)}};
  std::string hdrs = m.headers.empty() ? build_headers(meta) : append_headers(m.headers, meta);
  req.server.publish_internal(req.account, req.reply, {}, hdrs, m.payload);
}

}  // namespace

ojson stream_cluster_json(JetStream& js, Stream& s) {
  if (!js.clustered()) return nullptr;
  const auto& srv = js.server();
  const auto& cluster = srv.options().cluster.name;
  if (s.config().num_replicas > 1) {
    if (auto sp = js.lookup_stream(s.account().name(), s.name()); sp.get() == &s)
      return cluster_info_json(cluster, group_status(sp));
  }
  return cluster_info_json(cluster, GroupStatus{srv.name(), {}});
}

void reply_stream_info(const ApiRequest& req, std::string_view type, Stream& s, std::optional<bool> did_create) {
  ojson j;
  j["type"] = api_type(type);
  fill_info(req, j, s, false, {});
  if (did_create && !req.js.clustered()) {
    // A single server's create answer has no mirror/sources blocks (its update answer has).
    j.erase("mirror");
    j.erase("sources");
  }
  if (did_create) j["did_create"] = *did_create;
  reply_json(req, j);
}

void register_stream_api(ApiRouter& router) {
  router.add("INFO", handle_info);
  router.add("STREAM.CREATE", [](const ApiRequest& r) { handle_create(r, false); });
  router.add("STREAM.UPDATE", [](const ApiRequest& r) { handle_create(r, true); });
  router.add("STREAM.INFO", handle_stream_info);
  router.add("STREAM.DELETE", handle_delete);
  router.add("STREAM.NAMES", [](const ApiRequest& r) { handle_names_or_list(r, false); });
  router.add("STREAM.LIST", [](const ApiRequest& r) { handle_names_or_list(r, true); });
  router.add("STREAM.PURGE", handle_purge);
  router.add("STREAM.MSG.GET", handle_msg_get, false);
  router.add("STREAM.MSG.DELETE", handle_msg_delete);
  router.add("DIRECT.GET", handle_direct_get, false);
}

}  // namespace nats::jetstream
