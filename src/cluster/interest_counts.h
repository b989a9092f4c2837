// Interest bookkeeping shared by the server-to-server links (routes and leaf nodes): how
// many local subscriptions each "subject [queue]" key has, and which +/- line a change
// calls for. A plain subject is announced once (first subscription) and withdrawn once
// (last one gone); a queue group is re-announced on every change with its member count as
// the weight, as the reference does for RS+ and LS+.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace nats::cluster {

struct InterestUpdate {
  bool add = false;    // "+" (RS+/LS+) or "-" (RS-/LS-)
  int32_t weight = 0;  // queue weight for an add of a queue key, else 0
};

class InterestCounts {
 public:
  // key: what follows the op and account on the wire ("subject" or "subject queue").
  static std::string key(std::string_view subject, std::string_view queue) {
    std::string k(subject);
    if (!queue.empty()) k.append(" ").append(queue);
    return k;
  }

  // Applies +1/-1 to `k` and returns the line to send, if any.
  std::optional<InterestUpdate> change(const std::string& k, bool queue, int delta) {
    int& n = counts_[k];
    const int before = n;
    n += delta;
    if (n <= 0) {
      counts_.erase(k);
      return InterestUpdate{false, 0};
    }
    if (queue) return InterestUpdate{true, n};
    if (before == 0) return InterestUpdate{true, 0};
    return std::nullopt;
  }
  // Adds without producing an update (the caller sends everything at once later).
  void add_silently(const std::string& k, int n = 1) { counts_[k] += n; }

  const std::map<std::string, int>& counts() const { return counts_; }
  void clear() { counts_.clear(); }

 private:
  std::map<std::string, int> counts_;
};

// "<op>+ [<account> ]<key>[ <weight>]\r\n" or "<op>- [<account> ]<key>\r\n"; op is "RS" or
// "LS", account empty on leaf connections (bound to one account).
inline std::string interest_line(std::string_view op, std::string_view account, std::string_view key,
                                 const InterestUpdate& u) {
  std::string s(op);
  s += u.add ? "+ " : "- ";
  if (!account.empty()) s.append(account).append(" ");
  s.append(key);
  if (u.add && u.weight > 0) s.append(" ").append(std::to_string(u.weight));
  s += "\r\n";
  return s;
}

}  // namespace nats::cluster
