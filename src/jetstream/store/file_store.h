#pragma once
// Persistent stream store: an append-only log of records split over block files
// (<dir>/<index>.blk). In memory: the live index kept in a MemoryStore without bodies or
// times (its SlotIndex: per 4096 sequences one subject id and accounted size when they are
// uniform, arrays only where they vary, a removal bitmap only where something was removed;
// times are read from the records), per-subject counts, and per block its last sequence. Where a record lies in its
// block is kept only for the active block and a few recently read ones (BlockIndex); a
// sealed block's offsets are saved in <index>.idx when the store rolls past it.
// Every change is a record: a stored message, a removal (including limit/age evictions),
// or a compact (purge/compact: "everything below seq is gone"). Reopening replays the
// blocks; a torn or corrupt record at the tail of the last block is cut off.
//
// Record: u32 body_len (LE) | body | u32 crc32c(body). Body starts with a type byte.
//
// Writes (as the reference's file store): a record is appended to an in-process buffer and
// the call returns; a background flusher writes the buffer to the block file a few ms later
// (or as soon as 256 KiB are waiting) with one pwrite made outside the store's lock, and
// roll/sync/close write what is left. fsync happens on sync() (the caller's
// sync_interval), on close, or on every append with sync_always (unless the calling
// thread holds syncs for a group commit, see hold_syncs). Rolling to a new block does not
// fsync; the old block is fsync'ed by the next sync().
//
// Reads: a message body is read from the active block's in-memory tail (the most recent
// bytes written, flushed or not) or with pread from its block, one chunk at a time so a
// consumer reading forward makes one syscall per chunk, not per message.
//
// Restart: a sealed block is replayed from its summary (<index>.sum, see block_summary.h:
// sequence, time, subject and sizes per record or per run of like messages, written when the
// store rolls past the block) without reading the block. A clean close saves the active
// block's summary and offsets too, so the next start replays it the same way when both still
// name its length and its records from the last message on pass their checksums; otherwise
// (an append since, a crash, a torn write) the last block, like any block without a good
// summary, is read through a small buffer and its record checksums checked. Read caches (sealed blocks' offsets within a byte budget,
// the last chunk read, the active tail) are dropped after cfg.cache_idle without traffic.
//
// Compaction (file_store_compact.cpp): a sealed block whose live messages fall under
// cfg.compact_below of its bytes (KV updates, work-queue acks out of order, purges by subject
// or with keep) is rewritten by a background thread with only its live records; one with
// nothing left is deleted. Whole blocks below the first sequence are deleted as before, and an
// emptied stream rolls off a large active block so that it goes too. erase does not scrub.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jetstream/store/block_index.h"
#include "jetstream/store/block_summary.h"
#include "jetstream/store/memory_store.h"

namespace nats::jetstream {

struct FileStoreConfig {
  std::string dir;
  uint64_t block_size = 8 * 1024 * 1024;  // roll to a new block file past this
  bool sync_always = false;
  // Buffered records reach the file at the latest this long after being stored.
  uint32_t flush_delay_ms = 2;
  // Read caches (sealed blocks' offsets, the last chunk read, the active block's tail) are
  // dropped once the store saw no read or write for this long (needs the flusher, so not
  // with sync_always).
  std::chrono::milliseconds cache_idle{2000};
  // Compact a sealed block once its live messages take less than this fraction of its file
  // (0: never). The block the stream starts in, when it lost messages only from its start (a
  // limits stream, an in-order work queue: it is deleted whole once empty), only below a fifth.
  double compact_below = 0.5;
  // Compact in a background thread as blocks qualify (tests turn it off and call
  // compact_blocks()).
  bool auto_compact = true;
};

// Tests: stop a compaction after one of its steps, leaving the files as a crash there would
// (the store must then be closed and reopened, its memory no longer matches the files).
enum class CompactStop { none, after_tmp_written, after_meta_removed, after_rename };

struct FileStoreRecovery {
  uint64_t blocks = 0;
  uint64_t records = 0;
  uint64_t truncated_bytes = 0;  // cut from the tail of the last block
  uint64_t corrupt_blocks = 0;   // earlier blocks whose remainder was unreadable
  uint64_t summaries = 0;        // sealed blocks replayed from their summary (not read)
  bool last_from_summary = false;  // the last block too (saved by a clean close; its tail checked)
};

// Counters for tests and diagnostics.
struct FileStoreStats {
  uint64_t writes = 0;        // pwrite batches to block files
  uint64_t syncs = 0;         // fdatasync calls
  uint64_t disk_reads = 0;    // pread calls for message bodies
  uint64_t blocks_removed = 0;
  uint64_t blocks_compacted = 0;      // rewritten (or deleted) by compaction
  uint64_t compact_bytes_freed = 0;   // block file bytes compaction gave back
};

class FileStore : public MessageStore, private StoreObserver {
 public:
  // Creates the directory if missing. Returns null and sets err on I/O failure.
  static std::unique_ptr<FileStore> open(const FileStoreConfig& cfg, StoreLimits limits = {},
                                         StoreClock clock = system_clock_ns,
                                         StoreErr* err = nullptr);
  ~FileStore() override;

  StoreResult store_msg(std::string_view subject, std::string_view headers,
                        std::string_view payload, std::optional<int64_t> ttl_ns = {}) override;
  StoreResult store_msg_at(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                           std::string_view payload) override;
  StoreErr load_msg(uint64_t seq, StoredMsg& out) override;
  StoreErr load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) override;
  StoreErr load_last_msg(std::string_view filter, StoredMsg& out) override;
  StoreErr remove_msg(uint64_t seq) override;
  StoreErr erase_msg(uint64_t seq) override { return remove_msg(seq); }
  uint64_t purge(std::string_view subject = {}, uint64_t up_to_seq = 0, uint64_t keep = 0) override;
  uint64_t compact(uint64_t seq) override;
  void expire_msgs() override;
  uint64_t last_seq() override;
  StoreState state() override;
  StoreState fast_state() override;
  std::unordered_map<std::string, SubjectState> subjects_state(std::string_view filter) override;
  void update_limits(const StoreLimits& limits) override;

  // Writes the buffer and fsyncs every block written since the last sync, without holding the
  // store's lock during the fsync. Concurrent callers share fsyncs (group commit): one that
  // arrives while an fsync runs waits, and one fsync then covers all who arrived meanwhile.
  StoreErr sync();
  // How many sync() fsyncs may run at once (group_commit.h says why more than one).
  static constexpr size_t kMaxSyncsInFlight = 3;
  // sync_always group commit: while the calling thread holds syncs (a thread-local mark), its
  // stores are not fsync'ed one by one; it calls sync() once for all of them before
  // acknowledging any. Stores from other threads meanwhile still sync as usual.
  void hold_syncs(bool on);
  StoreErr flush();  // write the buffer to the file (no fsync)
  void close();      // flush, sync and close; later calls fail with StoreErr::closed
  const FileStoreRecovery& recovery() const { return recovery_; }
  FileStoreStats stats();
  // Tests: forget the cached tail and read chunk so the next loads go to the files.
  void drop_caches();
  // Bytes held by read caches and the active tail (tests).
  size_t cache_bytes();
  // Compacts now every sealed block that qualifies (waits for a background compaction in
  // progress first). Returns how many blocks were rewritten or deleted.
  uint64_t compact_blocks();
  void set_compact_stop(CompactStop s);

 private:
  // Where a message record lives (its length is read from its framing).
  struct Loc {
    uint64_t block = 0;
    uint32_t off = 0;
  };

  FileStore(const FileStoreConfig& cfg, StoreLimits limits, StoreClock clock);
  StoreErr recover();
  StoreErr open_block(uint64_t index);
  StoreErr roll_if_needed(size_t rec_len);
  // Appends one record (body_len prefix, body from the writer, crc) to the buffer.
  template <typename Fill>
  StoreErr append(size_t body_len, Fill&& fill);
  StoreErr append_seq_record(uint8_t type, uint64_t seq);
  StoreErr flush_locked();      // mu_ held: waits for an in-flight write, writes the rest
  StoreErr write_out_locked();  // mu_ and io_mu_ held
  StoreErr sync_locked();
  void trim_tail_locked();
  // Record offsets of a block: the active one's, a cached one's, or loaded (index file,
  // else a scan of the block). Null when the block cannot be read.
  const BlockIndex* offsets_for(uint64_t block);
  bool scan_block(uint64_t block, BlockIndex& out, uint64_t& block_len);
  void cache_index_locked(BlockIndex&& b);  // bounded by kIndexCacheBytes, oldest dropped first
  void drop_idle_caches_locked();
  bool locate(uint64_t seq, Loc& out);
  void note_msg_locked(uint64_t seq, uint32_t off);
  void remove_dead_blocks_locked();
  StoreErr fill_body(StoredMsg& out);  // headers, payload and time of out.seq
  int64_t time_of_locked(uint64_t seq);
  // Points rec at the record (framing included) and sets len to its full length.
  StoreErr read_record(const Loc& l, const char*& rec, uint32_t& len);
  StoreErr read_chunk(const Loc& l, size_t want);
  int block_fd(uint64_t block);
  StoreErr flush_pending();
  // Appends the record of a message the index just accepted (res), or returns res when the
  // index rejected it.
  StoreResult write_msg_locked(StoreResult res, std::string_view subject, std::string_view headers,
                               std::string_view payload, std::optional<int64_t> ttl_ns);
  void flusher();
  bool holds_syncs() const;
  void on_remove(uint64_t seq, uint64_t size) override;
  // Compaction (file_store_compact.cpp).
  void grow_blocks_locked(uint64_t upto);  // block vectors cover blocks up to upto
  bool compact_candidate_locked(size_t i) const;
  void queue_compaction_locked(uint64_t block);
  void check_front_block_locked();
  void roll_off_empty_active_locked();
  void start_compactor_locked();
  void compactor();
  // One block: plan under mu_, rewrite without it, swap under it again. True when the block
  // was rewritten or deleted.
  bool compact_block_locked(std::unique_lock<std::mutex>& lk, uint64_t block);
  StoreErr ensure_compact_marker_locked(uint64_t first);
  void forget_block_caches_locked(uint64_t block);
  void on_compact(uint64_t seq) override;

  std::mutex mu_;
  FileStoreConfig cfg_;
  MemoryStore mem_;
  bool closed_ = false;
  // Held while writing to the active block's fd; taken after mu_. The flusher holds it
  // (and not mu_) during its write.
  std::mutex io_mu_;
  std::atomic<bool> write_failed_{false};  // a failed write fails later stores
  // Group commit (sync()): records appended so far, the count the fsyncs finished so far
  // cover, and the fsyncs running outside mu_ (in start order; syncs_done_ is the number
  // started and finished before syncs_.front()); sync_cv_ wakes the callers waiting for them.
  struct SyncInFlight {
    uint64_t covers;  // appended_gen_ when it started
    bool done;
    StoreErr res;
  };
  uint64_t appended_gen_ = 0;
  uint64_t synced_gen_ = 0;
  std::deque<SyncInFlight> syncs_;
  uint64_t syncs_done_ = 0;
  std::condition_variable sync_cv_;

  // Active block: fd (read/write), logical size (flushed + buffered), and its tail kept in
  // memory: tail_ holds bytes [tail_start_, block_bytes_), of which [flushed_, block_bytes_)
  // is not yet handed to a write. Bytes below tail_start_ are in the file.
  int fd_ = -1;
  uint64_t block_index_ = 0;
  uint64_t first_block_ = 0;
  uint64_t block_bytes_ = 0;
  uint64_t flushed_ = 0;
  uint64_t tail_start_ = 0;
  std::string tail_;
  std::vector<uint64_t> unsynced_blocks_;  // rolled blocks written since the last sync
  bool active_unsynced_ = false;

  std::vector<uint64_t> block_last_seq_;  // [block - first_block_]: last msg seq in it (or before it)
  // Parallel to block_last_seq_: a sealed block's file length, and the accounted bytes of its
  // messages removed since it was written or compacted (a trigger only: compaction counts
  // the live bytes again).
  std::vector<uint64_t> block_file_bytes_;
  std::vector<uint64_t> block_dead_;
  bool replaying_ = false;          // recovery: removals are counted, not logged again
  std::vector<uint64_t> compact_queue_;  // sealed blocks that may qualify, oldest first
  bool check_front_ = false;        // a purge/compact removed messages of the front block
  bool compacting_ = false;         // a compaction runs (one at a time)
  bool compactor_running_ = false;
  bool in_compactor_ = false;       // mu_ is held by the compactor thread (between its steps)
  bool roll_off_wanted_ = false;    // the stream emptied with a large active block
  std::condition_variable compact_cv_;
  std::thread compactor_;
  CompactStop compact_stop_ = CompactStop::none;
  // The last compact record made durable by us: compaction drops older ones from blocks it
  // rewrites, so a later block must hold one first.
  uint64_t marker_seq_ = 0;
  uint64_t marker_block_ = 0;
  BlockIndex active_offs_;                // the active block's records
  BlockSummary summary_;                  // the active block's records, for its .sum file
  std::deque<BlockIndex> offs_cache_;     // sealed blocks read lately, most recent at the back
  size_t offs_cache_bytes_ = 0;
  std::chrono::steady_clock::time_point last_read_{};   // of a sealed block or from a file
  std::chrono::steady_clock::time_point last_write_{};  // last append

  // Read side: one cached fd for a non-active block, and the last chunk read.
  int rfd_ = -1;
  uint64_t rfd_block_ = 0;
  uint64_t rc_block_ = 0;
  uint64_t rc_off_ = 0;
  std::string rc_;

  std::vector<std::pair<uint8_t, uint64_t>> pending_;  // removal/compact records from mem_
  FileStoreRecovery recovery_;
  FileStoreStats stats_;

  std::condition_variable cv_;
  bool stop_ = false;
  std::thread flusher_;
};

}  // namespace nats::jetstream
