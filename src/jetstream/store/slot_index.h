#pragma once
// The per-sequence index of a stream store (subject id and accounted size of each sequence
// from the store's first), kept compact: sequences are grouped in chunks of 4096, and a chunk
// stores per-message arrays only for what varies inside it.
// - A chunk whose live messages share one subject and one size (one subject, fixed-size
//   messages: the common stream) holds the two values once: a few dozen bytes for 4096
//   messages instead of 32 KiB.
// - Subjects (KV, many subjects) or sizes that vary get a u32 array each (4 bytes a message).
// - Removed sequences are a bitmap (512 bytes a chunk), allocated on the chunk's first removal;
//   once every sequence of a chunk is removed its arrays and bitmap are released.
// Sequences are addressed by position from the front (position 0 is the store's first slot).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>

namespace nats::jetstream {

class SlotIndex {
 public:
  static constexpr uint32_t kGone = UINT32_MAX;  // subject of a removed (or skipped) sequence
  struct Slot {
    uint32_t subj = kGone;
    uint32_t size = 0;
  };

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Slot get(size_t i) const;
  bool gone(size_t i) const;
  void push_back(Slot s);
  // Marks a live slot removed (its subject becomes kGone).
  void set_gone(size_t i);
  void pop_front();
  void clear();
  // First position >= i that is live, or size() when none.
  size_t next_live(size_t i) const;
  // Last position <= i that is live, or SIZE_MAX when none (i < size()).
  size_t prev_live(size_t i) const;
  // Calls f(position) for every removed slot, in order; chunks without removals cost O(1).
  template <typename F>
  void for_each_gone(F&& f) const {
    for (size_t ci = 0; ci < chunks_.size(); ++ci) {
      const Chunk& c = chunks_[ci];
      if (!c.all_gone && !c.gone) continue;
      size_t start = ci * kChunk;  // absolute position of the chunk's slot 0
      for (uint32_t off = 0; off < kChunk; ++off) {
        size_t abs = start + off;
        if (abs < head_) continue;
        if (abs - head_ >= size_) return;
        if (c.all_gone || ((c.gone[off >> 6] >> (off & 63)) & 1)) f(abs - head_);
      }
    }
  }
  // Calls f(first, last) for every run of removed slots (positions, inclusive), in order;
  // a chunk with every slot removed is one step, a chunk without removals costs O(1).
  template <typename F>
  void for_each_gone_run(F&& f) const {
    size_t run_first = 0, run_last = 0;
    bool open = false;
    auto add = [&](size_t a, size_t b) {
      if (open && a == run_last + 1) {
        run_last = b;
        return;
      }
      if (open) f(run_first, run_last);
      run_first = a;
      run_last = b;
      open = true;
    };
    for (size_t ci = 0; ci < chunks_.size(); ++ci) {
      const Chunk& c = chunks_[ci];
      if (!c.all_gone && !c.gone) continue;
      size_t start = ci * kChunk;  // absolute position of the chunk's slot 0
      size_t lo = start < head_ ? head_ : start;
      size_t hi = std::min(start + kChunk, head_ + size_);  // one past
      if (lo >= hi) continue;
      if (c.all_gone) {
        add(lo - head_, hi - 1 - head_);
        continue;
      }
      for (size_t abs = lo; abs < hi; ++abs) {
        uint32_t off = static_cast<uint32_t>(abs - start);
        if ((c.gone[off >> 6] >> (off & 63)) & 1) add(abs - head_, abs - head_);
      }
    }
    if (open) f(run_first, run_last);
  }
  // Appends count live slots with the same subject and size.
  void push_run(Slot s, uint64_t count);
  // Heap bytes held (tests, diagnostics).
  size_t memory() const;

 private:
  static constexpr uint32_t kBits = 12;
  static constexpr uint32_t kChunk = 1u << kBits;
  static constexpr uint32_t kWords = kChunk / 64;
  static constexpr uint32_t kUnset = UINT32_MAX - 1;  // uniform value not chosen yet
  struct Chunk {
    uint32_t subj = kUnset;  // the live slots' subject when subjs is null
    uint32_t size = kUnset;  // the live slots' size when sizes is null
    uint32_t removed = 0;    // removed slots among those pushed (all_gone: every slot)
    bool all_gone = false;   // every slot of the chunk removed: nothing else allocated
    std::unique_ptr<uint32_t[]> subjs;
    std::unique_ptr<uint32_t[]> sizes;
    std::unique_ptr<uint64_t[]> gone;  // bit per slot: removed
  };
  Chunk& chunk_of(size_t pos, uint32_t& off);
  const Chunk& chunk_of(size_t pos, uint32_t& off) const;
  static bool chunk_gone(const Chunk& c, uint32_t off);
  static void mark_gone(Chunk& c, uint32_t off);

  std::deque<Chunk> chunks_;
  size_t head_ = 0;  // position of slot 0 inside chunks_.front()
  size_t size_ = 0;
};

}  // namespace nats::jetstream
