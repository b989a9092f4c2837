// The system account's services on this server: the $SYS.REQ.SERVER.* requests that
// `nats server list/info/report` send, and the periodic STATSZ heartbeat. Handlers are
// internal subscriptions in the system account; replies are published back into it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/event_loop.h"
#include "subject/subscription.h"

namespace nats {

class Server;
class Account;

class SystemServices {
 public:
  explicit SystemServices(Server& server);
  ~SystemServices();

  // Subscribes the handlers and starts the STATSZ heartbeat (on `loop`).
  void start(net::EventLoop& loop);
  void stop();

  // The "server" object every $SYS message carries (ServerInfo), with a fresh sequence.
  nlohmann::ordered_json server_info();
  nlohmann::ordered_json statsz();

 private:
  void subscribe(const std::string& subject, InternalHandler handler);
  void reply(std::string_view reply_subject, const std::string& body);
  void handle_statsz_request(std::string_view reply, std::string_view payload);
  void handle_z_request(const std::string& kind, std::string_view reply, std::string_view payload, bool filtered);
  bool filter_matches(const nlohmann::json& body) const;
  void send_statsz(std::string_view subject);
  void heartbeat();

  Server& server_;
  std::shared_ptr<Account> sys_;
  std::vector<SubscriptionPtr> subs_;
  std::atomic<uint64_t> seq_{0};
  net::EventLoop* loop_ = nullptr;
  net::TimerId timer_ = 0;
  std::chrono::milliseconds interval_{250};
  std::atomic<bool> stopped_{false};
};

}  // namespace nats
