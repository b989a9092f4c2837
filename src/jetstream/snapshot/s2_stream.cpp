#include "jetstream/snapshot/s2_stream.h"

#include <algorithm>
#include <cstdint>

#include "jetstream/store/crc32c.h"
#include "util/little_endian.h"

namespace nats::jetstream::s2 {

namespace {

constexpr size_t kMaxChunkData = 64 * 1024;        // Snappy's limit, so Snappy readers also accept it
constexpr size_t kMaxDecodedBlock = 4 * 1024 * 1024;  // S2's largest block
constexpr std::string_view kS2Magic = "S2sTwO";
constexpr std::string_view kSnappyMagic = "sNaPpY";

uint32_t masked_crc(std::string_view data) {
  uint32_t c = crc32c(data.data(), data.size());
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

uint32_t le(const unsigned char* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

std::string frame_start() {
  std::string out;
  out.push_back(static_cast<char>(0xff));
  util::append_le(out, kS2Magic.size(), 3);
  out.append(kS2Magic);
  return out;
}

void append_chunks(std::string& out, std::string_view data) {
  for (size_t off = 0; off < data.size(); off += kMaxChunkData) {
    std::string_view piece = data.substr(off, kMaxChunkData);
    out.push_back(0x01);
    util::append_le(out, piece.size() + 4, 3);
    util::append_le(out, masked_crc(piece), 4);
    out.append(piece);
  }
}

std::string frame(std::string_view data) {
  std::string out = frame_start();
  out.reserve(data.size() + data.size() / kMaxChunkData * 8 + 32);
  append_chunks(out, data);
  return out;
}

bool decode_block(std::string_view in, std::string& out) {
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size(), s = 0;
  // Uncompressed length (uvarint).
  uint64_t len = 0;
  for (int shift = 0;; shift += 7) {
    if (s >= n || shift > 28) return false;
    unsigned char b = src[s++];
    len |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  if (len > kMaxDecodedBlock) return false;
  size_t base = out.size();
  out.resize(base + len);
  auto* dst = reinterpret_cast<unsigned char*>(out.data()) + base;
  size_t d = 0, offset = 0;
  while (s < n) {
    unsigned char tag = src[s];
    size_t length = 0;
    switch (tag & 3) {
      case 0: {  // literal
        uint32_t x = tag >> 2;
        if (x < 60) {
          s += 1;
        } else {
          int extra = static_cast<int>(x) - 59;  // 1..4 length bytes
          if (s + 1 + extra > n) return false;
          x = le(src + s + 1, extra);
          s += 1 + extra;
        }
        length = static_cast<size_t>(x) + 1;
        if (length > len - d || length > n - s) return false;
        std::copy(src + s, src + s + length, dst + d);
        d += length;
        s += length;
        continue;
      }
      case 1: {  // copy, 1-byte offset; offset 0 is S2's repeat of the last offset
        if (s + 2 > n) return false;
        length = (tag >> 2) & 7;
        size_t toff = (static_cast<size_t>(tag & 0xe0) << 3) | src[s + 1];
        s += 2;
        if (toff == 0) {
          if (length == 5) {
            if (s + 1 > n) return false;
            length = src[s] + 4;
            s += 1;
          } else if (length == 6) {
            if (s + 2 > n) return false;
            length = le(src + s, 2) + (1u << 8);
            s += 2;
          } else if (length == 7) {
            if (s + 3 > n) return false;
            length = le(src + s, 3) + (1u << 16);
            s += 3;
          }
        } else {
          offset = toff;
        }
        length += 4;
        break;
      }
      case 2:  // copy, 2-byte offset
        if (s + 3 > n) return false;
        length = 1 + (tag >> 2);
        offset = le(src + s + 1, 2);
        s += 3;
        break;
      default:  // copy, 4-byte offset
        if (s + 5 > n) return false;
        length = 1 + (tag >> 2);
        offset = le(src + s + 1, 4);
        s += 5;
        break;
    }
    if (offset == 0 || d < offset || length > len - d) return false;
    for (size_t i = 0; i < length; ++i, ++d) dst[d] = dst[d - offset];  // may overlap: forwards
  }
  return d == len;
}

size_t Unframer::read_src(char* dst, size_t n) { return snapshot::read_full(src_, dst, n); }

bool Unframer::fill() {
  buf_.clear();
  pos_ = 0;
  while (!ended_ && err_.empty()) {
    unsigned char h[4];
    size_t got = read_src(reinterpret_cast<char*>(h), 4);
    if (got == 0) {
      ended_ = true;
      if (!seen_magic_) err_ = "empty stream";
      return false;
    }
    if (got < 4) return err_ = "truncated chunk header", false;
    unsigned char type = h[0];
    size_t len = le(h + 1, 3);
    body_.resize(len);
    if (read_src(body_.data(), len) != len) return err_ = "truncated chunk", false;
    std::string_view body = body_;
    if (type == 0xff) {
      if (body != kS2Magic && body != kSnappyMagic) return err_ = "bad stream identifier", false;
      seen_magic_ = true;
      continue;
    }
    if (!seen_magic_) return err_ = "missing stream identifier", false;
    if (type == 0x00 || type == 0x01) {
      if (body.size() < 4) return err_ = "short data chunk", false;
      uint32_t want = le(reinterpret_cast<const unsigned char*>(body.data()), 4);
      if (type == 0x01) {
        buf_.assign(body.substr(4));
      } else if (!decode_block(body.substr(4), buf_)) {
        return err_ = "corrupt compressed block", false;
      }
      if (masked_crc(buf_) != want) return err_ = "checksum mismatch", false;
      if (!buf_.empty()) return true;
      continue;
    }
    if (type >= 0x02 && type <= 0x7f) return err_ = "unskippable chunk type", false;
    // 0x80..0xfe: padding, index and other skippable chunks.
  }
  return false;
}

size_t Unframer::read(char* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (pos_ == buf_.size() && !fill()) break;
    size_t k = std::min(n - got, buf_.size() - pos_);
    std::copy_n(buf_.data() + pos_, k, dst + got);
    pos_ += k;
    got += k;
  }
  return got;
}

bool unframe(std::string_view in, std::string& out, std::string& err) {
  size_t off = 0;
  Unframer u([&](char* dst, size_t n) {
    size_t k = std::min(n, in.size() - off);
    std::copy_n(in.data() + off, k, dst);
    off += k;
    return k;
  });
  char piece[64 * 1024];
  while (size_t k = u.read(piece, sizeof piece)) out.append(piece, k);
  if (!u.error().empty()) return err = u.error(), false;
  return true;
}

}  // namespace nats::jetstream::s2
