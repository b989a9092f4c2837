#include "cli/columns.h"

#include <algorithm>

namespace nats::cli {

std::string Columns::render() const {
  size_t longest = 0;
  for (auto& r : rows_)
    if (r.kind == 0) longest = std::max(longest, r.label.size());
  std::string out;
  if (!heading_.empty()) out += heading_ + "\n\n";
  for (size_t i = 0; i < rows_.size(); ++i) {
    auto& r = rows_[i];
    if (r.kind == 1) {
      if (i != 0) out += "\n";
      out += r.label + ":\n\n";
      continue;
    }
    // An empty label continues the previous row (a list of URLs): no colon, value aligned.
    if (r.label.empty()) out += std::string(longest + 4, ' ') + r.value + "\n";
    else out += std::string(longest - r.label.size() + 2, ' ') + r.label + ": " + r.value + "\n";
  }
  return out;
}

}  // namespace nats::cli
