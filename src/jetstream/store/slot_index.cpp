#include "jetstream/store/slot_index.h"

#include <algorithm>
#include <cstring>

namespace nats::jetstream {

SlotIndex::Chunk& SlotIndex::chunk_of(size_t pos, uint32_t& off) {
  size_t abs = head_ + pos;
  off = static_cast<uint32_t>(abs & (kChunk - 1));
  return chunks_[abs >> kBits];
}

const SlotIndex::Chunk& SlotIndex::chunk_of(size_t pos, uint32_t& off) const {
  size_t abs = head_ + pos;
  off = static_cast<uint32_t>(abs & (kChunk - 1));
  return chunks_[abs >> kBits];
}

bool SlotIndex::chunk_gone(const Chunk& c, uint32_t off) {
  return c.all_gone || (c.gone && ((c.gone[off >> 6] >> (off & 63)) & 1));
}

void SlotIndex::mark_gone(Chunk& c, uint32_t off) {
  if (c.all_gone) return;
  if (!c.gone) c.gone = std::make_unique<uint64_t[]>(kWords);  // zeroed
  c.gone[off >> 6] |= uint64_t{1} << (off & 63);
  if (++c.removed == kChunk) {
    // Nothing of this chunk is left: keep only the flag.
    c.all_gone = true;
    c.subjs.reset();
    c.sizes.reset();
    c.gone.reset();
  }
}

SlotIndex::Slot SlotIndex::get(size_t i) const {
  uint32_t off;
  const Chunk& c = chunk_of(i, off);
  if (chunk_gone(c, off)) return Slot{};
  return Slot{c.subjs ? c.subjs[off] : c.subj, c.sizes ? c.sizes[off] : c.size};
}

bool SlotIndex::gone(size_t i) const {
  uint32_t off;
  const Chunk& c = chunk_of(i, off);
  return chunk_gone(c, off);
}

void SlotIndex::push_back(Slot s) {
  size_t abs = head_ + size_;
  if ((abs >> kBits) == chunks_.size()) chunks_.emplace_back();
  uint32_t off = static_cast<uint32_t>(abs & (kChunk - 1));
  Chunk& c = chunks_[abs >> kBits];
  ++size_;
  if (s.subj == kGone) {
    mark_gone(c, off);
    return;
  }
  // A value that differs from the chunk's uniform one turns that field into an array.
  auto put = [&](uint32_t& uniform, std::unique_ptr<uint32_t[]>& arr, uint32_t v) {
    if (arr) {
      arr[off] = v;
    } else if (uniform == kUnset) {
      uniform = v;
    } else if (uniform != v) {
      arr = std::make_unique_for_overwrite<uint32_t[]>(kChunk);
      std::fill(arr.get(), arr.get() + off, uniform);
      arr[off] = v;
    }
  };
  put(c.subj, c.subjs, s.subj);
  put(c.size, c.sizes, s.size);
}

void SlotIndex::push_run(Slot s, uint64_t count) {
  // Chunk by chunk: a uniform chunk only needs its values set once.
  while (count > 0) {
    size_t abs = head_ + size_;
    uint32_t off = static_cast<uint32_t>(abs & (kChunk - 1));
    uint64_t n = std::min<uint64_t>(count, kChunk - off);
    if (off == 0) {
      chunks_.emplace_back();
      chunks_.back().subj = s.subj;
      chunks_.back().size = s.size;
      size_ += n;
    } else {
      for (uint64_t k = 0; k < n; ++k) push_back(s);
    }
    count -= n;
  }
}

void SlotIndex::set_gone(size_t i) {
  uint32_t off;
  Chunk& c = chunk_of(i, off);
  if (!chunk_gone(c, off)) mark_gone(c, off);
}

void SlotIndex::pop_front() {
  if (size_ == 0) return;
  Chunk& c = chunks_.front();
  uint32_t off = static_cast<uint32_t>(head_);
  if (!chunk_gone(c, off)) mark_gone(c, off);
  ++head_;
  --size_;
  if (size_ == 0) {
    clear();
  } else if (head_ == kChunk) {
    chunks_.pop_front();
    head_ = 0;
  }
}

void SlotIndex::clear() {
  std::deque<Chunk>().swap(chunks_);
  head_ = 0;
  size_ = 0;
}

size_t SlotIndex::next_live(size_t i) const {
  while (i < size_) {
    uint32_t off;
    const Chunk& c = chunk_of(i, off);
    if (c.all_gone) {
      i += kChunk - off;
      continue;
    }
    if (!c.gone) return i;
    for (uint32_t w = off >> 6; w < kWords; ++w) {
      uint64_t live = ~c.gone[w];
      if (w == (off >> 6)) live &= ~uint64_t{0} << (off & 63);
      if (live) {
        size_t at = i + (w * 64 + static_cast<uint32_t>(__builtin_ctzll(live)) - off);
        return std::min(at, size_);
      }
    }
    i += kChunk - off;
  }
  return size_;
}

size_t SlotIndex::prev_live(size_t i) const {
  if (size_ == 0) return SIZE_MAX;
  if (i >= size_) i = size_ - 1;
  while (true) {
    uint32_t off;
    const Chunk& c = chunk_of(i, off);
    // Slots of this chunk at or below i: off + 1, fewer in the front chunk.
    size_t below = std::min<size_t>(off, i);
    if (!c.all_gone) {
      if (!c.gone) return i;
      for (size_t k = 0; k <= below; ++k)
        if (!chunk_gone(c, off - static_cast<uint32_t>(k))) return i - k;
    }
    if (i <= below) return SIZE_MAX;
    i -= below + 1;
  }
}

size_t SlotIndex::memory() const {
  size_t n = chunks_.size() * sizeof(Chunk);
  for (const Chunk& c : chunks_) {
    if (c.subjs) n += kChunk * sizeof(uint32_t);
    if (c.sizes) n += kChunk * sizeof(uint32_t);
    if (c.gone) n += kWords * sizeof(uint64_t);
  }
  return n;
}

}  // namespace nats::jetstream
