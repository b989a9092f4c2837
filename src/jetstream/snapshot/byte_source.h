#pragma once
// The pull source that the snapshot readers (s2::Unframer, tar::Reader) read from: it fills up
// to n bytes and returns how many, fewer only at its end. Both formats need whole headers and
// chunks, so both read through read_full() instead of each repeating the loop.
#include <cstddef>
#include <functional>

namespace nats::jetstream::snapshot {

using ByteSource = std::function<size_t(char*, size_t)>;

// Reads from src until n bytes are in dst or src ends; returns how many were read.
inline size_t read_full(const ByteSource& src, char* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t k = src(dst + got, n - got);
    if (k == 0) break;
    got += k;
  }
  return got;
}

}  // namespace nats::jetstream::snapshot
