#include "jetstream/store/block_summary.h"
#include "util/little_endian.h"
#include "util/varint.h"
#include "jetstream/store/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "jetstream/store/crc32c.h"

namespace nats::jetstream {

namespace {
constexpr char kSummaryMagic[4] = {'N', 'S', 'S', 'M'};
constexpr uint32_t kSummaryVersion = 2;  // 1: no run entries (still read)

// Bounds-checked reader over the file's bytes.
struct Reader {
  const char* p;
  const char* end;
  bool ok = true;
  uint64_t fixed(int bytes) {
    if (end - p < bytes) {
      ok = false;
      return 0;
    }
    uint64_t v = util::load_le(p, bytes);
    p += bytes;
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) break;
      uint8_t b = static_cast<uint8_t>(*p++);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
};

// Decodes the entries after the header; with apply false it only checks that they decode.
bool decode(const std::string& buf, uint64_t block, uint64_t block_len, bool apply,
            const std::function<void(const SummaryMsg&)>& on_msg, const std::function<void(const SummaryRun&)>& on_run,
            const std::function<void(uint8_t, uint64_t)>& on_marker) {
  if (buf.size() < 4 + 4 + 8 + 8 + 4 + 8 + 4 || std::memcmp(buf.data(), kSummaryMagic, 4) != 0) return false;
  Reader r{buf.data() + 4, buf.data() + buf.size() - 4};
  uint64_t version = r.fixed(4);
  if ((version != 1 && version != kSummaryVersion) || r.fixed(8) != block || r.fixed(8) != block_len) return false;
  uint64_t nsubj = r.fixed(4);
  if (!r.ok || nsubj > buf.size()) return false;
  std::vector<std::string_view> subjects;
  subjects.reserve(nsubj);
  for (uint64_t i = 0; i < nsubj; ++i) {
    uint64_t len = r.fixed(4);
    if (!r.ok || static_cast<uint64_t>(r.end - r.p) < len) return false;
    subjects.emplace_back(r.p, len);
    r.p += len;
  }
  uint64_t count = r.fixed(8);
  if (!r.ok) return false;
  uint64_t seq = 0;
  int64_t ts = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t type = static_cast<uint8_t>(r.fixed(1));
    seq = static_cast<uint64_t>(static_cast<int64_t>(seq) + util::unzigzag(r.varint()));
    if (type == BlockSummary::kMsg) {
      SummaryMsg m;
      m.seq = seq;
      ts += util::unzigzag(r.varint());
      m.ts = ts;
      m.ttl_ns = static_cast<int64_t>(r.varint());
      uint64_t subj = r.varint();
      uint64_t hl = r.varint(), pl = r.varint();
      if (!r.ok || subj >= subjects.size() || hl > UINT32_MAX || pl > UINT32_MAX) return false;
      m.subject = subjects[subj];
      m.hdr_len = static_cast<uint32_t>(hl);
      m.payload_len = static_cast<uint32_t>(pl);
      if (apply) on_msg(m);
    } else if (type == BlockSummary::kRun && version >= 2) {
      SummaryRun run;
      run.first = seq;
      ts += util::unzigzag(r.varint());
      run.first_ts = ts;
      run.count = r.varint();
      uint64_t subj = r.varint();
      uint64_t hl = r.varint(), pl = r.varint();
      ts += util::unzigzag(r.varint());
      run.last_ts = ts;
      if (!r.ok || run.count < 2 || run.count > (1ull << 40) || subj >= subjects.size() || hl > UINT32_MAX ||
          pl > UINT32_MAX)
        return false;
      run.subject = subjects[subj];
      run.hdr_len = static_cast<uint32_t>(hl);
      run.payload_len = static_cast<uint32_t>(pl);
      seq += run.count - 1;
      if (apply) on_run(run);
    } else if (type == BlockSummary::kRemove || type == BlockSummary::kCompact) {
      if (!r.ok) return false;
      if (apply) on_marker(type, seq);
    } else {
      return false;
    }
  }
  return r.ok && r.p == r.end;
}
}  // namespace

uint32_t BlockSummary::subject_id(std::string_view subject) {
  return subjects_.intern(subject);  // ids are 0, 1, 2... (nothing is released)
}

void BlockSummary::add_msg(uint64_t seq, int64_t ts, int64_t ttl_ns, std::string_view subject, uint32_t hdr_len,
                           uint32_t payload_len) {
  uint32_t id = subject_id(subject);
  if (ttl_ns == 0 && run_count_ > 0 && seq == run_first_seq_ + run_count_ && id == run_subj_ && hdr_len == run_hl_ &&
      payload_len == run_pl_) {
    ++run_count_;
    run_last_ts_ = ts;
    return;
  }
  flush_pending();
  if (ttl_ns == 0) {
    run_first_seq_ = seq;
    run_first_ts_ = run_last_ts_ = ts;
    run_count_ = 1;
    run_subj_ = id;
    run_hl_ = hdr_len;
    run_pl_ = payload_len;
    return;
  }
  data_.push_back(static_cast<char>(kMsg));
  util::append_uvarint(data_, util::zigzag(static_cast<int64_t>(seq - prev_seq_)));
  util::append_uvarint(data_, util::zigzag(ts - prev_ts_));
  util::append_uvarint(data_, static_cast<uint64_t>(ttl_ns));
  util::append_uvarint(data_, id);
  util::append_uvarint(data_, hdr_len);
  util::append_uvarint(data_, payload_len);
  prev_seq_ = seq;
  prev_ts_ = ts;
  ++entries_;
}

bool BlockSummary::encode_pending(std::string& out, uint64_t& prev_seq, int64_t& prev_ts) const {
  if (run_count_ == 0) return false;
  out.push_back(static_cast<char>(run_count_ == 1 ? static_cast<uint8_t>(kMsg) : kRun));
  util::append_uvarint(out, util::zigzag(static_cast<int64_t>(run_first_seq_ - prev_seq)));
  util::append_uvarint(out, util::zigzag(run_first_ts_ - prev_ts));
  if (run_count_ == 1) {
    util::append_uvarint(out, 0);  // TTL
  } else {
    util::append_uvarint(out, run_count_);
  }
  util::append_uvarint(out, run_subj_);
  util::append_uvarint(out, run_hl_);
  util::append_uvarint(out, run_pl_);
  if (run_count_ > 1) util::append_uvarint(out, util::zigzag(run_last_ts_ - run_first_ts_));
  prev_seq = run_first_seq_ + run_count_ - 1;
  prev_ts = run_last_ts_;
  return true;
}

void BlockSummary::flush_pending() {
  if (encode_pending(data_, prev_seq_, prev_ts_)) ++entries_;
  run_count_ = 0;
}

void BlockSummary::add_run(uint64_t first, uint64_t count, int64_t first_ts, int64_t last_ts,
                           std::string_view subject, uint32_t hdr_len, uint32_t payload_len) {
  if (count == 0) return;
  if (count == 1) return add_msg(first, first_ts, 0, subject, hdr_len, payload_len);
  flush_pending();
  uint32_t id = subject_id(subject);
  // The file's encoding of a run (with_runs passes it through).
  data_.push_back(static_cast<char>(kRun));
  util::append_uvarint(data_, util::zigzag(static_cast<int64_t>(first - prev_seq_)));
  util::append_uvarint(data_, util::zigzag(first_ts - prev_ts_));
  util::append_uvarint(data_, count);
  util::append_uvarint(data_, id);
  util::append_uvarint(data_, hdr_len);
  util::append_uvarint(data_, payload_len);
  util::append_uvarint(data_, util::zigzag(last_ts - first_ts));
  prev_seq_ = first + count - 1;
  prev_ts_ = last_ts;
  ++entries_;
}

void BlockSummary::add_marker(uint8_t type, uint64_t seq) {
  flush_pending();
  data_.push_back(static_cast<char>(type));
  util::append_uvarint(data_, util::zigzag(static_cast<int64_t>(seq - prev_seq_)));
  prev_seq_ = seq;
  ++entries_;
}

void BlockSummary::clear() {
  std::string().swap(data_);
  run_count_ = 0;
  entries_ = 0;
  prev_seq_ = 0;
  prev_ts_ = 0;
  subjects_.clear();
}

size_t BlockSummary::memory() const {
  size_t n = data_.capacity();
  n += subjects_.memory();
  return n;
}

std::string block_summary_path(const std::string& dir, uint64_t block) {
  return dir + "/" + std::to_string(block) + ".sum";
}

std::string BlockSummary::with_runs(uint64_t& entries) const {
  // Re-encodes data_ (our own, well-formed) merging consecutive messages into runs.
  struct Msg {
    uint64_t seq;
    int64_t ts;
    uint64_t ttl, subj, hl, pl;
  };
  std::string out;
  uint64_t out_seq = 0;
  int64_t out_ts = 0;
  Msg first{}, last{};
  uint64_t count = 0;  // messages pending in [first, last]
  auto emit = [&] {
    if (count == 0) return;
    out.push_back(static_cast<char>(count == 1 ? static_cast<uint8_t>(kMsg) : kRun));
    util::append_uvarint(out, util::zigzag(static_cast<int64_t>(first.seq - out_seq)));
    util::append_uvarint(out, util::zigzag(first.ts - out_ts));
    if (count == 1) {
      util::append_uvarint(out, first.ttl);
      util::append_uvarint(out, first.subj);
      util::append_uvarint(out, first.hl);
      util::append_uvarint(out, first.pl);
    } else {
      util::append_uvarint(out, count);
      util::append_uvarint(out, first.subj);
      util::append_uvarint(out, first.hl);
      util::append_uvarint(out, first.pl);
      util::append_uvarint(out, util::zigzag(last.ts - first.ts));
    }
    out_seq = last.seq;
    out_ts = last.ts;
    ++entries;
    count = 0;
  };
  // data_ and the pending run, as one encoding (a copy only when a run is pending: data_ is
  // small then, its messages merged).
  std::string with_pending;
  const std::string* src = &data_;
  uint64_t n_entries = entries_;
  if (run_count_ > 0) {
    with_pending.reserve(data_.size() + 32);
    with_pending = data_;
    uint64_t ps = prev_seq_;
    int64_t pt = prev_ts_;
    encode_pending(with_pending, ps, pt);
    src = &with_pending;
    ++n_entries;
  }
  Reader r{src->data(), src->data() + src->size()};
  uint64_t seq = 0;
  int64_t ts = 0;
  for (uint64_t i = 0; i < n_entries; ++i) {
    uint8_t type = static_cast<uint8_t>(r.fixed(1));
    seq = static_cast<uint64_t>(static_cast<int64_t>(seq) + util::unzigzag(r.varint()));
    if (type == kRun) {
      // A run from add_run: kept as it is (its inner times are not known).
      emit();
      int64_t first_ts = ts + util::unzigzag(r.varint());
      uint64_t n = r.varint(), subj = r.varint(), hl = r.varint(), pl = r.varint();
      int64_t last_ts = first_ts + util::unzigzag(r.varint());
      out.push_back(static_cast<char>(kRun));
      util::append_uvarint(out, util::zigzag(static_cast<int64_t>(seq - out_seq)));
      util::append_uvarint(out, util::zigzag(first_ts - out_ts));
      util::append_uvarint(out, n);
      util::append_uvarint(out, subj);
      util::append_uvarint(out, hl);
      util::append_uvarint(out, pl);
      util::append_uvarint(out, util::zigzag(last_ts - first_ts));
      seq += n - 1;
      ts = last_ts;
      out_seq = seq;
      out_ts = ts;
      ++entries;
      continue;
    }
    if (type != kMsg) {
      emit();
      out.push_back(static_cast<char>(type));
      util::append_uvarint(out, util::zigzag(static_cast<int64_t>(seq - out_seq)));
      out_seq = seq;
      ++entries;
      continue;
    }
    ts += util::unzigzag(r.varint());
    Msg m{seq, ts, 0, 0, 0, 0};
    m.ttl = r.varint();
    m.subj = r.varint();
    m.hl = r.varint();
    m.pl = r.varint();
    bool joins = count > 0 && m.ttl == 0 && last.ttl == 0 && m.seq == last.seq + 1 && m.subj == last.subj &&
                 m.hl == last.hl && m.pl == last.pl;
    if (!joins) {
      emit();
      first = m;
    }
    last = m;
    ++count;
  }
  emit();
  return out;
}

bool BlockSummary::write(const std::string& dir, uint64_t block, uint64_t block_len) const {
  std::string buf;
  buf.reserve(64 + data_.size() + subjects_.memory());
  buf.append(kSummaryMagic, 4);
  util::append_le(buf, kSummaryVersion, 4);
  util::append_le(buf, block, 8);
  util::append_le(buf, block_len, 8);
  util::append_le(buf, subjects_.ids(), 4);
  for (uint32_t id = 0; id < subjects_.ids(); ++id) {
    std::string_view s = subjects_.name(id);
    util::append_le(buf, s.size(), 4);
    buf += s;
  }
  uint64_t entries = 0;
  std::string body = with_runs(entries);
  util::append_le(buf, entries, 8);
  buf += body;
  util::append_le(buf, crc32c(buf.data(), buf.size()), 4);
  // Written under a temporary name and renamed: a crash leaves either no summary or a whole one.
  std::string path = block_summary_path(dir, block);
  std::string tmp = path + ".tmp";
  if (!write_whole_file(tmp, buf) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool replay_block_summary(const std::string& dir, uint64_t block, uint64_t block_len,
                          const std::function<void(const SummaryMsg&)>& on_msg,
                          const std::function<void(const SummaryRun&)>& on_run,
                          const std::function<void(uint8_t, uint64_t)>& on_marker) {
  std::string buf;
  if (!read_whole_file(block_summary_path(dir, block), buf) || buf.size() < 4) return false;
  if (crc32c(buf.data(), buf.size() - 4) != util::load_le(buf.data() + buf.size() - 4, 4)) return false;
  // Check the whole file decodes before replaying any of it.
  if (!decode(buf, block, block_len, false, on_msg, on_run, on_marker)) return false;
  return decode(buf, block, block_len, true, on_msg, on_run, on_marker);
}

}  // namespace nats::jetstream
