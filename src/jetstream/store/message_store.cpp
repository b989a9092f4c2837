#include "jetstream/store/message_store.h"

#include <algorithm>
#include <chrono>

#include "subject/subject.h"

namespace nats::jetstream {

const char* store_err_text(StoreErr e) {
  switch (e) {
    case StoreErr::ok: return "ok";
    case StoreErr::closed: return "store is closed";
    case StoreErr::not_found: return "no message found";
    case StoreErr::eof: return "stream store EOF";
    case StoreErr::max_msgs: return "maximum messages exceeded";
    case StoreErr::max_bytes: return "maximum bytes exceeded";
    case StoreErr::max_msgs_per_subject: return "maximum messages per subject exceeded";
    // The stream-level text the client sees (the store's own text has a typo).
    case StoreErr::msg_too_large: return "message size exceeds maximum allowed";
    case StoreErr::io: return "i/o error";
  }
  return "unknown";
}

int64_t system_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool store_filter_matches(std::string_view filter, std::string_view subject) {
  if (filter.empty() || filter == ">") return true;
  if (!subject_has_wildcard(filter)) return filter == subject;
  return subject_matches(filter, subject);
}

void DeletedSeqs::add_run(uint64_t first, uint64_t last) {
  if (!runs_.empty() && first <= runs_.back().second + 1) {
    runs_.back().second = std::max(runs_.back().second, last);
    return;
  }
  runs_.emplace_back(first, last);
}

uint64_t DeletedSeqs::count() const {
  uint64_t n = 0;
  for (auto& [f, l] : runs_) n += l - f + 1;
  return n;
}

uint64_t DeletedSeqs::count_from(uint64_t from) const {
  auto it = std::lower_bound(runs_.begin(), runs_.end(), from,
                             [](const std::pair<uint64_t, uint64_t>& r, uint64_t s) { return r.second < s; });
  uint64_t n = 0;
  for (; it != runs_.end(); ++it) n += it->second - std::max(it->first, from) + 1;
  return n;
}

std::vector<uint64_t> DeletedSeqs::expand() const {
  std::vector<uint64_t> out;
  out.reserve(count());
  for (auto& [f, l] : runs_)
    for (uint64_t s = f; s <= l; ++s) out.push_back(s);
  return out;
}

uint64_t first_seq_at_or_after(MessageStore& store, int64_t ts_ns) {
  StoredMsg m;
  uint64_t last = store.last_seq();
  if (last == 0 || store.load_next_msg({}, 0, m) != StoreErr::ok) return 0;
  if (m.ts >= ts_ns) return m.seq;
  // reached(x): the first message at or after x is at least ts_ns old, or there is none.
  // It is false at lo and true at hi, and (times growing with sequences) monotone between.
  auto reached = [&](uint64_t x) { return store.load_next_msg({}, x, m) != StoreErr::ok || m.ts >= ts_ns; };
  uint64_t lo = m.seq, hi = last + 1;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  if (store.load_next_msg({}, hi, m) != StoreErr::ok || m.ts < ts_ns) return 0;
  return m.seq;
}

}  // namespace nats::jetstream
