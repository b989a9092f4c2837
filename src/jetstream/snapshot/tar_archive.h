#pragma once
// The tar layer of stream snapshots (2.9.10 writes a PAX tar of the stream directory's
// files into the S2 stream): a writer of regular files and a reader that takes ustar, PAX
// (extended "path" records) and GNU long names, refusing anything but regular files as
// the reference's restore does.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace nats::jetstream::tar
