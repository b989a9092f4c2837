#pragma once
// Reading optional fields of JSON from peers (INFO/CONNECT, $SYS messages) without throwing:
// a missing field or one of another type reads as empty.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nats::util {

inline std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A boolean field; false when absent or of another type.
inline bool bool_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// The strings of an array field (other elements skipped); empty when absent.
inline std::vector<std::string> string_array(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array())
    for (auto& x : *it)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

}  // namespace nats::util
