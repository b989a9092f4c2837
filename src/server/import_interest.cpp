#include "server/import_interest.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "server/imports.h"
#include "server/server.h"
#include "subject/subject.h"

namespace nats {

namespace {

// Imports of imports are followed this deep (validation refuses cycles; this only bounds a
// mis-wired graph).
constexpr int kMaxShadowDepth = 8;

std::atomic<bool> any_stream_import{false};

struct Recorded {
  const Account* acc;
  bool internal;
  std::vector<ShadowInterest> shadows;
};

std::mutex& table_mu() {
  static std::mutex mu;
  return mu;
}

// Per server, per subscription (the address is unique while the subscription is in its
// account's index, which is when a record exists).
std::map<const Server*, std::map<const Subscription*, Recorded>>& table() {
  static std::map<const Server*, std::map<const Subscription*, Recorded>> t;
  return t;
}

size_t count_wildcards(std::string_view s) {
  size_t n = 0;
  for (auto tok : Tokens(s))
    if (is_partial_wildcard(tok) || is_full_wildcard(tok)) ++n;
  return n;
}

void collect(const Server& server, const Account& acc, const std::string& subject, const std::string& queue, int depth,
             std::vector<ShadowInterest>& out) {
  if (depth >= kMaxShadowDepth) return;
  std::vector<StreamImport> imports;
  {
    auto lk = lock_account_wiring();  // a reload may replace the list
    imports = acc.stream_imports;
  }
  for (const auto& si : imports) {
    if (si.account == acc.name() || si.invalid) continue;
    std::string exp_subject = import_exporter_subject(si, subject);
    if (exp_subject.empty()) continue;
    ShadowInterest s{si.account, exp_subject, queue};
    if (std::find(out.begin(), out.end(), s) != out.end()) continue;
    out.push_back(s);
    if (auto exporter = server.lookup_account(si.account)) collect(server, *exporter, exp_subject, queue, depth + 1, out);
  }
}

std::vector<ShadowInterest> compute(const Server& server, const Account& acc, const Subscription& sub) {
  std::vector<ShadowInterest> out;
  // Queue subscriptions have real shadows (add_queue_shadows).
  if (!sub.queue.empty()) return out;
  collect(server, acc, sub.subject, sub.queue, 0, out);
  return out;
}

}  // namespace

bool is_stream_import_sub(const Subscription& sub) { return !sub.conn && sub.sid == "simport"; }

std::string import_exporter_subject(const StreamImport& si, const std::string& sub_subject) {
  std::string prefix = si.prefix;
  if (!prefix.empty() && prefix.back() != '.') prefix += '.';
  const std::string local = !prefix.empty() ? prefix + si.subject : !si.to.empty() ? si.to : si.subject;
  if (!subjects_collide(local, sub_subject)) return "";
  // A subscription wider than the import (or only overlapping it) hears all of it.
  if (!subject_is_subset_match(sub_subject, local)) return si.subject;
  std::string mapped;
  if (!prefix.empty()) mapped = sub_subject.substr(prefix.size());
  else if (si.to.empty()) mapped = sub_subject;
  else if (subject_has_wildcard(si.to) && count_wildcards(si.to) == count_wildcards(si.subject))
    mapped = map_subject(si.to, si.subject, sub_subject);
  else mapped = si.subject;
  // What did not map back onto the import's own subject falls back to all of it.
  return subject_is_subset_match(mapped, si.subject) ? mapped : si.subject;
}

void note_stream_imports_exist() { any_stream_import.store(true, std::memory_order_release); }

std::vector<ShadowInterest> shadow_interest_update(const Server& server, const Account& acc, const Subscription& sub,
                                                   bool added) {
  if (!any_stream_import.load(std::memory_order_acquire)) return {};
  if (added) {
    auto shadows = compute(server, acc, sub);
    if (shadows.empty()) return {};
    std::lock_guard lk(table_mu());
    table()[&server][&sub] = Recorded{&acc, !sub.conn, shadows};
    return shadows;
  }
  std::lock_guard lk(table_mu());
  auto t = table().find(&server);
  if (t == table().end()) return {};
  auto it = t->second.find(&sub);
  if (it == t->second.end()) return {};
  auto shadows = std::move(it->second.shadows);
  t->second.erase(it);
  return shadows;
}

ShadowChange shadow_interest_refresh(const Server& server, const Account& acc,
                                     const std::vector<SubscriptionPtr>& subs) {
  ShadowChange change;
  if (!any_stream_import.load(std::memory_order_acquire)) return change;
  for (const auto& s : subs) {
    auto now = compute(server, acc, *s);
    std::lock_guard lk(table_mu());
    // Removed meanwhile: its removal took (or will take) the record as it stands.
    if (s->closed.load(std::memory_order_acquire)) continue;
    auto& t = table()[&server];
    auto it = t.find(s.get());
    std::vector<ShadowInterest> before = it == t.end() ? std::vector<ShadowInterest>{} : it->second.shadows;
    if (before == now) continue;
    for (auto& b : before) change.removed.push_back(b);
    for (auto& n : now) change.added.push_back(n);
    if (now.empty()) t.erase(s.get());
    else t[s.get()] = Recorded{&acc, !s->conn, now};
  }
  return change;
}

std::vector<ShadowRecord> shadow_interest_all(const Server& server) {
  std::vector<ShadowRecord> out;
  std::lock_guard lk(table_mu());
  auto t = table().find(&server);
  if (t == table().end()) return out;
  for (auto& [_, r] : t->second)
    for (auto& s : r.shadows) out.push_back({s, r.internal});
  return out;
}

struct QueueShadow {
  AccountPtr exporter;
  SubscriptionPtr sub;
};

std::map<const Server*, std::map<const Subscription*, std::vector<QueueShadow>>>& queue_table() {
  static std::map<const Server*, std::map<const Subscription*, std::vector<QueueShadow>>> t;
  return t;
}

void shadow_interest_forget(const Server& server) {
  std::lock_guard lk(table_mu());
  table().erase(&server);
  queue_table().erase(&server);
}

void add_queue_shadows(Server& server, const Account& acc, const Subscription& sub) {
  if (!any_stream_import.load(std::memory_order_acquire) || sub.queue.empty()) return;
  std::vector<StreamImport> imports;
  {
    auto lk = lock_account_wiring();
    imports = acc.stream_imports;
  }
  std::vector<QueueShadow> made;
  for (const auto& si : imports) {
    if (si.account == acc.name() || si.invalid) continue;
    std::string exp_subject = import_exporter_subject(si, sub.subject);
    if (exp_subject.empty()) continue;
    auto exporter = server.lookup_account(si.account);
    if (!exporter) continue;
    // A copy of what the handler needs of the subscriber (its connection kept alive), so
    // that a match result cached elsewhere never reaches a freed subscription.
    auto target = std::make_shared<Subscription>();
    target->subject = sub.subject;
    target->queue = sub.queue;
    target->sid = sub.sid;
    target->conn = sub.conn;
    target->handler = sub.handler;
    target->account = sub.account;
    target->max_msgs.store(sub.max_msgs.load(std::memory_order_relaxed), std::memory_order_relaxed);
    std::string prefix = si.prefix;
    if (!prefix.empty() && prefix.back() != '.') prefix += '.';
    const std::string from = si.subject, to = si.to;
    auto h = [target, prefix, from, to](const Subscription&, std::string_view subject, std::string_view reply,
                                       std::string_view headers, std::string_view payload) {
      std::string mapped = !prefix.empty() ? prefix + std::string(subject)
                           : !to.empty()   ? map_subject(from, to, subject)
                                           : std::string(subject);
      if (target->conn) target->conn->deliver(*target, mapped, reply, headers, payload);
      else if (target->handler) target->handler(*target, mapped, reply, headers, payload);
    };
    auto shadow = server.subscribe_internal(*exporter, exp_subject, std::move(h), sub.queue);
    made.push_back({exporter, shadow});
  }
  if (made.empty()) return;
  std::lock_guard lk(table_mu());
  auto& mine = queue_table()[&server][&sub];
  for (auto& m : made) mine.push_back(std::move(m));
}

void remove_queue_shadows(Server& server, const Subscription& sub) {
  if (!any_stream_import.load(std::memory_order_acquire) || sub.queue.empty()) return;
  std::vector<QueueShadow> gone;
  {
    std::lock_guard lk(table_mu());
    auto t = queue_table().find(&server);
    if (t == queue_table().end()) return;
    auto it = t->second.find(&sub);
    if (it == t->second.end()) return;
    gone = std::move(it->second);
    t->second.erase(it);
  }
  for (auto& g : gone) server.unsubscribe_internal(*g.exporter, g.sub);
}

}  // namespace nats
