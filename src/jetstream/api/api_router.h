#pragma once
// Dispatch of `$JS.API.>` requests to handlers, and the reply helpers every handler uses.
//
// JetStream subscribes `$JS.API.>` once in each JetStream-enabled account; a request's
// subject after "$JS.API." is matched against registered prefixes by whole tokens, longest
// first: add("STREAM.INFO", h) serves "$JS.API.STREAM.INFO.ORDERS" with args = {"ORDERS"};
// add("INFO", h) serves "$JS.API.INFO" with args = {}. Unknown subjects get no answer (as
// the reference, which has no subscription for them).
//
// In clustered mode (server.meta_group() != null) the router answers only on the meta
// leader, so handlers need not check.
//
// Stats: each dispatched request counts in api.total (account and server) after its
// handler ran (so $JS.API.INFO does not see itself, as in the reference); every
// reply_error counts in api.errors. Handlers registered with count = false (DIRECT.GET)
// are not counted, as in the reference.
//
// The consumer layer plugs in through src/jetstream/consumer_api.h, which JetStream picks up
// with __has_include when it exists. It must declare, in namespace nats::jetstream:
//   void register_consumer_api(ApiRouter& router);   // called once from JetStream::start()
//   void restore_consumers(JetStream& js, const StreamPtr& stream);  // after a stream is
//                                                      // restored from disk at start-up
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jetstream/api/errors.h"

namespace nats {
class Server;
class Account;
}  // namespace nats

namespace nats::jetstream {

class JetStream;
struct JsAccount;

struct ApiRequest {
  Server& server;
  JetStream& js;
  Account& account;
  JsAccount& jsa;
  std::string_view subject;            // full request subject
  std::vector<std::string_view> args;  // tokens after the matched prefix
  std::string_view reply;
  std::string_view headers;
  std::string_view payload;
  // In a cluster, the name the meta leader gave an ephemeral consumer this create makes
  // (the host must use it, not draw its own).
  std::string_view assigned_name = {};
  // The requester as the API audit names it (the reference's ClientInfo): its rtt when known,
  // and, for a request another server forwarded (server/request_info.h) or the meta leader
  // assigned, the server (and cluster) the client is connected to. Empty: this server.
  int64_t rtt_ns = 0;
  std::string client_server = {};
  std::string client_cluster = {};
  bool no_audit = false;  // a server's own request (server/request_info.h): answered, not audited
};

using ApiHandler = std::function<void(const ApiRequest&)>;

// The response type of an API subject (after "$JS.API."), e.g. "stream_create_response";
// empty for subjects without an API answer (pulls, direct gets).
std::string response_type_for(std::string_view rest);

// Response type names ("io.nats.jetstream.api.v1.<name>").
std::string api_type(std::string_view name);

// Replies with body (which must already carry "type"). No-op without a reply subject.
void reply_json(const ApiRequest& req, const nlohmann::ordered_json& body);
// Replies {"type":type,"error":{...}} and counts an API error (count_error = false for the
// few replies the reference does not count, e.g. STREAM.MSG.DELETE failures).
void reply_error(const ApiRequest& req, std::string_view type, const ApiError& e, bool count_error = true);
// Counts an API error and returns {"type":type,"error":{...}}, for the error replies that
// carry more fields (paging, `purged`, `deliver_subject`); the caller adds them and replies.
nlohmann::ordered_json counted_error(const ApiRequest& req, std::string_view type, const ApiError& e);
// Payload is empty, whitespace only or an empty JSON object (the reference's isEmptyRequest).
bool empty_request(std::string_view payload);

class ApiRouter {
 public:
  void add(const std::string& prefix, ApiHandler handler, bool count = true);
  // Returns false if no handler matches. `rest` is the subject after "$JS.API.".
  bool dispatch(ApiRequest& req, std::string_view rest) const;

 private:
  struct Entry {
    ApiHandler handler;
    bool count;
  };
  std::map<std::string, Entry, std::less<>> handlers_;
};

}  // namespace nats::jetstream
