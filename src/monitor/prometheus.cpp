#include "monitor/prometheus.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace nats::prometheus {

namespace {
bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}
}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, false)) return false;
  return true;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Counters up to 2^53 print as plain integers (no "1e+06" for a million messages).
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void Writer::family(const std::string& name, const std::string& help, Type type) {
  if (!valid_metric_name(name)) throw std::logic_error("invalid metric name: " + name);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.type != type) throw std::logic_error("metric declared twice with two types: " + name);
    return;
  }
  families_[name] = Family{help, type, {}};
  order_.push_back(name);
}

void Writer::add(const std::string& name, const Labels& labels, double value) {
  auto it = families_.find(name);
  if (it == families_.end()) throw std::logic_error("undeclared metric: " + name);
  std::string line = name;
  if (!labels.empty()) {
    line += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!valid_label_name(labels[i].first)) throw std::logic_error("invalid label name: " + labels[i].first);
      if (i) line += ',';
      line += labels[i].first + "=\"" + escape_label_value(labels[i].second) + '"';
    }
    line += '}';
  }
  line += ' ' + format_value(value);
  it->second.lines.push_back(std::move(line));
}

std::string Writer::render() const {
  std::string out;
  for (const auto& name : order_) {
    const Family& f = families_.at(name);
    if (f.lines.empty()) continue;
    out += "# HELP " + name + ' ' + escape_help(f.help) + '\n';
    out += "# TYPE " + name + (f.type == Type::counter ? " counter\n" : " gauge\n");
    for (const auto& l : f.lines) out += l + '\n';
  }
  return out;
}

}  // namespace nats::prometheus
