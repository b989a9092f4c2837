// The subscription index: a trie keyed by subject token, with `*` and `>` children per level,
// plain and queue subscriptions per node, and per-thread match caches invalidated by
// generation.
//
// Concurrency model. One SubList (per account) is shared by every event loop. The trie is
// guarded by a std::shared_mutex: match() takes it shared, insert/remove exclusive. Every
// change bumps an atomic generation and records the changed subject in a small ring (the
// change log). Each event loop owns one MatchCache; a cache hit costs one atomic load (the
// generation), one string_view hash lookup and no lock and no allocation. When the generation
// moved, the cache replays the change log: a literal change drops just that key, a wildcard
// change drops the keys it matches, and a cache that fell too far behind is cleared. So
// subscription churn on unrelated subjects (request inboxes) does not flush the hot entries.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "subject/subscription.h"

namespace nats {

// Transparent hash so unordered maps keyed by std::string can be probed with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct MatchResult {
  std::vector<SubscriptionPtr> psubs;
  // One group per queue name; a remote queue sub appears qweight times in its group, so a
  // uniform pick over the group weights routes by member count as the reference does.
  std::vector<std::vector<SubscriptionPtr>> qsubs;

  bool empty() const { return psubs.empty() && qsubs.empty(); }
  size_t fanout() const { return psubs.size() + qsubs.size(); }
};

enum class SubListStatus { ok, invalid_subject, not_found };

// The /subsz numbers. The raw counts (cache_hits, total_fanout) let the monitor add the
// stats of many accounts' lists with add() and still get correct rates and averages.
struct SubListStats {
  uint32_t num_subscriptions = 0;
  uint32_t num_cache = 0;
  uint64_t num_inserts = 0;
  uint64_t num_removes = 0;
  uint64_t num_matches = 0;
  double cache_hit_rate = 0;
  uint32_t max_fanout = 0;
  double avg_fanout = 0;
  uint64_t cache_hits = 0;
  uint64_t total_fanout = 0;  // summed over cached results

  void add(const SubListStats& o);
};

class SubList;

// A match cache owned by exactly one thread (one per event loop). It serves any number of
// SubLists (one per account), keeping a separate shard per list. Not thread-safe: never share
// one between threads.
class MatchCache {
 public:
  static constexpr size_t kDefaultMax = 1024;  // entries per SubList, as the reference
  static constexpr size_t kDefaultSweep = 512;  // size after an eviction sweep

  explicit MatchCache(size_t max_entries = kDefaultMax);
  ~MatchCache();
  MatchCache(const MatchCache&) = delete;
  MatchCache& operator=(const MatchCache&) = delete;

  // Total cached results across all lists.
  size_t size() const;
  void clear();
  // Drops shards of SubLists that have been destroyed (also done lazily).
  void prune();

 private:
  friend class SubList;
  struct Shard;
  Shard& shard_for(const SubList& list);

  size_t max_entries_;
  size_t sweep_to_;
  std::unordered_map<uint64_t, std::unique_ptr<Shard>> shards_;
  uint64_t last_id_ = 0;
  Shard* last_ = nullptr;
};

class SubList {
 public:
  SubList();
  ~SubList();
  SubList(const SubList&) = delete;
  SubList& operator=(const SubList&) = delete;

  // `subject` and `queue` of a subscription must not change while it is inserted. Inserting
  // the same subscription twice is a no-op. Invalid: empty tokens or tokens after `>`.
  SubListStatus insert(SubscriptionPtr sub);
  SubListStatus remove(const SubscriptionPtr& sub);
  // Removes many under one lock and one invalidation (a closing connection). Returns how many
  // were found and removed.
  size_t remove_batch(std::span<const SubscriptionPtr> subs);
  // Changes a (remote) queue subscription's weight so cached results pick it up.
  void update_queue_weight(const SubscriptionPtr& sub, int32_t weight);

  size_t count() const { return count_.load(std::memory_order_relaxed); }

  // Hot path, called by the thread that owns `cache`. The reference stays valid until the
  // next match/has_interest call with the same cache (it may evict or clear the entry); a
  // caller that can re-enter matching while iterating (an internal handler publishing) must
  // use match_shared().
  const MatchResult& match(std::string_view subject, MatchCache& cache) const;
  std::shared_ptr<const MatchResult> match_shared(std::string_view subject, MatchCache& cache) const;
  bool has_interest(std::string_view subject, MatchCache& cache) const {
    return !match(subject, cache).empty();
  }

  // Thread-safe, uncached, for callers off the hot path.
  std::shared_ptr<const MatchResult> match(std::string_view subject) const;
  bool has_interest(std::string_view subject) const;

  // Appends every inserted subscription to `out`.
  void all_subscriptions(std::vector<SubscriptionPtr>& out) const;

  SubListStats stats() const;

  // Bumped on every change; equal generations mean an identical index.
  uint64_t generation() const { return gen_.load(std::memory_order_acquire); }

  struct Level;
  struct Node;
  struct Registry;

 private:
  friend class MatchCache;
  struct Change {
    uint64_t gen = 0;
    bool all = false;      // the whole cache must go (large batch)
    bool literal = false;  // only the exact key `subject` is affected
    std::string subject;
  };
  static constexpr size_t kLogSize = 256;

  const std::shared_ptr<const MatchResult>& lookup(std::string_view subject, MatchCache& cache) const;
  std::shared_ptr<const MatchResult> compute(std::string_view subject) const;  // lock held
  void sync_shard(MatchCache::Shard& shard) const;  // shared lock held
  void log_change(std::string_view subject);        // exclusive lock held
  void log_clear_all();                             // exclusive lock held
  bool remove_locked(const SubscriptionPtr& sub);

  mutable std::shared_mutex mu_;
  std::unique_ptr<Level> root_;
  std::atomic<uint64_t> gen_{0};
  std::vector<Change> log_;
  std::atomic<size_t> count_{0};
  std::atomic<uint64_t> inserts_{0};
  std::atomic<uint64_t> removes_{0};
  mutable std::atomic<uint64_t> uncached_matches_{0};
  std::shared_ptr<Registry> registry_;  // shared with cache shards; see sublist.cpp
};

}  // namespace nats
