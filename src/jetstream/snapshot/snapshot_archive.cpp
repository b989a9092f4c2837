#include "jetstream/snapshot/snapshot_archive.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "jetstream/consumer.h"
#include "jetstream/consumer_config.h"
#include "jetstream/json_util.h"
#include "jetstream/snapshot/s2_stream.h"
#include "jetstream/snapshot/tar_archive.h"
#include "jetstream/stream.h"
#include "util/highwayhash.h"
#include "util/little_endian.h"
#include "util/varint.h"

namespace nats::jetstream {

namespace {

using ojson = nlohmann::ordered_json;

// The reference's file store constants (filestore.go).
constexpr uint8_t kMagic = 22;
constexpr uint8_t kGoIndexVersion = 1;
constexpr uint8_t kStateVersion = 2;
constexpr uint32_t kHeadersBit = 1u << 31;
constexpr uint64_t kErasedBit = 1ull << 63;
constexpr size_t kRecordFixed = 22;  // length, sequence, time, subject length
constexpr size_t kHashLen = 8;

// Reads varints from a buffer; any overrun marks the reader bad.
struct GoVarReader {
  std::string_view b;
  size_t i = 0;
  bool ok = true;
  uint64_t u() {
    uint64_t v = 0;
    for (int shift = 0; ok; shift += 7) {
      if (i >= b.size() || shift > 63) {
        ok = false;
        break;
      }
      auto c = static_cast<unsigned char>(b[i++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    return 0;
  }
  int64_t s() { return util::unzigzag(u()); }
};

// meta.sum as the reference writes it: the hex HighwayHash-64 of meta.inf, keyed with the
// sha256 of the stream name (a stream's) or of "<stream>/<consumer>" (a consumer's).
std::string meta_sum(std::string_view key_name, std::string_view meta) {
  util::HighwayHash64 h(util::highway_key_sha256(key_name));
  h.write(meta);
  return util::highway_hex(h);
}

// A message block's record hash key: sha256 of "<stream>-<block index>" (filestore.go
// hashKeyForBlock).
util::HighwayHash64 block_hasher(std::string_view stream, uint64_t block) {
  return util::HighwayHash64(util::highway_key_sha256(fmt::format("{}-{}", stream, block)));
}

// A record's checksum: HighwayHash-64 of sequence and time (as stored, little-endian), subject,
// header bytes (without their length) and payload.
std::string record_hash(util::HighwayHash64& hh, const char* seq_ts16, std::string_view subject,
                        std::string_view headers, std::string_view payload) {
  hh.reset();
  hh.write(seq_ts16, 16);
  hh.write(subject);
  hh.write(headers);
  hh.write(payload);
  return hh.sum_bytes();
}

std::string message_record(const StoredMsg& m, util::HighwayHash64& hh) {
  size_t hl = m.headers.size();
  uint64_t rl = kRecordFixed + m.subject.size() + m.payload.size() + kHashLen + (hl > 0 ? 4 + hl : 0);
  std::string r;
  r.reserve(rl);
  util::append_le(r, rl | (hl > 0 ? kHeadersBit : 0), 4);
  util::append_le(r, m.seq, 8);
  util::append_le(r, static_cast<uint64_t>(m.ts), 8);
  util::append_le(r, m.subject.size(), 2);
  r.append(m.subject);
  if (hl > 0) {
    util::append_le(r, hl, 4);
    r.append(m.headers);
  }
  r.append(m.payload);
  r += record_hash(hh, r.data() + 4, m.subject, m.headers, m.payload);
  return r;
}

// One subject's messages in a block: count, first and last sequence (2.9.10's SimpleState).
struct SubjectRun {
  uint64_t msgs = 0, first = 0, last = 0;
};

// A block's per-subject file as 2.9.10 writes it (msgBlock.writePerSubjectInfo): magic,
// version, the number of subjects, per subject its length, name, count, first and last
// sequence (uvarints); then the HighwayHash-64 of all that with the block's key, and the
// block's last record checksum (2.9.10 uses the file only when that matches the block).
// 2.9.10's own snapshots carry it; without it 2.9.10 rebuilds the subject state from the
// records when it opens the restored block (the same counts, more work).
std::string fss_file(const std::map<std::string, SubjectRun>& fss, util::HighwayHash64& hh, const std::string& lchk) {
  std::string b;
  b.push_back(static_cast<char>(kMagic));
  b.push_back(static_cast<char>(kGoIndexVersion));
  util::append_uvarint(b, fss.size());
  for (const auto& [subj, r] : fss) {
    util::append_uvarint(b, subj.size());
    b += subj;
    util::append_uvarint(b, r.msgs);
    util::append_uvarint(b, r.first);
    util::append_uvarint(b, r.last);
  }
  hh.reset();
  hh.write(b);
  b += hh.sum_bytes();
  b += lchk;
  return b;
}

// The placeholder 2.9.10 keeps in a block for a deleted sequence between its first and last
// (msgBlock.compact): an empty record with the erased bit and time 0. Its cache finds a record
// by its position (sequence - first), so a block without them serves the wrong record (or
// none) for every sequence after a gap.
std::string erased_record(uint64_t seq, util::HighwayHash64& hh) {
  std::string r;
  util::append_le(r, kRecordFixed + kHashLen, 4);
  util::append_le(r, seq | kErasedBit, 8);
  util::append_le(r, 0, 8);
  util::append_le(r, 0, 2);
  r += record_hash(hh, r.data() + 4, {}, {}, {});
  return r;
}

struct GoBlockIndex {
  uint64_t msgs = 0, bytes = 0, first = 0, last = 0;
  int64_t first_ts = 0, last_ts = 0;
  std::set<uint64_t> deleted;
  std::string lchk = std::string(kHashLen, '\0');  // the block's last record checksum
};

std::string index_file(const GoBlockIndex& ix) {
  std::string b;
  b.push_back(static_cast<char>(kMagic));
  b.push_back(static_cast<char>(kGoIndexVersion));
  util::append_uvarint(b, ix.msgs);
  util::append_uvarint(b, ix.bytes);
  util::append_uvarint(b, ix.first);
  util::append_varint(b, ix.first_ts);
  util::append_uvarint(b, ix.last);
  util::append_varint(b, ix.last_ts);
  util::append_uvarint(b, ix.deleted.size());
  b += ix.lchk;  // the reference trusts the index only when this equals the block's last 8 bytes
  for (uint64_t d : ix.deleted) util::append_uvarint(b, d - ix.first);
  return b;
}

bool parse_index(std::string_view buf, GoBlockIndex& ix) {
  if (buf.size() < 2 || static_cast<uint8_t>(buf[0]) != kMagic || static_cast<uint8_t>(buf[1]) != kGoIndexVersion)
    return false;
  GoVarReader r{buf, 2};
  ix.msgs = r.u();
  ix.bytes = r.u();
  ix.first = r.u() & ~kErasedBit;
  ix.first_ts = r.s();
  ix.last = r.u() & ~kErasedBit;
  ix.last_ts = r.s();
  uint64_t ndel = r.u();
  if (!r.ok || r.i + kHashLen > buf.size()) return false;
  ix.lchk.assign(buf.data() + r.i, kHashLen);
  r.i += kHashLen;
  for (uint64_t k = 0; k < ndel && r.ok; ++k) {
    uint64_t d = r.u() & ~kErasedBit;
    if (!r.ok || d == 0) break;
    ix.deleted.insert(d + ix.first);
  }
  return true;
}

// Whether 2.9.10 takes a block's index as the truth (recoverMsgBlock): its accounting adds up
// and its last checksum is the block's last 8 bytes (or both are empty). Otherwise it rebuilds
// the block from the records.
bool index_trusted(std::string_view blk, const GoBlockIndex& ix) {
  if (ix.last + 1 < ix.first || ix.msgs != ix.last + 1 - ix.first - ix.deleted.size()) return false;
  if (blk.empty()) return ix.msgs == 0;
  return blk.size() >= kHashLen && blk.substr(blk.size() - kHashLen) == ix.lchk;
}

// Appends the live records of one block to `out`, each checked against its HighwayHash as
// 2.9.10 checks them. A record that fails: with a trusted index 2.9.10 keeps the block but
// never serves that message (loading it fails: "no message found"), so it is left out (2.9.10
// still counts it in the stream's state; we cannot hold a message that is never served); when
// rebuilding, 2.9.10 truncates the block there, so it and every later record are dropped
// (as are records past a torn tail).
void parse_block(std::string_view buf, const GoBlockIndex* ix, util::HighwayHash64& hh, std::vector<StoredMsg>& out,
                 uint64_t& max_seq, int64_t& max_ts) {
  const bool trusted = ix && index_trusted(buf, *ix);
  size_t off = 0;
  while (buf.size() - off >= kRecordFixed + kHashLen) {
    const char* p = buf.data() + off;
    uint32_t raw = static_cast<uint32_t>(util::load_le(p, 4));
    bool has_hdr = raw & kHeadersBit;
    size_t rl = raw & ~kHeadersBit;
    if (rl < kRecordFixed + kHashLen || rl > buf.size() - off) break;
    uint64_t seq = util::load_le(p + 4, 8);
    auto ts = static_cast<int64_t>(util::load_le(p + 12, 8));
    size_t slen = util::load_le(p + 20, 2);
    size_t body = rl - kRecordFixed - kHashLen;
    off += rl;
    if (slen > body) continue;
    const char* q = p + kRecordFixed;
    StoredMsg m;
    m.subject.assign(q, slen);
    q += slen;
    body -= slen;
    if (has_hdr) {
      if (body < 4) continue;
      size_t hl = util::load_le(q, 4);
      if (hl > body - 4) continue;
      m.headers.assign(q + 4, hl);
      q += 4 + hl;
      body -= 4 + hl;
    }
    m.payload.assign(q, body);
    if (seq & kErasedBit) seq &= ~kErasedBit;
    else if (seq != 0 && (!ix || (seq >= ix->first && !ix->deleted.count(seq)))) {
      if (record_hash(hh, p + 4, m.subject, m.headers, m.payload) != std::string_view(p + rl - kHashLen, kHashLen)) {
        if (!trusted) break;
        if (seq > max_seq) max_seq = seq, max_ts = ts;
        continue;
      }
      m.seq = seq;
      m.ts = ts;
      if (seq > max_seq) max_seq = seq, max_ts = ts;
      out.push_back(std::move(m));
      continue;
    }
    if (seq > max_seq) max_seq = seq, max_ts = ts;
  }
}

// "msgs/12.blk" -> 12 (0: not a block file of that suffix).
uint64_t block_number(std::string_view name, std::string_view suffix) {
  if (!name.starts_with("msgs/") || !name.ends_with(suffix)) return 0;
  std::string_view n = name.substr(5, name.size() - 5 - suffix.size());
  if (n.empty() || n.size() > 18) return 0;
  uint64_t v = 0;
  for (char c : n) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// 2.9.10 writes "Created" (Go's default name); Go reads keys case-insensitively, and so
// does this for the one field, as our earlier snapshots wrote "created".
int64_t json_time(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) it = j.find("created");
  if (it == j.end() || !it->is_string()) return 0;
  return parse_time(it->get<std::string>());
}

}  // namespace

std::string encode_consumer_state(const ConsumerSnapshot& s, int64_t now_ns) {
  std::string b;
  b.push_back(static_cast<char>(kMagic));
  b.push_back(static_cast<char>(kStateVersion));
  util::append_uvarint(b, s.ack_floor_cseq);
  util::append_uvarint(b, s.ack_floor_sseq);
  util::append_uvarint(b, s.delivered_cseq);
  util::append_uvarint(b, s.delivered_sseq);
  std::vector<std::pair<uint64_t, PendingAck>> pending;
  for (const auto& [seq, p] : s.pending)
    if (seq > s.ack_floor_sseq && p.cseq >= s.ack_floor_cseq) pending.emplace_back(seq, p);
  util::append_uvarint(b, pending.size());
  if (!pending.empty()) {
    int64_t mints = (now_ns + 500'000'000) / 1'000'000'000;  // now rounded to seconds
    util::append_varint(b, mints);
    for (const auto& [seq, p] : pending) {
      util::append_uvarint(b, seq - s.ack_floor_sseq);
      util::append_uvarint(b, p.cseq - s.ack_floor_cseq);
      util::append_varint(b, mints - p.deliver_ts / 1'000'000'000);
    }
  }
  std::vector<std::pair<uint64_t, uint64_t>> rd;
  for (const auto& [seq, n] : s.redelivered)
    if (seq > s.ack_floor_sseq && n > 0) rd.emplace_back(seq, n);
  util::append_uvarint(b, rd.size());
  for (const auto& [seq, n] : rd) {
    util::append_uvarint(b, seq - s.ack_floor_sseq);
    util::append_uvarint(b, n);
  }
  return b;
}

bool decode_consumer_state(std::string_view buf, ConsumerSnapshot& s, int64_t ack_wait_ns) {
  if (buf.size() < 2 || static_cast<uint8_t>(buf[0]) != kMagic) return false;
  uint8_t version = static_cast<uint8_t>(buf[1]);
  if (version != 1 && version != 2) return false;
  GoVarReader r{buf, 2};
  s.ack_floor_cseq = r.u();
  s.ack_floor_sseq = r.u();
  s.delivered_cseq = r.u();
  s.delivered_sseq = r.u();
  if (!r.ok) return false;
  if (version == 1) {  // version 1 stored the next sequences to deliver
    if (s.ack_floor_cseq > 1) s.delivered_cseq += s.ack_floor_cseq - 1;
    if (s.ack_floor_sseq > 1) s.delivered_sseq += s.ack_floor_sseq - 1;
  }
  if (uint64_t np = r.u(); r.ok && np > 0) {
    int64_t mints = r.s();
    for (uint64_t k = 0; k < np; ++k) {
      uint64_t sseq = r.u() + s.ack_floor_sseq;
      uint64_t dseq = version == 2 ? r.u() + s.ack_floor_cseq : 0;
      int64_t ts = r.s();
      if (!r.ok || sseq == 0) return false;
      int64_t t = (version == 1 ? ts + mints : mints - ts) * 1'000'000'000;
      s.pending[sseq] = PendingAck{dseq, t, t + ack_wait_ns};
    }
  }
  if (uint64_t nr = r.u(); r.ok && nr > 0) {
    for (uint64_t k = 0; k < nr; ++k) {
      uint64_t seq = r.u(), n = r.u();
      if (!r.ok) return false;
      if (seq > 0 && n > 0) s.redelivered[seq + s.ack_floor_sseq] = n;
    }
  }
  return r.ok;
}

struct SnapshotBuilder::TarWriterHolder {
  explicit TarWriterHolder(int64_t mtime) : w(mtime) {}
  tar::Writer w;
};

SnapshotBuilder::SnapshotBuilder(Stream& stream, bool include_consumers)
    : stream_(stream), include_consumers_(include_consumers), now_(system_clock_ns()),
      st_(stream.store().fast_state()), next_seq_(st_.first_seq),
      tar_(std::make_shared<TarWriterHolder>(now_ / 1'000'000'000)) {}

std::string SnapshotBuilder::framed(std::string tar_part) {
  std::string out = stage_ == Stage::meta ? s2::frame_start() : std::string();
  s2::append_chunks(out, tar_part);
  return out;
}

// One block of live messages (up to kSnapshotBlockBytes of records); its index names the
// deleted sequences inside. The last block ends at the stream's last sequence.
void SnapshotBuilder::add_block() {
  MessageStore& store = stream_.store();
  auto load = [&](StoredMsg& m) {
    if (ahead_) {
      m = std::move(*ahead_);
      ahead_.reset();
      return true;
    }
    if (next_seq_ == 0 || next_seq_ > st_.last_seq || store.load_next_msg("", next_seq_, m) != StoreErr::ok ||
        m.seq > st_.last_seq)
      return false;
    next_seq_ = m.seq + 1;
    return true;
  };
  ++block_;  // the record hashes are keyed by the block's number
  GoBlockIndex ix;
  std::string blk;
  util::HighwayHash64 hh = block_hasher(stream_.config().name, block_);
  // The block's per-subject state, as 2.9.10 tracks it (a stream with subjects, a mirror or
  // sources; noTrackSubjects) and puts it in its snapshots.
  const StreamConfig& cfg = stream_.config();
  const bool track_subjects = !cfg.subjects.empty() || (cfg.mirror.is_object() && !cfg.mirror.empty()) ||
                              (cfg.sources.is_array() && !cfg.sources.empty());
  std::map<std::string, SubjectRun> fss;
  StoredMsg m;
  uint64_t prev = 0;
  bool more = false;
  while (load(m)) {
    if (prev != 0 && blk.size() >= kSnapshotBlockBytes) {
      ahead_ = std::move(m);
      more = true;
      break;
    }
    if (prev == 0) ix.first = m.seq, ix.first_ts = m.ts;
    for (uint64_t d = prev == 0 ? m.seq : prev + 1; d < m.seq; ++d) {
      ix.deleted.insert(d);
      blk += erased_record(d, hh);
    }
    ix.msgs++;
    if (track_subjects) {
      SubjectRun& r = fss[m.subject];
      if (r.msgs++ == 0) r.first = m.seq;
      r.last = m.seq;
    }
    ix.bytes += file_store_msg_size(m.subject.size(), m.headers.size(), m.payload.size());
    ix.last = m.seq;
    ix.last_ts = m.ts;
    blk += message_record(m, hh);
    prev = m.seq;
  }
  if (prev == 0) {  // no message: an empty block past the last sequence, as the reference's
    ix.first = st_.last_seq + 1;
    ix.last = st_.last_seq;
    ix.first_ts = ix.last_ts = st_.last_ts;
  } else if (!more && st_.last_seq > ix.last) {
    // Removed messages at the end: the block still ends at the stream's last sequence.
    for (uint64_t d = ix.last + 1; d <= st_.last_seq; ++d) {
      ix.deleted.insert(d);
      blk += erased_record(d, hh);
    }
    ix.last = st_.last_seq;
    ix.last_ts = st_.last_ts;
  }
  if (blk.size() >= kHashLen) ix.lchk = blk.substr(blk.size() - kHashLen);
  tar_->w.add(fmt::format("msgs/{}.idx", block_), index_file(ix));
  if (!fss.empty()) tar_->w.add(fmt::format("msgs/{}.fss", block_), fss_file(fss, hh, ix.lchk));
  tar_->w.add(fmt::format("msgs/{}.blk", block_), blk);
  if (!more) stage_ = Stage::consumers;
}

std::string SnapshotBuilder::next() {
  tar::Writer& w = tar_->w;
  switch (stage_) {
    case Stage::meta: {
      ojson meta;
      meta["Created"] = format_time(stream_.created_ns());  // FileStreamInfo's untagged field
      ojson cfg = stream_.config().to_json();  // a named value: items() must not outlive it
      for (auto& [k, v] : cfg.items()) meta[k] = v;
      std::string meta_s = meta.dump();
      w.add("meta.inf", meta_s);
      w.add("meta.sum", meta_sum(stream_.config().name, meta_s));
      std::string out = framed(w.take());
      stage_ = Stage::blocks;
      return out;
    }
    case Stage::blocks:
      add_block();
      return framed(w.take());
    case Stage::consumers:
      if (include_consumers_) {
        for (const auto& sc : stream_.consumers()) {
          auto c = std::dynamic_pointer_cast<Consumer>(sc);
          if (!c) continue;
          ojson cm;
          cm["Created"] = format_time(c->created_ns());  // FileConsumerInfo's untagged fields
          cm["Name"] = c->name();
          ojson ccfg = consumer_config_json(c->config());
          for (auto& [k, v] : ccfg.items()) cm[k] = v;
          std::string cm_s = cm.dump();
          std::string pre = "obs/" + c->name() + "/";
          w.add(pre + "meta.inf", cm_s);
          w.add(pre + "meta.sum", meta_sum(stream_.config().name + "/" + c->name(), cm_s));
          w.add(pre + "o.dat", encode_consumer_state(c->state_snapshot(), now_));
        }
      }
      stage_ = Stage::done;
      return framed(w.finish());
    case Stage::done:
      return {};
  }
  return {};
}

std::string build_snapshot(Stream& stream, bool include_consumers) {
  SnapshotBuilder b(stream, include_consumers);
  std::string out;
  while (!b.done()) out += b.next();
  return out;
}

namespace {

// Reads what is left of the current tar entry into `out` (in pieces: the header's size is
// not trusted for an allocation); false when the archive ends inside it.
bool read_tar_entry(tar::Reader& r, std::string& out) {
  char piece[64 * 1024];
  while (size_t k = r.read_body(piece, sizeof piece)) out.append(piece, k);
  return r.body_left() == 0;
}

// Copies the current tar entry into the file at `path`.
bool stage_tar_entry(tar::Reader& r, const std::string& path, std::string& err) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return err = fmt::format("could not stage a block: {}", std::strerror(errno)), false;
  char piece[64 * 1024];
  bool ok = true;
  while (size_t k = r.read_body(piece, sizeof piece))
    if (std::fwrite(piece, 1, k, f) != k) {
      err = fmt::format("could not stage a block: {}", std::strerror(errno));
      ok = false;
      break;
    }
  if (std::fclose(f) != 0 && ok) err = "could not stage a block", ok = false;
  if (ok && r.body_left() > 0) err = "truncated tar entry", ok = false;
  return ok;
}

bool read_staged_block(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char piece[64 * 1024];
  while (size_t k = std::fread(piece, 1, sizeof piece, f)) out.append(piece, k);
  bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

}  // namespace

bool stage_snapshot(const std::function<size_t(char*, size_t)>& framed, const std::string& dir, StagedSnapshot& out,
                    std::string& err) {
  s2::Unframer u(framed);
  tar::Reader r([&u](char* dst, size_t n) { return u.read(dst, n); });
  // A bad S2 stream shows to the tar reader as a short archive: its own error says more.
  auto fail = [&](std::string why) {
    err = u.error().empty() ? std::move(why) : u.error();
    return false;
  };
  out.dir = dir;
  std::map<std::string, ArchivedConsumer> consumers;
  std::map<std::string, std::string> states;
  bool have_meta = false;
  std::string entry, why;
  uint64_t size = 0;
  while (r.next(entry, size, why)) {
    std::string_view name = entry;
    if (name.starts_with("./")) name.remove_prefix(2);
    if (name.find("..") != std::string_view::npos) return fail("unexpected content");
    std::string data;
    if (uint64_t n = block_number(name, ".blk")) {
      if (dir.empty()) {
        if (!read_tar_entry(r, data)) return fail("truncated tar entry");
        out.blocks[n] = std::move(data);
      } else {
        if (!stage_tar_entry(r, fmt::format("{}/{}.blk", dir, n), why)) return fail(why);
        out.blocks[n].clear();
      }
      continue;
    }
    bool meta = name == "meta.inf", idx = block_number(name, ".idx") != 0, obs = name.starts_with("obs/");
    if (!meta && !idx && !obs) continue;  // meta.sum and anything else: not needed
    if (!read_tar_entry(r, data)) return fail("truncated tar entry");
    if (meta) {
      auto j = nlohmann::ordered_json::parse(data, nullptr, false);
      if (!j.is_object()) return fail("invalid stream meta file");
      out.created_ns = json_time(nlohmann::json(j), "Created");
      j.erase("Created");
      j.erase("created");
      out.config = std::move(j);
      have_meta = true;
    } else if (idx) {
      out.indexes[block_number(name, ".idx")] = std::move(data);
    } else {
      std::string_view rest = name.substr(4);
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos || slash == 0) continue;
      std::string cname(rest.substr(0, slash));
      std::string_view file = rest.substr(slash + 1);
      ArchivedConsumer& c = consumers[cname];
      c.name = cname;
      if (file == "meta.inf") {
        auto j = nlohmann::json::parse(data, nullptr, false);
        if (!j.is_object()) return fail(fmt::format("error restoring consumer [\"{}\"]: invalid meta file", cname));
        c.created_ns = json_time(j, "Created");
        for (const char* k : {"Created", "created", "Name", "name"}) j.erase(k);
        c.config = std::move(j);
      } else if (file == "o.dat") {
        // Decoded once the config (its ack wait) is known: the tar may hold it first.
        c.has_state = true;
        states[cname] = std::move(data);
      }
    }
  }
  if (!why.empty() || !u.error().empty()) return fail(why);
  if (!have_meta) return fail("open meta.inf: no such file or directory");
  for (auto& [name, c] : consumers) {
    if (c.config.is_null() || !c.config.is_object())
      return fail(fmt::format("error restoring consumer [\"{}\"]: missing meta file", name));
    if (c.has_state) {
      int64_t ack_wait = c.config.value("ack_wait", int64_t{0});
      if (ack_wait <= 0) ack_wait = kAckWaitDefaultNs;
      if (!decode_consumer_state(states[name], c.state, ack_wait))
        return fail(fmt::format("error restoring consumer [\"{}\"]: corrupt state", name));
    }
    out.consumers.push_back(std::move(c));
  }
  return true;
}

bool for_each_block(const StagedSnapshot& s, const std::function<void(std::vector<StoredMsg>&)>& fn, ArchiveSeqs& seqs,
                    std::string& err) {
  uint64_t max_seq = 0;
  int64_t max_ts = 0;
  const std::string stream_name = s.config.value("name", "");
  std::string staged;
  for (const auto& [n, in_memory] : s.blocks) {
    std::string_view buf = in_memory;
    if (!s.dir.empty()) {
      staged.clear();
      if (!read_staged_block(fmt::format("{}/{}.blk", s.dir, n), staged))
        return err = fmt::format("could not read staged block {}", n), false;
      buf = staged;
    }
    util::HighwayHash64 hh = block_hasher(stream_name, n);
    GoBlockIndex ix;
    auto it = s.indexes.find(n);
    const bool have_ix = it != s.indexes.end() && parse_index(it->second, ix);
    if (have_ix && seqs.first_seq == 0 && ix.first > 0) seqs.first_seq = ix.first;
    if (have_ix && ix.last > max_seq) max_seq = ix.last, max_ts = ix.last_ts;
    std::vector<StoredMsg> msgs;
    parse_block(buf, have_ix ? &ix : nullptr, hh, msgs, max_seq, max_ts);
    std::sort(msgs.begin(), msgs.end(), [](const StoredMsg& a, const StoredMsg& b) { return a.seq < b.seq; });
    if (!msgs.empty() && (seqs.first_seq == 0 || msgs.front().seq < seqs.first_seq)) seqs.first_seq = msgs.front().seq;
    fn(msgs);
  }
  seqs.last_seq = max_seq;
  seqs.last_ts = max_ts;
  return true;
}

bool read_snapshot(std::string_view data, ArchivedStream& out, std::string& err) {
  size_t off = 0;
  StagedSnapshot staged;
  auto src = [&](char* dst, size_t n) {
    size_t k = std::min(n, data.size() - off);
    std::copy_n(data.data() + off, k, dst);
    off += k;
    return k;
  };
  if (!stage_snapshot(src, {}, staged, err)) return false;
  ArchiveSeqs seqs;
  if (!for_each_block(
          staged, [&](std::vector<StoredMsg>& msgs) { std::move(msgs.begin(), msgs.end(), std::back_inserter(out.msgs)); },
          seqs, err))
    return false;
  std::sort(out.msgs.begin(), out.msgs.end(), [](const StoredMsg& a, const StoredMsg& b) { return a.seq < b.seq; });
  out.msgs.erase(std::unique(out.msgs.begin(), out.msgs.end(),
                             [](const StoredMsg& a, const StoredMsg& b) { return a.seq == b.seq; }),
                 out.msgs.end());
  out.config = std::move(staged.config);
  out.created_ns = staged.created_ns;
  out.consumers = std::move(staged.consumers);
  out.first_seq = seqs.first_seq;
  out.last_seq = seqs.last_seq;
  out.last_ts = seqs.last_ts;
  return true;
}

}  // namespace nats::jetstream
