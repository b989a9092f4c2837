#include "jetstream/api/api_router.h"

#include <algorithm>
#include <cctype>

#include "jetstream/advisories.h"
#include "jetstream/jetstream.h"
#include "jetstream/json_util.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

// The response type of an API subject (after "$JS.API."), for answers given before dispatch.
std::string response_type_for(std::string_view rest) {
  if (rest == "INFO") return "account_info_response";
  if (rest.rfind("CONSUMER.DURABLE.CREATE.", 0) == 0) return "consumer_create_response";
  static const char* const kPrefixes[] = {"STREAM.MSG.GET", "STREAM.MSG.DELETE", "STREAM.CREATE", "STREAM.UPDATE",
                                          "STREAM.INFO",    "STREAM.DELETE",     "STREAM.PURGE",  "STREAM.NAMES",
                                          "STREAM.LIST",    "CONSUMER.CREATE",   "CONSUMER.INFO", "CONSUMER.DELETE",
                                          "CONSUMER.NAMES", "CONSUMER.LIST"};
  for (const char* p : kPrefixes) {
    std::string_view pv(p);
    if (rest.rfind(pv, 0) == 0 && (rest.size() == pv.size() || rest[pv.size()] == '.')) {
      std::string t;
      for (char c : pv) t += c == '.' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return t + "_response";
    }
  }
  return "";
}

std::string api_type(std::string_view name) { return "io.nats.jetstream.api.v1." + std::string(name); }

void reply_json(const ApiRequest& req, const nlohmann::ordered_json& body) {
  std::string response = go_json_escape(body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  if (!req.reply.empty()) req.server.publish_internal(req.account, req.reply, {}, {}, response);
  // Every API answer is audited after it is sent, as the reference's sendAPIResponse (also
  // without a reply subject). Internal answers (no request subject) are not API answers.
  if (req.subject.starts_with("$JS.") && !req.no_audit) send_api_audit(req, response);
}

nlohmann::ordered_json counted_error(const ApiRequest& req, std::string_view type, const ApiError& e) {
  req.jsa.api_errors.fetch_add(1, std::memory_order_relaxed);
  req.js.api_errors.fetch_add(1, std::memory_order_relaxed);
  nlohmann::ordered_json j;
  j["type"] = api_type(type);
  j["error"] = e.to_json();
  return j;
}

void reply_error(const ApiRequest& req, std::string_view type, const ApiError& e, bool count_error) {
  if (count_error) return reply_json(req, counted_error(req, type, e));
  nlohmann::ordered_json j;
  j["type"] = api_type(type);
  j["error"] = e.to_json();
  reply_json(req, j);
}

bool empty_request(std::string_view payload) {
  bool blank = true;
  for (char c : payload) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') blank = false;
  }
  if (blank) return true;
  // The reference (isEmptyRequest) also takes an empty JSON object as empty.
  auto j = nlohmann::json::parse(payload, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.empty();
}

void ApiRouter::add(const std::string& prefix, ApiHandler handler, bool count) {
  handlers_[prefix] = Entry{std::move(handler), count};
}

namespace {
// The response type a handler would use, derived from its prefix ("STREAM.NAMES" ->
// "stream_names_response"), for the not-enabled answer.
std::string response_type(std::string_view prefix) {
  if (prefix == "INFO") return "account_info_response";
  if (prefix == "CONSUMER.DURABLE.CREATE") return "consumer_create_response";
  if (prefix == "STREAM.PEER.REMOVE") return "stream_remove_peer_response";
  std::string t;
  for (char c : prefix) t += c == '.' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t + "_response";
}

// API subjects a single server has no handler for (they concern Raft groups), which 2.9.10
// still answers for an account without JetStream.
constexpr std::string_view kDisabledOnly[] = {"STREAM.LEADER.STEPDOWN", "STREAM.PEER.REMOVE"};

// The answer of an account without JetStream, as 2.9.10's handlers give it: 10039 in the
// shape of the handler's response, except where a handler checks something first (the
// clustering that leader step-downs and peer removal need; in a cluster, the stream a
// step-down names, which such an account cannot have). DIRECT.GET is never answered.
void reply_not_enabled(const ApiRequest& req, std::string_view prefix) {
  if (prefix == "DIRECT.GET") return;
  nlohmann::ordered_json j;
  j["type"] = api_type(response_type(prefix));
  bool stepdown = prefix.ends_with("LEADER.STEPDOWN");
  if ((stepdown || prefix == "STREAM.PEER.REMOVE") && !req.js.clustered())
    j["error"] = api_error(err::ClusterRequired).to_json();
  else if (stepdown)
    j["error"] = api_error(err::StreamNotFound).to_json();
  else
    j["error"] = api_error(err::NotEnabledForAccount).to_json();
  // Paged responses carry their (zero) paging fields; the lists are null for names of
  // streams and templates, empty for stream lists and consumers (Go's nil vs make).
  bool names = prefix.ends_with(".NAMES"), list = prefix.ends_with(".LIST");
  if (names || list || prefix == "STREAM.INFO") {
    j["total"] = 0;
    j["offset"] = 0;
    j["limit"] = 0;
  }
  if (names || list) {
    bool stream = prefix.starts_with("STREAM");
    j[stream ? "streams" : "consumers"] = (stream && names) ? nlohmann::ordered_json(nullptr)
                                                            : nlohmann::ordered_json::array();
  }
  if (prefix == "STREAM.PURGE") j["purged"] = 0;
  if (prefix == "STREAM.RESTORE") j["deliver_subject"] = "";
  reply_json(req, j);
}

// An enabled account's request that no handler takes but 2.9.10 answers: refused with an
// error instead of left to time out. True when answered.
bool reply_unhandled(const ApiRequest& req, std::string_view prefix, const std::string&) {
  // Leader step-down and peer removal need a cluster: 10010 on a single server, as 2.9.10
  // (in a cluster the stream's group and the meta leader answer them).
  if ((prefix == "STREAM.LEADER.STEPDOWN" || prefix == "STREAM.PEER.REMOVE") && !req.js.clustered()) {
    reply_error(req, response_type(prefix), api_error(err::ClusterRequired));
    return true;
  }
  return false;
}
}  // namespace

bool ApiRouter::dispatch(ApiRequest& req, std::string_view rest) const {
  // Split into tokens, then try the longest registered token prefix first.
  std::vector<std::string_view> tokens;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t dot = rest.find('.', start);
    if (dot == std::string_view::npos) dot = rest.size();
    tokens.push_back(rest.substr(start, dot - start));
    start = dot + 1;
  }
  for (size_t n = tokens.size(); n > 0; --n) {
    size_t len = static_cast<size_t>(tokens[n - 1].data() + tokens[n - 1].size() - rest.data());
    std::string_view prefix = rest.substr(0, len);
    auto it = handlers_.find(prefix);
    if (!req.jsa.enabled && (it != handlers_.end() || std::ranges::find(kDisabledOnly, prefix) != std::end(kDisabledOnly))) {
      reply_not_enabled(req, prefix);
      return true;
    }
    if (it == handlers_.end()) {
      if (req.jsa.enabled && n >= 2 && n < tokens.size() && reply_unhandled(req, prefix, std::string(tokens[n]))) return true;
      continue;
    }
    req.args.assign(tokens.begin() + static_cast<std::ptrdiff_t>(n), tokens.end());
    try {
      it->second.handler(req);
    } catch (const std::exception& e) {
      // A malformed request must never take the server down.
      log::warn("JetStream API {} failed: {}", req.subject, e.what());
    }
    if (it->second.count) {
      req.jsa.api_total.fetch_add(1, std::memory_order_relaxed);
      req.js.api_total.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  }
  return false;
}

}  // namespace nats::jetstream
