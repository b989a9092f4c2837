// Message routing inside one server: match the subject in the publishing account's index,
// hand a copy to every plain subscriber and to one member of each queue group.
#include <cstdint>

#include "server/client.h"
#include "server/server.h"

namespace nats {

namespace {
// A cheap per-thread PRNG for picking queue members; quality is not critical.
inline uint32_t fast_rand() {
  thread_local uint64_t s = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(&s);
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return static_cast<uint32_t>(s >> 32);
}

// Internal (server-owned) subscriptions are called after the match result is no longer
// needed, because their handlers may publish and so re-enter matching.
struct InternalCall {
  SubscriptionPtr sub;
};
}  // namespace

bool Server::process_message(Account& acc, Connection* origin, std::string_view subject, std::string_view reply,
                             std::string_view headers, std::string_view payload, bool origin_echo) {
  MatchCache* cache = match_cache_for_current_thread();
  std::shared_ptr<const MatchResult> holder;
  const MatchResult* r;
  if (cache) {
    r = &acc.sublist().match(subject, *cache);
  } else {
    holder = acc.sublist().match(subject);
    r = holder.get();
  }
  auto& counters = counters_for_current_thread();
  counters.in_msgs.fetch_add(1, std::memory_order_relaxed);
  counters.in_bytes.fetch_add(headers.size() + payload.size(), std::memory_order_relaxed);
  if (r->empty()) return false;
  uint64_t out_count = 0;

  bool delivered = false;
  InternalCall internal_stack[4];
  std::vector<InternalCall> internal_more;
  size_t n_internal = 0;
  auto deliver_one = [&](const SubscriptionPtr& sub) -> bool {
    if (sub->closed.load(std::memory_order_relaxed)) return false;
    Connection* c = sub->conn.get();
    if (!c) {
      if (!sub->handler) return false;
      if (n_internal < 4) internal_stack[n_internal++] = InternalCall{sub};
      else internal_more.push_back(InternalCall{sub});
      return true;
    }
    if (c == origin && !origin_echo) return false;
    if (c->deliver(*sub, subject, reply, headers, payload)) {
      ++out_count;
      return true;
    }
    return false;
  };

  for (const auto& sub : r->psubs)
    if (deliver_one(sub)) delivered = true;

  for (const auto& group : r->qsubs) {
    if (group.empty()) continue;
    size_t start = fast_rand() % group.size();
    for (size_t i = 0; i < group.size(); ++i) {
      if (deliver_one(group[(start + i) % group.size()])) {
        delivered = true;
        break;
      }
    }
  }

  if (out_count) {
    counters.out_msgs.fetch_add(out_count, std::memory_order_relaxed);
    counters.out_bytes.fetch_add(out_count * (headers.size() + payload.size()), std::memory_order_relaxed);
  }
  if (n_internal) {
    // Copy the views' backing data is not needed: subject/reply/payload stay valid for the
    // duration of this call, and handlers run before it returns.
    for (size_t i = 0; i < n_internal; ++i) {
      auto& s = internal_stack[i].sub;
      s->handler(*s, subject, reply, headers, payload);
    }
    for (auto& ic : internal_more) ic.sub->handler(*ic.sub, subject, reply, headers, payload);
  }
  return delivered;
}

}  // namespace nats
