#include "jetstream/store/file_store.h"
#include "util/little_endian.h"
#include "jetstream/store/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "jetstream/store/block_records.h"
#include "jetstream/store/crc32c.h"
#include "util/bytes.h"

namespace nats::jetstream {

namespace fs = std::filesystem;

using namespace block_records;

namespace {
// Write the buffer once this much is pending, without waiting for the flusher.
constexpr uint64_t kFlushBytes = 256 * 1024;
// Past this much unwritten data a store writes it itself (the flusher is behind).
constexpr uint64_t kMaxUnwritten = 1024 * 1024;
// The active block's tail kept in memory after it is written: trimmed back to kTailKeep
// once it grows past twice that. 64 KiB (was 256): it serves consumers reading just-stored
// messages, which a few hundred records cover; older ones are one pread chunk away. The
// larger tail held about 0.7 MB while publishing (session 14's heap profile).
constexpr uint64_t kTailKeep = 64 * 1024;
// pread this much at once so forward reads of small messages share a syscall.
constexpr uint32_t kReadChunk = 64 * 1024;
// Offsets of sealed blocks read lately stay in memory up to this many bytes (an 8 MiB block
// has about 0.2 MiB of them for 128-byte messages, 0.5 MiB for tiny ones); the most recent one
// always stays. Small: a reader moves through one block at a time, and each block's offsets
// are in its .idx file.
constexpr size_t kIndexCacheBytes = 768 * 1024;

// The records from a block's last message on (offs: the block's message offsets) pass their
// checksums and end exactly at the block's length len.
bool tail_intact(const std::string& path, const BlockIndex& offs, uint64_t len) {
  uint32_t from = BlockIndex::kNone;
  for (auto it = offs.offs.rbegin(); it != offs.offs.rend() && from == BlockIndex::kNone; ++it) from = *it;
  if (from == BlockIndex::kNone || from >= len) return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string buf(len - from, '\0');
  bool ok = read_all(fd, buf.data(), buf.size(), from);
  ::close(fd);
  return ok && walk_records(buf, [](size_t, const char*, uint32_t) { return true; }) == buf.size();
}

// Heap bytes a string holds (an empty one's inline capacity is not an allocation).
size_t heap_bytes(const std::string& s) { return s.capacity() > std::string().capacity() ? s.capacity() : 0; }


}  // namespace

FileStore::FileStore(const FileStoreConfig& cfg, StoreLimits limits, StoreClock clock)
    : cfg_(cfg), mem_(limits, std::move(clock)) {
  mem_.use_file_sizes();
  mem_.drop_bodies();
  // Called by mem_ under our lock (every mem_ call is made holding mu_).
  mem_.drop_times([this](uint64_t seq) { return time_of_locked(seq); });
}

FileStore::~FileStore() { close(); }

std::unique_ptr<FileStore> FileStore::open(const FileStoreConfig& cfg, StoreLimits limits,
                                           StoreClock clock, StoreErr* err) {
  std::unique_ptr<FileStore> st(new FileStore(cfg, limits, std::move(clock)));
  StoreErr e = st->recover();
  if (err) *err = e;
  if (e != StoreErr::ok) return nullptr;
  if (!st->cfg_.sync_always) st->flusher_ = std::thread([p = st.get()] { p->flusher(); });
  {
    std::lock_guard lk(st->mu_);
    st->start_compactor_locked();
  }
  return st;
}

StoreErr FileStore::recover() {
  std::lock_guard lk(mu_);
  std::error_code ec;
  fs::create_directories(cfg_.dir, ec);
  if (ec) return StoreErr::io;
  std::vector<uint64_t> blocks;
  for (auto& ent : fs::directory_iterator(cfg_.dir, ec)) {
    if (ent.path().extension() == ".tmp") {
      // A compaction's rewrite that never replaced its block: the block is intact.
      std::error_code rec;
      fs::remove(ent.path(), rec);
      continue;
    }
    if (ent.path().extension() != ".blk") continue;
    auto stem = ent.path().stem().string();
    if (stem.empty() || !std::all_of(stem.begin(), stem.end(), ::isdigit)) continue;
    blocks.push_back(std::stoull(stem));
  }
  if (ec) return StoreErr::io;
  std::sort(blocks.begin(), blocks.end());
  // Replay the limits only after all records are in, so evictions are logged once.
  StoreLimits limits = mem_.limits();
  mem_.update_limits(StoreLimits{});
  first_block_ = blocks.empty() ? 1 : blocks.front();
  // Removals replayed are counted against their blocks (compaction triggers), not logged.
  replaying_ = true;
  mem_.set_observer(this);

  for (size_t bi = 0; bi < blocks.size(); ++bi) {
    bool last = bi + 1 == blocks.size();
    uint64_t block = blocks[bi];
    grow_blocks_locked(block);
    std::string path = block_path(cfg_.dir, block);
    ++recovery_.blocks;
    auto replay_marker = [&](uint8_t type, uint64_t seq) {
      if (type == kRemove) mem_.remove_msg(seq);
      else mem_.compact(seq);
    };
    // A sealed block with a good summary is not read at all. Nor is the last block when a
    // clean close saved its summary and offsets (close_locked): both name the block's length,
    // so anything appended since (torn or not) sends it to the scan below, and the records
    // from its last message on must still pass their checksums.
    std::error_code sec;
    uint64_t len = fs::file_size(path, sec);
    BlockIndex tail_offs;
    if (!sec && (!last || (read_block_index(cfg_.dir, block, len, tail_offs) && tail_intact(path, tail_offs, len)))) {
      if (last) summary_.clear();
      StoredMsg m;
      bool ok = replay_block_summary(
          cfg_.dir, block, len,
          [&](const SummaryMsg& sm) {
            m.seq = sm.seq;
            m.ts = sm.ts;
            m.ttl_ns = sm.ttl_ns;
            m.subject.assign(sm.subject);
            if (last) summary_.add_msg(sm.seq, sm.ts, sm.ttl_ns, sm.subject, sm.hdr_len, sm.payload_len);
            if (mem_.replay_index(m, sm.hdr_len, sm.payload_len)) block_last_seq_.back() = sm.seq;
            ++recovery_.records;
          },
          [&](const SummaryRun& run) {
            if (last)
              summary_.add_run(run.first, run.count, run.first_ts, run.last_ts, run.subject, run.hdr_len,
                               run.payload_len);
            if (mem_.replay_run(run.first, run.count, run.subject, run.hdr_len, run.payload_len, run.last_ts))
              block_last_seq_.back() = run.first + run.count - 1;
            recovery_.records += run.count;
          },
          [&](uint8_t type, uint64_t seq) {
            if (last) summary_.add_marker(type, seq);
            replay_marker(type, seq);
            ++recovery_.records;
          });
      if (ok) {
        block_file_bytes_.back() = len;
        if (last) {
          recovery_.last_from_summary = true;
          active_offs_ = std::move(tail_offs);
        } else {
          ++recovery_.summaries;
        }
        continue;
      }
    }
    if (last) active_offs_ = BlockIndex{block, 0, {}};
    // The scanned block's summary: kept for the active block, saved for a sealed one.
    summary_.clear();
    uint64_t end = 0, size = 0;
    bool opened = scan_file(path, [&](uint64_t off, const char* body, uint32_t len) {
      uint8_t type = static_cast<uint8_t>(body[0]);
      if (type == kMsg) {
        StoredMsg m;
        size_t hl = 0, pl = 0;
        if (!parse_msg_meta(body, len, m, hl, pl)) return false;
        m.subject.assign(body + kMsgFixed, m.subject.size());
        uint64_t seq = m.seq;
        summary_.add_msg(seq, m.ts, m.ttl_ns, m.subject, static_cast<uint32_t>(hl), static_cast<uint32_t>(pl));
        if (mem_.replay_index(std::move(m), hl, pl)) {
          block_last_seq_.back() = seq;
          if (last) active_offs_.add(seq, static_cast<uint32_t>(off));
        }
      } else if ((type == kRemove || type == kCompact) && len == 9) {
        uint64_t seq = util::load_le64(body + 1);
        summary_.add_marker(type, seq);
        replay_marker(type, seq);
      } else {
        return false;
      }
      ++recovery_.records;
      return true;
    }, end, size);
    if (!opened) return StoreErr::io;
    block_file_bytes_.back() = size;
    if (!last && end == size) summary_.write(cfg_.dir, block, size);
    if (end != size) {
      if (last) {
        recovery_.truncated_bytes = size - end;
        if (::truncate(path.c_str(), static_cast<off_t>(end)) != 0) return StoreErr::io;
      } else {
        ++recovery_.corrupt_blocks;
      }
    }
  }
  StoreErr e = open_block(blocks.empty() ? 1 : blocks.back());
  if (e != StoreErr::ok) return e;
  grow_blocks_locked(block_index_);
  replaying_ = false;
  pending_.clear();
  for (size_t i = 0; first_block_ + i < block_index_; ++i)
    if (compact_candidate_locked(i)) queue_compaction_locked(first_block_ + i);
  mem_.update_limits(limits);
  remove_dead_blocks_locked();
  if (check_front_) check_front_block_locked();
  e = flush_pending();
  if (e != StoreErr::ok) return e;
  return flush_locked();
}

StoreErr FileStore::open_block(uint64_t index) {
  if (fd_ >= 0) {
    StoreErr e = flush_locked();
    if (e != StoreErr::ok) return e;
    // No fsync here: the block is synced by the next sync() (sync_interval) or close().
    if (active_unsynced_) unsynced_blocks_.push_back(block_index_);
    ::close(fd_);
    fd_ = -1;
    // Sealed: its offsets go to its index file and leave memory (but for the cache).
    if (block_index_ >= first_block_ && block_index_ - first_block_ < block_file_bytes_.size()) {
      size_t i = block_index_ - first_block_;
      block_file_bytes_[i] = block_bytes_;
      if (compact_candidate_locked(i)) queue_compaction_locked(block_index_);
    }
    write_block_index(cfg_.dir, active_offs_, block_bytes_);
    summary_.write(cfg_.dir, block_index_, block_bytes_);
    summary_.clear();
    // Not cached: a writer never reads it back, and a reader loads the .idx just written.
    active_offs_ = BlockIndex{};
  }
  if (active_offs_.block != index || active_offs_.offs.empty()) active_offs_ = BlockIndex{index, 0, {}};
  std::string path = block_path(cfg_.dir, index);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return StoreErr::io;
  off_t end = ::lseek(fd_, 0, SEEK_END);
  block_index_ = index;
  block_bytes_ = end > 0 ? static_cast<uint64_t>(end) : 0;
  flushed_ = block_bytes_;
  tail_start_ = block_bytes_;
  tail_.clear();
  active_unsynced_ = false;
  return StoreErr::ok;
}

StoreErr FileStore::roll_if_needed(size_t rec_len) {
  if (block_bytes_ == 0 || block_bytes_ + rec_len <= cfg_.block_size) return StoreErr::ok;
  StoreErr e = open_block(block_index_ + 1);
  if (e != StoreErr::ok) return e;
  grow_blocks_locked(block_index_);
  return StoreErr::ok;
}

template <typename Fill>
StoreErr FileStore::append(size_t body_len, Fill&& fill) {
  if (write_failed_) return StoreErr::io;
  size_t rec_len = body_len + 8;
  StoreErr e = roll_if_needed(rec_len);
  if (e != StoreErr::ok) return e;
  bool was_clean = flushed_ == block_bytes_;
  size_t at = tail_.size();
  tail_.resize(at + rec_len);
  char* p = tail_.data() + at;
  util::store_le32(p, static_cast<uint32_t>(body_len));
  fill(p + 4);
  util::store_le32(p + 4 + body_len, crc32c(p + 4, body_len));
  block_bytes_ += rec_len;
  active_unsynced_ = true;
  last_write_ = std::chrono::steady_clock::now();
  ++appended_gen_;
  if (cfg_.sync_always && !holds_syncs()) return sync_locked();
  uint64_t unwritten = block_bytes_ - flushed_;
  if (unwritten >= kMaxUnwritten) return flush_locked();
  // Wake the flusher when there is something new, and again when a full batch is ready.
  if (was_clean || (unwritten >= kFlushBytes && unwritten - rec_len < kFlushBytes)) cv_.notify_one();
  return StoreErr::ok;
}

StoreErr FileStore::append_seq_record(uint8_t type, uint64_t seq) {
  StoreErr e = append(9, [&](char* p) {
    p[0] = static_cast<char>(type);
    util::store_le64(p + 1, seq);
  });
  if (e == StoreErr::ok) summary_.add_marker(type, seq);
  return e;
}

StoreErr FileStore::flush_locked() {
  std::lock_guard io(io_mu_);  // waits for the flusher's write in flight, if any
  return write_out_locked();
}

StoreErr FileStore::write_out_locked() {
  if (write_failed_) return StoreErr::io;
  if (flushed_ != block_bytes_) {
    const char* p = tail_.data() + (flushed_ - tail_start_);
    if (!write_all(fd_, p, block_bytes_ - flushed_, flushed_)) {
      // The file may now end in a partial record; refuse further writes rather than add
      // after it (recovery cuts it off).
      write_failed_ = true;
      return StoreErr::io;
    }
    ++stats_.writes;
    flushed_ = block_bytes_;
  }
  trim_tail_locked();
  return StoreErr::ok;
}

void FileStore::trim_tail_locked() {
  if (tail_.size() <= 2 * kTailKeep) return;
  uint64_t drop = std::min<uint64_t>(tail_.size() - kTailKeep, flushed_ - tail_start_);
  tail_.erase(0, drop);
  tail_start_ += drop;
}

StoreErr FileStore::sync_locked() {
  std::lock_guard io(io_mu_);
  StoreErr e = write_out_locked();
  if (e != StoreErr::ok) return e;
  StoreErr res = StoreErr::ok;
  for (uint64_t b : unsynced_blocks_) {
    // A rolled block's fd is closed; fsync through a new one (same inode).
    int fd = ::open(block_path(cfg_.dir, b).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;  // removed since
    if (::fdatasync(fd) != 0) res = StoreErr::io;
    ++stats_.syncs;
    ::close(fd);
  }
  unsynced_blocks_.clear();
  if (active_unsynced_ && fd_ >= 0) {
    if (::fdatasync(fd_) != 0) res = StoreErr::io;
    ++stats_.syncs;
    active_unsynced_ = false;
  }
  return res;
}

void FileStore::note_msg_locked(uint64_t seq, uint32_t off) {
  active_offs_.add(seq, off);
  size_t i = block_index_ - first_block_;
  if (i < block_last_seq_.size()) block_last_seq_[i] = seq;
}

const BlockIndex* FileStore::offsets_for(uint64_t block) {
  if (block == block_index_) return &active_offs_;
  last_read_ = std::chrono::steady_clock::now();
  for (auto it = offs_cache_.begin(); it != offs_cache_.end(); ++it) {
    if (it->block != block) continue;
    if (std::next(it) != offs_cache_.end()) {
      BlockIndex b = std::move(*it);
      offs_cache_.erase(it);
      offs_cache_.push_back(std::move(b));
    }
    return &offs_cache_.back();
  }
  BlockIndex b;
  std::error_code ec;
  uint64_t len = fs::file_size(block_path(cfg_.dir, block), ec);
  if (ec) return nullptr;
  if (!read_block_index(cfg_.dir, block, len, b)) {
    if (!scan_block(block, b, len)) return nullptr;
    write_block_index(cfg_.dir, b, len);
  }
  cache_index_locked(std::move(b));
  return &offs_cache_.back();
}

void FileStore::cache_index_locked(BlockIndex&& b) {
  offs_cache_bytes_ += b.memory();
  offs_cache_.push_back(std::move(b));
  while (offs_cache_.size() > 1 && offs_cache_bytes_ > kIndexCacheBytes) {
    offs_cache_bytes_ -= offs_cache_.front().memory();
    offs_cache_.pop_front();
  }
}

void FileStore::drop_idle_caches_locked() {
  offs_cache_.clear();
  offs_cache_bytes_ = 0;
  std::string().swap(rc_);
  if (rfd_ >= 0) {
    ::close(rfd_);
    rfd_ = -1;
  }
  // The active tail only speeds up reads of recent messages; once it is all in the file a
  // load can pread it like any other record.
  if (flushed_ == block_bytes_) {
    std::string().swap(tail_);
    tail_start_ = block_bytes_;
  }
  active_offs_.offs.shrink_to_fit();
}

bool FileStore::scan_block(uint64_t block, BlockIndex& out, uint64_t& block_len) {
  std::string data;
  if (!read_whole_file(block_path(cfg_.dir, block), data)) return false;
  ++stats_.disk_reads;
  block_len = data.size();
  out = BlockIndex{block, 0, {}};
  walk_records(data, [&](size_t off, const char* body, uint32_t len) {
    if (static_cast<uint8_t>(body[0]) == kMsg && len >= kMsgFixed)
      out.add(util::load_le64(body + 1), static_cast<uint32_t>(off));
    return true;
  });
  return true;
}

bool FileStore::locate(uint64_t seq, Loc& out) {
  // block_last_seq_ does not decrease: the first block whose last is >= seq holds it.
  auto it = std::lower_bound(block_last_seq_.begin(), block_last_seq_.end(), seq);
  if (it == block_last_seq_.end()) return false;
  uint64_t block = first_block_ + static_cast<uint64_t>(it - block_last_seq_.begin());
  const BlockIndex* idx = offsets_for(block);
  uint32_t off = 0;
  if (!idx || !idx->find(seq, off)) return false;
  out = Loc{block, off};
  return true;
}

void FileStore::remove_dead_blocks_locked() {
  // Only whole blocks at the front whose every message is below the first live one.
  uint64_t first_live = mem_.seq_range().first;
  bool marked = false;
  while (first_block_ < block_index_ && !block_last_seq_.empty() &&
         block_last_seq_.front() < first_live) {
    if (!marked) {
      // The deleted blocks may hold the only record of the last sequence (everything
      // removed): log where the stream starts, durably, before the files go.
      auto [first, last] = mem_.seq_range();
      (void)last;
      if (append_seq_record(kCompact, first) != StoreErr::ok) return;
      if (flush_locked() != StoreErr::ok) return;
      if (::fdatasync(fd_) != 0) return;
      ++stats_.syncs;
      marker_seq_ = first;
      marker_block_ = block_index_;
      marked = true;
    }
    std::string path = block_path(cfg_.dir, first_block_);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return;
    unsynced_blocks_.erase(std::remove(unsynced_blocks_.begin(), unsynced_blocks_.end(), first_block_),
                           unsynced_blocks_.end());
    if (rfd_ >= 0 && rfd_block_ == first_block_) {
      ::close(rfd_);
      rfd_ = -1;
    }
    if (rc_block_ == first_block_) rc_.clear();
    ::unlink(block_index_path(cfg_.dir, first_block_).c_str());
    ::unlink(block_summary_path(cfg_.dir, first_block_).c_str());
    for (auto it = offs_cache_.begin(); it != offs_cache_.end();) {
      if (it->block != first_block_) {
        ++it;
        continue;
      }
      offs_cache_bytes_ -= it->memory();
      it = offs_cache_.erase(it);
    }
    ++stats_.blocks_removed;
    ++first_block_;
    block_last_seq_.erase(block_last_seq_.begin());
    block_file_bytes_.erase(block_file_bytes_.begin());
    block_dead_.erase(block_dead_.begin());
  }
}

StoreErr FileStore::flush_pending() {
  StoreErr res = StoreErr::ok;
  if (pending_.empty()) return res;
  for (auto [type, seq] : pending_) {
    StoreErr e = append_seq_record(type, seq);
    if (e != StoreErr::ok) res = e;
  }
  pending_.clear();
  remove_dead_blocks_locked();
  roll_off_empty_active_locked();
  if (check_front_) check_front_block_locked();
  start_compactor_locked();
  return res;
}

void FileStore::on_remove(uint64_t seq, uint64_t size) {
  if (!replaying_) pending_.emplace_back(kRemove, seq);
  // The block holding seq: the first whose last sequence is at or past it.
  auto it = std::lower_bound(block_last_seq_.begin(), block_last_seq_.end(), seq);
  if (it == block_last_seq_.end()) return;
  size_t i = static_cast<size_t>(it - block_last_seq_.begin());
  // Queued when this removal crosses the threshold (once, not at every removal after).
  bool was = compact_candidate_locked(i);
  block_dead_[i] += size;
  if (!replaying_ && !was && first_block_ + i != block_index_ && compact_candidate_locked(i))
    queue_compaction_locked(first_block_ + i);
}

void FileStore::on_compact(uint64_t seq) {
  if (!replaying_) pending_.emplace_back(kCompact, seq);
  check_front_ = true;
}

StoreResult FileStore::store_msg(std::string_view subject, std::string_view headers,
                                 std::string_view payload, std::optional<int64_t> ttl_ns) {
  std::lock_guard lk(mu_);
  if (closed_) return {StoreErr::closed};
  if (write_failed_) return {StoreErr::io};
  return write_msg_locked(mem_.store_msg(subject, headers, payload, ttl_ns), subject, headers, payload, ttl_ns);
}

StoreResult FileStore::store_msg_at(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                                    std::string_view payload) {
  std::lock_guard lk(mu_);
  if (closed_) return {StoreErr::closed};
  if (write_failed_) return {StoreErr::io};
  return write_msg_locked(mem_.store_msg_at(seq, ts, subject, headers, payload), subject, headers, payload, {});
}

StoreResult FileStore::write_msg_locked(StoreResult res, std::string_view subject, std::string_view headers,
                                        std::string_view payload, std::optional<int64_t> ttl_ns) {
  if (res.err != StoreErr::ok) {
    flush_pending();  // age expiry may have happened before the rejection
    return res;
  }
  // The message record goes before any eviction records: an eviction can name it.
  size_t body_len = kMsgFixed + subject.size() + headers.size() + payload.size();
  uint64_t rec_off = 0;
  StoreErr e = roll_if_needed(body_len + 8);
  if (e == StoreErr::ok) {
    rec_off = block_bytes_;
    e = append(body_len, [&](char* p) {
      p[0] = static_cast<char>(kMsg);
      util::store_le64(p + 1, res.seq);
      util::store_le64(p + 9, static_cast<uint64_t>(res.ts));
      util::store_le64(p + 17, static_cast<uint64_t>(ttl_ns.value_or(0)));
      util::store_le32(p + 25, static_cast<uint32_t>(subject.size()));
      util::store_le32(p + 29, static_cast<uint32_t>(headers.size()));
      util::store_le32(p + 33, static_cast<uint32_t>(payload.size()));
      char* d = util::copy_bytes(p + kMsgFixed, subject);
      d = util::copy_bytes(d, headers);
      util::copy_bytes(d, payload);
    });
    if (e == StoreErr::ok)
      summary_.add_msg(res.seq, res.ts, ttl_ns.value_or(0), subject, static_cast<uint32_t>(headers.size()),
                       static_cast<uint32_t>(payload.size()));
  }
  // Even after a failed write the index has the message; its location is kept so the
  // sequence space stays contiguous (loads of it fail with io).
  note_msg_locked(res.seq, static_cast<uint32_t>(rec_off));
  StoreErr e2 = flush_pending();
  if (e != StoreErr::ok || e2 != StoreErr::ok) res.err = StoreErr::io;
  return res;
}

int FileStore::block_fd(uint64_t block) {
  if (block == block_index_) return fd_;
  if (rfd_ >= 0 && rfd_block_ == block) return rfd_;
  if (rfd_ >= 0) ::close(rfd_);
  rfd_ = ::open(block_path(cfg_.dir, block).c_str(), O_RDONLY | O_CLOEXEC);
  rfd_block_ = block;
  return rfd_;
}

StoreErr FileStore::read_chunk(const Loc& l, size_t want) {
  last_read_ = std::chrono::steady_clock::now();
  int fd = block_fd(l.block);
  if (fd < 0) return StoreErr::io;
  rc_.resize(want);
  ssize_t n;
  do {
    n = ::pread(fd, rc_.data(), want, static_cast<off_t>(l.off));
  } while (n < 0 && errno == EINTR);
  ++stats_.disk_reads;
  if (n < 8) {
    rc_.clear();
    return StoreErr::io;
  }
  rc_.resize(static_cast<size_t>(n));
  rc_block_ = l.block;
  rc_off_ = l.off;
  return StoreErr::ok;
}

StoreErr FileStore::read_record(const Loc& l, const char*& rec, uint32_t& len) {
  if (l.block == block_index_ && l.off >= tail_start_) {
    if (l.off + 8 > block_bytes_) return StoreErr::io;
    rec = tail_.data() + (l.off - tail_start_);
    len = util::load_le32(rec) + 8;
    if (l.off + len > block_bytes_) return StoreErr::io;
    return StoreErr::ok;  // what we wrote ourselves: not checked again
  }
  auto cached = [&](uint64_t need) {
    return !rc_.empty() && rc_block_ == l.block && l.off >= rc_off_ && l.off + need <= rc_off_ + rc_.size();
  };
  if (!cached(8)) {
    size_t want = kReadChunk;
    // In the active block only bytes below the in-memory tail are surely in the file (and
    // a record that starts there ends there: the tail is cut at written record bounds).
    if (l.block == block_index_) want = std::min<uint64_t>(want, tail_start_ - l.off);
    StoreErr e = read_chunk(l, std::max<size_t>(want, 8));
    if (e != StoreErr::ok) return e;
  }
  len = util::load_le32(rc_.data() + (l.off - rc_off_)) + 8;
  if (!cached(len)) {
    StoreErr e = read_chunk(l, len);
    if (e != StoreErr::ok) return e;
    if (rc_.size() < len) return StoreErr::io;
  }
  rec = rc_.data() + (l.off - rc_off_);
  if (crc32c(rec + 4, len - 8) != util::load_le32(rec + len - 4)) return StoreErr::io;
  return StoreErr::ok;
}

int64_t FileStore::time_of_locked(uint64_t seq) {
  StoredMsg m;
  m.seq = seq;
  // An unreadable record counts as new: age expiry does not drop what it cannot see.
  return fill_body(m) == StoreErr::ok ? m.ts : std::numeric_limits<int64_t>::max();
}

StoreErr FileStore::fill_body(StoredMsg& out) {
  Loc l;
  if (!locate(out.seq, l)) return StoreErr::io;
  const char* rec = nullptr;
  uint32_t len = 0;
  StoreErr e = read_record(l, rec, len);
  if (e != StoreErr::ok) return e;
  if (len < kMsgFixed + 8) return StoreErr::io;
  const char* body = rec + 4;
  if (static_cast<uint8_t>(body[0]) != kMsg || util::load_le64(body + 1) != out.seq) return StoreErr::io;
  uint32_t sl = util::load_le32(body + 25), hl = util::load_le32(body + 29), pl = util::load_le32(body + 33);
  if (static_cast<uint64_t>(kMsgFixed) + sl + hl + pl + 8 != len) return StoreErr::io;
  const char* d = body + kMsgFixed + sl;
  out.ts = static_cast<int64_t>(util::load_le64(body + 9));
  out.headers.assign(d, hl);
  out.payload.assign(d + hl, pl);
  return StoreErr::ok;
}

StoreErr FileStore::load_msg(uint64_t seq, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  StoreErr e = mem_.load_msg(seq, out);
  return e == StoreErr::ok ? fill_body(out) : e;
}

StoreErr FileStore::load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  StoreErr e = mem_.load_next_msg(filter, start, out);
  return e == StoreErr::ok ? fill_body(out) : e;
}

StoreErr FileStore::load_last_msg(std::string_view filter, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  StoreErr e = mem_.load_last_msg(filter, out);
  return e == StoreErr::ok ? fill_body(out) : e;
}

StoreErr FileStore::remove_msg(uint64_t seq) {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  StoreErr e = mem_.remove_msg(seq);
  StoreErr f = flush_pending();
  return e != StoreErr::ok ? e : f;
}

uint64_t FileStore::purge(std::string_view subject, uint64_t up_to_seq, uint64_t keep) {
  std::lock_guard lk(mu_);
  if (closed_) return 0;
  uint64_t n = mem_.purge(subject, up_to_seq, keep);
  flush_pending();
  return n;
}

uint64_t FileStore::compact(uint64_t seq) {
  std::lock_guard lk(mu_);
  if (closed_) return 0;
  uint64_t n = mem_.compact(seq);
  flush_pending();
  return n;
}

void FileStore::expire_msgs() {
  std::lock_guard lk(mu_);
  if (closed_) return;
  mem_.expire_msgs();
  flush_pending();
}

StoreState FileStore::state() {
  std::lock_guard lk(mu_);
  return mem_.state();
}

StoreState FileStore::fast_state() {
  std::lock_guard lk(mu_);
  return mem_.fast_state();
}

uint64_t FileStore::last_seq() {
  std::lock_guard lk(mu_);
  return mem_.last_seq();
}

std::unordered_map<std::string, SubjectState> FileStore::subjects_state(std::string_view filter) {
  std::lock_guard lk(mu_);
  return mem_.subjects_state(filter);
}

void FileStore::update_limits(const StoreLimits& limits) {
  std::lock_guard lk(mu_);
  if (closed_) return;
  mem_.update_limits(limits);
  flush_pending();
}

// Group commit: the fdatasync runs without mu_, so other threads keep storing meanwhile. A
// caller whose records an fsync in flight already covers waits for it. Otherwise it starts its
// own (up to kMaxSyncsInFlight at once, see group_commit.h for why more than one): that one
// covers every record appended so far. An fdatasync makes durable what was written before it
// began, whatever other fsyncs run, but a later one may not cover a rolled block an earlier
// one took; so results are published in start order, and a caller returns only once every
// sync started before its own has finished.
StoreErr FileStore::sync() {
  std::unique_lock lk(mu_);
  if (closed_) return StoreErr::closed;
  const uint64_t want = appended_gen_;
  for (;;) {
    if (synced_gen_ >= want) return StoreErr::ok;
    if (write_failed_) return StoreErr::io;
    const bool covered = !syncs_.empty() && syncs_.back().covers >= want;
    if (!covered) {
      if (closed_) return StoreErr::closed;  // close() ran while this one waited
      if (syncs_.size() < kMaxSyncsInFlight) break;
    }
    sync_cv_.wait(lk);
  }
  const uint64_t ticket = syncs_done_ + syncs_.size();
  syncs_.push_back(SyncInFlight{appended_gen_, false, StoreErr::ok});
  StoreErr res;
  std::vector<uint64_t> blocks;
  int active = -1;
  {
    std::lock_guard io(io_mu_);
    res = write_out_locked();
    if (res == StoreErr::ok) {
      blocks.swap(unsynced_blocks_);
      // A dup keeps the inode even if the store rolls (and closes fd_) meanwhile.
      if (active_unsynced_ && fd_ >= 0) active = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
      active_unsynced_ = false;
    }
  }
  if (res == StoreErr::ok) {
    lk.unlock();
    uint64_t n = 0;
    for (uint64_t b : blocks) {
      // A rolled block's fd is closed; fsync through a new one (same inode).
      int fd = ::open(block_path(cfg_.dir, b).c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) continue;  // removed since
      if (::fdatasync(fd) != 0) res = StoreErr::io;
      ++n;
      ::close(fd);
    }
    if (active >= 0) {
      if (::fdatasync(active) != 0) res = StoreErr::io;
      ++n;
      ::close(active);
    }
    lk.lock();
    std::lock_guard io(io_mu_);
    stats_.syncs += n;
  }
  SyncInFlight& mine = syncs_[ticket - syncs_done_];
  mine.done = true;
  mine.res = res;
  while (!syncs_.empty() && syncs_.front().done) {
    if (syncs_.front().res == StoreErr::ok) synced_gen_ = std::max(synced_gen_, syncs_.front().covers);
    // After a failed fsync the kernel may have dropped the dirty pages, and a later fsync
    // would succeed without them: fail every later write and sync instead.
    else write_failed_ = true;
    syncs_.pop_front();
    ++syncs_done_;
  }
  sync_cv_.notify_all();
  sync_cv_.wait(lk, [&] { return syncs_done_ > ticket; });
  return write_failed_ ? StoreErr::io : StoreErr::ok;
}

namespace {
thread_local const FileStore* tl_sync_holder = nullptr;  // see hold_syncs
}

void FileStore::hold_syncs(bool on) { tl_sync_holder = on ? this : nullptr; }

bool FileStore::holds_syncs() const { return tl_sync_holder == this; }

StoreErr FileStore::flush() {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  return flush_locked();
}

FileStoreStats FileStore::stats() {
  std::lock_guard lk(mu_);
  std::lock_guard io(io_mu_);
  return stats_;
}

void FileStore::drop_caches() {
  std::lock_guard lk(mu_);
  flush_locked();
  tail_.clear();
  tail_start_ = block_bytes_;
  rc_.clear();
  offs_cache_.clear();
  offs_cache_bytes_ = 0;
}

size_t FileStore::cache_bytes() {
  std::lock_guard lk(mu_);
  return offs_cache_bytes_ + heap_bytes(rc_) + heap_bytes(tail_);
}

void FileStore::flusher() {
  std::unique_lock lk(mu_);
  std::string buf;
  while (!stop_) {
    // Idle (nothing to write): wake up once in a while to drop read caches nobody used
    // lately, so a cold stream costs its index and little else.
    while (!stop_ && flushed_ == block_bytes_) {
      bool cached = !offs_cache_.empty() || heap_bytes(rc_) > 0 || heap_bytes(tail_) > 0 || heap_bytes(buf) > 0;
      if (!cached) {
        cv_.wait(lk, [&] { return stop_ || flushed_ != block_bytes_; });
        break;
      }
      auto idle_for = std::chrono::steady_clock::now() - std::max(last_read_, last_write_);
      if (idle_for >= cfg_.cache_idle) {
        drop_idle_caches_locked();
        std::string().swap(buf);
        continue;
      }
      cv_.wait_for(lk, cfg_.cache_idle - idle_for, [&] { return stop_ || flushed_ != block_bytes_; });
    }
    if (stop_) break;
    // Let more records gather (one write for everything stored meanwhile), unless a full
    // batch is already waiting.
    cv_.wait_for(lk, std::chrono::milliseconds(cfg_.flush_delay_ms),
                 [&] { return stop_ || block_bytes_ - flushed_ >= kFlushBytes; });
    if (stop_) break;
    if (flushed_ == block_bytes_ || write_failed_) continue;
    // Everything below flushed_ is in the file here (our previous write finished, inline
    // writes finish under mu_), so the tail may be trimmed.
    trim_tail_locked();
    // Copy the batch and write it without mu_, so stores and loads are not held up by the
    // write; io_mu_ (taken before mu_ is released) makes anyone who needs the file
    // complete (sync, roll, close) wait for it.
    buf.assign(tail_.data() + (flushed_ - tail_start_), block_bytes_ - flushed_);
    uint64_t off = flushed_;
    int fd = fd_;
    flushed_ = block_bytes_;
    std::unique_lock io(io_mu_);
    lk.unlock();
    if (!write_all(fd, buf.data(), buf.size(), off)) write_failed_ = true;
    ++stats_.writes;
    io.unlock();
    lk.lock();
    if (buf.capacity() > 2 * kFlushBytes) std::string().swap(buf);  // an unusually large batch
  }
}

void FileStore::close() {
  {
    std::lock_guard lk(mu_);
    if (closed_) return;
    closed_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  compact_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (compactor_.joinable()) compactor_.join();  // a rewrite in progress sees closed_ and is dropped
  std::unique_lock lk(mu_);
  sync_cv_.wait(lk, [this] { return syncs_.empty(); });  // a group commit's fsyncs run without mu_
  // Once the active block is durable, its offsets and summary are saved as a sealed block's,
  // so the next start replays it without reading it (recover checks they still match).
  if (sync_locked() == StoreErr::ok && fd_ >= 0 && block_bytes_ > 0 && !write_failed_) {
    write_block_index(cfg_.dir, active_offs_, block_bytes_);
    summary_.write(cfg_.dir, block_index_, block_bytes_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (rfd_ >= 0) {
    ::close(rfd_);
    rfd_ = -1;
  }
  tail_.clear();
  tail_.shrink_to_fit();
  rc_.clear();
  rc_.shrink_to_fit();
}

}  // namespace nats::jetstream
