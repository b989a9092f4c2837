#pragma once
// JetStream on one server: owns the per-account JetStream state (streams and their
// consumers), serves the `$JS.API.>` request subjects, and reports usage for /jsz, /varz
// and STATSZ. Created by Server::start() when the `jetstream` block or `-js` enables it.
//
// Clustered servers (a `cluster` block) also run the meta group (jetstream/cluster/), which
// elects one leader across the supercluster. Stream and consumer assignments are entries of
// its log; JsCluster (cluster/js_cluster.h) applies them, hosts the assets placed here and
// decides which server answers each API request. In clustered mode streams are recovered on
// restart from the replayed meta log, not from scanning the store directory.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/options.h"
#include "jetstream/api/errors.h"
#include "jetstream/store/message_store.h"
#include "jetstream/stream_config.h"
#include "jetstream/stream_template.h"
#include "subject/subscription.h"

namespace nats {
class Server;
class Account;
}  // namespace nats

namespace nats::jetstream {

struct ApiRequest;

// Server-wide limits after defaults are applied (reference: 75% of RAM, 1 TB of disk).
struct JetStreamLimits {
  int64_t max_memory = 0;
  int64_t max_store = 0;
};

// The reference's JetStreamStats + APIStats (jetstream.go), summed over accounts.
struct JetStreamUsage {
  uint64_t memory = 0;   // bytes held by memory-storage streams
  uint64_t store = 0;    // bytes held by file-storage streams
  uint64_t reserved_memory = 0;
  uint64_t reserved_store = 0;
  uint64_t accounts = 0;  // accounts with JetStream enabled
  uint64_t ha_assets = 0;
  uint64_t streams = 0;
  uint64_t consumers = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t api_total = 0;
  uint64_t api_errors = 0;
  uint64_t api_inflight = 0;
  int api_level = 0;
};

class ApiRouter;
class JsCluster;
class MetaGroup;
class Stream;
using StreamPtr = std::shared_ptr<Stream>;

// One JetStream-enabled account: its streams and API counters.
struct JsAccount {
  explicit JsAccount(Account& a) : account(a) {}
  Account& account;
  mutable std::mutex mu;                    // guards streams
  std::map<std::string, StreamPtr> streams;  // by name (sorted, as NAMES/LIST page them)
  std::atomic<uint64_t> api_total{0}, api_errors{0};
  SubscriptionPtr api_sub;
  StreamTemplates templates;  // STREAM.TEMPLATE.* (stream_template.h)
  // False for accounts without JetStream: the router answers their API requests with
  // "JetStream not enabled for account" (10039), as the reference does.
  bool enabled = true;
  // The system account's: 2.9.10 (apiDispatch) answers its `$JS.API.INFO` with 10039 and
  // drops every other API request (the requester times out: there are responders).
  bool system_info_only = false;
};

// The consumer limit of a stream: its max_consumers, lowered to the account's (the
// reference's addConsumerWithAssignment); <= 0: unlimited.
inline int64_t effective_max_consumers(int64_t stream_max, int64_t account_max) {
  if (stream_max <= 0 || (account_max > 0 && account_max < stream_max)) return account_max;
  return stream_max;
}

// At a stream create (stream_limits.cpp), as the reference's jsNonClusteredStreamLimitsCheck:
// the account's max_streams (10027, against the streams it has), max_consumers (10026), then
// its byte limit of the stream's storage type (10028 memory, 10047 file) against `reserved`,
// the max_bytes the account's other streams of that type hold (account_reservation).
ApiError account_limits_error(const Account& acc, size_t streams, int64_t reserved, const StreamConfig& cfg);
int64_t account_reservation(const std::vector<StreamConfig>& others, const StreamConfig& cfg);
// At a stream update, as the reference's configUpdateCheck: only the growth of max_bytes
// (and of replicas times the old max_bytes) is added to the reservations (`reserved`: the
// other streams'), the old max_bytes counting as already reserved; so an update raising
// max_bytes beyond the account's limit is refused with 10028/10047, one lowering it is not.
ApiError account_update_limits_error(const Account& acc, int64_t reserved, const StreamConfig& old,
                                     const StreamConfig& cfg);
// The account's max_bytes_required (10113) and per-stream byte limit (10122), as the
// reference's checkStreamCfg.
ApiError stream_max_bytes_error(const Account& acc, const StreamConfig& cfg);
// At store time (the reference's jsAccount.limitsExceeded): whether `used` bytes of one
// storage type are over the account's limits; the check is skipped without a byte limit.
bool account_has_byte_limit(const JsAccountLimits& l, StorageType storage);
bool account_bytes_exceeded(const JsAccountLimits& l, StorageType storage, uint64_t used);
// The reference's rate-limited warning (at most every 10 s).
void log_account_limits_exceeded(const std::string& account);

class JetStream {
 public:
  explicit JetStream(Server& server);
  // With `o` for the store directory and limits instead of the server's start-up options
  // (a config reload turning JetStream on).
  JetStream(Server& server, const JetStreamOptions& o);
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // Creates the store directory, restores streams found on disk, enables the accounts
  // that have JetStream and subscribes the API. Throws std::runtime_error on failure.
  void start();
  // Flushes and closes every store; API requests are no longer answered.
  // announce: tell the server at once (its INFO stops offering JetStream to new clients)
  // instead of after the streams have stopped, which may take a while.
  void shutdown(bool announce = false);
  // An account registered after start (operator mode: resolved from its JWT on first use)
  // gets what start() gives the accounts it finds: JetStream when its JWT enables it, else
  // the 10039 answerer, each left out when the account imports another's API. Once per account.
  void add_account(Account& acc);
  // An account JWT update (operator mode) that added or removed the JetStream limits, as
  // 2.9.10's configJetStream: enabled now (its streams restored from disk), or disabled (its
  // streams stopped, files kept; API requests answered with 10039). Clustered, on the meta
  // group's thread: the assets the meta state assigns here start (JsCluster::host_account)
  // or stop with their Raft groups, files kept (unhost_account). No-op when unchanged.
  void update_account(Account& acc);
  // A config account removed by a reload (its Account object is no longer the server's): its
  // API stops answering, its streams and consumers stop (files kept; clustered, their Raft
  // groups here, on the meta group's thread). 2.9.10 leaves them running, unreachable, on the
  // old account; added again, the account gets them back (add_account).
  void remove_account(Account& acc);
  // Running: started and neither shut down nor disabled (/jsz, /healthz report it).
  bool enabled() const;
  // `$JS.API.SERVER.REMOVE` took this server out of the cluster (2.9.10's DisableJetStream):
  // a meta leader hands leadership on, the meta group and every Raft group stop, then
  // shutdown(). The server runs on without JetStream. Not from a Raft hook (stops groups):
  // from a loop task; a leader waits (up to 2 s, on timers) for the transfer first.
  void disable(int tries = 0);

  const JetStreamLimits& limits() const;
  const std::string& store_dir() const;  // the configured store_dir (files live under <dir>/jetstream/)
  JetStreamUsage usage() const;

  Server& server() const;
  ApiRouter& api();
  bool clustered() const;  // server.meta_group() != nullptr
  // Clustered mode: before the meta group starts, the server hands it over; JetStream then
  // applies its entries and routes API requests through the cluster controller.
  void attach_meta(MetaGroup& meta);
  JsCluster* cluster() const;  // null when not clustered
  // Answer API requests and host streams here: standalone, or the meta leader.
  bool should_answer() const;
  // Clustered, and no meta leader for longer than one should take to elect: every server
  // then answers API requests with 10008 "JetStream system temporarily unavailable".
  bool leaderless() const;
  void answer_leaderless(ApiRequest& req, std::string_view rest);
  // The `$JS.API.>` subscription of one account (enabled or answering 10039).
  void subscribe_api(JsAccount& jsa);
  // Null when the account has no JetStream.
  JsAccount* account(const std::string& name) const;
  StreamPtr lookup_stream(const std::string& account, const std::string& stream) const;
  // <store_dir>/jetstream: streams live in <store_root>/<account>/streams/<name>/.
  std::string store_root() const;
  std::vector<JsAccount*> accounts_snapshot() const;

  // Stream lifecycle for the API (and tests): validated config in, stream registered and
  // subscribed. Errors are the reference's API errors.
  // created_ns: the creation time to keep (a restored stream's); 0: now. memory: see
  // Stream::create (the messages of a memory stream scaled down to R1).
  StreamPtr create_stream(JsAccount& jsa, StreamConfig cfg, ApiError& err, bool* did_create = nullptr,
                          int64_t created_ns = 0, std::unique_ptr<MessageStore> memory = nullptr);
  // Server storage limits at a single server's stream create (stream_limits.cpp): the
  // max_bytes reserved by the streams of one storage type, and the reference's check.
  int64_t reserved_bytes(StorageType storage) const;
  ApiError check_server_reservation(const StreamConfig& cfg) const;
  // The same at a single server's stream update: the growth of max_bytes must fit.
  ApiError check_server_update_reservation(const StreamConfig& old, const StreamConfig& cfg) const;
  // At store time (the reference's limitsExceeded): whether the bytes stored in this type of
  // storage exceed the server's configured max_memory_store/max_file_store. Only a configured
  // limit is checked (the defaults, most of the memory or disk, are not, sparing the cost).
  bool storage_exceeded(StorageType storage) const;
  // Bytes stored by the account's streams of one storage type here, but `except`'s;
  // by_replicas: each stream's bytes times its replicas (a clustered account's usage);
  // only_replicas > 0: only the streams of that replica count (one tier of tiered limits).
  uint64_t account_usage(const Account& acc, StorageType storage, const Stream* except, bool by_replicas,
                         int only_replicas = 0) const;

  ApiError update_stream(JsAccount& jsa, StreamConfig cfg, StreamPtr* out = nullptr);
  bool delete_stream(JsAccount& jsa, const std::string& name);
  // $JS.API.INFO body (without "type").
  nlohmann::ordered_json account_info(JsAccount& jsa) const;

  // Server-wide API counters (the per-account ones are in JsAccount).
  std::atomic<uint64_t> api_total{0}, api_errors{0};

 private:
  void restore_account(JsAccount& jsa);
  // start() and add_account(): one account's JetStream (enabled) or its 10039 answerer.
  void enable_account(Account& acc, bool restore);
  void add_disabled_account(Account& acc);
  void tick_loop();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nats::jetstream
