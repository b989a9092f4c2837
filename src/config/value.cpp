#include "config/value.h"

namespace nats::config {

namespace {
std::string format_error(const Position& p, const std::string& msg) {
  return p.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " + msg;
}
}  // namespace

ConfigError::ConfigError(Position pos, std::string message)
    : std::runtime_error(format_error(pos, message)),
      pos_(std::move(pos)),
      message_(std::move(message)) {}

static std::string join_errors(const std::vector<ConfigError>& all) {
  std::string s;
  for (const auto& e : all) {
    if (!s.empty()) s += "\n";
    s += e.what();
  }
  return s;
}

ConfigError::ConfigError(const std::vector<ConfigError>& all)
    : std::runtime_error(join_errors(all)),
      pos_(all.empty() ? Position{} : all.front().position()),
      message_(all.empty() ? std::string() : all.front().message()) {}

Value Value::make_map(Position pos) {
  Value v;
  v.type_ = Type::Map;
  v.pos_ = std::move(pos);
  return v;
}
Value Value::make_array(Position pos) {
  Value v;
  v.type_ = Type::Array;
  v.pos_ = std::move(pos);
  return v;
}
Value Value::make_string(std::string s, Position pos) {
  Value v;
  v.type_ = Type::String;
  v.string_ = std::move(s);
  v.pos_ = std::move(pos);
  return v;
}
Value Value::make_int(int64_t i, Position pos) {
  Value v;
  v.type_ = Type::Int;
  v.int_ = i;
  v.pos_ = std::move(pos);
  return v;
}
Value Value::make_float(double f, Position pos) {
  Value v;
  v.type_ = Type::Float;
  v.float_ = f;
  v.pos_ = std::move(pos);
  return v;
}
Value Value::make_bool(bool b, Position pos) {
  Value v;
  v.type_ = Type::Bool;
  v.bool_ = b;
  v.pos_ = std::move(pos);
  return v;
}

const char* Value::type_name() const {
  switch (type_) {
    case Type::Map: return "map";
    case Type::Array: return "array";
    case Type::String: return "string";
    case Type::Int: return "integer";
    case Type::Float: return "float";
    case Type::Bool: return "bool";
  }
  return "?";
}

static ConfigError type_error(const Value& v, const char* want) {
  return ConfigError(v.position(), std::string("expected ") + want + ", got " + v.type_name());
}

const std::string& Value::as_string() const {
  if (type_ != Type::String) throw type_error(*this, "string");
  return string_;
}
int64_t Value::as_int() const {
  if (type_ != Type::Int) throw type_error(*this, "integer");
  return int_;
}
double Value::as_float() const {
  if (type_ == Type::Int) return static_cast<double>(int_);
  if (type_ != Type::Float) throw type_error(*this, "float");
  return float_;
}
bool Value::as_bool() const {
  if (type_ != Type::Bool) throw type_error(*this, "bool");
  return bool_;
}
const std::vector<Value>& Value::as_array() const {
  if (type_ != Type::Array) throw type_error(*this, "array");
  return array_;
}
const std::vector<MapEntry>& Value::entries() const {
  if (type_ != Type::Map) throw type_error(*this, "map");
  return map_;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::Map) return nullptr;
  for (const auto& e : map_)
    if (e.key == key) return &e.value;
  return nullptr;
}

void Value::set(std::string key, Position key_pos, Value v) {
  for (auto& e : map_) {
    if (e.key == key) {
      e.key_pos = std::move(key_pos);
      e.value = std::move(v);
      e.used_as_variable = false;
      return;
    }
  }
  map_.push_back(MapEntry{std::move(key), std::move(key_pos), std::move(v), false});
}

}  // namespace nats::config
