// Argument-level helpers for the wire parser: the reference's size parsing and its two
// ways of splitting a control line into tokens, plus a view over routed queue names.
// They work on offsets so that parsed arguments survive the line being copied from the
// caller's read buffer into the parser's own buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string_view>

namespace nats::proto {

// A token as (offset, length) within its control line.
struct Span {
  uint32_t off = 0;
  uint32_t len = 0;
  std::string_view in(const char* base) const { return {base + off, len}; }
};

// Decimal, digits only, at most 9 digits (so at most 999,999,999); -1 otherwise. The
// reference refuses longer numbers the same way, which also keeps sizes within int32.
inline int64_t parse_size(std::string_view d) {
  if (d.empty() || d.size() > 9) return -1;
  int64_t n = 0;
  for (char c : d) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Splits a control line on separators. PUB/HPUB split on space and tab only; every other
// op (SUB, UNSUB, RS+, RMSG...) also treats CR and LF as separators. Only the first kHead
// and the last kTail tokens are kept: that is all any op needs (routed messages have an
// unbounded queue list in the middle, which is kept as one span instead).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Tokens::token_end assumes little-endian");

template <bool kCrLfSep>
struct Tokens {
  static constexpr size_t kHead = 6;
  static constexpr size_t kTail = 3;
  Span head[kHead];
  Span tail[kTail];
  size_t n = 0;

  static constexpr bool is_sep(char c) {
    return c == ' ' || c == '\t' || (kCrLfSep && (c == '\r' || c == '\n'));
  }

  // Bytes of `w` equal to `b` get their high bit set; the lowest set bit is exact (higher
  // ones may be false positives from borrows, so only the first match is used).
  static uint64_t match_byte(uint64_t w, uint8_t b) {
    const uint64_t y = w ^ (0x0101010101010101ULL * b);
    return (y - 0x0101010101010101ULL) & ~y & 0x8080808080808080ULL;
  }
  // Index of the first separator at or after i (or len), 8 bytes at a time: subjects are
  // the long tokens and this scan is most of the cost of a PUB line.
  static size_t token_end(const char* p, size_t i, size_t len) {
    while (i + 8 <= len) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      uint64_t m = match_byte(w, ' ') | match_byte(w, '\t');
      if constexpr (kCrLfSep) m |= match_byte(w, '\r') | match_byte(w, '\n');
      if (m != 0) return i + (static_cast<size_t>(__builtin_ctzll(m)) >> 3);
      i += 8;
    }
    while (i < len && !is_sep(p[i])) ++i;
    return i;
  }

  explicit Tokens(std::string_view s) {
    const size_t len = s.size();
    size_t i = 0;
    while (i < len) {
      while (i < len && is_sep(s[i])) ++i;
      if (i == len) break;
      size_t start = i;
      i = token_end(s.data(), i + 1, len);
      Span t{static_cast<uint32_t>(start), static_cast<uint32_t>(i - start)};
      if (n < kHead) head[n] = t;
      tail[n % kTail] = t;
      ++n;
    }
  }
  // Valid for idx < kHead or idx >= n - kTail (and idx < n).
  Span at(size_t idx) const { return idx < kHead ? head[idx] : tail[idx % kTail]; }
};

// The queue names of a routed message (`RMSG acc subj + reply q1 q2 size`), as one view
// over the names separated by whitespace. Iterating yields each name.
class QueueNames {
 public:
  QueueNames() = default;
  explicit QueueNames(std::string_view raw) : raw_(raw) {}

  std::string_view raw() const { return raw_; }
  bool empty() const { return raw_.empty(); }
  size_t count() const {
    size_t n = 0;
    for (auto it = begin(); it != end(); ++it) ++n;
    return n;
  }

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    iterator() = default;
    iterator(std::string_view rest) : rest_(rest) { advance(); }
    std::string_view operator*() const { return cur_; }
    iterator& operator++() { advance(); return *this; }
    iterator operator++(int) { iterator t = *this; advance(); return t; }
    bool operator==(const iterator& o) const {
      return cur_.data() == o.cur_.data() && cur_.size() == o.cur_.size();
    }
    bool operator!=(const iterator& o) const { return !(*this == o); }

   private:
    static bool sep(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
    void advance() {
      size_t i = 0;
      while (i < rest_.size() && sep(rest_[i])) ++i;
      if (i == rest_.size()) { cur_ = {}; rest_ = {}; return; }
      size_t s = i;
      while (i < rest_.size() && !sep(rest_[i])) ++i;
      cur_ = rest_.substr(s, i - s);
      rest_ = rest_.substr(i);
    }
    std::string_view rest_;
    std::string_view cur_;
  };

  iterator begin() const { return iterator(raw_); }
  iterator end() const { return iterator(); }

 private:
  std::string_view raw_;
};

}  // namespace nats::proto
