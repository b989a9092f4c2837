#include "jetstream/store/block_index.h"
#include "util/little_endian.h"

#include <cstring>

#include "jetstream/store/crc32c.h"
#include "jetstream/store/file_io.h"

namespace nats::jetstream {

namespace {
constexpr char kIndexMagic[4] = {'N', 'S', 'I', 'X'};
constexpr uint32_t kBlockIndexVersion = 1;
constexpr size_t kHeader = 4 + 4 + 8 + 8 + 8;

}  // namespace

void BlockIndex::add(uint64_t seq, uint32_t off) {
  if (offs.empty()) first = seq;
  if (seq < first || seq - first < offs.size()) return;  // not past the last: a duplicate
  offs.resize(seq - first, kNone);
  offs.push_back(off);
}

bool BlockIndex::find(uint64_t seq, uint32_t& off) const {
  if (seq < first || seq - first >= offs.size()) return false;
  off = offs[seq - first];
  return off != kNone;
}

std::string block_index_path(const std::string& dir, uint64_t block) {
  return dir + "/" + std::to_string(block) + ".idx";
}

bool write_block_index(const std::string& dir, const BlockIndex& idx, uint64_t block_len) {
  std::string buf;
  buf.reserve(kHeader + 4 * idx.offs.size() + 4);
  buf.append(kIndexMagic, 4);
  util::append_le(buf, kBlockIndexVersion, 4);
  util::append_le(buf, block_len, 8);
  util::append_le(buf, idx.first, 8);
  util::append_le(buf, idx.offs.size(), 8);
  for (uint32_t o : idx.offs) util::append_le(buf, o, 4);
  util::append_le(buf, crc32c(buf.data(), buf.size()), 4);
  std::string path = block_index_path(dir, idx.block);
  return write_whole_file(path, buf);
}

bool read_block_index(const std::string& dir, uint64_t block, uint64_t block_len, BlockIndex& out) {
  std::string buf;
  if (!read_whole_file(block_index_path(dir, block), buf)) return false;
  if (buf.size() < kHeader + 4 || std::memcmp(buf.data(), kIndexMagic, 4) != 0) return false;
  const char* p = buf.data();
  uint64_t count = util::load_le(p + 24, 8);
  if (util::load_le(p + 4, 4) != kBlockIndexVersion || util::load_le(p + 8, 8) != block_len) return false;
  if (count > (buf.size() - kHeader - 4) / 4 || kHeader + 4 * count + 4 != buf.size()) return false;
  if (crc32c(p, buf.size() - 4) != util::load_le(p + buf.size() - 4, 4)) return false;
  out.block = block;
  out.first = util::load_le(p + 16, 8);
  out.offs.resize(count);
  for (uint64_t i = 0; i < count; ++i) out.offs[i] = static_cast<uint32_t>(util::load_le(p + kHeader + 4 * i, 4));
  return true;
}

}  // namespace nats::jetstream
