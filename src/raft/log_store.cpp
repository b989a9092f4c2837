#include "raft/log_store.h"
#include "util/little_endian.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "raft/wire.h"

namespace nats::raft {

namespace {
constexpr const char* kTermVote = "term_vote.dat";
constexpr const char* kPeers = "peers.json";
constexpr const char* kLog = "log.dat";
constexpr const char* kSnapshot = "snapshot.dat";

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("raft store: " + what + ": " + std::strerror(errno));
}

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}


void write_all(int fd, const std::string& data, const std::string& what) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(what);
    }
    off += static_cast<size_t>(n);
  }
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) fail("open " + dir);
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

LogStore::LogStore(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("raft store: cannot create " + dir_ + ": " + ec.message());
  std::string path = dir_ + "/" + kLog;
  log_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd_ < 0) fail("open " + path);
}

LogStore::~LogStore() {
  if (log_fd_ >= 0) ::close(log_fd_);
}

void LogStore::write_atomic(const std::string& name, const std::string& data) {
  std::string path = dir_ + "/" + name, tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) fail("open " + tmp);
  write_all(fd, data, "write " + tmp);
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("fsync " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename " + tmp);
  fsync_dir(dir_);
}

PersistedState LogStore::load() {
  PersistedState ps;
  if (auto tav = read_file(dir_ + "/" + kTermVote)) {
    size_t pos = 0;
    uint64_t term = 0;
    std::string vote;
    if (wire::get_uvarint(*tav, pos, term) && wire::get_str(*tav, pos, vote)) {
      ps.hard_state.term = term;
      ps.hard_state.voted_for = vote;
    }
  }
  if (auto raw = read_file(dir_ + "/" + kSnapshot)) {
    // Written atomically, so a bad one is not a torn write but damage: refuse to guess.
    Snapshot snap;
    size_t pos = 4;
    if (raw->size() < 4 || fnv1a(std::string_view(*raw).substr(4)) != util::load_le32(raw->data()) ||
        !wire::get_snapshot(*raw, pos, snap) || pos != raw->size())
      throw std::runtime_error("raft store: corrupt " + dir_ + "/" + kSnapshot);
    ps.snapshot = std::move(snap);
  }
  const Index snap_index = ps.snapshot ? ps.snapshot->index : 0;
  offsets_.clear();
  first_ = snap_index + 1;
  auto data = read_file(dir_ + "/" + kLog).value_or(std::string());
  size_t pos = 0;
  uint64_t keep_from = 0;  // file offset of the first record after the snapshot
  bool consistent = true;
  Index next = 0;          // index the next record must have (0: any, for the first one)
  while (data.size() - pos >= 8) {
    uint32_t len = util::load_le32(data.data() + pos), sum = util::load_le32(data.data() + pos + 4);
    if (len > data.size() - pos - 8) break;
    std::string_view payload(data.data() + pos + 8, len);
    if (fnv1a(payload) != sum) break;
    Entry e;
    size_t p = 0;
    if (!wire::get_entry(payload, p, e) || p != payload.size() || e.index == 0 || (next != 0 && e.index != next)) break;
    next = e.index + 1;
    if (e.index == snap_index && e.term != ps.snapshot->term) consistent = false;
    if (e.index <= snap_index) {
      keep_from = pos + 8 + len;
    } else {
      if (ps.log.empty() && e.index != snap_index + 1) consistent = false;  // a gap after the snapshot
      offsets_.push_back(pos - keep_from);
      ps.log.push_back(std::move(e));
    }
    pos += 8 + len;
  }
  end_ = pos;
  if (!consistent) {
    // A snapshot installed from the leader replaced a log that disagreed with it, and we
    // crashed before dropping that log: nothing of it may be used.
    ps.log.clear();
    offsets_.clear();
    truncate_log(0);
  } else {
    // A torn append: nothing after it was acknowledged, so dropping it is safe.
    if (end_ != data.size()) truncate_log(end_);
    if (keep_from > 0) rewrite_log_from(keep_from);  // the snapshot covers that prefix
  }
  return ps;
}

void LogStore::truncate_log(uint64_t size) {
  if (::ftruncate(log_fd_, static_cast<off_t>(size)) != 0) fail("truncate log");
  if (::fdatasync(log_fd_) != 0) fail("fsync log");
  end_ = size;
}

void LogStore::rewrite_log_from(uint64_t from) {
  std::string kept(end_ - from, '\0');
  size_t got = 0;
  while (got < kept.size()) {
    ssize_t n = ::pread(log_fd_, kept.data() + got, kept.size() - got, static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("read log");
    got += static_cast<size_t>(n);
  }
  std::string path = dir_ + "/" + kLog, tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) fail("open " + tmp);
  write_all(fd, kept, "write " + tmp);
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("fsync " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::close(fd);
    fail("rename " + tmp);
  }
  fsync_dir(dir_);
  ::close(log_fd_);
  log_fd_ = fd;
  end_ = kept.size();
}

void LogStore::save_snapshot(const Snapshot& s, bool discard_log) {
  std::string payload;
  wire::put_snapshot(payload, s);
  std::string out;
  util::append_le(out, fnv1a(payload), 4);
  out += payload;
  write_atomic(kSnapshot, out);
  Index covered = s.index + 1 > first_ ? s.index + 1 - first_ : 0;  // records the snapshot covers
  if (discard_log || covered >= offsets_.size()) {
    offsets_.clear();
    truncate_log(0);
  } else if (covered > 0) {
    uint64_t from = offsets_[covered];
    offsets_.erase(offsets_.begin(), offsets_.begin() + static_cast<ptrdiff_t>(covered));
    for (auto& o : offsets_) o -= from;
    rewrite_log_from(from);
  }
  first_ = s.index + 1;
}

void LogStore::save_hard_state(const HardState& hs) {
  std::string out;
  wire::put_uvarint(out, hs.term);
  wire::put_str(out, hs.voted_for);
  write_atomic(kTermVote, out);
}

void LogStore::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Index first = entries.front().index;
  if (first < first_ || first > first_ + offsets_.size())
    throw std::runtime_error("raft store: append leaves a gap or reaches into the snapshot");
  if (first < first_ + offsets_.size()) {
    end_ = offsets_[first - first_];
    offsets_.resize(first - first_);
    if (::ftruncate(log_fd_, static_cast<off_t>(end_)) != 0) fail("truncate log");
  }
  std::string buf;
  for (const auto& e : entries) {
    std::string payload;
    wire::put_entry(payload, e);
    offsets_.push_back(end_ + buf.size());
    util::append_le(buf, payload.size(), 4);
    util::append_le(buf, fnv1a(payload), 4);
    buf += payload;
  }
  if (::lseek(log_fd_, static_cast<off_t>(end_), SEEK_SET) < 0) fail("seek log");
  write_all(log_fd_, buf, "write log");
  if (sync_appends_ && ::fdatasync(log_fd_) != 0) fail("fsync log");
  end_ += buf.size();
}

void LogStore::persist(const Output& out) {
  if (out.hard_state) save_hard_state(*out.hard_state);
  if (out.snapshot) save_snapshot(*out.snapshot, out.snapshot_discards_log);
  if (!out.entries.empty()) append(out.entries);
}

std::optional<PeerState> LogStore::load_peers() const {
  auto data = read_file(dir_ + "/" + kPeers);
  if (!data) return std::nullopt;
  auto j = nlohmann::json::parse(*data, nullptr, false);
  if (!j.is_object() || !j.contains("cluster_size") || !j.contains("peers")) return std::nullopt;
  PeerState ps;
  if (!j["cluster_size"].is_number_integer() || !j["peers"].is_array()) return std::nullopt;
  ps.cluster_size = j["cluster_size"].get<int>();
  for (auto& p : j["peers"])
    if (p.is_string()) ps.peers.push_back(p.get<std::string>());
  ps.joining = j.value("joining", false);
  if (ps.peers.empty() && !ps.joining) return std::nullopt;
  return ps;
}

void LogStore::save_peers(const PeerState& ps) {
  nlohmann::json j;
  j["cluster_size"] = ps.cluster_size;
  j["peers"] = ps.peers;
  if (ps.joining) j["joining"] = true;
  write_atomic(kPeers, j.dump());
}

}  // namespace nats::raft
