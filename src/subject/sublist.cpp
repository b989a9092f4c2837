#include "subject/sublist.h"

#include <algorithm>
#include <functional>
#include <mutex>

#include "subject/subject.h"

namespace nats {

// The types that SubList's and MatchCache's private structs hold (Node, Registry, Shard) are
// in a named namespace: a class member of an anonymous-namespace type is a
// -Wsubobject-linkage warning once this file is compiled inside a unity batch.
namespace sublist_detail {

// Counters written by exactly one thread (the cache owner) and read by stats(). Plain
// load+store instead of fetch_add: there is no second writer, so no lock prefix is needed.
struct alignas(64) ShardCounters {
  std::atomic<uint64_t> matches{0};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> entries{0};
  std::atomic<uint64_t> fanout_sum{0};
  std::atomic<uint64_t> max_fanout{0};  // since the shard was last cleared
};

// A set of subscriptions that iterates as a flat vector (what match copies out) and removes
// in O(1) once it is large (a popular subject with thousands of subscribers).
class SubSet {
 public:
  static constexpr size_t kIndexMin = 64;

  const std::vector<SubscriptionPtr>& items() const { return items_; }
  bool empty() const { return items_.empty(); }

  bool add(const SubscriptionPtr& sub) {
    if (find(sub.get()) != npos) return false;
    items_.push_back(sub);
    if (!index_.empty()) {
      index_.emplace(sub.get(), items_.size() - 1);
    } else if (items_.size() >= kIndexMin) {
      for (size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].get(), i);
    }
    return true;
  }

  bool remove(const Subscription* sub) {
    size_t pos = find(sub);
    if (pos == npos) return false;
    if (pos + 1 != items_.size()) {
      items_[pos] = std::move(items_.back());
      if (!index_.empty()) index_[items_[pos].get()] = pos;
    }
    items_.pop_back();
    if (!index_.empty()) {
      index_.erase(sub);
      if (items_.size() < kIndexMin / 2) index_.clear();  // hysteresis: no rebuild churn
    }
    return true;
  }

 private:
  static constexpr size_t npos = static_cast<size_t>(-1);

  size_t find(const Subscription* sub) const {
    if (!index_.empty()) {
      auto it = index_.find(sub);
      return it == index_.end() ? npos : it->second;
    }
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].get() == sub) return i;
    }
    return npos;
  }

  std::vector<SubscriptionPtr> items_;
  std::unordered_map<const Subscription*, size_t> index_;  // empty while small
};

struct QueueGroup {
  std::string name;
  SubSet members;
};

}  // namespace sublist_detail

namespace {

inline void bump(std::atomic<uint64_t>& a, uint64_t d = 1) {
  a.store(a.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
}
inline void drop(std::atomic<uint64_t>& a, uint64_t d) {
  a.store(a.load(std::memory_order_relaxed) - d, std::memory_order_relaxed);
}

std::atomic<uint64_t> next_list_id{1};

const std::shared_ptr<const MatchResult>& empty_result() {
  static const std::shared_ptr<const MatchResult> empty = std::make_shared<const MatchResult>();
  return empty;
}

// What the trie accepts, as the reference's Insert: no empty token, nothing after `>`.
// Whitespace is left to the protocol layer, which splits arguments on it.
bool indexable(std::string_view subject) {
  Tokens toks(subject);
  if (toks.empty() || toks.has_empty_token()) return false;
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    if (is_full_wildcard(toks[i])) return false;
  }
  return true;
}

// Replaying more than this many (wildcard change x cache entry) pattern tests costs more than
// recomputing the entries we would keep, so the shard is cleared instead.
constexpr size_t kMaxSyncWork = 16384;

}  // namespace

struct SubList::Node {
  std::unique_ptr<Level> next;
  sublist_detail::SubSet psubs;
  std::vector<sublist_detail::QueueGroup> qsubs;  // few groups per subject in practice: linear search

  bool has_subs() const { return !psubs.empty() || !qsubs.empty(); }
  inline bool prunable() const;
};

struct SubList::Level {
  std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> nodes;
  std::unique_ptr<Node> pwc;
  std::unique_ptr<Node> fwc;

  bool empty() const { return nodes.empty() && !pwc && !fwc; }
};

inline bool SubList::Node::prunable() const { return !has_subs() && (!next || next->empty()); }

// Outlives the SubList as long as some cache shard refers to it: caches learn that the list
// is gone from `alive`, and stats() reads every shard's counters through `counters`.
struct SubList::Registry {
  uint64_t id = next_list_id.fetch_add(1);
  std::atomic<bool> alive{true};
  std::mutex mu;
  std::vector<std::shared_ptr<sublist_detail::ShardCounters>> counters;
};

struct MatchCache::Shard {
  std::shared_ptr<SubList::Registry> registry;
  std::shared_ptr<sublist_detail::ShardCounters> ctr;
  uint64_t gen = 0;  // every entry is valid as of this generation
  std::unordered_map<std::string, std::shared_ptr<const MatchResult>, StringHash, std::equal_to<>>
      entries;

  using Iter = decltype(entries)::iterator;

  Iter erase(Iter it) {
    drop(ctr->fanout_sum, it->second->fanout());
    drop(ctr->entries, 1);
    return entries.erase(it);
  }
  void erase_key(std::string_view key) {
    auto it = entries.find(key);
    if (it != entries.end()) erase(it);
  }
  void clear() {
    entries.clear();
    ctr->entries.store(0, std::memory_order_relaxed);
    ctr->fanout_sum.store(0, std::memory_order_relaxed);
    ctr->max_fanout.store(0, std::memory_order_relaxed);
  }
};

// ---- MatchCache ----

MatchCache::MatchCache(size_t max_entries)
    : max_entries_(std::max<size_t>(max_entries, 1)),
      sweep_to_(max_entries_ / 2) {}

MatchCache::~MatchCache() { clear(); }

size_t MatchCache::size() const {
  size_t n = 0;
  for (auto& [id, s] : shards_) n += s->entries.size();
  return n;
}

void MatchCache::clear() {
  for (auto& [id, s] : shards_) s->clear();
}

void MatchCache::prune() {
  for (auto it = shards_.begin(); it != shards_.end();) {
    if (!it->second->registry->alive.load(std::memory_order_acquire)) {
      it->second->clear();
      it = shards_.erase(it);
    } else {
      ++it;
    }
  }
  last_id_ = 0;
  last_ = nullptr;
}

MatchCache::Shard& MatchCache::shard_for(const SubList& list) {
  const uint64_t id = list.registry_->id;
  if (id == last_id_) return *last_;
  auto it = shards_.find(id);
  if (it == shards_.end()) {
    prune();
    auto shard = std::make_unique<Shard>();
    shard->registry = list.registry_;
    shard->ctr = std::make_shared<sublist_detail::ShardCounters>();
    {
      std::lock_guard<std::mutex> lock(list.registry_->mu);
      list.registry_->counters.push_back(shard->ctr);
    }
    it = shards_.emplace(id, std::move(shard)).first;
  }
  last_id_ = id;
  last_ = it->second.get();
  return *last_;
}

// ---- SubList: construction and changes ----

SubList::SubList()
    : root_(std::make_unique<Level>()), log_(kLogSize), registry_(std::make_shared<Registry>()) {}

SubList::~SubList() { registry_->alive.store(false, std::memory_order_release); }

void SubList::log_change(std::string_view subject) {
  const uint64_t g = gen_.load(std::memory_order_relaxed) + 1;
  Change& c = log_[g % kLogSize];
  c.gen = g;
  c.all = false;
  c.literal = !subject_has_wildcard(subject);
  c.subject.assign(subject);
  gen_.store(g, std::memory_order_release);
}

void SubList::log_clear_all() {
  const uint64_t g = gen_.load(std::memory_order_relaxed) + 1;
  Change& c = log_[g % kLogSize];
  c.gen = g;
  c.all = true;
  c.literal = false;
  c.subject.clear();
  gen_.store(g, std::memory_order_release);
}

SubListStatus SubList::insert(SubscriptionPtr sub) {
  if (!sub || !indexable(sub->subject)) return SubListStatus::invalid_subject;
  Tokens toks(sub->subject);

  std::unique_lock lock(mu_);
  Level* level = root_.get();
  Node* node = nullptr;
  for (size_t i = 0; i < toks.size(); ++i) {
    std::string_view t = toks[i];
    std::unique_ptr<Node>* slot;
    if (is_partial_wildcard(t)) {
      slot = &level->pwc;
    } else if (is_full_wildcard(t)) {
      slot = &level->fwc;
    } else {
      auto it = level->nodes.find(t);
      if (it == level->nodes.end()) it = level->nodes.emplace(std::string(t), nullptr).first;
      slot = &it->second;
    }
    if (!*slot) *slot = std::make_unique<Node>();
    node = slot->get();
    if (i + 1 == toks.size()) break;
    if (!node->next) node->next = std::make_unique<Level>();
    level = node->next.get();
  }

  bool added;
  if (sub->queue.empty()) {
    added = node->psubs.add(sub);
  } else {
    auto g = std::find_if(node->qsubs.begin(), node->qsubs.end(),
                          [&](const sublist_detail::QueueGroup& q) { return q.name == sub->queue; });
    if (g == node->qsubs.end()) {
      node->qsubs.push_back(sublist_detail::QueueGroup{sub->queue, {}});
      g = node->qsubs.end() - 1;
    }
    added = g->members.add(sub);
  }
  if (!added) return SubListStatus::ok;
  count_.fetch_add(1, std::memory_order_relaxed);
  inserts_.fetch_add(1, std::memory_order_relaxed);
  log_change(sub->subject);
  return SubListStatus::ok;
}

bool SubList::remove_locked(const SubscriptionPtr& sub) {
  Tokens toks(sub->subject);
  if (toks.empty() || toks.has_empty_token()) return false;

  struct Step {
    Level* level;
    Node* node;
    std::string_view token;
  };
  std::vector<Step> path;
  path.reserve(toks.size());
  Level* level = root_.get();
  for (size_t i = 0; i < toks.size(); ++i) {
    std::string_view t = toks[i];
    Node* node;
    if (is_partial_wildcard(t)) {
      node = level->pwc.get();
    } else if (is_full_wildcard(t)) {
      node = level->fwc.get();
    } else {
      auto it = level->nodes.find(t);
      node = it == level->nodes.end() ? nullptr : it->second.get();
    }
    if (!node) return false;
    path.push_back({level, node, t});
    if (i + 1 == toks.size()) break;
    level = node->next.get();
    if (!level) return false;
  }

  Node* node = path.back().node;
  bool removed = false;
  if (sub->queue.empty()) {
    removed = node->psubs.remove(sub.get());
  } else {
    auto g = std::find_if(node->qsubs.begin(), node->qsubs.end(),
                          [&](const sublist_detail::QueueGroup& q) { return q.name == sub->queue; });
    if (g != node->qsubs.end()) {
      removed = g->members.remove(sub.get());
      if (g->members.empty()) node->qsubs.erase(g);
    }
  }
  if (!removed) return false;

  // Prune now-empty nodes bottom up so the trie does not keep dead request inboxes.
  for (size_t i = path.size(); i-- > 0;) {
    Step& s = path[i];
    if (s.node->next && s.node->next->empty()) s.node->next.reset();
    if (!s.node->prunable()) break;
    if (s.node == s.level->pwc.get()) {
      s.level->pwc.reset();
    } else if (s.node == s.level->fwc.get()) {
      s.level->fwc.reset();
    } else {
      s.level->nodes.erase(s.level->nodes.find(s.token));
    }
  }
  count_.fetch_sub(1, std::memory_order_relaxed);
  removes_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

SubListStatus SubList::remove(const SubscriptionPtr& sub) {
  if (!sub) return SubListStatus::not_found;
  std::unique_lock lock(mu_);
  if (!remove_locked(sub)) {
    return indexable(sub->subject) ? SubListStatus::not_found : SubListStatus::invalid_subject;
  }
  log_change(sub->subject);
  return SubListStatus::ok;
}

size_t SubList::remove_batch(std::span<const SubscriptionPtr> subs) {
  if (subs.empty()) return 0;
  // A handful of changes are replayed precisely by caches; beyond that, one "clear all" is
  // cheaper for them than replaying a long log (and the ring would overflow anyway).
  constexpr size_t kLogEach = 16;
  std::unique_lock lock(mu_);
  size_t n = 0;
  for (const auto& sub : subs) {
    if (!sub || !remove_locked(sub)) continue;
    ++n;
    if (subs.size() <= kLogEach) log_change(sub->subject);
  }
  if (n > 0 && subs.size() > kLogEach) log_clear_all();
  return n;
}

void SubList::update_queue_weight(const SubscriptionPtr& sub, int32_t weight) {
  std::unique_lock lock(mu_);
  sub->qweight = weight;
  log_change(sub->subject);
}

// ---- matching ----

static void add_node(const SubList::Node& n, MatchResult& r) {
  const auto& ps = n.psubs.items();
  r.psubs.insert(r.psubs.end(), ps.begin(), ps.end());
  for (const sublist_detail::QueueGroup& g : n.qsubs) {
    auto slot = std::find_if(r.qsubs.begin(), r.qsubs.end(),
                             [&](const auto& v) { return v.front()->queue == g.name; });
    if (slot == r.qsubs.end()) {
      r.qsubs.emplace_back();
      slot = r.qsubs.end() - 1;
      slot->reserve(g.members.items().size());
    }
    for (const auto& m : g.members.items()) {
      const int32_t w = m->qweight > 1 ? m->qweight : 1;
      for (int32_t k = 0; k < w; ++k) slot->push_back(m);
    }
  }
}

// Walks the trie for tokens[0..n). At each level a `>` child matches everything left, a `*`
// child consumes one token and recurses, and the literal child continues the loop.
static void match_level(const SubList::Level* l, const std::string_view* toks, size_t n,
                        MatchResult& r) {
  for (size_t i = 0; i < n; ++i) {
    if (l->fwc) add_node(*l->fwc, r);
    if (l->pwc) {
      if (i + 1 == n) {
        add_node(*l->pwc, r);
      } else if (l->pwc->next) {
        match_level(l->pwc->next.get(), toks + i + 1, n - i - 1, r);
      }
    }
    auto it = l->nodes.find(toks[i]);
    if (it == l->nodes.end()) return;
    const SubList::Node* node = it->second.get();
    if (i + 1 == n) {
      add_node(*node, r);
      return;
    }
    if (!node->next) return;
    l = node->next.get();
  }
}

static bool interest_level(const SubList::Level* l, const std::string_view* toks, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (l->fwc && l->fwc->has_subs()) return true;
    if (l->pwc) {
      if (i + 1 == n) {
        if (l->pwc->has_subs()) return true;
      } else if (l->pwc->next && interest_level(l->pwc->next.get(), toks + i + 1, n - i - 1)) {
        return true;
      }
    }
    auto it = l->nodes.find(toks[i]);
    if (it == l->nodes.end()) return false;
    const SubList::Node* node = it->second.get();
    if (i + 1 == n) return node->has_subs();
    if (!node->next) return false;
    l = node->next.get();
  }
  return false;
}

static void collect_level(const SubList::Level& l, std::vector<SubscriptionPtr>& out);

static void collect_node(const SubList::Node& n, std::vector<SubscriptionPtr>& out) {
  const auto& ps = n.psubs.items();
  out.insert(out.end(), ps.begin(), ps.end());
  for (const sublist_detail::QueueGroup& g : n.qsubs) {
    out.insert(out.end(), g.members.items().begin(), g.members.items().end());
  }
  if (n.next) collect_level(*n.next, out);
}

static void collect_level(const SubList::Level& l, std::vector<SubscriptionPtr>& out) {
  for (const auto& [tok, node] : l.nodes) collect_node(*node, out);
  if (l.pwc) collect_node(*l.pwc, out);
  if (l.fwc) collect_node(*l.fwc, out);
}

std::shared_ptr<const MatchResult> SubList::compute(std::string_view subject) const {
  Tokens toks(subject);
  if (toks.empty() || toks.has_empty_token()) return empty_result();
  MatchResult r;
  match_level(root_.get(), toks.begin(), toks.size(), r);
  if (r.empty()) return empty_result();
  return std::make_shared<const MatchResult>(std::move(r));
}

void SubList::sync_shard(MatchCache::Shard& shard) const {
  const uint64_t g = gen_.load(std::memory_order_relaxed);
  if (shard.gen == g) return;
  if (!shard.entries.empty()) {
    bool clear = g - shard.gen > kLogSize;
    size_t wildcard_changes = 0;
    for (uint64_t x = shard.gen + 1; !clear && x <= g; ++x) {
      const Change& c = log_[x % kLogSize];
      if (c.all) clear = true;
      if (!c.literal) ++wildcard_changes;
    }
    if (!clear && wildcard_changes * shard.entries.size() > kMaxSyncWork) clear = true;
    if (clear) {
      shard.clear();
    } else {
      for (uint64_t x = shard.gen + 1; x <= g && !shard.entries.empty(); ++x) {
        const Change& c = log_[x % kLogSize];
        if (c.literal) {
          shard.erase_key(c.subject);
          continue;
        }
        for (auto it = shard.entries.begin(); it != shard.entries.end();) {
          it = subject_matches(c.subject, it->first) ? shard.erase(it) : std::next(it);
        }
      }
    }
  }
  shard.gen = g;
}

const std::shared_ptr<const MatchResult>& SubList::lookup(std::string_view subject,
                                                          MatchCache& cache) const {
  MatchCache::Shard& shard = cache.shard_for(*this);
  sublist_detail::ShardCounters& ctr = *shard.ctr;
  bump(ctr.matches);
  if (shard.gen == gen_.load(std::memory_order_acquire)) {
    auto it = shard.entries.find(subject);
    if (it != shard.entries.end()) {
      bump(ctr.hits);
      return it->second;
    }
  }

  std::shared_ptr<const MatchResult> result;
  {
    std::shared_lock lock(mu_);
    sync_shard(shard);
    auto it = shard.entries.find(subject);
    if (it != shard.entries.end()) {
      bump(ctr.hits);
      return it->second;
    }
    // Computed under the same lock that fixed shard.gen, so the entry is valid as of it.
    result = compute(subject);
  }
  // Subjects with empty tokens match nothing and are not worth a slot.
  if (result == empty_result() && (subject.empty() || Tokens(subject).has_empty_token())) {
    return empty_result();
  }
  if (shard.entries.size() >= cache.max_entries_) {
    while (shard.entries.size() > cache.sweep_to_) shard.erase(shard.entries.begin());
  }
  const uint64_t fanout = result->fanout();
  auto it = shard.entries.emplace(std::string(subject), std::move(result)).first;
  bump(ctr.entries);
  bump(ctr.fanout_sum, fanout);
  if (fanout > ctr.max_fanout.load(std::memory_order_relaxed)) {
    ctr.max_fanout.store(fanout, std::memory_order_relaxed);
  }
  return it->second;
}

const MatchResult& SubList::match(std::string_view subject, MatchCache& cache) const {
  return *lookup(subject, cache);
}

std::shared_ptr<const MatchResult> SubList::match_shared(std::string_view subject,
                                                         MatchCache& cache) const {
  return lookup(subject, cache);
}

std::shared_ptr<const MatchResult> SubList::match(std::string_view subject) const {
  uncached_matches_.fetch_add(1, std::memory_order_relaxed);
  std::shared_lock lock(mu_);
  return compute(subject);
}

bool SubList::has_interest(std::string_view subject) const {
  Tokens toks(subject);
  if (toks.empty() || toks.has_empty_token()) return false;
  std::shared_lock lock(mu_);
  return interest_level(root_.get(), toks.begin(), toks.size());
}

void SubList::all_subscriptions(std::vector<SubscriptionPtr>& out) const {
  std::shared_lock lock(mu_);
  out.reserve(out.size() + count());
  collect_level(*root_, out);
}

// ---- stats ----

SubListStats SubList::stats() const {
  SubListStats st;
  st.num_subscriptions = static_cast<uint32_t>(count());
  st.num_inserts = inserts_.load(std::memory_order_relaxed);
  st.num_removes = removes_.load(std::memory_order_relaxed);
  st.num_matches = uncached_matches_.load(std::memory_order_relaxed);
  uint64_t entries = 0;
  {
    std::lock_guard<std::mutex> lock(registry_->mu);
    for (const auto& c : registry_->counters) {
      st.num_matches += c->matches.load(std::memory_order_relaxed);
      st.cache_hits += c->hits.load(std::memory_order_relaxed);
      entries += c->entries.load(std::memory_order_relaxed);
      st.total_fanout += c->fanout_sum.load(std::memory_order_relaxed);
      st.max_fanout = std::max<uint32_t>(st.max_fanout,
                                         static_cast<uint32_t>(c->max_fanout.load(std::memory_order_relaxed)));
    }
  }
  st.num_cache = static_cast<uint32_t>(entries);
  if (st.num_matches > 0) st.cache_hit_rate = double(st.cache_hits) / double(st.num_matches);
  if (entries > 0) st.avg_fanout = double(st.total_fanout) / double(entries);
  return st;
}

void SubListStats::add(const SubListStats& o) {
  num_subscriptions += o.num_subscriptions;
  num_cache += o.num_cache;
  num_inserts += o.num_inserts;
  num_removes += o.num_removes;
  num_matches += o.num_matches;
  cache_hits += o.cache_hits;
  total_fanout += o.total_fanout;
  max_fanout = std::max(max_fanout, o.max_fanout);
  cache_hit_rate = num_matches > 0 ? double(cache_hits) / double(num_matches) : 0;
  avg_fanout = num_cache > 0 ? double(total_fanout) / double(num_cache) : 0;
}

}  // namespace nats
