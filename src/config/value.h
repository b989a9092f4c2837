// The tree a NATS config file parses into: maps, arrays and scalars, each remembering
// where it was written so later checks (types, unknown keys) can point at the line.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nats::config {

struct Position {
  std::string file;
  int line = 0;
  int column = 0;  // 1-based byte column
};

// Every config problem, from the lexer up to option checks. what() is
// "<file>:<line>:<col>: <message>" so it reads like a compiler diagnostic.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(Position pos, std::string message);
  // Several problems reported together (the reference lists every bad field):
  // position() and message() are the first one's, what() has one line per error.
  explicit ConfigError(const std::vector<ConfigError>& all);
  const Position& position() const { return pos_; }
  const std::string& message() const { return message_; }

 private:
  Position pos_;
  std::string message_;
};

class Value;

struct MapEntry;

class Value {
 public:
  enum class Type { Map, Array, String, Int, Float, Bool };

  Value() = default;
  static Value make_map(Position pos);
  static Value make_array(Position pos);
  static Value make_string(std::string s, Position pos);
  static Value make_int(int64_t v, Position pos);
  static Value make_float(double v, Position pos);
  static Value make_bool(bool v, Position pos);

  Type type() const { return type_; }
  bool is_map() const { return type_ == Type::Map; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_string() const { return type_ == Type::String; }
  bool is_int() const { return type_ == Type::Int; }
  bool is_float() const { return type_ == Type::Float; }
  bool is_bool() const { return type_ == Type::Bool; }

  // Accessors throw ConfigError at this value's position on a type mismatch.
  const std::string& as_string() const;
  int64_t as_int() const;
  double as_float() const;  // ints convert
  bool as_bool() const;
  const std::vector<Value>& as_array() const;
  const std::vector<MapEntry>& entries() const;

  // Map helpers. Keys are matched exactly; the reference lowercases keys where it
  // matches them, which the options loader does itself.
  const Value* find(std::string_view key) const;
  void set(std::string key, Position key_pos, Value v);  // replaces an existing key
  std::vector<MapEntry>& mutable_entries() { return map_; }
  std::vector<Value>& mutable_array() { return array_; }

  const Position& position() const { return pos_; }
  void set_position(Position p) { pos_ = std::move(p); }

  // "map", "array", "string", "integer", "float", "bool": used in error messages.
  const char* type_name() const;

 private:
  Type type_ = Type::String;
  Position pos_;
  int64_t int_ = 0;
  double float_ = 0;
  bool bool_ = false;
  std::string string_;
  std::vector<Value> array_;
  std::vector<MapEntry> map_;
};

struct MapEntry {
  std::string key;
  Position key_pos;
  Value value;
  // Set when a `$name` reference read this entry: the reference server does not
  // report such entries as unknown fields, since they were variable definitions.
  bool used_as_variable = false;
};

}  // namespace nats::config
