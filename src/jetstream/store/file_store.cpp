#include "jetstream/store/file_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "jetstream/store/crc32c.h"

namespace nats::jetstream {

namespace fs = std::filesystem;

namespace {
enum RecordType : uint8_t { kMsg = 1, kRemove = 2, kCompact = 3 };

void put_u32(std::string& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_u64(std::string& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string seq_record(RecordType t, uint64_t seq) {
  std::string b(1, static_cast<char>(t));
  put_u64(b, seq);
  return b;
}

std::string block_path(const std::string& dir, uint64_t index) {
  return dir + "/" + std::to_string(index) + ".blk";
}

constexpr size_t kMsgFixed = 1 + 8 + 8 + 8 + 4 + 4 + 4;
}  // namespace

FileStore::FileStore(const FileStoreConfig& cfg, StoreLimits limits, StoreClock clock)
    : cfg_(cfg), mem_(limits, std::move(clock)) {
  mem_.use_file_sizes();
}

FileStore::~FileStore() { close(); }

std::unique_ptr<FileStore> FileStore::open(const FileStoreConfig& cfg, StoreLimits limits,
                                           StoreClock clock, StoreErr* err) {
  std::unique_ptr<FileStore> st(new FileStore(cfg, limits, std::move(clock)));
  StoreErr e = st->recover();
  if (err) *err = e;
  if (e != StoreErr::ok) return nullptr;
  return st;
}

StoreErr FileStore::recover() {
  std::error_code ec;
  fs::create_directories(cfg_.dir, ec);
  if (ec) return StoreErr::io;
  std::vector<uint64_t> blocks;
  for (auto& ent : fs::directory_iterator(cfg_.dir, ec)) {
    auto name = ent.path().filename().string();
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

  for (size_t bi = 0; bi < blocks.size(); ++bi) {
    bool last = bi + 1 == blocks.size();
    std::string path = block_path(cfg_.dir, blocks[bi]);
    std::ifstream in(path, std::ios::binary);
    if (!in) return StoreErr::io;
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++recovery_.blocks;
    size_t off = 0;
    bool bad = false;
    while (off < data.size()) {
      if (data.size() - off < 4) { bad = true; break; }
      uint32_t len = get_u32(data.data() + off);
      if (len == 0 || data.size() - off - 4 < static_cast<uint64_t>(len) + 4) { bad = true; break; }
      const char* body = data.data() + off + 4;
      if (crc32c(body, len) != get_u32(body + len)) { bad = true; break; }
      uint8_t type = static_cast<uint8_t>(body[0]);
      if (type == kMsg) {
        if (len < kMsgFixed) { bad = true; break; }
        StoredMsg m;
        m.seq = get_u64(body + 1);
        m.ts = static_cast<int64_t>(get_u64(body + 9));
        m.ttl_ns = static_cast<int64_t>(get_u64(body + 17));
        uint32_t sl = get_u32(body + 25), hl = get_u32(body + 29), pl = get_u32(body + 33);
        if (static_cast<uint64_t>(kMsgFixed) + sl + hl + pl != len) { bad = true; break; }
        const char* p = body + kMsgFixed;
        m.subject.assign(p, sl);
        m.headers.assign(p + sl, hl);
        m.payload.assign(p + sl + hl, pl);
        mem_.replay_store(std::move(m));
      } else if ((type == kRemove || type == kCompact) && len == 9) {
        uint64_t seq = get_u64(body + 1);
        if (type == kRemove) mem_.remove_msg(seq);
        else mem_.compact(seq);
      } else {
        bad = true;
        break;
      }
      ++recovery_.records;
      off += 4 + len + 4;
    }
    if (bad) {
      if (last) {
        recovery_.truncated_bytes = data.size() - off;
        if (::truncate(path.c_str(), static_cast<off_t>(off)) != 0) return StoreErr::io;
      } else {
        ++recovery_.corrupt_blocks;
      }
    }
  }
  StoreErr e = open_block(blocks.empty() ? 1 : blocks.back());
  if (e != StoreErr::ok) return e;
  mem_.set_observer(this);
  mem_.update_limits(limits);
  return flush_pending();
}

StoreErr FileStore::open_block(uint64_t index) {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
  std::string path = block_path(cfg_.dir, index);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return StoreErr::io;
  off_t end = ::lseek(fd_, 0, SEEK_END);
  block_index_ = index;
  block_bytes_ = end > 0 ? static_cast<uint64_t>(end) : 0;
  return StoreErr::ok;
}

StoreErr FileStore::append(const std::string& body) {
  if (block_bytes_ > 0 && block_bytes_ + body.size() + 8 > cfg_.block_size) {
    StoreErr e = open_block(block_index_ + 1);
    if (e != StoreErr::ok) return e;
  }
  std::string rec;
  rec.reserve(body.size() + 8);
  put_u32(rec, static_cast<uint32_t>(body.size()));
  rec += body;
  put_u32(rec, crc32c(body.data(), body.size()));
  size_t done = 0;
  while (done < rec.size()) {
    ssize_t n = ::write(fd_, rec.data() + done, rec.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return StoreErr::io;
    }
    done += static_cast<size_t>(n);
  }
  block_bytes_ += rec.size();
  if (cfg_.sync_always && ::fdatasync(fd_) != 0) return StoreErr::io;
  return StoreErr::ok;
}

StoreErr FileStore::flush_pending() {
  StoreErr res = StoreErr::ok;
  for (auto& r : pending_) {
    StoreErr e = append(r);
    if (e != StoreErr::ok) res = e;
  }
  pending_.clear();
  return res;
}

void FileStore::on_remove(uint64_t seq) { pending_.push_back(seq_record(kRemove, seq)); }
void FileStore::on_compact(uint64_t seq) { pending_.push_back(seq_record(kCompact, seq)); }

StoreResult FileStore::store_msg(std::string_view subject, std::string_view headers,
                                 std::string_view payload, std::optional<int64_t> ttl_ns) {
  std::lock_guard lk(mu_);
  if (closed_) return {StoreErr::closed};
  StoreResult res = mem_.store_msg(subject, headers, payload, ttl_ns);
  if (res.err != StoreErr::ok) {
    flush_pending();  // age expiry may have happened before the rejection
    return res;
  }
  // The message record goes before any eviction records: an eviction can name it.
  std::string b(1, static_cast<char>(kMsg));
  put_u64(b, res.seq);
  put_u64(b, static_cast<uint64_t>(res.ts));
  put_u64(b, static_cast<uint64_t>(ttl_ns.value_or(0)));
  put_u32(b, static_cast<uint32_t>(subject.size()));
  put_u32(b, static_cast<uint32_t>(headers.size()));
  put_u32(b, static_cast<uint32_t>(payload.size()));
  b.append(subject);
  b.append(headers);
  b.append(payload);
  StoreErr e = append(b);
  StoreErr e2 = flush_pending();
  if (e != StoreErr::ok || e2 != StoreErr::ok) res.err = StoreErr::io;
  return res;
}

StoreErr FileStore::load_msg(uint64_t seq, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  return mem_.load_msg(seq, out);
}

StoreErr FileStore::load_next_msg(std::string_view filter, uint64_t start, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  return mem_.load_next_msg(filter, start, out);
}

StoreErr FileStore::load_last_msg(std::string_view filter, StoredMsg& out) {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  return mem_.load_last_msg(filter, out);
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

StoreErr FileStore::sync() {
  std::lock_guard lk(mu_);
  if (closed_) return StoreErr::closed;
  return ::fdatasync(fd_) == 0 ? StoreErr::ok : StoreErr::io;
}

void FileStore::close() {
  std::lock_guard lk(mu_);
  if (closed_) return;
  closed_ = true;
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace nats::jetstream
