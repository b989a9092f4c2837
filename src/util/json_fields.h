#pragma once
// Reading optional fields of JSON from peers (INFO/CONNECT, $SYS messages) without throwing:
// a missing field or one of another type reads as empty.
#include <string>

#include <nlohmann/json.hpp>

namespace nats::util {

inline std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace nats::util
