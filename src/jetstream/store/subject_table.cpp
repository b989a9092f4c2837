#include "jetstream/store/subject_table.h"

#include <functional>

namespace nats::jetstream {

size_t SubjectTable::hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }

uint32_t SubjectTable::find(std::string_view name) const {
  if (slots_.empty() || name.empty()) return kNone;
  const size_t mask = slots_.size() - 1;
  for (size_t i = home(name);; i = (i + 1) & mask) {
    uint32_t id = slots_[i];
    if (id == kNone) return kNone;
    if (this->name(id) == name) return id;
  }
}

uint32_t SubjectTable::intern(std::string_view name, bool* added) {
  if (added) *added = false;
  uint32_t found = find(name);
  if (found != kNone) return found;
  if (added) *added = true;
  // Load factor at most 3/4: probes stay short, and the table costs 5.3 to 10.7 bytes a name.
  if ((live_ + 1) * 4 > slots_.size() * 3) grow();
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<uint32_t>(refs_.size());
    refs_.emplace_back();
  }
  refs_[id] = Ref{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(name.size())};
  arena_.append(name);
  const size_t mask = slots_.size() - 1;
  size_t i = home(name);
  while (slots_[i] != kNone) i = (i + 1) & mask;
  slots_[i] = id;
  ++live_;
  return id;
}

void SubjectTable::release(uint32_t id) {
  if (!live(id)) return;
  std::string_view n = name(id);
  const size_t mask = slots_.size() - 1;
  size_t i = home(n);
  while (slots_[i] != id) i = (i + 1) & mask;
  // Backward-shift deletion: later members of the probe run move up, so no tombstones.
  for (size_t j = (i + 1) & mask; slots_[j] != kNone; j = (j + 1) & mask) {
    size_t h = home(name(slots_[j]));
    // slots_[j] may fill the hole at i when its home is not cyclically in (i, j].
    bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = kNone;
  garbage_ += refs_[id].len;
  refs_[id] = Ref{};
  free_.push_back(id);
  --live_;
  if (live_ == 0) {
    clear();
  } else if (garbage_ > 4096 && garbage_ * 2 > arena_.size()) {
    compact_arena();
  }
}

void SubjectTable::grow() {
  std::vector<uint32_t> old(slots_.empty() ? 16 : slots_.size() * 2, kNone);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (uint32_t id : old) {
    if (id == kNone) continue;
    size_t i = home(name(id));
    while (slots_[i] != kNone) i = (i + 1) & mask;
    slots_[i] = id;
  }
}

void SubjectTable::compact_arena() {
  std::string fresh;
  fresh.reserve(arena_.size() - garbage_);
  for (Ref& r : refs_) {
    if (r.len == 0) continue;
    uint32_t off = static_cast<uint32_t>(fresh.size());
    fresh.append(arena_, r.off, r.len);
    r.off = off;
  }
  arena_.swap(fresh);
  garbage_ = 0;
}

void SubjectTable::clear() {
  std::vector<Ref>().swap(refs_);
  std::string().swap(arena_);
  std::vector<uint32_t>().swap(slots_);
  std::vector<uint32_t>().swap(free_);
  garbage_ = 0;
  live_ = 0;
}

size_t SubjectTable::memory() const {
  // An empty std::string's capacity is its inline buffer, not heap.
  size_t arena = arena_.capacity() > std::string().capacity() ? arena_.capacity() : 0;
  return refs_.capacity() * sizeof(Ref) + arena + slots_.capacity() * 4 + free_.capacity() * 4;
}

}  // namespace nats::jetstream
