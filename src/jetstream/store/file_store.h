#pragma once
// Persistent stream store: an append-only log of records split over block files
// (<dir>/<index>.blk), with the live index kept in a MemoryStore. Every change is a
// record: a stored message, a removal (including limit/age evictions), or a compact
// (purge/compact: "everything below seq is gone"). Reopening replays the blocks; a torn
// or corrupt record at the tail of the last block is cut off.
//
// Record: u32 body_len (LE) | body | u32 crc32c(body). Body starts with a type byte.
//
// Durability: with sync_always every append is fsync'ed; otherwise the caller runs
// sync() on its own interval (the reference's sync_interval).
//
// Not yet: blocks are never rewritten or deleted, so removed data stays on disk until a
// future block compaction; erase does not scrub.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "jetstream/store/memory_store.h"

namespace nats::jetstream {

struct FileStoreConfig {
  std::string dir;
  uint64_t block_size = 8 * 1024 * 1024;  // roll to a new block file past this
  bool sync_always = false;
};

struct FileStoreRecovery {
  uint64_t blocks = 0;
  uint64_t records = 0;
  uint64_t truncated_bytes = 0;  // cut from the tail of the last block
  uint64_t corrupt_blocks = 0;   // earlier blocks whose remainder was unreadable
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
  StoreErr load_msg(uint64_t seq, StoredMsg& out) override;
  StoreErr load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) override;
  StoreErr load_last_msg(std::string_view filter, StoredMsg& out) override;
  StoreErr remove_msg(uint64_t seq) override;
  StoreErr erase_msg(uint64_t seq) override { return remove_msg(seq); }
  uint64_t purge(std::string_view subject = {}, uint64_t up_to_seq = 0, uint64_t keep = 0) override;
  uint64_t compact(uint64_t seq) override;
  void expire_msgs() override;
  StoreState state() override;
  std::unordered_map<std::string, SubjectState> subjects_state(std::string_view filter) override;
  void update_limits(const StoreLimits& limits) override;

  StoreErr sync();   // fsync the active block
  void close();      // sync and close; later calls fail with StoreErr::closed
  const FileStoreRecovery& recovery() const { return recovery_; }

 private:
  FileStore(const FileStoreConfig& cfg, StoreLimits limits, StoreClock clock);
  StoreErr recover();
  StoreErr open_block(uint64_t index);
  StoreErr append(const std::string& body);
  StoreErr flush_pending();
  void on_remove(uint64_t seq) override;
  void on_compact(uint64_t seq) override;

  std::mutex mu_;
  FileStoreConfig cfg_;
  MemoryStore mem_;
  int fd_ = -1;
  uint64_t block_index_ = 0;
  uint64_t block_bytes_ = 0;
  bool closed_ = false;
  std::vector<std::string> pending_;  // removal/compact records produced inside mem_ calls
  FileStoreRecovery recovery_;
};

}  // namespace nats::jetstream
