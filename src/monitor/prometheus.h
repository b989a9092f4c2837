// The Prometheus text exposition format (version 0.0.4), for /metrics. Samples are added in
// any order and rendered grouped by family, each family once with its # HELP and # TYPE
// lines, so that a caller walking servers, accounts and streams in its own order still
// produces a valid exposition (a family split in two is refused by Prometheus).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nats::prometheus {

enum class Type { gauge, counter };

using Labels = std::vector<std::pair<std::string, std::string>>;

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool valid_label_name(std::string_view name);
// Backslash, double quote and newline escaped as the format requires.
std::string escape_label_value(std::string_view v);
// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view v);
// Integers without a fraction or exponent; others shortest round-trip; NaN, +Inf, -Inf.
std::string format_value(double v);

class Writer {
 public:
  // Declares a family; adding a sample to an undeclared family throws std::logic_error, as
  // does an invalid metric or label name or a family declared twice with another type.
  void family(const std::string& name, const std::string& help, Type type);
  void add(const std::string& name, const Labels& labels, double value);
  void add(const std::string& name, double value) { add(name, {}, value); }
  // Families in declaration order; a family with no sample is left out.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    Type type;
    std::vector<std::string> lines;
  };
  std::vector<std::string> order_;
  std::map<std::string, Family> families_;
};

}  // namespace nats::prometheus
