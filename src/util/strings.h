#pragma once
// Small string helpers shared across components.
#include <string>
#include <string_view>

namespace nats::util {

// ASCII lower case (config keys, header names, JWT fields are ASCII; no locale involved).
inline std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

}  // namespace nats::util
