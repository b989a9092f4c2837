// Whole-file reads and writes shared by the file store's blocks and their index and summary
// files.
#pragma once

#include <string>
#include <string_view>

namespace nats::jetstream {

// Reads the whole file into out with pread (one call per chunk, not a stream); false if it cannot be opened.
bool read_whole_file(const std::string& path, std::string& out);

// Creates (or truncates) the file and writes `data` into it; false unless all of it was written.
bool write_whole_file(const std::string& path, std::string_view data);

}  // namespace nats::jetstream
