// Service latency tracking (2.9.10's ServiceLatency, accounts.go): an exported service with
// `latency` (config) or `service_latency` (account JWT) has a sample of the requests that
// reach it through a service import measured, and each measurement published as JSON
// (type io.nats.server.metric.v1.service_latency) on the export's results subject in the
// EXPORTING account:
//   200  the response came back: requestor, responder, start, service/system/total latency;
//   400  a sampled request had no reply subject ("Bad Request");
//   503  the request reached no subscriber of the exporter ("Service Unavailable");
//   504  no response within the export's response threshold ("Service Timeout"); reported
//        when the threshold passes (2.9.10's sweep runs every threshold: up to twice that);
//   408  the requester's interest in the reply went away ("Request Timeout"): noticed when
//        its subscription goes (imports.h on_reply_interest_removed), else at the answer.
// The requestor is described by its account and rtt only, unless the import has `share`.
// imports.cpp decides per request (start_tracking) and calls the report functions.
// Clustered (responder on another server) measurements are combined as 2.9.10 does: the
// responder's server sends its half on $SYS.LATENCY.M2.<requestor server hash>, across routes
// and gateways alike (over a gateway it names the request by its `_GR_.` reply). A requester
// on a leaf node is measured as the leaf connection; a responder on one gets no report (the
// leaf's server sends no measurement the hub could merge, 2.9.10's behaviour too).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/options.h"

namespace nats {

class Account;
class Connection;
class Server;

// The reference's ClientInfo (getClientInfo) of a client or leaf connection, in its JSON
// field order: account and rtt, or with `detailed` everything known of the connection and
// this server. Null for other kinds of connection (and for none).
nlohmann::ordered_json client_info(Server& srv, Connection* conn, bool detailed);
// Sets this server's name (a leaf connection's: the remote server's), cluster and gateway
// alternates on `j` (the reference's addServerAndClusterInfo); the order is left to
// ordered_client_info.
void add_server_info(Server& srv, Connection* conn, nlohmann::ordered_json& j);
// `in`'s ClientInfo fields in the reference's struct order (others dropped).
nlohmann::ordered_json ordered_client_info(const nlohmann::ordered_json& in);

// What a service import that leads to a tracked export measures, and where the result goes.
struct LatencyTracking {
  ServiceLatencyConfig cfg;
  bool share = false;  // the import's share: requestor details in the report
};

// One sampled request in flight (kept with its response route).
struct TrackedRequest {
  std::shared_ptr<const LatencyTracking> tracking;
  std::weak_ptr<Connection> requestor;
  nlohmann::ordered_json requestor_info;   // as it was when the request came in
  int64_t start_ns = 0;                    // system clock, when the request was forwarded
  nlohmann::ordered_json header;           // the tracing headers that asked for it, or null
};

// Decides whether this request is measured (the reference's shouldSample): always at 100,
// at random for 1-99, and otherwise when its tracing headers (Uber-Trace-Id, X-B3-*, B3,
// Traceparent) say it is sampled. Returns the request to track, or null. The requestor is the
// connection whose input this thread is processing; a request from no client is not measured.
std::shared_ptr<TrackedRequest> start_tracking(Server& srv, const std::shared_ptr<const LatencyTracking>& t,
                                               std::string_view headers);

// The reply subject suffix of a tracked request: ".<this server's hash>.T".
std::string tracked_reply_suffix(Server& srv);

// The response came back, published by the connection this thread is reading (or by the
// server itself when `internal`) at `received`. Publishes the 200 report in `exporter`.
// When the answer came from another server (a route), this half waits for that server's
// measurement of the service (keyed by the tracked `reply`) and the merged report follows.
void report_response(Server& srv, Account& exporter, TrackedRequest& req, bool internal,
                     std::chrono::system_clock::time_point received, std::string_view reply);

// The error reports: 400, 408, 503, 504 (service, system, total 0).
void report_error(Server& srv, Account& exporter, TrackedRequest& req, int status);

// Across servers (2.9.10's remote latency): the responder's server, which delivered a
// tracked request ("..<hash>.T" reply) coming from a route to a client, measures that client's
// answer (the "M2": responder details, service time) and sends it on
// $SYS.LATENCY.M2.<hash>; the requestor's server, which saw the answer come from a route,
// merges it into its own measurement before publishing the report.
// ClientConnection::deliver calls this for a reply that ends ".T" (cheap pre-check there).
void note_tracked_delivery(Server& srv, Connection& client, std::string_view account, std::string_view subject,
                           std::string_view reply);
// ClientConnection::publish calls this for a subject that ends ".T": an answer to a request
// noted above sends its M2.
void note_tracked_answer(Server& srv, Connection& client, std::string_view subject);
// The requestor's server listens for M2 measurements addressed to it (once, at start).
void subscribe_remote_latency(Server& srv);

// True for a subject that may be a tracked reply (ends ".T").
inline bool maybe_tracked_reply(std::string_view s) {
  return s.size() > 15 && s.back() == 'T' && s[s.size() - 2] == '.';
}

}  // namespace nats
