// The monitoring documents (/varz, /connz, ...) as JSON, with the reference's field names
// and order. Used by the HTTP monitor and by the $SYS.REQ.SERVER.* requests.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace nats {

class Server;
using Json = nlohmann::ordered_json;

struct ConnzOptions {
  std::string sort = "cid";
  bool subs = false;
  bool subs_detail = false;
  bool auth = false;
  int offset = 0;
  int limit = 1024;
  uint64_t cid = 0;
  std::string state = "open";  // open, closed, any
  std::string user;
  std::string account;
};

struct SubszOptions {
  bool subs = false;
  int offset = 0;
  int limit = 1024;
  std::string test;  // a literal subject: only subscriptions matching it
  std::string account;
};

struct JszOptions {
  std::string account;
  bool accounts = false;
  bool streams = false;
  bool consumer = false;
  bool config = false;
  bool leader_only = false;
  int offset = 0;
  int limit = 1024;
  bool raft = false;
};

// A monitoring error (bad option): HTTP 400 with this text, or {"error":{...}} over $SYS.
struct MonitorError {
  int code;
  std::string description;
};

Json varz(Server& s);
Json connz(Server& s, const ConnzOptions& o);
Json subsz(Server& s, const SubszOptions& o);
Json routez(Server& s);
Json gatewayz(Server& s);
Json jsz(Server& s, const JszOptions& o);
Json accountz(Server& s, const std::string& account);
// The reference's /accstatz: traffic and connection counts of the accounts with local
// connections (all accounts when include_unused).
Json accstatz(Server& s, bool include_unused);
// js_enabled_only: the reference's `js-enabled-only` (and deprecated `js-enabled`) option:
// only check that JetStream is enabled, not the meta leader.
Json healthz(Server& s, int* http_status, bool js_enabled_only = false);
// The JetStream blocks other documents embed (jetstream_endpoints.cpp): /varz "jetstream"
// ({} when disabled) and STATSZ "jetstream" (null when disabled).
Json varz_jetstream(Server& s);
Json statsz_jetstream(Server& s);
Json leafz(Server& s, bool subs = false);

// Option parsing from HTTP query parameters; throws MonitorError.
ConnzOptions connz_options_from_query(const std::multimap<std::string, std::string>& q);
SubszOptions subsz_options_from_query(const std::multimap<std::string, std::string>& q);
JszOptions jsz_options_from_query(const std::multimap<std::string, std::string>& q);

}  // namespace nats
