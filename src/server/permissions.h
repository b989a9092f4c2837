// Per-connection permission checks, as the reference applies them: publish allow/deny with a
// small per-client decision cache, subscribe allow/deny with queue-group entries ("foo.> grp"),
// a delivery-time deny filter for wildcard subscriptions that overlap a deny entry, and
// allow_responses (reply subjects a client received may be published to, up to max/expires).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/options.h"
#include "subject/sublist.h"

namespace nats {

// One allow/deny list entry: a subject pattern, optionally restricted to a queue-group pattern
// (written "subject queue" in the config).
struct PermEntry {
  std::string subject;
  std::string queue;  // empty: applies to plain subscriptions (and publishes)
};

struct PermList {
  bool present = false;  // an absent list is not the same as an empty one
  std::vector<PermEntry> entries;

  // Entries without a queue that match `subject` (taken literally).
  bool matches_plain(std::string_view subject) const;
  // Whether any queue entry matching `subject` exists, and whether one names `queue`.
  void match_queue(std::string_view subject, std::string_view queue, bool& any, bool& named) const;
};

class ClientPermissions {
 public:
  explicit ClientPermissions(const Permissions& p);

  // Called on the connection's own thread. Consumes one allowed response when the subject is
  // only allowed as a reply.
  bool can_publish(std::string_view subject);
  bool can_subscribe(std::string_view subject, std::string_view queue);
  // Any thread: false if a message on `subject` must not reach this client (a wildcard
  // subscription overlapped a subscribe deny entry).
  bool can_deliver(std::string_view subject) const;
  // Any thread: a message with this reply subject was delivered to the client.
  void record_reply(std::string_view reply);
  bool tracks_replies() const { return has_resp_; }
  bool has_subscribe_deny() const { return sub_deny_.present && !sub_deny_.entries.empty(); }

  static constexpr size_t kMaxCache = 128;

 private:
  bool publish_allowed_by_lists(std::string_view subject) const;
  bool use_reply(std::string_view subject);

  PermList pub_allow_, pub_deny_, sub_allow_, sub_deny_;
  // Set once a wildcard subscription overlapping a deny entry was allowed; only then do
  // deliveries need checking (a literal subscription on a denied subject is refused).
  std::atomic<bool> filter_deliveries_{false};
  bool has_pub_ = false;
  bool has_resp_ = false;
  ResponsePermission resp_{};

  // Publish decisions by subject (connection thread only).
  std::unordered_map<std::string, bool, StringHash, std::equal_to<>> pub_cache_;

  struct Reply {
    std::chrono::steady_clock::time_point at;
    int n = 0;
  };
  mutable std::mutex replies_mu_;
  std::unordered_map<std::string, Reply, StringHash, std::equal_to<>> replies_;
  size_t replies_since_prune_ = 0;
};

// Splits "subject queue" config entries.
PermList make_perm_list(const std::vector<std::string>& raw);

}  // namespace nats
