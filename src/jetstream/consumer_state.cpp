#include "jetstream/consumer_state.h"

#include <algorithm>
#include <limits>

namespace nats::jetstream {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
}

ConsumerState::ConsumerState(ConsumerConfig cfg, MessageStore& store) : cfg_(std::move(cfg)), store_(store) {
  filtered_ = !cfg_.filter_subject.empty() && cfg_.filter_subject != ">";
}

void ConsumerState::set_config(ConsumerConfig cfg) {
  cfg_ = std::move(cfg);
  filtered_ = !cfg_.filter_subject.empty() && cfg_.filter_subject != ">";
  npc_valid_ = false;
}

bool ConsumerState::filter_matches(std::string_view subject) const {
  return !filtered_ || store_filter_matches(cfg_.filter_subject, subject);
}

int64_t ConsumerState::ack_wait_for(uint64_t dc) const {
  if (!cfg_.backoff_ns.empty()) {
    size_t i = std::min<size_t>(dc == 0 ? 0 : dc - 1, cfg_.backoff_ns.size() - 1);
    return cfg_.backoff_ns[i];
  }
  return cfg_.ack_wait_ns > 0 ? cfg_.ack_wait_ns : kAckWaitDefaultNs;
}

void ConsumerState::init_start(int64_t now) {
  (void)now;
  StoreState st = store_.fast_state();
  const std::string& filter = cfg_.filter_subject;
  uint64_t after_last = st.last_seq + 1;
  StoredMsg m;
  switch (cfg_.deliver_policy) {
    case DeliverPolicy::all:
      if (st.msgs == 0) sseq_ = after_last;
      // Filtered: start at the first match; with none yet, at the stream's first sequence
      // (what the reference reports as delivered until something matches).
      else if (filtered_) sseq_ = store_.load_next_msg(filter, st.first_seq, m) == StoreErr::ok ? m.seq : st.first_seq;
      else sseq_ = std::max<uint64_t>(st.first_seq, 1);
      break;
    case DeliverPolicy::last:
      if (st.msgs == 0) sseq_ = after_last;
      else if (filtered_) sseq_ = store_.load_last_msg(filter, m) == StoreErr::ok ? m.seq : st.first_seq;
      else sseq_ = st.last_seq;
      break;
    case DeliverPolicy::new_msgs:
      sseq_ = after_last;
      break;
    case DeliverPolicy::by_start_sequence:
      sseq_ = std::max<uint64_t>(cfg_.opt_start_seq, 1);
      break;
    case DeliverPolicy::by_start_time: {
      sseq_ = after_last;
      int64_t start = cfg_.opt_start_time_ns.value_or(0);
      // Jump to the first message of that time (binary search), then to the filter's next.
      uint64_t seq = first_seq_at_or_after(store_, start);
      if (seq == 0) break;
      while (store_.load_next_msg(filter, seq, m) == StoreErr::ok) {
        if (m.ts >= start) {
          sseq_ = m.seq;
          break;
        }
        seq = m.seq + 1;
      }
      break;
    }
    case DeliverPolicy::last_per_subject: {
      std::vector<uint64_t> lasts;
      for (auto& [subj, ss] : store_.subjects_state(filter)) lasts.push_back(ss.last);
      std::sort(lasts.begin(), lasts.end());
      lss_.assign(lasts.begin(), lasts.end());
      sseq_ = lss_.empty() ? after_last : lss_.front();
      break;
    }
  }
  if (sseq_ == 0) sseq_ = 1;
  dseq_ = 1;
  // 2.9 reports an ack floor of 0/0 until the first ack, whatever the start position.
  adflr_ = 0;
  asflr_ = 0;
  npc_valid_ = false;
}

void ConsumerState::restore(const ConsumerSnapshot& s) {
  dseq_ = s.delivered_cseq + 1;
  sseq_ = s.delivered_sseq + 1;
  adflr_ = s.ack_floor_cseq;
  asflr_ = s.ack_floor_sseq;
  pending_ = s.pending;
  rdc_ = s.redelivered;
  rdq_.clear();
  rdq_set_.clear();
  lss_.clear();
  npc_valid_ = false;
}

ConsumerSnapshot ConsumerState::snapshot() const {
  ConsumerSnapshot s;
  s.delivered_cseq = dseq_ - 1;
  s.delivered_sseq = sseq_ - 1;
  s.ack_floor_cseq = adflr_;
  s.ack_floor_sseq = asflr_;
  s.pending = pending_;
  s.redelivered = rdc_;
  return s;
}

bool ConsumerState::max_ack_pending_reached() const {
  return cfg_.ack_policy != AckPolicy::none && cfg_.max_ack_pending > 0 &&
         static_cast<int64_t>(pending_.size()) >= cfg_.max_ack_pending;
}

uint64_t ConsumerState::delivery_count(uint64_t sseq) const {
  auto it = rdc_.find(sseq);
  return it == rdc_.end() ? 1 : it->second + 1;
}

std::optional<StoredMsg> ConsumerState::next_new_msg() {
  StoredMsg m;
  while (!lss_.empty()) {
    uint64_t seq = lss_.front();
    lss_.pop_front();
    if (store_.load_msg(seq, m) == StoreErr::ok) return m;
  }
  if (store_.load_next_msg(filtered_ ? std::string_view(cfg_.filter_subject) : std::string_view(), sseq_, m) ==
      StoreErr::ok)
    return m;
  return std::nullopt;
}

std::optional<Delivery> ConsumerState::peek() {
  // What next() would hand out, with the same delivery count, consumer sequence and pending
  // count, without changing anything (the pull request's max_bytes needs the ack reply's length).
  Delivery d;
  d.cseq = dseq_;
  for (uint64_t seq : rdq_) {
    if (!pending_.count(seq)) continue;
    auto rit = rdc_.find(seq);
    uint64_t dc = (rit == rdc_.end() ? 0 : rit->second) + 2;
    if (cfg_.max_deliver > 0 && dc > static_cast<uint64_t>(cfg_.max_deliver)) continue;  // next() drops it
    if (store_.load_msg(seq, d.msg) != StoreErr::ok) continue;
    d.dc = dc;
    d.pending = npc_ > 0 ? static_cast<uint64_t>(npc_) : 0;
    return d;
  }
  if (max_ack_pending_reached()) return std::nullopt;
  bool found = false;
  for (uint64_t seq : lss_)
    if (store_.load_msg(seq, d.msg) == StoreErr::ok) {
      found = true;
      break;
    }
  if (!found && store_.load_next_msg(filtered_ ? std::string_view(cfg_.filter_subject) : std::string_view(), sseq_,
                                     d.msg) != StoreErr::ok)
    return std::nullopt;
  d.dc = 1;
  int64_t after = npc_valid_ ? npc_ - 1 : static_cast<int64_t>(num_pending()) - 1;
  d.pending = after > 0 ? static_cast<uint64_t>(after) : 0;
  return d;
}

std::optional<Delivery> ConsumerState::next(int64_t now) {
  // Redeliveries go first, and are allowed past max_ack_pending (they are already pending).
  while (!rdq_.empty()) {
    uint64_t seq = rdq_.front();
    rdq_.pop_front();
    rdq_set_.erase(seq);
    auto pit = pending_.find(seq);
    if (pit == pending_.end()) continue;  // acked meanwhile
    Delivery d;
    if (store_.load_msg(seq, d.msg) != StoreErr::ok) {
      // Removed by limits or purge: nothing to redeliver, nothing to ack.
      remove_pending(seq);
      advance_floor_after_remove();
      continue;
    }
    uint64_t dc = ++rdc_[seq] + 1;
    if (cfg_.max_deliver > 0 && dc > static_cast<uint64_t>(cfg_.max_deliver)) {
      // Delivered max_deliver times: dropped from pending (its redelivery count stays and
      // the ack floor does not move), reported once, as the reference's getNextMsg.
      if (dc == static_cast<uint64_t>(cfg_.max_deliver) + 1) exceeded_.push_back({seq, dc - 1});
      pending_.erase(pit);
      continue;
    }
    d.dc = dc;
    d.cseq = dseq_++;
    // The pending record keeps its first delivery's consumer sequence (the reference's
    // trackPending only refreshes the time): the ack floor moves by it.
    pit->second.deliver_ts = now;
    pit->second.deadline = now + ack_wait_for(dc);
    d.pending = npc_ > 0 ? static_cast<uint64_t>(npc_) : 0;
    return d;
  }
  if (max_ack_pending_reached()) return std::nullopt;
  auto m = next_new_msg();
  if (!m) return std::nullopt;
  Delivery d;
  d.msg = std::move(*m);
  sseq_ = d.msg.seq + 1;
  d.cseq = dseq_++;
  d.dc = 1;
  if (cfg_.ack_policy == AckPolicy::none) {
    adflr_ = d.cseq;
    asflr_ = d.msg.seq;
  } else {
    pending_[d.msg.seq] = PendingAck{d.cseq, now, now + ack_wait_for(1)};
  }
  if (!npc_valid_) num_pending();
  else if (npc_ > 0) --npc_;
  d.pending = npc_ > 0 ? static_cast<uint64_t>(npc_) : 0;
  return d;
}

bool ConsumerState::remove_pending(uint64_t sseq) {
  if (pending_.erase(sseq) == 0) return false;
  rdc_.erase(sseq);
  if (rdq_set_.erase(sseq)) rdq_.erase(std::find(rdq_.begin(), rdq_.end(), sseq));
  return true;
}

void ConsumerState::advance_floor_after_remove() {
  if (pending_.empty()) {
    adflr_ = dseq_ - 1;
    asflr_ = sseq_ - 1;
    return;
  }
  // The floor is just below the oldest message still waiting for its ack.
  auto& [seq, p] = *pending_.begin();
  if (seq - 1 > asflr_) {
    asflr_ = seq - 1;
    adflr_ = std::max(adflr_, std::min(p.cseq - 1, dseq_ - 1));
  }
}

bool ConsumerState::ack(uint64_t sseq, uint64_t cseq) {
  switch (cfg_.ack_policy) {
    case AckPolicy::none:
      return false;
    case AckPolicy::explicit_ack: {
      // The reference's processAckMsg: the floor moves when the oldest delivery is acked (to
      // just below the next pending one), or to what was delivered once nothing is pending,
      // also for an ack of a message no longer pending (dropped at max_deliver).
      bool removed = false;
      uint64_t dseq = cseq;
      if (auto it = pending_.find(sseq); it != pending_.end()) {
        dseq = it->second.cseq;
        pending_.erase(it);
        removed = true;
      }
      if (pending_.empty()) {
        adflr_ = dseq_ - 1;
        asflr_ = sseq_ - 1;
      } else if (dseq == adflr_ + 1) {
        adflr_ = dseq;
        asflr_ = sseq;
        if (auto next = pending_.upper_bound(sseq); next != pending_.end() && next->first < sseq_ && next->second.cseq > 0) {
          adflr_ = next->second.cseq - 1;
          asflr_ = next->first - 1;
        }
      }
      rdc_.erase(sseq);
      if (rdq_set_.erase(sseq)) rdq_.erase(std::find(rdq_.begin(), rdq_.end(), sseq));
      return removed;
    }
    case AckPolicy::all: {
      if (sseq <= asflr_) return false;
      bool any = false;
      while (!pending_.empty() && pending_.begin()->first <= sseq) {
        remove_pending(pending_.begin()->first);
        any = true;
      }
      asflr_ = sseq;
      adflr_ = std::max(adflr_, cseq);
      if (pending_.empty()) {
        adflr_ = dseq_ - 1;
        asflr_ = sseq_ - 1;
      }
      return any;
    }
  }
  return false;
}

// The reference treats +TERM as an ack that is not sampled.
bool ConsumerState::term(uint64_t sseq, uint64_t cseq) { return ack(sseq, cseq); }

bool ConsumerState::nak(uint64_t sseq, uint64_t cseq, int64_t delay_ns, int64_t now) {
  if (cseq <= adflr_ || cseq >= dseq_) return false;  // the reference's range check
  auto it = pending_.find(sseq);
  if (it == pending_.end()) return false;
  if (delay_ns > 0) {
    // Held back for the delay, also when an earlier nak had queued it.
    it->second.deadline = now + delay_ns;
    if (rdq_set_.erase(sseq)) rdq_.erase(std::find(rdq_.begin(), rdq_.end(), sseq));
    return true;
  }
  if (rdq_set_.insert(sseq).second) rdq_.push_back(sseq);
  return true;
}

void ConsumerState::progress(uint64_t sseq, int64_t now) {
  auto it = pending_.find(sseq);
  if (it == pending_.end()) return;
  it->second.deadline = now + ack_wait_for(delivery_count(sseq));
}

int64_t ConsumerState::check_ack_deadlines(int64_t now) {
  int64_t earliest = 0;
  for (auto& [seq, p] : pending_) {
    if (rdq_set_.count(seq)) continue;
    if (p.deadline <= now) {
      // Past max_deliver it still queues: next() drops it from pending, as the reference.
      rdq_set_.insert(seq);
      rdq_.push_back(seq);
    } else if (p.deadline != kNever && (earliest == 0 || p.deadline < earliest)) {
      earliest = p.deadline;
    }
  }
  return earliest;
}

void ConsumerState::record_delivery(uint64_t sseq, uint64_t cseq, uint64_t dc, int64_t ts) {
  if (cseq <= adflr_) return;  // older than the ack floor: a replayed entry
  dseq_ = std::max(dseq_, cseq + 1);
  if (dc <= 1) sseq_ = std::max(sseq_, sseq + 1);
  npc_valid_ = false;
  if (cfg_.ack_policy == AckPolicy::none) {
    adflr_ = std::max(adflr_, cseq);
    asflr_ = std::max(asflr_, sseq);
    return;
  }
  if (dc > 1) rdc_[sseq] = dc - 1;
  if (auto it = pending_.find(sseq); it != pending_.end() && dc > 1) {
    // A redelivery: the first delivery's sequence stays (as next() on the leader).
    it->second.deliver_ts = ts;
    it->second.deadline = ts + ack_wait_for(dc);
    return;
  }
  pending_[sseq] = PendingAck{cseq, ts, ts + ack_wait_for(dc)};
}

void ConsumerState::set_deadline(uint64_t sseq, int64_t deadline) {
  if (auto it = pending_.find(sseq); it != pending_.end()) it->second.deadline = deadline;
}

void ConsumerState::set_start(uint64_t sseq) {
  if (dseq_ != 1 || sseq == 0) return;  // something was delivered: the start is history
  sseq_ = sseq;
  npc_valid_ = false;
}

void ConsumerState::on_new_message(uint64_t seq, std::string_view subject) {
  if (seq < sseq_ || !filter_matches(subject)) return;
  if (npc_valid_) ++npc_;
}

void ConsumerState::on_purged(uint64_t first_seq) {
  while (!pending_.empty() && pending_.begin()->first < first_seq) remove_pending(pending_.begin()->first);
  while (!lss_.empty() && lss_.front() < first_seq) lss_.pop_front();
  if (sseq_ < first_seq) sseq_ = first_seq;
  if (asflr_ + 1 < first_seq) {
    asflr_ = first_seq - 1;
    adflr_ = dseq_ - 1;
    if (!pending_.empty()) adflr_ = std::min(adflr_, pending_.begin()->second.cseq - 1);
  }
  npc_valid_ = false;
}

uint64_t ConsumerState::num_pending() {
  uint64_t count = 0;
  uint64_t from = sseq_;
  if (!lss_.empty()) {
    count = lss_.size();
    from = lss_.back() + 1;
  }
  StoreState st = store_.fast_state();
  if (st.msgs > 0 && from <= st.last_seq) {
    from = std::max(from, st.first_seq);
    if (!filtered_) {
      // The deleted list (a walk over the index) only when gaps lie past the front.
      if (from == st.first_seq) {
        count += st.msgs;
      } else if (st.num_deleted == 0) {
        count += st.last_seq - from + 1;
      } else {
        st = store_.state();
        count += (st.last_seq - from + 1) - st.deleted.count_from(from);
      }
    } else {
      // Per-subject counts are exact when every matching subject starts at or after `from`;
      // otherwise walk the matching messages.
      auto subs = store_.subjects_state(cfg_.filter_subject);
      bool all_after = true;
      uint64_t sum = 0;
      for (auto& [s, ss] : subs) {
        if (ss.last < from) continue;
        if (ss.first < from) {
          all_after = false;
          break;
        }
        sum += ss.msgs;
      }
      if (all_after) {
        count += sum;
      } else {
        StoredMsg m;
        uint64_t seq = from;
        while (store_.load_next_msg(cfg_.filter_subject, seq, m) == StoreErr::ok) {
          ++count;
          seq = m.seq + 1;
        }
      }
    }
  }
  npc_ = static_cast<int64_t>(count);
  npc_valid_ = true;
  return count;
}

bool ConsumerState::needs_ack(uint64_t seq, std::string_view subject) const {
  if (!filter_matches(subject)) return false;
  if (seq <= asflr_) return false;
  if (cfg_.ack_policy != AckPolicy::explicit_ack) return true;
  if (seq >= sseq_) return true;
  return pending_.count(seq) > 0;
}

}  // namespace nats::jetstream
