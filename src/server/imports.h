// Account exports and imports, built on internal subscriptions:
//  - a stream import is an internal subscription in the exporting account that re-publishes
//    each message to this server's subscribers in the importing account, under the import's
//    prefix or `to` subject (the interest announced for it: import_interest.h);
//  - a service import is an internal subscription in the importing account that re-publishes
//    requests into the exporting account with the reply replaced by a fresh "_R_.<pfx>.<tok>"
//    subject; an internal subscription on "_R_.<pfx>.*" in the exporter maps responses back to
//    the original reply in the importer (once for Singleton, until the response threshold for
//    Stream and Chunked).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "config/options.h"
#include "server/account.h"

namespace nats {

class Server;

// Checks that every import names a defined account, is allowed by one of that account's
// exports (subject and account list) and forms no cycle. Returns the reference's message for
// the first problem, or "" when all is well.
std::string validate_account_imports(const std::vector<AccountConfig>& accounts);

// Installs the internal subscriptions for every import of `configs`. Imports naming an unknown
// account are skipped (validation refuses them before the server starts).
void install_imports(Server& server, const std::map<std::string, AccountPtr>& accounts,
                     const std::vector<AccountConfig>& configs);

// A config reload: wires the imports of running accounts as `configs` now say, and sets
// their export and import lists. Each internal subscription an unchanged import installed
// stays (no message of it is lost or doubled); new ones are inserted and announced to
// routes, gateways and leafs; those of removed or changed imports are taken out. Responses
// to requests sent before still reach their requesters.
void rewire_imports(Server& server, const std::map<std::string, AccountPtr>& accounts,
                    const std::vector<AccountConfig>& configs);

// Latency tracking (service_latency.h): whether sampled requests wait for responses, and
// the hook for a subscription removed in `acc`: a sampled request whose requester no longer
// listens on its reply is reported 408 (Request Timeout) and forgotten, as 2.9.10 does.
bool tracked_requests_pending();
void on_reply_interest_removed(Server& server, Account& acc, const std::string& subject);

// Held while reading an account's export and import lists (stream_exports, ...,
// service_imports), which a reload replaces.
std::unique_lock<std::mutex> lock_account_wiring();

// The reference's system imports in every account but the system one, so that any user can
// ask about its own account: $SYS.REQ.SERVER.PING.CONNZ and $SYS.REQ.ACCOUNT.PING.CONNZ map to
// $SYS.REQ.ACCOUNT.<acc>.CONNZ, and $SYS.REQ.ACCOUNT.PING.STATZ to $SYS.REQ.ACCOUNT.<acc>.STATZ.
void install_system_imports(Server& server, const std::map<std::string, AccountPtr>& accounts, Account& system);

// In a cluster every server holding a service import sees the original request (its import
// subscription is announced as interest), so only the server where it was published may run
// the service import; otherwise the exporter would get one copy per server. (A stream import
// runs on every server for its local subscribers only: import_interest.h.)
// process_message marks messages that arrived from a route or gateway with this scope around
// the internal handlers; response mapping ("_R_" subjects) ignores it, since responses come
// back over routes by design.
class ImportOriginScope {
 public:
  explicit ImportOriginScope(bool from_remote);
  ~ImportOriginScope();
  ImportOriginScope(const ImportOriginScope&) = delete;
  ImportOriginScope& operator=(const ImportOriginScope&) = delete;
  // True while handlers run for a message that came from another server.
  static bool remote();

 private:
  bool saved_;
};

// Maps `subject` (matched by pattern `from`) onto pattern `to`: the n-th `*` of `to` takes the
// token the n-th `*` of `from` matched, and a trailing `>` takes the rest. A literal `to` is
// returned as is.
std::string map_subject(std::string_view from, std::string_view to, std::string_view subject);

}  // namespace nats
