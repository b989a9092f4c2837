#include "raft/wire.h"

#include <type_traits>

#include "util/varint.h"

namespace nats::raft::wire {

namespace {
enum Kind : uint8_t {
  kVoteRequest = 1,
  kVoteResponse = 2,
  kAppendEntries = 3,
  kAppendResponse = 4,
  kInstallSnapshot = 5,
  kSnapshotResponse = 6,
  kTimeoutNow = 7,
};

template <class T>
constexpr uint8_t kind_of() {
  if constexpr (std::is_same_v<T, VoteRequest>) return kVoteRequest;
  else if constexpr (std::is_same_v<T, VoteResponse>) return kVoteResponse;
  else if constexpr (std::is_same_v<T, AppendEntries>) return kAppendEntries;
  else if constexpr (std::is_same_v<T, AppendResponse>) return kAppendResponse;
  else if constexpr (std::is_same_v<T, InstallSnapshot>) return kInstallSnapshot;
  else if constexpr (std::is_same_v<T, SnapshotResponse>) return kSnapshotResponse;
  else return kTimeoutNow;
}

bool get_ids(std::string_view buf, size_t& pos, std::vector<NodeId>& ids) {
  uint64_t n;
  // Each id takes at least its length byte, which bounds the count before reserving.
  if (!get_uvarint(buf, pos, n) || n > buf.size() - pos) return false;
  ids.clear();
  for (uint64_t i = 0; i < n; ++i) {
    NodeId id;
    if (!get_str(buf, pos, id)) return false;
    ids.push_back(std::move(id));
  }
  return true;
}

bool get_u8(std::string_view buf, size_t& pos, uint8_t& v) {
  if (pos >= buf.size()) return false;
  v = static_cast<uint8_t>(buf[pos++]);
  return true;
}

bool get_bool(std::string_view buf, size_t& pos, bool& v) {
  uint8_t b;
  if (!get_u8(buf, pos, b) || b > 1) return false;
  v = b == 1;
  return true;
}
}  // namespace

void put_uvarint(std::string& out, uint64_t v) { util::append_uvarint(out, v); }

bool get_uvarint(std::string_view buf, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= buf.size()) return false;
    uint8_t b = static_cast<uint8_t>(buf[pos++]);
    if (shift == 63 && b > 1) return false;  // would overflow 64 bits
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

void put_str(std::string& out, std::string_view s) {
  put_uvarint(out, s.size());
  out.append(s);
}

bool get_str(std::string_view buf, size_t& pos, std::string& s) {
  uint64_t n;
  if (!get_uvarint(buf, pos, n) || n > buf.size() - pos) return false;
  s.assign(buf.substr(pos, n));
  pos += n;
  return true;
}

void put_entry(std::string& out, const Entry& e) {
  put_uvarint(out, e.term);
  put_uvarint(out, e.index);
  out.push_back(static_cast<char>(e.type));
  put_str(out, e.data);
}

bool get_entry(std::string_view buf, size_t& pos, Entry& e) {
  uint8_t type;
  if (!get_uvarint(buf, pos, e.term) || !get_uvarint(buf, pos, e.index) || !get_u8(buf, pos, type)) return false;
  if (type > static_cast<uint8_t>(EntryType::kConfig)) return false;
  e.type = static_cast<EntryType>(type);
  return get_str(buf, pos, e.data);
}

void put_membership(std::string& out, const Membership& m) {
  put_uvarint(out, m.voters.size());
  for (const auto& v : m.voters) put_str(out, v);
  put_uvarint(out, m.learners.size());
  for (const auto& l : m.learners) put_str(out, l);
}

bool get_membership(std::string_view buf, size_t& pos, Membership& m) {
  return get_ids(buf, pos, m.voters) && get_ids(buf, pos, m.learners);
}

std::string encode_membership(const Membership& m) {
  std::string out;
  put_membership(out, m);
  return out;
}

bool decode_membership(std::string_view buf, Membership& m) {
  size_t pos = 0;
  return get_membership(buf, pos, m) && pos == buf.size();
}

void put_snapshot(std::string& out, const Snapshot& s) {
  put_uvarint(out, s.index);
  put_uvarint(out, s.term);
  put_membership(out, s.membership);
  put_str(out, s.data);
}

bool get_snapshot(std::string_view buf, size_t& pos, Snapshot& s) {
  return get_uvarint(buf, pos, s.index) && get_uvarint(buf, pos, s.term) && get_membership(buf, pos, s.membership) &&
         get_str(buf, pos, s.data);
}

std::string encode(const Message& m) {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        out.push_back(static_cast<char>(kind_of<T>()));
        put_str(out, m.from);
        put_str(out, m.to);
        if constexpr (std::is_same_v<T, VoteRequest>) {
          put_uvarint(out, p.term);
          put_uvarint(out, p.last_log_index);
          put_uvarint(out, p.last_log_term);
          out.push_back(p.pre_vote ? 1 : 0);
          out.push_back(p.transfer ? 1 : 0);
        } else if constexpr (std::is_same_v<T, VoteResponse>) {
          put_uvarint(out, p.term);
          out.push_back(p.granted ? 1 : 0);
          out.push_back(p.pre_vote ? 1 : 0);
        } else if constexpr (std::is_same_v<T, AppendEntries>) {
          put_uvarint(out, p.term);
          put_uvarint(out, p.prev_log_index);
          put_uvarint(out, p.prev_log_term);
          put_uvarint(out, p.leader_commit);
          put_uvarint(out, p.entries.size());
          for (const auto& e : p.entries) put_entry(out, e);
        } else if constexpr (std::is_same_v<T, AppendResponse>) {
          put_uvarint(out, p.term);
          out.push_back(p.success ? 1 : 0);
          put_uvarint(out, p.index);
          put_uvarint(out, p.reject);
        } else if constexpr (std::is_same_v<T, InstallSnapshot>) {
          put_uvarint(out, p.term);
          put_uvarint(out, p.last_index);
          put_uvarint(out, p.last_term);
          put_membership(out, p.membership);
          put_uvarint(out, p.offset);
          put_str(out, p.data);
          out.push_back(p.done ? 1 : 0);
        } else if constexpr (std::is_same_v<T, SnapshotResponse>) {
          put_uvarint(out, p.term);
          put_uvarint(out, p.last_index);
          put_uvarint(out, p.next_offset);
        } else {
          put_uvarint(out, p.term);
        }
      },
      m.payload);
  return out;
}

std::optional<Message> decode(std::string_view buf) {
  size_t pos = 0;
  uint8_t version, kind;
  Message m;
  if (!get_u8(buf, pos, version) || version != kVersion || !get_u8(buf, pos, kind)) return std::nullopt;
  if (!get_str(buf, pos, m.from) || !get_str(buf, pos, m.to)) return std::nullopt;
  bool ok = false;
  switch (kind) {
    case kVoteRequest: {
      VoteRequest r;
      ok = get_uvarint(buf, pos, r.term) && get_uvarint(buf, pos, r.last_log_index) &&
           get_uvarint(buf, pos, r.last_log_term) && get_bool(buf, pos, r.pre_vote) &&
           get_bool(buf, pos, r.transfer);
      m.payload = r;
      break;
    }
    case kVoteResponse: {
      VoteResponse r;
      ok = get_uvarint(buf, pos, r.term) && get_bool(buf, pos, r.granted) && get_bool(buf, pos, r.pre_vote);
      m.payload = r;
      break;
    }
    case kAppendEntries: {
      AppendEntries a;
      uint64_t n = 0;
      ok = get_uvarint(buf, pos, a.term) && get_uvarint(buf, pos, a.prev_log_index) &&
           get_uvarint(buf, pos, a.prev_log_term) && get_uvarint(buf, pos, a.leader_commit) &&
           get_uvarint(buf, pos, n);
      // Each entry takes at least 4 bytes, which bounds the count by the buffer before reserving.
      if (ok && n > (buf.size() - pos) / 4) ok = false;
      for (uint64_t i = 0; ok && i < n; ++i) {
        Entry e;
        ok = get_entry(buf, pos, e);
        a.entries.push_back(std::move(e));
      }
      m.payload = std::move(a);
      break;
    }
    case kAppendResponse: {
      AppendResponse r;
      ok = get_uvarint(buf, pos, r.term) && get_bool(buf, pos, r.success) && get_uvarint(buf, pos, r.index) &&
           get_uvarint(buf, pos, r.reject);
      m.payload = r;
      break;
    }
    case kInstallSnapshot: {
      InstallSnapshot s;
      ok = get_uvarint(buf, pos, s.term) && get_uvarint(buf, pos, s.last_index) &&
           get_uvarint(buf, pos, s.last_term) && get_membership(buf, pos, s.membership) &&
           get_uvarint(buf, pos, s.offset) && get_str(buf, pos, s.data) && get_bool(buf, pos, s.done);
      m.payload = std::move(s);
      break;
    }
    case kSnapshotResponse: {
      SnapshotResponse r;
      ok = get_uvarint(buf, pos, r.term) && get_uvarint(buf, pos, r.last_index) && get_uvarint(buf, pos, r.next_offset);
      m.payload = r;
      break;
    }
    case kTimeoutNow: {
      TimeoutNow t;
      ok = get_uvarint(buf, pos, t.term);
      m.payload = t;
      break;
    }
    default:
      return std::nullopt;
  }
  if (!ok || pos != buf.size()) return std::nullopt;
  return m;
}

}  // namespace nats::raft::wire
