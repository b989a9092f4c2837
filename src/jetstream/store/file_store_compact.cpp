// FileStore's block compaction: which blocks qualify, the background thread, and the
// crash-safe swap of a rewritten block.
//
// A block's records are replaced in three steps, so that a crash at any point leaves either
// the old block or the new one, each of which replays to the same live messages:
//  1. (under mu_) a compact(first) record, first being the stream's first live sequence, is
//     appended to the active block and fsync'ed (unless one already is): the rewrite may drop
//     removal and compact records of sequences below first, and this record, replayed after
//     the block, removes those messages wherever they still lie;
//  2. (without mu_) the live records go to <block>.blk.tmp, which is fsync'ed; removals and
//     loads meanwhile still use the old file (a message removed during the rewrite stays in
//     the new file, its removal record is in a later block);
//  3. (under mu_) the block's .idx and .sum go, the temporary file is renamed over the block
//     (atomic), the directory is fsync'ed, and the new .idx and .sum are written. A block
//     with nothing left to keep is unlinked instead. Recovery deletes stray .tmp files.
// The block holding the stream's last sequence is skipped when that message is gone (its
// record is what tells a restart the last sequence).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "jetstream/store/block_compactor.h"
#include "jetstream/store/block_records.h"
#include "jetstream/store/file_store.h"

namespace nats::jetstream {

namespace {
// An emptied stream rolls to a new block once its active block holds this much, so that the
// old one (all removed) is deleted rather than kept until the next roll.
constexpr uint64_t kRollEmptyActive = 256 * 1024;

bool fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}
}  // namespace

void FileStore::grow_blocks_locked(uint64_t upto) {
  while (first_block_ + block_last_seq_.size() <= upto) {
    block_last_seq_.push_back(block_last_seq_.empty() ? 0 : block_last_seq_.back());
    block_file_bytes_.push_back(0);
    block_dead_.push_back(0);
  }
}

bool FileStore::compact_candidate_locked(size_t i) const {
  if (cfg_.compact_below <= 0 || i >= block_file_bytes_.size()) return false;
  uint64_t bytes = block_file_bytes_[i];
  if (bytes == 0) return false;
  double below = cfg_.compact_below;
  uint64_t live = bytes - std::min(bytes, block_dead_[i]);
  return static_cast<double>(live) < below * static_cast<double>(bytes);
}

void FileStore::queue_compaction_locked(uint64_t block) {
  if (std::find(compact_queue_.begin(), compact_queue_.end(), block) == compact_queue_.end())
    compact_queue_.push_back(block);
}

void FileStore::check_front_block_locked() {
  // compact()/purge remove messages without a removal each: count the front block again.
  check_front_ = false;
  if (first_block_ >= block_index_ || block_last_seq_.empty()) return;
  uint64_t live = mem_.live_in(0, block_last_seq_[0], nullptr);
  block_dead_[0] = block_file_bytes_[0] - std::min(block_file_bytes_[0], live);
  if (compact_candidate_locked(0)) queue_compaction_locked(first_block_);
}

void FileStore::roll_off_empty_active_locked() {
  if (block_bytes_ < kRollEmptyActive || write_failed_) return;
  auto [first, last] = mem_.seq_range();
  if (first <= last) return;  // messages left
  if (cfg_.auto_compact && !in_compactor_) {
    // Its fsyncs are not for the thread acking the last message: the compactor rolls.
    roll_off_wanted_ = true;
    return;
  }
  roll_off_wanted_ = false;
  if (roll_if_needed(cfg_.block_size) != StoreErr::ok) return;  // forces the roll
  remove_dead_blocks_locked();
}

void FileStore::start_compactor_locked() {
  if (!cfg_.auto_compact || (compact_queue_.empty() && !roll_off_wanted_) || compactor_running_ || closed_) return;
  // A finished thread (it cleared compactor_running_ as its last step under mu_) is joined
  // before the next one starts.
  if (compactor_.joinable()) compactor_.join();
  compactor_running_ = true;
  compactor_ = std::thread([this] { compactor(); });
}

void FileStore::compactor() {
  std::unique_lock lk(mu_);
  while (!closed_ && (!compact_queue_.empty() || roll_off_wanted_)) {
    if (roll_off_wanted_) {
      roll_off_wanted_ = false;
      in_compactor_ = true;
      roll_off_empty_active_locked();
      in_compactor_ = false;
      continue;
    }
    if (compacting_) {
      compact_cv_.wait(lk);
      continue;
    }
    uint64_t block = compact_queue_.front();
    compact_queue_.erase(compact_queue_.begin());
    compact_block_locked(lk, block);
  }
  compactor_running_ = false;
}

uint64_t FileStore::compact_blocks() {
  std::unique_lock lk(mu_);
  uint64_t n = 0;
  for (uint64_t b = first_block_; b < block_index_ && !closed_; ++b) {
    compact_cv_.wait(lk, [&] { return !compacting_ || closed_; });
    if (b < first_block_) continue;  // removed meanwhile
    if (compact_block_locked(lk, b)) ++n;
  }
  return n;
}

void FileStore::set_compact_stop(CompactStop s) {
  std::lock_guard lk(mu_);
  compact_stop_ = s;
}

StoreErr FileStore::ensure_compact_marker_locked(uint64_t first) {
  if (marker_block_ == block_index_ && marker_seq_ >= first) return StoreErr::ok;
  StoreErr e = append_seq_record(block_records::kCompact, first);
  if (e == StoreErr::ok) e = flush_locked();
  if (e != StoreErr::ok) return e;
  if (::fdatasync(fd_) != 0) return StoreErr::io;
  ++stats_.syncs;
  marker_seq_ = first;
  marker_block_ = block_index_;
  return StoreErr::ok;
}

void FileStore::forget_block_caches_locked(uint64_t block) {
  if (rfd_ >= 0 && rfd_block_ == block) {
    ::close(rfd_);
    rfd_ = -1;
  }
  if (rc_block_ == block) rc_.clear();
  for (auto it = offs_cache_.begin(); it != offs_cache_.end();) {
    if (it->block != block) {
      ++it;
      continue;
    }
    offs_cache_bytes_ -= it->memory();
    it = offs_cache_.erase(it);
  }
  unsynced_blocks_.erase(std::remove(unsynced_blocks_.begin(), unsynced_blocks_.end(), block),
                         unsynced_blocks_.end());
}

bool FileStore::compact_block_locked(std::unique_lock<std::mutex>& lk, uint64_t block) {
  // Step 1: is it worth it, and what stays.
  if (closed_ || write_failed_ || block < first_block_ || block >= block_index_) return false;
  size_t i = block - first_block_;
  if (block_file_bytes_[i] == 0) return false;
  auto [first, last] = mem_.seq_range();
  if (first == 0) return false;
  BlockCompactPlan plan;
  plan.dir = cfg_.dir;
  plan.block = block;
  plan.range_first = i == 0 ? 1 : block_last_seq_[i - 1] + 1;
  uint64_t range_last = block_last_seq_[i];
  if (range_last >= last && !mem_.is_live(last)) return false;  // holds the last sequence's record
  if (range_last >= plan.range_first) plan.range_first = std::max(plan.range_first, std::min(first, range_last + 1));
  uint64_t live = range_last >= plan.range_first ? mem_.live_in(plan.range_first, range_last, &plan.live) : 0;
  uint64_t bytes = block_file_bytes_[i];
  block_dead_[i] = bytes - std::min(bytes, live);
  if (!compact_candidate_locked(i)) return false;
  if (i == 0) {
    // The front block of a limits stream or an in-order work queue loses messages from its
    // start only and is deleted whole once they are all gone: rewrite it only when little
    // is left, or when it has gaps after its first live message.
    uint64_t n = 0;
    for (bool l : plan.live) n += l ? 1 : 0;
    uint64_t from = std::max(plan.range_first, first);
    bool prefix_only = range_last < from || n == range_last - from + 1;
    if (prefix_only && static_cast<double>(live) >= cfg_.compact_below / 5 * static_cast<double>(bytes))
      return false;
  }
  plan.stream_first = first;
  if (ensure_compact_marker_locked(first) != StoreErr::ok) return false;
  compacting_ = true;
  CompactStop stop = compact_stop_;
  // A simulated crash ends compaction in this store (it is to be reopened).
  if (stop != CompactStop::none) cfg_.compact_below = 0;

  // Step 2: the rewrite, without mu_.
  lk.unlock();
  BlockCompactResult res;
  bool ok = rewrite_block(plan, res);
  lk.lock();
  compacting_ = false;
  compact_cv_.notify_all();
  std::string tmp = block_compact_tmp_path(cfg_.dir, block);
  if (!ok || stop == CompactStop::after_tmp_written) return false;
  if (closed_ || block < first_block_) {  // closed or deleted whole meanwhile
    ::unlink(tmp.c_str());
    return false;
  }

  // Step 3: the swap.
  std::string path = block_records::block_path(cfg_.dir, block);
  ::unlink(block_index_path(cfg_.dir, block).c_str());
  ::unlink(block_summary_path(cfg_.dir, block).c_str());
  if (stop == CompactStop::after_meta_removed) return false;
  forget_block_caches_locked(block);
  if (res.new_len == 0) {
    if (::unlink(path.c_str()) != 0) return false;
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  fsync_dir(cfg_.dir);
  if (stop == CompactStop::after_rename) return false;
  if (res.new_len > 0) {
    write_block_index(cfg_.dir, res.index, res.new_len);
    res.summary.write(cfg_.dir, block, res.new_len);
  }
  i = block - first_block_;
  ++stats_.blocks_compacted;
  stats_.compact_bytes_freed += res.old_len - res.new_len;
  block_file_bytes_[i] = res.new_len;
  // Messages removed during the rewrite are still in the new file.
  uint64_t now_live = mem_.live_in(plan.range_first, range_last, nullptr);
  block_dead_[i] = live - std::min(live, now_live);
  return true;
}

}  // namespace nats::jetstream
