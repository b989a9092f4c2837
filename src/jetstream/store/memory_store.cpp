#include "jetstream/store/memory_store.h"
#include "util/little_endian.h"

#include <algorithm>
#include <cstring>

#include "subject/subject.h"

namespace nats::jetstream {

namespace {
bool is_all(std::string_view filter) { return filter.empty() || filter == ">"; }
}  // namespace

uint64_t MemoryStore::size_of(size_t subj, size_t hdr, size_t payload) const {
  return file_sizes_ ? file_store_msg_size(subj, hdr, payload) : store_msg_size(subj, hdr, payload);
}

MemoryStore::MemoryStore(StoreLimits limits, StoreClock clock)
    : limits_(limits), clock_(std::move(clock)) {}

bool MemoryStore::live(uint64_t seq, Slot& out) const {
  if (seq < base_ || seq - base_ >= slots_.size()) return false;
  out = slots_.get(seq - base_);
  return out.subj != kGone;
}

uint32_t MemoryStore::intern(std::string_view subject) {
  // Consecutive messages often share a subject (a released id has an empty name).
  if (names_.live(last_id_) && names_.name(last_id_) == subject) return last_id_;
  bool added = false;
  uint32_t id = names_.intern(subject, &added);
  if (added) {
    if (id >= subjects_.size()) subjects_.resize(id + 1);
    subjects_[id] = Subject{};
  }
  return last_id_ = id;
}

const MemoryStore::Subject* MemoryStore::find_subject(std::string_view subject) const {
  uint32_t id = names_.find(subject);
  return id == SubjectTable::kNone ? nullptr : &subjects_[id];
}

void MemoryStore::fill(uint64_t seq, const Slot& s, StoredMsg& out) const {
  out.subject = names_.name(s.subj);
  out.seq = seq;
  out.ts = keep_times_ ? times_[seq - base_] : 0;
  out.ttl_ns = 0;
  if (!ttls_.empty()) {
    auto t = ttls_.find(seq);
    if (t != ttls_.end()) out.ttl_ns = t->second.second;
  }
  out.headers.clear();
  out.payload.clear();
  if (!keep_bodies_) return;
  const char* b = bodies_[seq - base_].get();
  if (!b) return;
  uint32_t hl = util::load_le32(b), pl = util::load_le32(b + 4);
  out.headers.assign(b + 8, hl);
  out.payload.assign(b + 8 + hl, pl);
}

int64_t MemoryStore::time_at(uint64_t seq) {
  if (keep_times_) return times_[seq - base_];
  if (seq == base_ && front_time_.first == seq) return front_time_.second;
  int64_t ts = time_of_(seq);
  if (seq == base_) front_time_ = {seq, ts};
  return ts;
}

void MemoryStore::insert_locked(uint64_t seq, int64_t ts, int64_t ttl_ns, uint32_t subj, uint64_t size,
                                Body body) {
  if (slots_.empty()) {
    base_ = seq;
  } else {
    // A replica may skip sequences: they are left as removed ones.
    while (base_ + slots_.size() < seq) {
      slots_.push_back(Slot{});
      if (keep_bodies_) bodies_.emplace_back();
      if (keep_times_) times_.push_back(0);
    }
  }
  slots_.push_back(Slot{subj, static_cast<uint32_t>(size)});
  if (keep_times_) times_.push_back(ts);
  if (keep_bodies_) bodies_.push_back(std::move(body));
  ++msgs_;
  used_ = true;
  bytes_ += size;
  last_seq_ = seq;
  last_ts_ = ts;
  Subject& s = subjects_[subj];
  if (s.msgs++ == 0) s.first = seq;
  s.last = seq;
  if (ttl_ns > 0) ttls_[seq] = {ts, ttl_ns};
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
    const Subject* at_limit = nullptr;
    if (limits_.max_msgs_per_subject > 0) {
      const Subject* s = find_subject(subject);
      if (s && s->msgs >= limits_.max_msgs_per_subject) at_limit = s;
    }
    if (at_limit && limits_.discard_new_per_subject) return {StoreErr::max_msgs_per_subject};
    if (limits_.max_msgs > 0 && msgs_ >= limits_.max_msgs && !at_limit) return {StoreErr::max_msgs};
    // The reference rejects on reaching the byte limit exactly, not only on passing it.
    if (limits_.max_bytes > 0 && bytes_ + sz >= limits_.max_bytes) {
      if (!at_limit) return {StoreErr::max_bytes};
      Slot first;
      if (!live(at_limit->first, first) || first.size < sz) return {StoreErr::max_bytes};
    }
  }
  uint64_t new_seq = seq != 0 ? seq : last_seq_ + 1;
  // Timestamps strictly increase so time-ordered lookups stay monotonic even if the
  // clock stalls or steps back (a replica keeps the leader's time as it is).
  int64_t new_ts = ts != 0 ? ts : std::max(clock_(), last_ts_ + 1);
  Body body;
  if (keep_bodies_ && headers.size() + payload.size() > 0) {
    body = std::make_unique_for_overwrite<char[]>(8 + headers.size() + payload.size());
    util::store_le32(body.get(), static_cast<uint32_t>(headers.size()));
    util::store_le32(body.get() + 4, static_cast<uint32_t>(payload.size()));
    if (!headers.empty()) std::memcpy(body.get() + 8, headers.data(), headers.size());
    if (!payload.empty()) std::memcpy(body.get() + 8 + headers.size(), payload.data(), payload.size());
  }
  uint32_t id = intern(subject);
  insert_locked(new_seq, new_ts, ttl_ns.value_or(0), id, sz, std::move(body));
  enforce_limits_locked(false, id);
  return {StoreErr::ok, new_seq, new_ts};
}

void MemoryStore::replay_store(StoredMsg msg) {
  std::lock_guard lk(mu_);
  if (msg.seq <= last_seq_) return;  // duplicate record
  uint64_t sz = size_of(msg.subject.size(), msg.headers.size(), msg.payload.size());
  Body body;
  if (keep_bodies_ && msg.headers.size() + msg.payload.size() > 0) {
    body = std::make_unique_for_overwrite<char[]>(8 + msg.headers.size() + msg.payload.size());
    util::store_le32(body.get(), static_cast<uint32_t>(msg.headers.size()));
    util::store_le32(body.get() + 4, static_cast<uint32_t>(msg.payload.size()));
    std::memcpy(body.get() + 8, msg.headers.data(), msg.headers.size());
    std::memcpy(body.get() + 8 + msg.headers.size(), msg.payload.data(), msg.payload.size());
  }
  insert_locked(msg.seq, msg.ts, msg.ttl_ns, intern(msg.subject), sz, std::move(body));
}

bool MemoryStore::replay_index(const StoredMsg& msg, size_t hdr_len, size_t payload_len) {
  std::lock_guard lk(mu_);
  if (msg.seq <= last_seq_) return false;
  uint64_t sz = size_of(msg.subject.size(), hdr_len, payload_len);
  insert_locked(msg.seq, msg.ts, msg.ttl_ns, intern(msg.subject), sz, nullptr);
  return true;
}

bool MemoryStore::replay_run(uint64_t first, uint64_t count, std::string_view subject, size_t hdr_len,
                             size_t payload_len, int64_t last_ts) {
  std::lock_guard lk(mu_);
  if (keep_bodies_ || keep_times_ || count == 0) return false;  // index-only stores replay runs
  uint64_t end = first + count - 1;
  if (end <= last_seq_) return false;
  first = std::max(first, last_seq_ + 1);  // skip what an earlier record already had
  count = end - first + 1;
  uint64_t sz = size_of(subject.size(), hdr_len, payload_len);
  uint32_t id = intern(subject);
  if (slots_.empty()) {
    base_ = first;
  } else {
    while (base_ + slots_.size() < first) slots_.push_back(Slot{});
  }
  slots_.push_run(Slot{id, static_cast<uint32_t>(sz)}, count);
  msgs_ += count;
  used_ = true;
  bytes_ += sz * count;
  last_seq_ = end;
  last_ts_ = last_ts;
  Subject& s = subjects_[id];
  if (s.msgs == 0) s.first = first;
  s.msgs += count;
  s.last = end;
  return true;
}

std::pair<uint64_t, uint64_t> MemoryStore::seq_range() {
  std::lock_guard lk(mu_);
  return {first_seq_locked(), last_seq_};
}

uint64_t MemoryStore::live_in(uint64_t first, uint64_t last, std::vector<bool>* live) {
  std::lock_guard lk(mu_);
  if (live) live->assign(last >= first ? last - first + 1 : 0, false);
  uint64_t bytes = 0;
  if (last < first || msgs_ == 0 || last < base_) return 0;
  uint64_t end = std::min<uint64_t>(last, base_ + slots_.size() - 1);
  for (size_t i = slots_.next_live(std::max(first, base_) - base_); i < slots_.size() && base_ + i <= end;
       i = slots_.next_live(i + 1)) {
    bytes += slots_.get(i).size;
    if (live) (*live)[base_ + i - first] = true;
  }
  return bytes;
}

bool MemoryStore::is_live(uint64_t seq) {
  std::lock_guard lk(mu_);
  Slot s;
  return live(seq, s);
}

void MemoryStore::enforce_subject_limit(uint32_t id) {
  // Removing may release the subject (msgs 0); re-check through the count.
  while (subjects_[id].msgs > limits_.max_msgs_per_subject) remove_locked(subjects_[id].first);
}

void MemoryStore::enforce_limits_locked(bool all_subjects, uint32_t stored_subj) {
  if (limits_.max_msgs_per_subject > 0) {
    if (all_subjects) {
      // A limit change may leave any subject over.
      for (uint32_t id = 0; id < names_.ids(); ++id)
        if (names_.live(id)) enforce_subject_limit(id);
    } else {
      enforce_subject_limit(stored_subj);
    }
  }
  if (limits_.max_msgs > 0) {
    while (msgs_ > limits_.max_msgs) remove_locked(base_);
  }
  if (limits_.max_bytes > 0) {
    while (bytes_ > limits_.max_bytes && msgs_ > 0) remove_locked(base_);
  }
}

void MemoryStore::expire_locked() {
  int64_t now = clock_();
  if (limits_.max_age_ns > 0) {
    int64_t cutoff = now - limits_.max_age_ns;
    while (msgs_ > 0 && time_at(base_) <= cutoff) remove_locked(base_);
  }
  if (!ttls_.empty()) {
    std::vector<uint64_t> drop;
    for (auto& [seq, t] : ttls_)
      if (t.first + t.second <= now) drop.push_back(seq);
    for (uint64_t s : drop) remove_locked(s);
  }
}

void MemoryStore::expire_msgs() {
  std::lock_guard lk(mu_);
  expire_locked();
}

void MemoryStore::trim_front() {
  while (!slots_.empty() && slots_.gone(0)) {
    slots_.pop_front();
    if (keep_bodies_) bodies_.pop_front();
    if (keep_times_) times_.pop_front();
    ++base_;
  }
  if (slots_.empty()) base_ = last_seq_ + 1;
}

bool MemoryStore::remove_locked(uint64_t seq) {
  Slot slot;
  if (!live(seq, slot)) return false;
  uint32_t id = slot.subj;
  bytes_ -= slot.size;
  --msgs_;
  slots_.set_gone(seq - base_);
  if (keep_bodies_) bodies_[seq - base_].reset();
  if (!ttls_.empty()) ttls_.erase(seq);
  Subject& s = subjects_[id];
  if (--s.msgs == 0) {
    s = Subject{};
    names_.release(id);
    // The last subject gone: give back the records too (the table released its memory).
    if (names_.ids() == 0) std::vector<Subject>().swap(subjects_);
  } else {
    // One message left (KV with history 1): it is the other end, no scan needed.
    if (s.msgs == 1 && seq == s.first) s.first = s.last;
    if (s.msgs == 1 && seq == s.last) s.last = s.first;
    // Slots of this subject remain between first and last: the scans stop there.
    if (seq == s.first)
      while (slots_.get(s.first - base_).subj != id) ++s.first;
    if (seq == s.last)
      while (slots_.get(s.last - base_).subj != id) --s.last;
  }
  trim_front();
  if (observer_) observer_->on_remove(seq, slot.size);
  return true;
}

StoreErr MemoryStore::remove_msg(uint64_t seq) {
  std::lock_guard lk(mu_);
  if (remove_locked(seq)) return StoreErr::ok;
  return seq > last_seq_ ? StoreErr::eof : StoreErr::not_found;
}

StoreErr MemoryStore::load_msg(uint64_t seq, StoredMsg& out) {
  std::lock_guard lk(mu_);
  Slot s;
  if (!live(seq, s)) return seq > last_seq_ ? StoreErr::eof : StoreErr::not_found;
  fill(seq, s, out);
  return StoreErr::ok;
}

StoreErr MemoryStore::load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (start > last_seq_ || msgs_ == 0) return StoreErr::eof;
  uint64_t from = std::max(start, base_);
  uint64_t end = base_ + slots_.size();
  if (is_all(filter)) {
    size_t i = slots_.next_live(from - base_);
    if (i >= slots_.size()) return StoreErr::eof;
    fill(base_ + i, slots_.get(i), out);
    return StoreErr::ok;
  }
  if (!subject_has_wildcard(filter)) {
    // Literal subject: only its own span needs looking at.
    uint32_t id = names_.find(filter);
    if (id == SubjectTable::kNone) return StoreErr::eof;
    const Subject& subj = subjects_[id];
    for (uint64_t seq = std::max(from, subj.first); seq <= subj.last; ++seq) {
      Slot s = slots_.get(seq - base_);
      if (s.subj != id) continue;
      fill(seq, s, out);
      return StoreErr::ok;
    }
    return StoreErr::eof;
  }
  for (uint64_t seq = base_ + slots_.next_live(from - base_); seq < end;
       seq = base_ + slots_.next_live(seq - base_ + 1)) {
    Slot s = slots_.get(seq - base_);
    if (!store_filter_matches(filter, names_.name(s.subj))) continue;
    fill(seq, s, out);
    return StoreErr::ok;
  }
  return StoreErr::eof;
}

StoreErr MemoryStore::load_last_msg(std::string_view filter, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (!is_all(filter) && !subject_has_wildcard(filter)) {
    const Subject* subj = find_subject(filter);
    if (!subj) return StoreErr::not_found;
    Slot s;
    if (!live(subj->last, s)) return StoreErr::not_found;
    fill(subj->last, s, out);
    return StoreErr::ok;
  }
  for (size_t i = slots_.prev_live(SIZE_MAX); i != SIZE_MAX; i = i == 0 ? SIZE_MAX : slots_.prev_live(i - 1)) {
    Slot s = slots_.get(i);
    if (!store_filter_matches(filter, names_.name(s.subj))) continue;
    fill(base_ + i, s, out);
    return StoreErr::ok;
  }
  return StoreErr::not_found;
}

uint64_t MemoryStore::compact_locked(uint64_t seq) {
  if (seq == 0) seq = last_seq_ + 1;  // reference: compact(0) purges everything
  uint64_t n = 0;
  auto* obs = observer_;
  observer_ = nullptr;  // one compact record, not a removal per message
  while (msgs_ > 0 && base_ < seq) {
    remove_locked(base_);
    ++n;
  }
  observer_ = obs;
  used_ = true;
  if (seq > last_seq_) {
    // Past the end: the stream restarts at seq (reference sets last = seq-1).
    last_seq_ = seq - 1;
    base_ = seq;
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
  if (is_all(subject)) {
    if (up_to_seq > 1) return compact_locked(up_to_seq);
    if (keep > 0) {
      if (keep >= msgs_) return 0;
      // Compact to the seq of the keep-th newest message.
      uint64_t seen = 0;
      for (size_t i = slots_.prev_live(SIZE_MAX); i != SIZE_MAX; i = i == 0 ? SIZE_MAX : slots_.prev_live(i - 1))
        if (++seen == keep) return compact_locked(base_ + i);
      return 0;
    }
    return compact_locked(last_seq_ + 1);
  }
  std::vector<uint64_t> matching;
  for (size_t i = slots_.next_live(0); i < slots_.size(); i = slots_.next_live(i + 1)) {
    uint32_t id = slots_.get(i).subj;
    if (store_filter_matches(subject, names_.name(id))) matching.push_back(base_ + i);
  }
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
  StoreState st = fast_state_locked();
  slots_.for_each_gone_run([&](size_t a, size_t b) { st.deleted.add_run(base_ + a, base_ + b); });
  st.num_deleted = st.deleted.count();
  return st;
}

StoreState MemoryStore::fast_state() {
  std::lock_guard lk(mu_);
  return fast_state_locked();
}

StoreState MemoryStore::fast_state_locked() {
  StoreState st;
  st.msgs = msgs_;
  st.bytes = bytes_;
  st.first_seq = first_seq_locked();
  st.last_seq = last_seq_;
  st.last_ts = last_ts_;
  if (msgs_ > 0) {
    st.first_ts = time_at(base_);
    st.num_deleted = last_seq_ - base_ + 1 - msgs_;  // base_ is the first live sequence
  }
  st.num_subjects = names_.size();
  return st;
}

std::unordered_map<std::string, SubjectState> MemoryStore::subjects_state(std::string_view filter) {
  std::lock_guard lk(mu_);
  std::unordered_map<std::string, SubjectState> out;
  for (uint32_t id = 0; id < names_.ids(); ++id) {
    if (!names_.live(id)) continue;
    std::string_view name = names_.name(id);
    if (!store_filter_matches(filter, name)) continue;
    const Subject& s = subjects_[id];
    out.emplace(std::string(name), SubjectState{s.msgs, s.first, s.last});
  }
  return out;
}

void MemoryStore::update_limits(const StoreLimits& limits) {
  std::lock_guard lk(mu_);
  limits_ = limits;
  expire_locked();
  enforce_limits_locked(true, 0);
}

}  // namespace nats::jetstream
