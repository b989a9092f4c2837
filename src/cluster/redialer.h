// The redial schedule shared by routes, gateways and leaf nodes: for each remote a link kind
// solicits (keyed by the kind: a route URL, a gateway name, a leaf remote's index) when it is
// due, which of its URLs comes next, how many attempts failed and whether to give up. The
// kinds differ only in their policy (2.9.10's connectToRoute, solicitGateway and
// connectToRemoteLeafNode):
//   - routes: one URL per attempt, 1 s between attempts; explicit ones forever, implicit ones
//     (learnt by gossip) given up after `cluster { connect_retries }` retries (none by default);
//   - gateways: an attempt dials every URL of the remote in turn, 1 s between attempts;
//     explicit ones forever, implicit ones given up after `gateway { connect_retries }`;
//   - leaf remotes: one URL per attempt, the next URL each time, `leafnodes { reconnect }`
//     between attempts, forever.
// A dropped link is rescheduled by its kind with the kind's reconnect delay (routes and
// gateways: a random jitter below 100 ms, plus 1 s when explicit; leafs: `reconnect`), and
// attempts count from one again, as each reference reconnect starts a fresh dial loop.
// Not thread-safe: the manager's lock guards it. Header only: a new library file would
// reshuffle the unity batches.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <random>

namespace nats::cluster {

struct RedialPolicy {
  std::chrono::nanoseconds retry_delay{std::chrono::seconds(1)};  // after a failed attempt
  int retries = -1;                // failed attempts tolerated after the first; -1: forever
  bool every_url_per_attempt = false;  // gateways: an attempt is a round over all URLs
};

// The reference's 1 s DEFAULT_ROUTE_RECONNECT / gatewayReconnectDelay / connect delays.
inline constexpr std::chrono::seconds kLinkRetryDelay{1};

// The random delay (below 100 ms) before a dropped route or gateway is redialled, so that two
// servers redialling each other do not keep registering crossed connections.
inline std::chrono::milliseconds reconnect_jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::chrono::milliseconds(rng() % 100);
}

template <class Key>
class Redialer {
 public:
  using Clock = std::chrono::steady_clock;

  // One dial to make now: the remote, which of its URLs (an index the kind maps to its own
  // list) and the attempt number for the logs; report: the failure is logged as an error
  // (first and every 3600th attempt of a first connect, every attempt of a reconnect: the
  // reference's default connect_error_reports / reconnect_error_reports).
  struct Dial {
    Key key;
    size_t url_index = 0;
    int attempt = 1;
    bool report = true;
  };

  // Starts (or restarts) dialling `key` after `delay`: attempts count from one again.
  // first_connect: the server's first attempt at this remote (for the error reports).
  void schedule(const Key& key, const RedialPolicy& p, std::chrono::nanoseconds delay, bool first_connect) {
    Target& t = targets_[key];
    t.policy = p;
    t.attempts = 0;
    t.round_pos = 0;
    t.busy = false;
    t.first = first_connect;
    t.due = std::max(Clock::now() + delay, t.hold);
  }
  // Not to be dialled again (given up by the kind, removed, or connected for good).
  void forget(const Key& key) { targets_.erase(key); }
  bool scheduled(const Key& key) const { return targets_.count(key) != 0; }
  // No attempt before now + d (the leaf loop back-off); a link still up is redialled that
  // much later once it drops (on top of its reconnect delay).
  void hold(const Key& key, std::chrono::nanoseconds d) {
    auto it = targets_.find(key);
    if (it == targets_.end()) return;
    it->second.hold = Clock::now() + d;
    if (!it->second.busy) it->second.due = std::max(it->second.due, it->second.hold);
  }
  // The reconnect delay of a link that dropped, counted from the end of a hold if any.
  std::chrono::nanoseconds after_hold(const Key& key, std::chrono::nanoseconds d) const {
    auto it = targets_.find(key);
    if (it == targets_.end()) return d;
    return std::max(it->second.hold - Clock::now(), std::chrono::nanoseconds(0)) + d;
  }

  // The next dial that is due (marked busy until failed() or schedule()), with `n_urls(key)`
  // URLs to rotate through; else nullopt, and `wake` lowered to the next due time.
  template <class NumUrls>
  std::optional<Dial> take_due(Clock::time_point now, Clock::time_point& wake, NumUrls&& n_urls) {
    for (auto& [key, t] : targets_) {
      if (t.busy) continue;
      size_t n = n_urls(key);
      if (n == 0) continue;
      if (t.due > now) {
        wake = std::min(wake, t.due);
        continue;
      }
      t.busy = true;
      Dial d{key, t.next_url++ % n, t.attempts + 1, report(t, t.attempts + 1)};
      return d;
    }
    return std::nullopt;
  }

  // The dial failed; false: the remote is given up (and forgotten).
  bool failed(const Key& key, size_t n_urls) {
    auto it = targets_.find(key);
    if (it == targets_.end()) return false;
    Target& t = it->second;
    t.busy = false;
    if (t.policy.every_url_per_attempt && ++t.round_pos < n_urls) {
      t.due = Clock::now();  // the rest of the round at once
      return true;
    }
    t.round_pos = 0;
    ++t.attempts;
    if (t.policy.retries >= 0 && t.attempts > t.policy.retries) {
      targets_.erase(it);
      return false;
    }
    t.due = std::max(Clock::now() + t.policy.retry_delay, t.hold);
    return true;
  }

 private:
  struct Target {
    RedialPolicy policy;
    size_t next_url = 0;  // kept across reconnects: a dropped link tries the next URL first
    int attempts = 0;     // failed attempts since the last schedule()
    size_t round_pos = 0;
    bool busy = false;    // being dialled, or its link is up
    bool first = true;
    Clock::time_point due{}, hold{};
  };
  static bool report(const Target& t, int attempt) {
    constexpr int kConnectErrorReports = 3600, kReconnectErrorReports = 1;
    return attempt == 1 || attempt % (t.first ? kConnectErrorReports : kReconnectErrorReports) == 0;
  }

  std::map<Key, Target> targets_;
};

}  // namespace nats::cluster
