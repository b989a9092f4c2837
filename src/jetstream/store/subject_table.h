#pragma once
// Interned subjects of a store, kept compact because a stream may hold millions of them
// (KV buckets, one subject per device or order): each name is stored once, in one shared
// character arena, and looked up through an open-addressing table of 4-byte ids. A subject
// costs its length plus about 16 bytes here (an arena reference and its index slots),
// against two heap strings and a hash node (~150 bytes) for a std::unordered_map<std::string>.
// Ids are small and dense (released ones are reused), so callers keep per-subject records
// in plain vectors indexed by id.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nats::jetstream {

class SubjectTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The id of name, or kNone.
  uint32_t find(std::string_view name) const;
  // The id of name, added (a released id reused first) when missing; added tells which.
  uint32_t intern(std::string_view name, bool* added = nullptr);
  // Forgets a live id's name; the id may be handed out again. Its arena bytes are reclaimed
  // once released names make up half of the arena.
  void release(uint32_t id);
  // The name of a live id, "" for a released one (names are never empty).
  std::string_view name(uint32_t id) const {
    const Ref& r = refs_[id];
    return {arena_.data() + r.off, r.len};
  }
  bool live(uint32_t id) const { return id < refs_.size() && refs_[id].len > 0; }
  // One past the highest id handed out so far: live ids are among 0..ids()-1.
  uint32_t ids() const { return static_cast<uint32_t>(refs_.size()); }
  size_t size() const { return live_; }  // live names
  void clear();
  size_t memory() const;  // heap bytes held (tests, diagnostics)

 private:
  struct Ref {
    uint32_t off = 0;
    uint32_t len = 0;  // 0: released
  };
  static size_t hash_of(std::string_view s);
  size_t home(std::string_view s) const { return hash_of(s) & (slots_.size() - 1); }
  void grow();
  void compact_arena();

  std::vector<Ref> refs_;         // by id
  std::string arena_;             // names back to back
  size_t garbage_ = 0;            // arena bytes of released names
  std::vector<uint32_t> slots_;   // ids by hash, linear probing; kNone empty; size a power of 2
  std::vector<uint32_t> free_;    // released ids
  size_t live_ = 0;
};

}  // namespace nats::jetstream
