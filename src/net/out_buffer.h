// A connection's pending output: a list of large chunks that many small messages are
// coalesced into, written with writev. Not thread-safe; the owner locks around it.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <string_view>

namespace nats::net {

class OutBuffer {
 public:
  static constexpr size_t kChunkSize = 32 * 1024;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void append(const void* p, size_t n) {
    if (n == 0) return;
    if (chunks_.empty() || chunks_.back().cap - chunks_.back().len < n) {
      if (!chunks_.empty() && chunks_.back().cap - chunks_.back().len > 0 && n > kChunkSize) {
        // Large write: fill the tail first so small messages stay coalesced.
        size_t room = chunks_.back().cap - chunks_.back().len;
        append_to_tail(p, room);
        p = static_cast<const char*>(p) + room;
        n -= room;
      }
      new_chunk(n);
    }
    append_to_tail(p, n);
  }
  void append(std::string_view s) { append(s.data(), s.size()); }

  // Moves everything into `out` (appended at its end), leaving this empty.
  void move_to(OutBuffer& out) {
    for (auto& c : chunks_) out.chunks_.push_back(std::move(c));
    out.size_ += size_;
    chunks_.clear();
    size_ = 0;
  }
  // Puts `front` (left over from a partial write) before everything buffered here.
  void prepend(OutBuffer& front) {
    for (auto it = front.chunks_.rbegin(); it != front.chunks_.rend(); ++it) chunks_.push_front(std::move(*it));
    size_ += front.size_;
    front.chunks_.clear();
    front.size_ = 0;
  }

  // Fills iov with up to max entries; returns the count.
  int fill_iov(struct iovec* iov, int max) const {
    int n = 0;
    for (auto& c : chunks_) {
      if (n == max) break;
      iov[n].iov_base = c.data.get() + c.off;
      iov[n].iov_len = c.len - c.off;
      ++n;
    }
    return n;
  }
  // Drops n written bytes from the front.
  void consume(size_t n) {
    size_ -= n;
    while (n > 0) {
      auto& c = chunks_.front();
      size_t avail = c.len - c.off;
      if (n >= avail) {
        n -= avail;
        recycle(std::move(chunks_.front()));
        chunks_.pop_front();
      } else {
        c.off += n;
        n = 0;
      }
    }
  }
  void clear() {
    chunks_.clear();
    size_ = 0;
  }

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t cap = 0, len = 0, off = 0;
  };
  void new_chunk(size_t need) {
    if (need <= kChunkSize && spare_.data) {
      chunks_.push_back(std::move(spare_));
      spare_ = Chunk{};
      return;
    }
    size_t cap = need > kChunkSize ? need : kChunkSize;
    chunks_.push_back(Chunk{std::unique_ptr<char[]>(new char[cap]), cap, 0, 0});
  }
  void append_to_tail(const void* p, size_t n) {
    auto& c = chunks_.back();
    std::memcpy(c.data.get() + c.len, p, n);
    c.len += n;
    size_ += n;
  }
  void recycle(Chunk&& c) {
    if (c.cap == kChunkSize && !spare_.data) {
      c.len = c.off = 0;
      spare_ = std::move(c);
    }
  }
  std::deque<Chunk> chunks_;
  Chunk spare_;
  size_t size_ = 0;
};

}  // namespace nats::net
