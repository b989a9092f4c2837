#pragma once
// Copying a possibly empty byte range. An empty std::string_view may have a null data()
// pointer, and memcpy's arguments must never be null even when the length is zero
// (undefined behaviour that UBSan reports), so empty copies are skipped.
#include <cstring>
#include <string_view>

namespace nats::util {

// Copies `s` to `dst` and returns the position just past it.
inline char* copy_bytes(char* dst, std::string_view s) {
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  return dst + s.size();
}

}  // namespace nats::util
