// The system account's services on this server: the $SYS.REQ.SERVER.* requests that
// `nats server list/info/report` send, and the periodic STATSZ heartbeat. Handlers are
// internal subscriptions in the system account; replies are published back into it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/event_loop.h"
#include "subject/subscription.h"
#include "sys/server_directory.h"

namespace nats {

class Server;
class Account;
class ClientConnection;

class SystemServices {
 public:
  explicit SystemServices(Server& server);
  ~SystemServices();

  // Subscribes the handlers and starts the STATSZ heartbeat (on `loop`).
  void start(net::EventLoop& loop);
  void stop();
  // $SYS.SERVER.<id>.LAMEDUCK, the ServerInfo alone, when lame duck mode starts.
  void send_lame_duck();
  // $SYS.SERVER.<id>.STATSZ now (a reload changed what it shows: tags), as sendStatszUpdate.
  void send_statsz_update();

  // The "server" object every $SYS message carries (ServerInfo), with a fresh sequence.
  nlohmann::ordered_json server_info();
  nlohmann::ordered_json statsz();

  // The other servers of the supercluster, learnt from their STATSZ heartbeats.
  const ServerDirectory& directory() const { return directory_; }
  std::vector<KnownServer> known_servers() const { return directory_.known_servers(); }

  // Client lifecycle events (src/sys/events.cpp): $SYS.ACCOUNT.<acc>.CONNECT / DISCONNECT and
  // the account's $SYS.ACCOUNT.<acc>.SERVER.CONNS. Called on the client's loop.
  void on_client_connect(const ClientConnection& c);
  void on_client_disconnect(const ClientConnection& c);
  // A leaf connection bound to `account` registered or closed: the account's SERVER.CONNS
  // (not on close for the global account, as the reference) and, with gateways and when
  // we are the hub on that link, $SYS.ACCOUNT.<acc>.LEAFNODE.CONNECT. The reference sends
  // no leaf disconnect event.
  void on_leaf_connect(const std::string& account, bool hub);
  void on_leaf_disconnect(const std::string& account);

  // Asks the other servers for account `key`'s JWT ($SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP);
  // the first answer is stored in the resolver (if newer), the accounts it imports from that
  // are missing too are looked up as well, then `done` runs (also after `timeout` without
  // an answer). Concurrent lookups of one account share one request. Any thread.
  void lookup_account_jwt(const std::string& key, std::function<void()> done);

  // The reference's AccountStatz: {server_id, now, account_statz: [AccountStat...]} for the
  // accounts named in `wanted` (all when empty), skipping those without local connections
  // unless include_unused. Answers $SYS.REQ.ACCOUNT.*.STATZ and the monitor's /accstatz.
  nlohmann::ordered_json account_statz(const std::vector<std::string>& wanted, bool include_unused);

 private:
  void subscribe(const std::string& subject, InternalHandler handler, const std::string& queue = {});
  void reply(std::string_view reply_subject, const std::string& body);
  void handle_statsz_request(std::string_view reply, std::string_view payload);
  void handle_z_request(const std::string& kind, std::string_view reply, std::string_view payload, bool filtered);
  bool filter_matches(const nlohmann::json& body) const;
  void send_statsz(std::string_view subject);
  void heartbeat();
  // Event plumbing (events.cpp).
  void subscribe_remote_servers();
  void send_shutdown();
  nlohmann::ordered_json account_conns(Account& acc);
  // What the account's open clients sent and received (account_conns adds the closed ones').
  struct TrafficTotals {
    uint64_t sent_msgs = 0, sent_bytes = 0, recv_msgs = 0, recv_bytes = 0;
  };
  TrafficTotals open_clients_traffic(Account& acc, int conns);
  static constexpr int kTrafficCacheMinConns = 256;
  static constexpr std::chrono::milliseconds kTrafficCacheTtl{100};
  void send_account_conns(Account& acc, std::string_view subject);
  void publish_account_conns(Account& acc);
  // Every 30s, SERVER.CONNS for each account with local connections (as the reference).
  void account_conns_heartbeat();
  static constexpr std::chrono::seconds kAccountConnsInterval{30};
  // $SYS.REQ.ACCOUNT.<acc>.<X> and $SYS.REQ.USER.INFO (account_requests.cpp).
  void subscribe_account_requests();
  void handle_account_request(const std::string& kind, std::string_view subject, std::string_view reply,
                              std::string_view payload);
  void handle_user_info(std::string_view reply);
  std::string event_id();
  // The directory resolver's $SYS.REQ.CLAIMS.* requests (claims_requests.cpp).
  void subscribe_claims_requests();
  void handle_claims_update(std::string_view subject_key, std::string_view reply, std::string_view payload);
  void handle_claims_delete(std::string_view reply, std::string_view payload);
  void handle_memory_update(std::string_view key, std::string_view reply, std::string_view payload);
  void handle_cache_update(std::string_view key, std::string_view reply, std::string_view payload);
  void subscribe_claims_list_and_delete();
  void cache_expire_tick();
  // Account JWT lookups (account_lookup.cpp): the answers come to <lookup_inbox_>.<account>.
  void subscribe_account_lookups();
  void finish_lookup(const std::string& key, uint64_t gen, const std::string& token);
  struct PendingLookup {
    std::vector<std::function<void()>> waiters;
    uint64_t gen = 0;
  };
  std::mutex lookup_mu_;
  std::map<std::string, PendingLookup> lookups_;
  uint64_t lookup_gen_ = 0;
  std::string lookup_inbox_;
  void respond_claims(std::string_view reply, const std::string& account, const std::string& message,
                      const std::string& error);
  // The directory resolvers' sync in a cluster (as the reference's DirAccResolver): every
  // `interval` a $SYS.REQ.CLAIMS.PACK request carrying our store's hash goes to one server of
  // the "responder" queue group; one whose hash differs answers with its JWTs, one per
  // message, then an empty message; the answers are merged (newer JWTs win).
  void subscribe_claims_sync();
  void claims_sync_tick();
  void handle_pack_request(std::string_view reply, std::string_view their_hash);
  void handle_pack_response(std::string_view payload);
  std::string pack_inbox_;

  Server& server_;
  std::shared_ptr<Account> sys_;
  std::vector<SubscriptionPtr> subs_;
  std::atomic<uint64_t> seq_{0};
  net::EventLoop* loop_ = nullptr;
  net::TimerId timer_ = 0;
  net::TimerId conns_timer_ = 0;
  std::chrono::milliseconds interval_{250};
  std::atomic<bool> stopped_{false};
  ServerDirectory directory_;
  // USER.INFO subscriptions: local-only (no interest propagation), one per account.
  std::vector<std::pair<std::shared_ptr<Account>, SubscriptionPtr>> local_subs_;
  // open_clients_traffic()'s sums for large accounts, by account name (any loop calls it).
  struct CachedTraffic {
    TrafficTotals totals;
    std::chrono::steady_clock::time_point at{};
  };
  std::mutex traffic_mu_;
  std::unordered_map<std::string, CachedTraffic> traffic_cache_;
};

}  // namespace nats
