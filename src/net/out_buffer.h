// A connection's pending output: a list of chunks that many small messages are coalesced
// into, written with writev. Not thread-safe; the owner locks around it.
//
// Memory follows traffic: a connection's chunks are small (an idle client holds about 1 KB,
// not a full chunk) until one overflows within a flush; from then on they are kChunkSize.
// One drained full-size chunk is kept as a spare so a busy connection does not allocate per
// flush. Small chunks are not kept: an idle client then holds no chunk at all once its output
// is written (1 KB per connection with tens of thousands of them), and a small chunk comes
// back from the allocator's per-thread cache cheaply.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace nats::net {

class OutBuffer {
 public:
  static constexpr size_t kChunkSize = 32 * 1024;
  static constexpr size_t kFirstChunkSize = 1024;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Whether anything is allocated (a chunk, the spare, the chunk list): an idle connection's
  // drained buffers hold nothing unless a burst made them full-size.
  bool holds_memory() const { return chunks_.capacity() > 0 || spare_.data != nullptr; }

  void append(const void* p, size_t n) {
    if (n == 0) return;
    if (live() == 0 || tail().cap - tail().len < n) {
      if (live() > 0 && tail().cap - tail().len > 0 && n > kChunkSize) {
        // Large write: fill the tail first so small messages stay coalesced.
        size_t room = tail().cap - tail().len;
        append_to_tail(p, room);
        p = static_cast<const char*>(p) + room;
        n -= room;
      }
      new_chunk(n);
    }
    append_to_tail(p, n);
  }
  void append(std::string_view s) { append(s.data(), s.size()); }

  // Moves everything into `out` (appended at its end), leaving this empty. The spare chunk
  // `out` kept from its last drain comes back here, where appends happen.
  void move_to(OutBuffer& out) {
    for (size_t i = head_; i < chunks_.size(); ++i) out.chunks_.push_back(std::move(chunks_[i]));
    out.size_ += size_;
    drop_written();
    size_ = 0;
    if (out.spare_.data && (!spare_.data || out.spare_.cap > spare_.cap)) spare_ = std::move(out.spare_);
    out.spare_ = Chunk{};
  }
  // Puts `front` (left over from a partial write) before everything buffered here.
  void prepend(OutBuffer& front) {
    std::vector<Chunk> merged;
    merged.reserve(front.live() + live());
    for (size_t i = front.head_; i < front.chunks_.size(); ++i) merged.push_back(std::move(front.chunks_[i]));
    for (size_t i = head_; i < chunks_.size(); ++i) merged.push_back(std::move(chunks_[i]));
    chunks_ = std::move(merged);
    head_ = 0;
    size_ += front.size_;
    front.chunks_.clear();
    front.head_ = 0;
    front.size_ = 0;
  }

  // Fills iov with up to max entries; returns the count.
  int fill_iov(struct iovec* iov, int max) const {
    int n = 0;
    for (size_t i = head_; i < chunks_.size() && n < max; ++i, ++n) {
      const Chunk& c = chunks_[i];
      iov[n].iov_base = c.data.get() + c.off;
      iov[n].iov_len = c.len - c.off;
    }
    return n;
  }
  // Drops n written bytes from the front.
  void consume(size_t n) {
    size_ -= n;
    while (n > 0) {
      Chunk& c = chunks_[head_];
      size_t avail = c.len - c.off;
      if (n >= avail) {
        n -= avail;
        recycle(std::move(c));
        ++head_;
      } else {
        c.off += n;
        n = 0;
      }
    }
    if (head_ == chunks_.size()) {
      drop_written();
    } else if (head_ >= 64 && head_ * 2 >= chunks_.size()) {
      // A slow reader drains a long list: drop the written slots in one move.
      chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // For a connection gone quiet: frees the spare chunk and starts small again.
  void release_spare() {
    spare_ = Chunk{};
    next_cap_ = kFirstChunkSize;
  }
  void clear() {
    chunks_.clear();
    head_ = 0;
    size_ = 0;
  }

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t cap = 0, len = 0, off = 0;
  };
  size_t live() const { return chunks_.size() - head_; }
  Chunk& tail() { return chunks_.back(); }
  // Empties the chunk list; a list of one slot (the usual quiet connection) is freed too.
  void drop_written() {
    if (chunks_.capacity() <= 1) std::vector<Chunk>().swap(chunks_);
    else chunks_.clear();
    head_ = 0;
  }

  void new_chunk(size_t need) {
    // Overflowing a chunk within one flush means this connection is busy: full-size chunks
    // from now on (growing step by step costs a busy connection many small chunks).
    if (live() > 0) next_cap_ = kChunkSize;
    if (spare_.data && spare_.cap >= need && spare_.cap >= next_cap_) {
      chunks_.push_back(std::move(spare_));
      spare_ = Chunk{};
      return;
    }
    size_t cap = std::max(need, next_cap_);
    chunks_.push_back(Chunk{std::unique_ptr<char[]>(new char[cap]), cap, 0, 0});
  }
  void append_to_tail(const void* p, size_t n) {
    Chunk& c = tail();
    std::memcpy(c.data.get() + c.len, p, n);
    c.len += n;
    size_ += n;
  }
  void recycle(Chunk&& c) {
    if (c.cap > kFirstChunkSize && c.cap <= kChunkSize && (!spare_.data || c.cap > spare_.cap)) {
      c.len = c.off = 0;
      spare_ = std::move(c);
    }
  }
  std::vector<Chunk> chunks_;  // [head_, size) are live; the slots before were written
  size_t head_ = 0;
  size_t size_ = 0;
  size_t next_cap_ = kFirstChunkSize;
  Chunk spare_;
};

}  // namespace nats::net
