// Box tables drawn like natscli's go-pretty "rounded" style: centred title, header row,
// body rows, optional footer (upper-cased, as go-pretty does) and separators. Columns whose
// body cells are all numbers are right-aligned, the rest left-aligned, matching go-pretty's
// automatic alignment, so output lines up with the reference tool.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace nats::cli {

struct Cell {
  std::string text;
  bool numeric = false;
  Cell(const char* s) : text(s) {}
  Cell(std::string s) : text(std::move(s)) {}
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>>
  Cell(T v) : text(std::to_string(v)), numeric(true) {}
  Cell(bool b) : text(b ? "true" : "false") {}
};

class Table {
 public:
  explicit Table(std::string title = "") : title_(std::move(title)) {}
  void add_headers(std::vector<Cell> h) { headers_ = std::move(h); }
  void add_row(std::vector<Cell> r) { rows_.push_back(std::move(r)); }
  void add_separator() { separators_.push_back(rows_.size()); }
  void add_footer(std::vector<Cell> f) { footer_ = std::move(f); }
  size_t row_count() const { return rows_.size(); }
  // Full rendering, each line (including the last) ending in '\n'.
  std::string render() const;

 private:
  std::string title_;
  std::vector<Cell> headers_;
  std::vector<std::vector<Cell>> rows_;
  std::vector<Cell> footer_;
  std::vector<size_t> separators_;
};

// Number of terminal columns a UTF-8 string takes (one per code point).
size_t display_width(const std::string& s);

}  // namespace nats::cli
