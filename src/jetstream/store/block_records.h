#pragma once
// The record layer of block files, shared by the file store and block compaction: record
// types, the message record's fixed part, and walks over intact records of a buffer or a
// whole file (checksums checked).
//
// Record: u32 body_len (LE) | body | u32 crc32c(body). Body starts with a type byte.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "jetstream/store/crc32c.h"
#include "jetstream/store/message_store.h"
#include "util/little_endian.h"

namespace nats::jetstream::block_records {

enum RecordType : uint8_t { kMsg = 1, kRemove = 2, kCompact = 3 };

inline std::string block_path(const std::string& dir, uint64_t index) {
  return dir + "/" + std::to_string(index) + ".blk";
}

// Message body: type | seq | ts | ttl | subject len | headers len | payload len | data.
constexpr size_t kMsgFixed = 1 + 8 + 8 + 8 + 4 + 4 + 4;

// Calls f(offset, body, body_len) for each intact record (framing and checksum good) from
// the start of a block while f returns true; returns where the intact records end.
template <typename F>
size_t walk_records(std::string_view data, F&& f) {
  size_t off = 0;
  while (data.size() - off >= 8) {
    uint32_t len = util::load_le32(data.data() + off);
    if (len == 0 || data.size() - off - 8 < len) break;
    const char* body = data.data() + off + 4;
    if (crc32c(body, len) != util::load_le32(body + len)) break;
    if (!f(off, body, len)) break;
    off += 8 + static_cast<size_t>(len);
  }
  return off;
}

// walk_records over a whole file read kScanChunk bytes at a time (one buffer reused, so a
// restart scanning an 8 MiB block neither allocates nor faults in 8 MiB). Sets size to the
// file's length and end to where its intact records end. False when it cannot be opened.
constexpr size_t kScanChunk = 256 * 1024;
template <typename F>
bool scan_file(const std::string& path, F&& f, uint64_t& end, uint64_t& size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  off_t sz = ::lseek(fd, 0, SEEK_END);
  size = sz > 0 ? static_cast<uint64_t>(sz) : 0;
  end = 0;
  std::string buf(kScanChunk, '\0');
  uint64_t base = 0;  // file offset of buf[0]
  size_t have = 0;    // bytes of buf holding file data
  for (;;) {
    while (have < buf.size() && base + have < size) {
      ssize_t n = ::pread(fd, buf.data() + have, buf.size() - have, static_cast<off_t>(base + have));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        size = base + have;  // shorter than it was: stop at what could be read
        break;
      }
      have += static_cast<size_t>(n);
    }
    bool stopped = false;
    size_t used = walk_records(std::string_view(buf.data(), have), [&](size_t off, const char* body, uint32_t len) {
      if (!f(base + off, body, len)) {
        stopped = true;
        return false;
      }
      return true;
    });
    end = base + used;
    if (stopped || base + have >= size) break;  // a bad record, or the whole file seen
    size_t rest = have - used;
    if (rest >= 8 && used + 8 + util::load_le32(buf.data() + used) <= have) break;  // walk stopped at a bad record
    std::memmove(buf.data(), buf.data() + used, rest);
    base += used;
    have = rest;
    if (rest >= 4) {
      // A record longer than the buffer: grow it (bounded by what the file still holds).
      uint64_t need = 8 + static_cast<uint64_t>(util::load_le32(buf.data()));
      if (base + need > size) break;  // runs past the end: a torn tail
      if (need > buf.size()) buf.resize(need);
    }
  }
  ::close(fd);
  return true;
}

// Sequence, times and lengths of a message record (the subject is left sized, not copied).
inline bool parse_msg_meta(const char* body, uint32_t len, StoredMsg& m, size_t& hl, size_t& pl) {
  if (len < kMsgFixed) return false;
  m.seq = util::load_le64(body + 1);
  m.ts = static_cast<int64_t>(util::load_le64(body + 9));
  m.ttl_ns = static_cast<int64_t>(util::load_le64(body + 17));
  uint32_t sl = util::load_le32(body + 25);
  hl = util::load_le32(body + 29);
  pl = util::load_le32(body + 33);
  if (static_cast<uint64_t>(kMsgFixed) + sl + hl + pl != len) return false;
  m.subject.resize(sl);
  return true;
}


inline bool write_all(int fd, const char* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    off += static_cast<uint64_t>(w);
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads exactly n bytes at off; false on an error or a file that ends first.
inline bool read_all(int fd, char* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    off += static_cast<uint64_t>(r);
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace nats::jetstream::block_records
