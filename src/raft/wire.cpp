#include "raft/wire.h"

#include <type_traits>

namespace nats::raft::wire {

namespace {
enum Kind : uint8_t { kVoteRequest = 1, kVoteResponse = 2, kAppendEntries = 3, kAppendResponse = 4 };

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

void put_uvarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

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
  if (type > static_cast<uint8_t>(EntryType::kNoop)) return false;
  e.type = static_cast<EntryType>(type);
  return get_str(buf, pos, e.data);
}

std::string encode(const Message& m) {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        uint8_t kind = std::is_same_v<T, VoteRequest>    ? kVoteRequest
                       : std::is_same_v<T, VoteResponse> ? kVoteResponse
                       : std::is_same_v<T, AppendEntries> ? kAppendEntries
                                                          : kAppendResponse;
        out.push_back(static_cast<char>(kind));
        put_str(out, m.from);
        put_str(out, m.to);
        if constexpr (std::is_same_v<T, VoteRequest>) {
          put_uvarint(out, p.term);
          put_uvarint(out, p.last_log_index);
          put_uvarint(out, p.last_log_term);
          out.push_back(p.pre_vote ? 1 : 0);
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
        } else {
          put_uvarint(out, p.term);
          out.push_back(p.success ? 1 : 0);
          put_uvarint(out, p.index);
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
           get_uvarint(buf, pos, r.last_log_term) && get_bool(buf, pos, r.pre_vote);
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
      ok = get_uvarint(buf, pos, r.term) && get_bool(buf, pos, r.success) && get_uvarint(buf, pos, r.index);
      m.payload = r;
      break;
    }
    default:
      return std::nullopt;
  }
  if (!ok || pos != buf.size()) return std::nullopt;
  return m;
}

}  // namespace nats::raft::wire
