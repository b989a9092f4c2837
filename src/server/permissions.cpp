#include "server/permissions.h"

#include "subject/subject.h"

namespace nats {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
constexpr size_t kReplyPruneEvery = 10000;
}  // namespace

PermList make_perm_list(const std::vector<std::string>& raw) {
  PermList l;
  l.present = true;
  for (const auto& r : raw) {
    std::string_view s = trim(r);
    PermEntry e;
    auto sp = s.find_first_of(" \t");
    if (sp == std::string_view::npos) {
      e.subject = s;
    } else {
      e.subject = s.substr(0, sp);
      e.queue = trim(s.substr(sp + 1));
    }
    l.entries.push_back(std::move(e));
  }
  return l;
}

bool PermList::matches_plain(std::string_view subject) const {
  for (const auto& e : entries)
    if (e.queue.empty() && subject_matches(e.subject, subject)) return true;
  return false;
}

void PermList::match_queue(std::string_view subject, std::string_view queue, bool& any, bool& named) const {
  any = named = false;
  for (const auto& e : entries) {
    if (e.queue.empty() || !subject_matches(e.subject, subject)) continue;
    any = true;
    if (subject_matches(e.queue, queue)) named = true;
  }
}

ClientPermissions::ClientPermissions(const Permissions& p) {
  if (p.publish) {
    has_pub_ = true;
    if (!p.publish->allow.empty()) pub_allow_ = make_perm_list(p.publish->allow);
    if (!p.publish->deny.empty()) pub_deny_ = make_perm_list(p.publish->deny);
  }
  if (p.subscribe) {
    if (!p.subscribe->allow.empty()) sub_allow_ = make_perm_list(p.subscribe->allow);
    if (!p.subscribe->deny.empty()) sub_deny_ = make_perm_list(p.subscribe->deny);
  }
  if (p.response) {
    has_resp_ = true;
    resp_ = *p.response;
    // Responses without publish permissions: nothing but replies may be published.
    if (!pub_allow_.present && !pub_deny_.present) pub_allow_.present = true;
  }
}

bool ClientPermissions::publish_allowed_by_lists(std::string_view subject) const {
  if (pub_allow_.present && !pub_allow_.matches_plain(subject)) return false;
  if (pub_deny_.present && pub_deny_.matches_plain(subject)) return false;
  return true;
}

bool ClientPermissions::can_publish(std::string_view subject) {
  if (!pub_allow_.present && !pub_deny_.present) return true;
  bool allowed;
  if (auto it = pub_cache_.find(subject); it != pub_cache_.end()) {
    allowed = it->second;
  } else {
    allowed = publish_allowed_by_lists(subject);
    if (pub_cache_.size() >= kMaxCache) pub_cache_.clear();
    pub_cache_.emplace(std::string(subject), allowed);
  }
  if (!allowed && has_resp_) allowed = use_reply(subject);
  return allowed;
}

bool ClientPermissions::use_reply(std::string_view subject) {
  std::lock_guard lk(replies_mu_);
  auto it = replies_.find(subject);
  if (it == replies_.end()) return false;
  auto& r = it->second;
  ++r.n;
  bool over = resp_.max_msgs > 0 && r.n > resp_.max_msgs;
  bool expired = resp_.expires.count() > 0 && std::chrono::steady_clock::now() - r.at > resp_.expires;
  if (over || expired) {
    replies_.erase(it);
    return false;
  }
  return true;
}

void ClientPermissions::record_reply(std::string_view reply) {
  if (!has_resp_ || reply.empty()) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lk(replies_mu_);
  replies_[std::string(reply)] = Reply{now, 0};
  if (++replies_since_prune_ < kReplyPruneEvery) return;
  replies_since_prune_ = 0;
  // Drop expired and used-up entries so a busy responder does not grow this forever.
  for (auto it = replies_.begin(); it != replies_.end();) {
    bool expired = resp_.expires.count() > 0 && now - it->second.at > resp_.expires;
    bool used = resp_.max_msgs > 0 && it->second.n >= resp_.max_msgs;
    if (expired || used) it = replies_.erase(it);
    else ++it;
  }
}

bool ClientPermissions::can_subscribe(std::string_view subject, std::string_view queue) {
  bool allowed = true;
  if (sub_allow_.present) {
    allowed = sub_allow_.matches_plain(subject);
    if (!queue.empty()) {
      bool any, named;
      sub_allow_.match_queue(subject, queue, any, named);
      if (any) allowed = named;
    }
  }
  if (allowed && sub_deny_.present) {
    allowed = !sub_deny_.matches_plain(subject);
    if (!queue.empty()) {
      bool any, named;
      sub_deny_.match_queue(subject, queue, any, named);
      if (any) allowed = !named;
    }
    if (allowed && subject_has_wildcard(subject)) {
      for (const auto& e : sub_deny_.entries)
        if (e.queue.empty() && subjects_collide(e.subject, subject)) filter_deliveries_.store(true, std::memory_order_relaxed);
    }
  }
  return allowed;
}

bool ClientPermissions::can_deliver(std::string_view subject) const {
  if (!filter_deliveries_.load(std::memory_order_relaxed)) return true;
  return !sub_deny_.matches_plain(subject);
}

}  // namespace nats
