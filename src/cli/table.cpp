#include "cli/table.h"

#include <algorithm>

namespace nats::cli {

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

namespace {
std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}
std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

std::string Table::render() const {
  size_t ncols = headers_.size();
  for (auto& r : rows_) ncols = std::max(ncols, r.size());
  ncols = std::max(ncols, footer_.size());
  if (ncols == 0) return "";

  std::vector<bool> numeric(ncols, true);
  for (auto& r : rows_)
    for (size_t c = 0; c < ncols; ++c)
      if (c < r.size() && !r[c].numeric) numeric[c] = false;
  std::vector<Cell> footer = footer_;
  for (auto& f : footer) f.text = upper(f.text);

  std::vector<size_t> width(ncols, 0);
  auto measure = [&](const std::vector<Cell>& r) {
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], display_width(r[c].text));
  };
  measure(headers_);
  for (auto& r : rows_) measure(r);
  measure(footer);

  size_t inner = ncols - 1;
  for (auto w : width) inner += w + 2;
  // A title wider than the columns widens the last column, as go-pretty does.
  if (!title_.empty() && display_width(title_) + 2 > inner) {
    width[ncols - 1] += display_width(title_) + 2 - inner;
    inner = display_width(title_) + 2;
  }

  auto rule = [&](const char* l, const char* m, const char* r) {
    std::string s = l;
    for (size_t c = 0; c < ncols; ++c) {
      if (c) s += m;
      s += repeat("─", width[c] + 2);
    }
    return s + r + "\n";
  };
  auto line = [&](const std::vector<Cell>& r) {
    std::string s = "│";
    for (size_t c = 0; c < ncols; ++c) {
      std::string t = c < r.size() ? r[c].text : "";
      size_t pad = width[c] - display_width(t);
      s += " ";
      if (numeric[c]) s += std::string(pad, ' ') + t;
      else s += t + std::string(pad, ' ');
      s += " │";
    }
    return s + "\n";
  };

  std::string out;
  if (!title_.empty()) {
    size_t rem = inner - display_width(title_);
    size_t left = (rem + 1) / 2;
    out += "╭" + repeat("─", inner) + "╮\n";
    out += "│" + std::string(left, ' ') + title_ + std::string(rem - left, ' ') + "│\n";
    out += rule("├", "┬", "┤");
  } else {
    out += rule("╭", "┬", "╮");
  }
  if (!headers_.empty()) {
    out += line(headers_);
    out += rule("├", "┼", "┤");
  }
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (i > 0 && std::find(separators_.begin(), separators_.end(), i) != separators_.end())
      out += rule("├", "┼", "┤");
    out += line(rows_[i]);
  }
  if (!footer.empty()) {
    out += rule("├", "┼", "┤");
    out += line(footer);
  }
  out += rule("╰", "┴", "╯");
  return out;
}

}  // namespace nats::cli
