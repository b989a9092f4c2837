// Subject syntax: validation, wildcard detection, matching and tokenizing.
//
// A subject is a sequence of tokens separated by '.'. `*` (one token) and `>` (one or more
// trailing tokens) are wildcards only when they are a whole token: "foo.*bar" is a literal
// subject whose second token is "*bar", as in the reference server. Matching here is
// token-wise: a publish subject that contains a lone `*` or `>` token matches patterns as if
// that token were ordinary text (the reference delivers "PUB foo.>" to "SUB foo.*").
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace nats {

inline constexpr char kTokenSep = '.';
inline constexpr char kPartialWildcard = '*';
inline constexpr char kFullWildcard = '>';

inline bool is_partial_wildcard(std::string_view token) {
  return token.size() == 1 && token[0] == kPartialWildcard;
}
inline bool is_full_wildcard(std::string_view token) {
  return token.size() == 1 && token[0] == kFullWildcard;
}
inline bool is_wildcard_token(std::string_view token) {
  return token.size() == 1 && (token[0] == kPartialWildcard || token[0] == kFullWildcard);
}

// Valid subscription subject: non-empty, no empty tokens, no whitespace (space, \t, \n, \r,
// \f) anywhere, nothing after a `>` token. Wildcards are allowed.
bool is_valid_subject(std::string_view subject);

// A valid subject without wildcard tokens: what may be published to (the reference's
// IsValidPublishSubject; also rejects whitespace, which the parser never lets through).
bool is_valid_literal_subject(std::string_view subject);

// Queue group names: the 2.9 reference accepts any non-empty protocol argument, so this only
// rejects what the protocol itself cannot carry (empty, whitespace or control characters).
bool is_valid_queue_name(std::string_view queue);

// True when some token is exactly `*` or `>`. Does not validate.
bool subject_has_wildcard(std::string_view subject);

// Does the (valid) pattern match the subject? The subject is taken token by token as
// literal text; a subject with an empty token matches nothing.
bool subject_matches(std::string_view pattern, std::string_view subject);

// Is every subject matched by `subject` also matched by `test`? Both may hold wildcards.
// "foo.*" is a subset of ">", "*.*" and "foo.*", but not of "foo.bar". Used for permissions
// and imports/exports.
bool subject_is_subset_match(std::string_view subject, std::string_view test);

// Could one literal subject match both patterns?
bool subjects_collide(std::string_view a, std::string_view b);

// Number of tokens ("" has 0, "a" has 1, "a..b" has 3).
size_t num_tokens(std::string_view subject);

// The index-th token (0-based), or "" when there are fewer tokens.
std::string_view token_at(std::string_view subject, size_t index);

// Splits a subject into token views without allocating for up to kInline tokens. Empty tokens
// are kept, so callers can reject them. The views point into the caller's string.
class Tokens {
 public:
  static constexpr size_t kInline = 32;

  explicit Tokens(std::string_view subject);
  Tokens(const Tokens&) = delete;
  Tokens& operator=(const Tokens&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](size_t i) const { return data_[i]; }
  const std::string_view* begin() const { return data_; }
  const std::string_view* end() const { return data_ + size_; }
  bool has_empty_token() const { return has_empty_; }

 private:
  std::array<std::string_view, kInline> inline_;
  std::vector<std::string_view> heap_;
  const std::string_view* data_ = nullptr;
  size_t size_ = 0;
  bool has_empty_ = false;
};

}  // namespace nats
