#pragma once
// The S2 (Snappy-compatible) framed stream format that 2.9.10 wraps its stream snapshots in
// (server/filestore.go streamSnapshot: tar inside s2.NewWriter), written and read here so
// that snapshots move between us, natscli and the reference.
//
// Writing emits only "uncompressed" data chunks (type 0x01, each with its masked CRC-32C):
// every S2 and Snappy reader accepts them, and a compressor is not needed for correctness.
// Reading accepts both chunk kinds: compressed chunks (type 0x00) are decoded with the S2
// block format (Snappy's literals and copies plus S2's repeat-offset copies), so a snapshot
// taken by the reference can be restored here.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "jetstream/snapshot/byte_source.h"

namespace nats::jetstream::s2 {

// The framed stream of `data` (stream identifier, then data chunks of at most 64 KiB).
std::string frame(std::string_view data);
// The same in pieces: the stream identifier once, then the chunks of each piece of data.
std::string frame_start();
void append_chunks(std::string& out, std::string_view data);

// Decodes a framed stream into `out`; false with `err` on a bad identifier, chunk type,
// length, CRC or block.
bool unframe(std::string_view in, std::string& out, std::string& err);

// The same, piece by piece: decodes the framed stream that `src` gives (it fills up to n
// bytes and returns how many, fewer only at its end) one chunk at a time, so that a restore
// reads its staged upload without holding it whole (at most one chunk: 16 MiB framed, 4 MiB
// decoded).
class Unframer {
 public:
  using Source = snapshot::ByteSource;
  explicit Unframer(Source src) : src_(std::move(src)) {}
  // Up to n decoded bytes into dst; fewer only at the end of the stream or on bad input
  // (then error() says why).
  size_t read(char* dst, size_t n);
  const std::string& error() const { return err_; }

 private:
  bool fill();  // the next data chunk into buf_; false at the end or on bad input
  size_t read_src(char* dst, size_t n);

  Source src_;
  std::string buf_;   // decoded, from pos_ on not yet read
  std::string body_;  // the chunk being decoded
  size_t pos_ = 0;
  bool seen_magic_ = false;
  bool ended_ = false;
  std::string err_;
};

// Decodes one S2/Snappy block (varint length, then tags); false on corrupt input.
bool decode_block(std::string_view in, std::string& out);

}  // namespace nats::jetstream::s2
