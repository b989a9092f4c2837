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
  // One row per item: the label on the first, continuation rows (no label) for the rest.
  void add_list(const std::string& label, const std::vector<std::string>& values) {
    for (size_t i = 0; i < values.size(); ++i) add(i == 0 ? label : "", values[i]);
  }
  void section(const std::string& title) { rows_.push_back({1, title, ""}); }
  std::string render() const;

 private:
  struct Row { int kind; std::string label, value; };
  std::string heading_;
  std::vector<Row> rows_;
};

}  // namespace nats::cli
