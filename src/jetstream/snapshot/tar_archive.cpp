#include "jetstream/snapshot/tar_archive.h"

#include <cstring>

#include <fmt/format.h>

namespace nats::jetstream::tar {

namespace {

constexpr size_t kBlock = 512;

void put_octal(char* field, size_t width, uint64_t v) {
  // width-1 octal digits and a NUL, as ustar.
  std::string s = fmt::format("{:0{}o}", v, width - 1);
  std::memcpy(field, s.data(), width - 1);
  field[width - 1] = '\0';
}

uint64_t get_octal(const char* field, size_t width, bool& ok) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < width && (field[i] == ' ' || field[i] == '\0')) ++i;
  if (i < width && (static_cast<unsigned char>(field[i]) & 0x80)) {  // GNU base-256
    v = static_cast<unsigned char>(field[i]) & 0x7f;
    for (++i; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return v;
  }
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) v = v * 8 + static_cast<uint64_t>(field[i] - '0');
  for (; i < width; ++i)
    if (field[i] != ' ' && field[i] != '\0') ok = false;
  return v;
}

std::string cstr(const char* field, size_t width) { return std::string(field, strnlen(field, width)); }

void pad(std::string& out) {
  if (size_t r = out.size() % kBlock) out.append(kBlock - r, '\0');
}

// PAX records: "<len> <key>=<value>\n", len counting the whole record.
std::string pax_record(std::string_view key, std::string_view value) {
  size_t body = 1 + key.size() + 1 + value.size() + 1;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return fmt::format("{} {}={}\n", len, key, value);
}

std::string pax_path(std::string_view recs) {
  std::string path;
  while (!recs.empty()) {
    size_t sp = recs.find(' ');
    if (sp == std::string_view::npos) break;
    size_t len = 0;
    for (char c : recs.substr(0, sp)) {
      if (c < '0' || c > '9') return path;
      len = len * 10 + static_cast<size_t>(c - '0');
    }
    if (len <= sp || len > recs.size()) break;
    std::string_view rec = recs.substr(sp + 1, len - sp - 2);  // without the newline
    if (rec.starts_with("path=")) path = std::string(rec.substr(5));
    recs.remove_prefix(len);
  }
  return path;
}

}  // namespace

void Writer::header(std::string_view name, char type, size_t size) {
  char h[kBlock];
  std::memset(h, 0, sizeof h);
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  put_octal(h + 100, 8, 0600);
  put_octal(h + 108, 8, 0);
  put_octal(h + 116, 8, 0);
  put_octal(h + 124, 12, size);
  put_octal(h + 136, 12, static_cast<uint64_t>(mtime_ > 0 ? mtime_ : 0));
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);  // magic with its NUL
  std::memcpy(h + 263, "00", 2);
  std::memcpy(h + 265, "nats", 4);  // uname, gname as the reference writes them
  std::memcpy(h + 297, "nats", 4);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : std::string_view(h, kBlock)) sum += c;
  std::string cs = fmt::format("{:06o}", sum);
  std::memcpy(h + 148, cs.data(), 6);
  h[154] = '\0';
  h[155] = ' ';
  out_.append(h, kBlock);
}

void Writer::add(std::string_view name, std::string_view data) {
  if (name.size() > 100) {
    std::string rec = pax_record("path", name);
    header("PaxHeaders/long", 'x', rec.size());
    out_.append(rec);
    pad(out_);
  }
  header(name, '0', data.size());
  out_.append(data);
  pad(out_);
}

std::string Writer::take() {
  std::string out;
  out.swap(out_);
  return out;
}

std::string Writer::finish() {
  out_.append(2 * kBlock, '\0');
  return std::move(out_);
}

size_t Reader::read_src(char* dst, size_t n) { return snapshot::read_full(src_, dst, n); }

bool Reader::skip(uint64_t n) {
  char buf[4096];
  while (n > 0) {
    size_t k = read_src(buf, static_cast<size_t>(std::min<uint64_t>(n, sizeof buf)));
    if (k == 0) return false;
    n -= k;
  }
  return true;
}

size_t Reader::read_body(char* dst, size_t n) {
  size_t k = read_src(dst, static_cast<size_t>(std::min<uint64_t>(n, left_)));
  left_ -= k;
  return k;
}

bool Reader::read_small_body(uint64_t size, std::string& out) {
  constexpr uint64_t kMaxRecord = 1024 * 1024;  // PAX/long-name records are small
  if (size > kMaxRecord) return false;
  out.resize(static_cast<size_t>(size));
  left_ = 0;
  if (read_src(out.data(), out.size()) != out.size() || !skip(pad_)) return false;
  pad_ = 0;
  return true;
}

bool Reader::next(std::string& name, uint64_t& size, std::string& err) {
  if (!skip(left_) || !skip(pad_)) return err = "truncated tar entry", false;
  left_ = pad_ = 0;
  std::string long_name;
  for (;;) {
    char h[kBlock];
    size_t got = read_src(h, kBlock);
    if (got == 0) return false;  // an archive without its end blocks
    if (got < kBlock) return err = "truncated tar archive", false;
    bool zero = true;
    for (size_t i = 0; i < kBlock && zero; ++i) zero = h[i] == '\0';
    if (zero) return false;  // end of archive
    bool ok = true;
    unsigned want = static_cast<unsigned>(get_octal(h + 148, 8, ok));
    unsigned sum = 0;
    for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    uint64_t sz = get_octal(h + 124, 12, ok);
    if (!ok || sum != want) return err = "bad tar header", false;
    left_ = sz;
    pad_ = (kBlock - sz % kBlock) % kBlock;
    char type = h[156];
    if (type == 'x' || type == 'L') {
      std::string rec;
      if (!read_small_body(sz, rec)) return err = "truncated tar entry", false;
      long_name = type == 'x' ? pax_path(rec) : std::string(rec.substr(0, strnlen(rec.data(), rec.size())));
      continue;
    }
    if (type == 'g') {  // global PAX header: nothing we use
      if (!skip(left_) || !skip(pad_)) return err = "truncated tar entry", false;
      left_ = pad_ = 0;
      continue;
    }
    if (type != '0' && type != '\0') return err = "unexpected content", false;
    name = long_name;
    if (name.empty()) {
      name = cstr(h, 100);
      std::string prefix = std::memcmp(h + 257, "ustar", 5) == 0 ? cstr(h + 345, 155) : std::string();
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    size = sz;
    return true;
  }
}

bool read(std::string_view in, std::vector<Entry>& out, std::string& err) {
  size_t off = 0;
  Reader r([&](char* dst, size_t n) {
    size_t k = std::min(n, in.size() - off);
    std::memcpy(dst, in.data() + off, k);
    off += k;
    return k;
  });
  std::string name;
  uint64_t size = 0;
  while (r.next(name, size, err)) {
    Entry e{name, {}};
    char piece[16 * 1024];
    while (size_t k = r.read_body(piece, sizeof piece)) e.data.append(piece, k);
    if (r.body_left() > 0) return err = "truncated tar entry", false;
    out.push_back(std::move(e));
  }
  return err.empty();
}

}  // namespace nats::jetstream::tar
