#include "jetstream/store/memory_store.h"

#include <algorithm>

#include "subject/subject.h"

namespace nats::jetstream {

uint64_t MemoryStore::size_of(size_t subj, size_t hdr, size_t payload) const {
  return file_sizes_ ? file_store_msg_size(subj, hdr, payload) : store_msg_size(subj, hdr, payload);
}
uint64_t MemoryStore::msg_size(const StoredMsg& m) const {
  return size_of(m.subject.size(), m.headers.size(), m.payload.size());
}

MemoryStore::MemoryStore(StoreLimits limits, StoreClock clock)
    : limits_(limits), clock_(std::move(clock)) {}

void MemoryStore::insert_locked(StoredMsg msg, uint64_t size) {
  uint64_t seq = msg.seq;
  bytes_ += size;
  if (msgs_.empty()) first_seq_ = seq;
  last_seq_ = seq;
  last_ts_ = msg.ts;
  subjects_[msg.subject].insert(seq);
  if (msg.ttl_ns > 0) with_ttl_.insert(seq);
  msgs_.emplace(seq, Entry{std::move(msg), size});
}

StoreResult MemoryStore::store_msg(std::string_view subject, std::string_view headers,
                                   std::string_view payload, std::optional<int64_t> ttl_ns) {
  return store_impl(subject, headers, payload, ttl_ns, 0, 0);
}

StoreResult MemoryStore::store_msg_at(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                                      std::string_view payload) {
  return store_impl(subject, headers, payload, {}, seq, ts);
}

StoreResult MemoryStore::store_impl(std::string_view subject, std::string_view headers, std::string_view payload,
                                    std::optional<int64_t> ttl_ns, uint64_t seq, int64_t ts) {
  std::lock_guard lk(mu_);
  if (seq != 0 && seq <= last_seq_) return {StoreErr::io};
  if (limits_.max_msg_size > 0 && headers.size() + payload.size() > limits_.max_msg_size)
    return {StoreErr::msg_too_large};
  // Age first, so a full stream whose oldest messages are stale can accept new ones.
  expire_locked();
  uint64_t sz = size_of(subject.size(), headers.size(), payload.size());
  if (limits_.discard == DiscardPolicy::new_msgs) {
    // At the per-subject limit the new message replaces that subject's oldest, so the
    // stream does not grow in count (reference memstore: "asl").
    const std::set<uint64_t>* subj_seqs = nullptr;
    if (limits_.max_msgs_per_subject > 0) {
      auto it = subjects_.find(std::string(subject));
      if (it != subjects_.end() && it->second.size() >= limits_.max_msgs_per_subject)
        subj_seqs = &it->second;
    }
    if (subj_seqs && limits_.discard_new_per_subject) return {StoreErr::max_msgs_per_subject};
    if (limits_.max_msgs > 0 && msgs_.size() >= limits_.max_msgs && !subj_seqs)
      return {StoreErr::max_msgs};
    // The reference rejects on reaching the byte limit exactly, not only on passing it.
    if (limits_.max_bytes > 0 && bytes_ + sz >= limits_.max_bytes) {
      if (!subj_seqs) return {StoreErr::max_bytes};
      if (msgs_.at(*subj_seqs->begin()).size < sz) return {StoreErr::max_bytes};
    }
  }
  StoredMsg m;
  m.subject = subject;
  if (keep_bodies_) {
    m.headers = headers;
    m.payload = payload;
  }
  m.seq = seq != 0 ? seq : last_seq_ + 1;
  // Timestamps strictly increase so time-ordered lookups stay monotonic even if the
  // clock stalls or steps back (a replica keeps the leader's time as it is).
  m.ts = ts != 0 ? ts : std::max(clock_(), last_ts_ + 1);
  m.ttl_ns = ttl_ns.value_or(0);
  StoreResult res{StoreErr::ok, m.seq, m.ts};
  insert_locked(std::move(m), sz);
  enforce_limits_locked();
  return res;
}

void MemoryStore::replay_store(StoredMsg msg) {
  std::lock_guard lk(mu_);
  if (msg.seq <= last_seq_) return;  // duplicate record
  uint64_t sz = msg_size(msg);
  if (!keep_bodies_) {
    msg.headers.clear();
    msg.payload.clear();
  }
  insert_locked(std::move(msg), sz);
}

bool MemoryStore::replay_index(StoredMsg msg, size_t hdr_len, size_t payload_len) {
  std::lock_guard lk(mu_);
  if (msg.seq <= last_seq_) return false;
  uint64_t sz = size_of(msg.subject.size(), hdr_len, payload_len);
  msg.headers.clear();
  msg.payload.clear();
  insert_locked(std::move(msg), sz);
  return true;
}

std::pair<uint64_t, uint64_t> MemoryStore::seq_range() {
  std::lock_guard lk(mu_);
  return {first_seq_, last_seq_};
}

void MemoryStore::enforce_limits_locked() {
  if (limits_.max_msgs_per_subject > 0) {
    // Only the subject just stored can be over; but a limit change may leave others over.
    std::vector<uint64_t> drop;
    for (auto& [subj, seqs] : subjects_) {
      if (seqs.size() <= limits_.max_msgs_per_subject) continue;
      size_t n = seqs.size() - limits_.max_msgs_per_subject;
      auto it = seqs.begin();
      for (size_t i = 0; i < n; ++i, ++it) drop.push_back(*it);
    }
    for (uint64_t s : drop) remove_locked(s);
  }
  if (limits_.max_msgs > 0) {
    while (msgs_.size() > limits_.max_msgs) remove_locked(msgs_.begin()->first);
  }
  if (limits_.max_bytes > 0) {
    while (bytes_ > limits_.max_bytes && !msgs_.empty()) remove_locked(msgs_.begin()->first);
  }
}

void MemoryStore::expire_locked() {
  int64_t now = clock_();
  if (limits_.max_age_ns > 0) {
    int64_t cutoff = now - limits_.max_age_ns;
    while (!msgs_.empty() && msgs_.begin()->second.msg.ts <= cutoff) remove_locked(msgs_.begin()->first);
  }
  if (!with_ttl_.empty()) {
    std::vector<uint64_t> drop;
    for (uint64_t s : with_ttl_) {
      auto it = msgs_.find(s);
      if (it != msgs_.end() && it->second.msg.ts + it->second.msg.ttl_ns <= now) drop.push_back(s);
    }
    for (uint64_t s : drop) remove_locked(s);
  }
}

void MemoryStore::expire_msgs() {
  std::lock_guard lk(mu_);
  expire_locked();
}

bool MemoryStore::remove_locked(uint64_t seq) {
  auto it = msgs_.find(seq);
  if (it == msgs_.end()) return false;
  bytes_ -= it->second.size;
  auto sit = subjects_.find(it->second.msg.subject);
  if (sit != subjects_.end()) {
    sit->second.erase(seq);
    if (sit->second.empty()) subjects_.erase(sit);
  }
  with_ttl_.erase(seq);
  msgs_.erase(it);
  if (seq == first_seq_) first_seq_ = msgs_.empty() ? last_seq_ + 1 : msgs_.begin()->first;
  if (observer_) observer_->on_remove(seq);
  return true;
}

StoreErr MemoryStore::remove_msg(uint64_t seq) {
  std::lock_guard lk(mu_);
  if (remove_locked(seq)) return StoreErr::ok;
  return seq > last_seq_ ? StoreErr::eof : StoreErr::not_found;
}

StoreErr MemoryStore::load_msg(uint64_t seq, StoredMsg& out) {
  std::lock_guard lk(mu_);
  auto it = msgs_.find(seq);
  if (it == msgs_.end()) return seq > last_seq_ ? StoreErr::eof : StoreErr::not_found;
  out = it->second.msg;
  return StoreErr::ok;
}

StoreErr MemoryStore::load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (start > last_seq_) return StoreErr::eof;
  bool all = filter.empty() || filter == ">";
  if (!all && !subject_has_wildcard(filter)) {
    // Literal subject: its own sequence index answers directly.
    auto sit = subjects_.find(std::string(filter));
    if (sit == subjects_.end()) return StoreErr::eof;
    auto s = sit->second.lower_bound(start);
    if (s == sit->second.end()) return StoreErr::eof;
    out = msgs_.at(*s).msg;
    return StoreErr::ok;
  }
  for (auto it = msgs_.lower_bound(start); it != msgs_.end(); ++it) {
    if (all || store_filter_matches(filter, it->second.msg.subject)) {
      out = it->second.msg;
      return StoreErr::ok;
    }
  }
  return StoreErr::eof;
}

StoreErr MemoryStore::load_last_msg(std::string_view filter, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (!filter.empty() && filter != ">" && !subject_has_wildcard(filter)) {
    auto sit = subjects_.find(std::string(filter));
    if (sit == subjects_.end()) return StoreErr::not_found;
    out = msgs_.at(*sit->second.rbegin()).msg;
    return StoreErr::ok;
  }
  for (auto it = msgs_.rbegin(); it != msgs_.rend(); ++it) {
    if (store_filter_matches(filter, it->second.msg.subject)) {
      out = it->second.msg;
      return StoreErr::ok;
    }
  }
  return StoreErr::not_found;
}

uint64_t MemoryStore::purge_all_locked() {
  return compact_locked(last_seq_ + 1);
}

uint64_t MemoryStore::compact_locked(uint64_t seq) {
  if (seq == 0) seq = last_seq_ + 1;  // reference: compact(0) purges everything
  uint64_t n = 0;
  auto* obs = observer_;
  observer_ = nullptr;  // one compact record, not a removal per message
  while (!msgs_.empty() && msgs_.begin()->first < seq) {
    remove_locked(msgs_.begin()->first);
    ++n;
  }
  observer_ = obs;
  if (seq > last_seq_) {
    // Past the end: the stream restarts at seq (reference sets last = seq-1).
    last_seq_ = seq - 1;
    first_seq_ = seq;
  } else if (msgs_.empty()) {
    first_seq_ = last_seq_ + 1;
  } else {
    first_seq_ = msgs_.begin()->first;
  }
  if (observer_) observer_->on_compact(seq);
  return n;
}

uint64_t MemoryStore::compact(uint64_t seq) {
  std::lock_guard lk(mu_);
  return compact_locked(seq);
}

uint64_t MemoryStore::purge(std::string_view subject, uint64_t up_to_seq, uint64_t keep) {
  std::lock_guard lk(mu_);
  if (subject.empty() || subject == ">") {
    if (up_to_seq > 1) return compact_locked(up_to_seq);
    if (keep > 0) {
      if (keep >= msgs_.size()) return 0;
      // Compact to the seq of the keep-th newest message.
      auto it = msgs_.rbegin();
      std::advance(it, keep - 1);
      return compact_locked(it->first);
    }
    return purge_all_locked();
  }
  std::vector<uint64_t> matching;
  for (auto& [subj, seqs] : subjects_) {
    if (store_filter_matches(subject, subj)) matching.insert(matching.end(), seqs.begin(), seqs.end());
  }
  std::sort(matching.begin(), matching.end());
  if (keep >= matching.size() && keep > 0) return 0;
  size_t limit = matching.size() - keep;  // oldest ones go, newest `keep` stay
  uint64_t n = 0;
  for (size_t i = 0; i < limit; ++i) {
    if (up_to_seq > 1 && matching[i] >= up_to_seq) break;
    if (remove_locked(matching[i])) ++n;
  }
  return n;
}

StoreState MemoryStore::state() {
  std::lock_guard lk(mu_);
  StoreState st;
  st.msgs = msgs_.size();
  st.bytes = bytes_;
  st.first_seq = first_seq_;
  st.last_seq = last_seq_;
  st.last_ts = last_ts_;
  if (!msgs_.empty()) st.first_ts = msgs_.begin()->second.msg.ts;
  st.num_subjects = subjects_.size();
  if (!msgs_.empty()) {
    uint64_t expect = first_seq_;
    for (auto& [seq, m] : msgs_) {
      for (; expect < seq; ++expect) st.deleted.push_back(expect);
      expect = seq + 1;
    }
  }
  st.num_deleted = st.deleted.size();
  return st;
}

std::unordered_map<std::string, SubjectState> MemoryStore::subjects_state(std::string_view filter) {
  std::lock_guard lk(mu_);
  std::unordered_map<std::string, SubjectState> out;
  for (auto& [subj, seqs] : subjects_) {
    if (!store_filter_matches(filter, subj)) continue;
    out[subj] = SubjectState{seqs.size(), *seqs.begin(), *seqs.rbegin()};
  }
  return out;
}

void MemoryStore::update_limits(const StoreLimits& limits) {
  std::lock_guard lk(mu_);
  limits_ = limits;
  expire_locked();
  enforce_limits_locked();
}

}  // namespace nats::jetstream
