// A subscription as the subscription index sees it. The index only reads `subject` and
// `queue`; the rest belongs to whoever created it (a client, a route, an internal handler).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace nats {

class Connection;  // the owning connection (client, route, gateway), defined in server/

struct Subscription;
// Called for subscriptions owned by the server itself ($SYS handlers, JetStream API):
// (subscription, subject, reply, header block, payload).
using InternalHandler = std::function<void(const Subscription&, std::string_view subject,
                                           std::string_view reply, std::string_view headers,
                                           std::string_view payload)>;

struct Subscription {
  std::string subject;
  std::string queue;  // empty: a plain subscription
  std::string sid;
  // The owner; nullptr for an internal subscription (see handler). Shared so that a match
  // result cached by another event loop never points at a freed connection.
  std::shared_ptr<Connection> conn;
  InternalHandler handler;
  int32_t qweight = 1;  // queue weight (remote queue interest counts members)
  std::atomic<int64_t> max_msgs{0};   // 0: no auto-unsubscribe limit
  mutable std::atomic<int64_t> delivered{0};  // counted by delivery through const refs
  std::atomic<bool> closed{false};    // set once removed, so stale cached matches skip it
  std::string account;  // for remote (route) subscriptions: the account name
};

using SubscriptionPtr = std::shared_ptr<Subscription>;

// The sid of an internal subscription that answers on this server only and is never
// announced to routes, gateways or leafnodes: $SYS.REQ.USER.INFO, which 2.9.10 does not
// have, so its interest must not show on a link (a 2.9.10 leaf link counts 4 subscriptions
// in /leafz where announcing it made 5).
inline constexpr std::string_view kLocalOnlySid = "local-only";
inline bool is_local_only_sub(const Subscription& s) { return !s.conn && s.sid == kLocalOnlySid; }

}  // namespace nats
