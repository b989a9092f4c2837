// A subject transform: rewrites a published subject matching `src` into `dest`, as the
// reference 2.9.10 does for subject mappings (server/accounts.go `transform`). When `src`
// has wildcards, `dest` may refer to them: `$n` or `{{wildcard(n)}}` (the n-th `*` of src),
// `{{partition(k,n...)}}` (FNV-1a of the tokens modulo k), `{{split(n,delim)}}`,
// `{{splitFromLeft(n,pos)}}`, `{{splitFromRight(n,pos)}}`, `{{sliceFromLeft(n,size)}}`,
// `{{sliceFromRight(n,size)}}`; a trailing `>` carries the rest of the subject. With a
// literal `src`, `dest` is used verbatim. Pure: no I/O, no locks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nats {

class SubjectTransform {
 public:
  // The transform, or the reference's error text (e.g. "invalid subject", "invalid mapping
  // destination: not using all of the token wildcard(s) in foo.bar").
  static std::variant<SubjectTransform, std::string> create(std::string_view src, std::string_view dest);

  const std::string& src() const { return src_; }
  const std::string& dest() const { return dest_; }

  // `subject` rewritten; it must match src (the caller has checked).
  std::string apply(std::string_view subject) const;

 private:
  enum class Fn : uint8_t { None, Wildcard, Partition, SplitFromLeft, SplitFromRight, SliceFromLeft, SliceFromRight, Split };
  struct Token {
    Fn fn = Fn::None;
    std::string text;             // for Fn::None: the literal token
    std::vector<int> src_tokens;  // indexes of source tokens the function reads
    int32_t int_arg = -1;         // partitions, split position or slice size
    std::string string_arg;       // split delimiter
  };
  static std::variant<Token, std::string> parse_token(const std::string& token);

  std::string src_, dest_;
  size_t src_token_count_ = 0;
  bool has_functions_ = false;  // false: dest is used verbatim
  std::vector<Token> tokens_;
};

// The reference's ValidateMappingDestination: "" when `dest` is acceptable, else its error.
std::string validate_mapping_destination(std::string_view dest);

// `foo.*.*` -> `foo.$1.$2`: a destination equal to a wildcard source.
std::string tokenize_wildcards(std::string_view subject);

}  // namespace nats
