#include "net/ws_deflate.h"

#include <zlib.h>

#include <stdexcept>

namespace nats::net::ws {

namespace {
// What RFC 7692 section 7.2.2 has the receiver append to a message before inflating it.
constexpr unsigned char kTail[4] = {0x00, 0x00, 0xff, 0xff};
constexpr size_t kOutChunk = 32 * 1024;
}  // namespace

struct Inflater::State {
  z_stream z{};
  unsigned char out[kOutChunk];
};

Inflater::Inflater() : st_(std::make_unique<State>()) {
  // Negative window bits: raw deflate data, no zlib header (the RFC's format).
  if (inflateInit2(&st_->z, -15) != Z_OK) throw std::runtime_error("zlib inflateInit2 failed");
}

Inflater::~Inflater() { inflateEnd(&st_->z); }

Inflater::Result Inflater::run(std::string_view in, Sink sink, void* ctx) {
  if (ended_) return Result::Ok;  // bytes after a final block: nothing more to inflate
  z_stream& z = st_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    z.next_out = st_->out;
    z.avail_out = kOutChunk;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    size_t produced = kOutChunk - z.avail_out;
    if (produced > 0 && !sink(ctx, std::string_view(reinterpret_cast<char*>(st_->out), produced)))
      return Result::Stopped;
    if (rc == Z_STREAM_END) {
      ended_ = true;
      return Result::Ok;
    }
    if (rc == Z_BUF_ERROR) return Result::Ok;  // needs more input: the next piece
    if (rc != Z_OK) {
      error_ = z.msg ? std::string("decompression error: ") + z.msg : "decompression error";
      return Result::Error;
    }
    if (z.avail_in == 0 && z.avail_out != 0) return Result::Ok;
  }
}

Inflater::Result Inflater::feed(std::string_view in, Sink sink, void* ctx) {
  // zlib counts input in uInt; pieces come from reads, far below that.
  return run(in, sink, ctx);
}

Inflater::Result Inflater::finish(Sink sink, void* ctx) {
  Result r = run(std::string_view(reinterpret_cast<const char*>(kTail), sizeof kTail), sink, ctx);
  // No context takeover: the next message starts from an empty window.
  inflateReset(&st_->z);
  ended_ = false;
  return r;
}

struct Deflater::State {
  z_stream z{};
};

Deflater::Deflater() : st_(std::make_unique<State>()) {
  if (deflateInit2(&st_->z, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib deflateInit2 failed");
}

Deflater::~Deflater() { deflateEnd(&st_->z); }

void Deflater::add(std::string_view data) {
  z_stream& z = st_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  while (z.avail_in > 0) {
    size_t old = buf_.size();
    buf_.resize(old + deflateBound(&z, z.avail_in) + 64);
    z.next_out = reinterpret_cast<Bytef*>(buf_.data() + old);
    z.avail_out = static_cast<uInt>(buf_.size() - old);
    deflate(&z, Z_NO_FLUSH);
    buf_.resize(buf_.size() - z.avail_out);
  }
}

bool Deflater::finish(std::string& out) {
  z_stream& z = st_->z;
  z.next_in = nullptr;
  z.avail_in = 0;
  int rc;
  do {
    size_t old = buf_.size();
    buf_.resize(old + 1024);
    z.next_out = reinterpret_cast<Bytef*>(buf_.data() + old);
    z.avail_out = 1024;
    rc = deflate(&z, Z_SYNC_FLUSH);
    buf_.resize(buf_.size() - z.avail_out);
  } while (rc == Z_OK && z.avail_out == 0);
  deflateReset(&z);
  bool ok = (rc == Z_OK || rc == Z_BUF_ERROR) && buf_.size() >= 4;
  // A sync flush ends with 00 00 ff ff, which the RFC has the sender leave out.
  if (ok) out.append(buf_, 0, buf_.size() - 4);
  buf_.clear();
  return ok;
}

}  // namespace nats::net::ws
