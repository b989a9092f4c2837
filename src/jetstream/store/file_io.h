// Whole-file reads shared by the file store's blocks and their summary files.
#pragma once

#include <string>

namespace nats::jetstream {

// Reads the whole file into out with pread (one call per chunk, not a stream); false if it cannot be opened.
bool read_whole_file(const std::string& path, std::string& out);

}  // namespace nats::jetstream
