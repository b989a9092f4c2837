#include "jetstream/store/block_compactor.h"

#include <fcntl.h>
#include <unistd.h>

#include "jetstream/store/block_records.h"

namespace nats::jetstream {

std::string block_compact_tmp_path(const std::string& dir, uint64_t block) {
  return block_records::block_path(dir, block) + ".tmp";
}

bool rewrite_block(const BlockCompactPlan& plan, BlockCompactResult& out) {
  using namespace block_records;
  out = BlockCompactResult{};
  out.index = BlockIndex{plan.block, 0, {}};
  const uint64_t range_end = plan.range_first + plan.live.size();  // one past the block's last
  std::string buf;  // the new file's bytes (at most the old block's)
  bool bad = false;
  uint64_t end = 0;
  bool opened = scan_file(
      block_path(plan.dir, plan.block),
      [&](uint64_t, const char* body, uint32_t len) {
        auto type = static_cast<uint8_t>(body[0]);
        bool keep = false;
        if (type == kMsg) {
          StoredMsg m;
          size_t hl = 0, pl = 0;
          if (!parse_msg_meta(body, len, m, hl, pl)) {
            bad = true;
            return false;
          }
          keep = m.seq >= plan.range_first && m.seq < range_end && plan.live[m.seq - plan.range_first];
          if (keep) {
            out.index.add(m.seq, static_cast<uint32_t>(buf.size()));
            out.summary.add_msg(m.seq, m.ts, m.ttl_ns, std::string_view(body + kMsgFixed, m.subject.size()),
                                static_cast<uint32_t>(hl), static_cast<uint32_t>(pl));
            ++out.kept_msgs;
          }
        } else if ((type == kRemove || type == kCompact) && len == 9) {
          uint64_t seq = util::load_le64(body + 1);
          keep = type == kRemove && seq < plan.range_first && seq >= plan.stream_first;
          if (keep) {
            out.summary.add_marker(type, seq);
            ++out.kept_markers;
          }
        } else {
          bad = true;
          return false;
        }
        if (keep) {
          size_t at = buf.size();
          buf.resize(at + 8 + len);
          util::store_le32(buf.data() + at, len);
          std::memcpy(buf.data() + at + 4, body, len + 4);  // body and its checksum
        } else {
          ++out.dropped_records;
        }
        return true;
      },
      end, out.old_len);
  if (!opened || bad || end != out.old_len) return false;
  out.new_len = buf.size();
  std::string tmp = block_compact_tmp_path(plan.dir, plan.block);
  if (buf.empty()) {
    ::unlink(tmp.c_str());
    return true;
  }
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  bool ok = write_all(fd, buf.data(), buf.size(), 0) && ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

}  // namespace nats::jetstream
