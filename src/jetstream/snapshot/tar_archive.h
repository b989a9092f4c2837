#pragma once
// The tar layer of stream snapshots (2.9.10 writes a PAX tar of the stream directory's
// files into the S2 stream): a writer of regular files and a reader that takes ustar, PAX
// (extended "path" records) and GNU long names, refusing anything but regular files as
// the reference's restore does.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "jetstream/snapshot/byte_source.h"

namespace nats::jetstream::tar {

struct Entry {
  std::string name;
  std::string data;
};

class Writer {
 public:
  explicit Writer(int64_t mtime_sec) : mtime_(mtime_sec) {}
  void add(std::string_view name, std::string_view data);
  // The archive written since the last take() (whole entries): a snapshot is sent piece by
  // piece instead of held whole.
  std::string take();
  // Ends the archive (two zero blocks) and returns it (what take() did not return yet).
  std::string finish();

 private:
  void header(std::string_view name, char type, size_t size);
  int64_t mtime_;
  std::string out_;
};

// False with `err` on a malformed archive or a non-regular entry.
bool read(std::string_view in, std::vector<Entry>& out, std::string& err);

// The same, one entry at a time from `src` (it fills up to n bytes and returns how many,
// fewer only at its end): an entry's body is read in pieces, so a restore never holds more
// than the piece it copies (read() above is this reader over a string).
class Reader {
 public:
  using Source = snapshot::ByteSource;
  explicit Reader(Source src) : src_(std::move(src)) {}
  // The next regular file (what was not read of the previous one is skipped): true with its
  // name and size; false at the end of the archive (err empty) or with err.
  bool next(std::string& name, uint64_t& size, std::string& err);
  // Up to n bytes of the current entry's body; fewer than asked only at its end, or when
  // the archive is truncated (then body_left() stays above 0).
  size_t read_body(char* dst, size_t n);
  uint64_t body_left() const { return left_; }

 private:
  size_t read_src(char* dst, size_t n);
  bool skip(uint64_t n);
  bool read_small_body(uint64_t size, std::string& out);  // PAX and GNU long-name records

  Source src_;
  uint64_t left_ = 0;  // of the current entry's body
  uint64_t pad_ = 0;   // zero bytes after it, up to the next 512-byte block
};

}  // namespace nats::jetstream::tar
