// natscli's "columns" layout: a heading, a blank line, then right-aligned "Label: value" rows.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace nats::cli {

class Columns {
 public:
  explicit Columns(std::string heading) : heading_(std::move(heading)) {}
  void add(const std::string& label, const std::string& value) { rows_.push_back({0, label, value}); }
  void add_if_not_empty(const std::string& label, const std::string& value) { if (!value.empty()) add(label, value); }
  void section(const std::string& title) { rows_.push_back({1, title, ""}); }
  std::string render() const;

 private:
  struct Row { int kind; std::string label, value; };
  std::string heading_;
  std::vector<Row> rows_;
};

}  // namespace nats::cli
