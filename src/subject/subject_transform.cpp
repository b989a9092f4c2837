#include "subject/subject_transform.h"

#include <map>
#include <regex>

#include "subject/subject.h"

namespace nats {

namespace {

constexpr const char* kInvalidDest = "invalid mapping destination";

std::vector<std::string> split_tokens(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == kTokenSep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// mappingDestinationErr's "%s in %s".
std::string dest_error(const std::string& what, const std::string& token) {
  return std::string(kInvalidDest) + ": " + what + " in " + token;
}

bool is_mustache(const std::string& t) {
  size_t n = t.size();
  return n > 4 && t[0] == '{' && t[1] == '{' && t[n - 2] == '}' && t[n - 1] == '}';
}

// std::regex recurses per character: a huge token would overflow the stack. No real
// function call is this long, so longer ones are reported as unknown functions.
constexpr size_t kMaxFunctionToken = 1024;

struct FunctionPattern {
  const char* name;
  std::regex re;
};

// The reference's function regexes, in the order it tries them.
const std::vector<FunctionPattern>& function_patterns() {
  auto re = [](const char* name) {
    return std::regex(std::string(R"(\{\{\s*)") + name + R"(\s*\((.*)\)\s*\}\})");
  };
  static const std::vector<FunctionPattern> p = {
      {"wildcard", re("[wW]ildcard")},
      {"partition", re("[pP]artition")},
      {"splitFromLeft", re("[sS]plit[fF]rom[lL]eft")},
      {"splitFromRight", re("[sS]plit[fF]rom[rR]ight")},
      {"sliceFromLeft", re("[sS]lice[fF]rom[lL]eft")},
      {"sliceFromRight", re("[sS]lice[fF]rom[rR]ight")},
      {"split", re("[sS]plit")},
  };
  return p;
}

// Go's strconv.Atoi after strings.Trim(s, " ").
bool parse_int(std::string s, int& out) {
  size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  if (b == std::string::npos) return false;
  s = s.substr(b, e - b + 1);
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  long long v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
    if (v > INT32_MAX) return false;
  }
  out = static_cast<int>(s[0] == '-' ? -v : v);
  return true;
}

// Arguments of a function token, split on `,\s*` as the reference does.
std::vector<std::string> split_args(const std::string& inner) {
  std::vector<std::string> out;
  static const std::regex comma(R"(,\s*)");
  std::sregex_token_iterator it(inner.begin(), inner.end(), comma, -1), end;
  for (; it != end; ++it) out.push_back(*it);
  if (out.empty()) out.push_back("");  // Go's Split("", sep) gives [""]
  return out;
}

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace

std::string validate_mapping_destination(std::string_view dest) {
  bool after_fwc = false;
  for (const auto& t : split_tokens(dest)) {
    if (t.empty() || after_fwc) return dest_error("invalid subject", t);
    if (is_mustache(t)) {
      if (t.size() > kMaxFunctionToken) return dest_error("unknown function", t);
      bool known = false;
      for (const auto& p : function_patterns()) known = known || std::regex_search(t, p.re);
      if (!known) return dest_error("unknown function", t);
      continue;
    }
    if (is_full_wildcard(t)) after_fwc = true;
    else if (t.find_first_of("\t\n\f\r ") != std::string::npos) return std::string(kInvalidDest) + ": invalid subject";
  }
  return "";
}

std::string tokenize_wildcards(std::string_view subject) {
  std::string out;
  int n = 1;
  for (const auto& t : split_tokens(subject)) {
    if (!out.empty()) out += kTokenSep;
    out += is_partial_wildcard(t) ? "$" + std::to_string(n++) : t;
  }
  return out;
}

std::variant<SubjectTransform::Token, std::string> SubjectTransform::parse_token(const std::string& token) {
  Token t;
  t.text = token;
  if (token.size() > 1 && token[0] == '$') {  // the older $n form
    int n;
    if (!parse_int(token.substr(1), n)) return t;  // "$foo" is literal text
    t.fn = Fn::Wildcard;
    t.src_tokens = {n};
    return t;
  }
  if (!is_mustache(token)) return t;
  if (token.size() > kMaxFunctionToken) return dest_error("unknown function", token);
  const std::string not_enough = "not enough arguments passed to the function";
  const std::string too_many = "too many arguments passed to the function";
  const std::string invalid = "function argument is invalid or in the wrong format";
  for (const auto& p : function_patterns()) {
    std::smatch m;
    if (!std::regex_search(token, m, p.re)) continue;
    auto args = split_args(m[1].str());
    std::string name = p.name;
    int a0 = 0, a1 = 0;
    if (name == "wildcard") {
      if (args.size() == 1 && args[0].empty()) return dest_error(not_enough, token);
      if (args.size() > 1) return dest_error(too_many, token);
      if (!parse_int(args[0], a0)) return dest_error(invalid, token);
      t.fn = Fn::Wildcard;
      t.src_tokens = {a0};
    } else if (name == "partition") {
      if (args.size() < 2) return dest_error(not_enough, token);
      if (!parse_int(args[0], a0)) return dest_error(invalid, token);
      // The reference divides by this at publish time; zero would crash it.
      if (a0 <= 0) return dest_error(invalid, token);
      for (size_t i = 1; i < args.size(); ++i) {
        if (!parse_int(args[i], a1)) return dest_error(invalid, token);
        t.src_tokens.push_back(a1);
      }
      t.fn = Fn::Partition;
      t.int_arg = a0;
    } else if (name == "split") {
      if (args.size() < 2) return dest_error(not_enough, token);
      if (args.size() > 2) return dest_error(too_many, token);
      if (!parse_int(args[0], a0)) return dest_error(invalid, token);
      if (args[1].find(' ') != std::string::npos || args[1].find(kTokenSep) != std::string::npos)
        return dest_error(invalid, token);
      t.fn = Fn::Split;
      t.src_tokens = {a0};
      t.string_arg = args[1];
    } else {
      if (args.size() < 2) return dest_error(not_enough, token);
      if (args.size() > 2) return dest_error(too_many, token);
      if (!parse_int(args[0], a0) || !parse_int(args[1], a1)) return dest_error(invalid, token);
      t.fn = name == "splitFromLeft"    ? Fn::SplitFromLeft
             : name == "splitFromRight" ? Fn::SplitFromRight
             : name == "sliceFromLeft"  ? Fn::SliceFromLeft
                                        : Fn::SliceFromRight;
      t.src_tokens = {a0};
      t.int_arg = a1;
    }
    return t;
  }
  return dest_error("unknown function", token);
}

std::variant<SubjectTransform, std::string> SubjectTransform::create(std::string_view src, std::string_view dest) {
  // Both must be valid subjects, `>` in both or neither, and no `*` in dest.
  auto info = [](std::string_view s, int& pwcs, bool& fwc) {
    pwcs = 0;
    fwc = false;
    if (s.empty()) return false;
    for (const auto& t : split_tokens(s)) {
      if (t.empty() || fwc) return false;
      if (is_full_wildcard(t)) fwc = true;
      else if (is_partial_wildcard(t)) ++pwcs;
    }
    return true;
  };
  int src_pwcs, dest_pwcs;
  bool src_fwc, dest_fwc;
  bool src_ok = info(src, src_pwcs, src_fwc), dest_ok = info(dest, dest_pwcs, dest_fwc);
  if (!src_ok || !dest_ok || dest_pwcs > 0 || src_fwc != dest_fwc) return std::string("invalid subject");

  SubjectTransform tr;
  tr.src_ = src;
  tr.dest_ = dest;
  auto stoks = split_tokens(src);
  tr.src_token_count_ = stoks.size();
  if (src_pwcs == 0 && !src_fwc) return tr;

  std::map<int, int> wildcard_position;  // n-th `*` (from 1) -> source token index
  for (size_t i = 0; i < stoks.size(); ++i)
    if (is_partial_wildcard(stoks[i])) wildcard_position[static_cast<int>(wildcard_position.size()) + 1] = static_cast<int>(i);
  int placeholders = 0;
  for (const auto& text : split_tokens(dest)) {
    auto parsed = parse_token(text);
    if (auto* err = std::get_if<std::string>(&parsed)) return *err;
    Token t = std::get<Token>(std::move(parsed));
    if (t.fn != Fn::None) {
      ++placeholders;
      for (int& n : t.src_tokens) {
        if (n > src_pwcs) return dest_error("wildcard index out of range", text + ": [" + std::to_string(n) + "]");
        auto it = wildcard_position.find(n);
        n = it == wildcard_position.end() ? 0 : it->second;  // as the reference's map lookup
      }
    }
    tr.tokens_.push_back(std::move(t));
  }
  if (placeholders < src_pwcs) return dest_error("not using all of the token wildcard(s)", std::string(dest));
  tr.has_functions_ = true;
  return tr;
}

std::string SubjectTransform::apply(std::string_view subject) const {
  if (!has_functions_) return dest_;
  auto toks = split_tokens(subject);
  auto at = [&](size_t i) -> const std::string& {
    static const std::string empty;
    return i < toks.size() ? toks[i] : empty;
  };
  std::string b;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const Token& t = tokens_[i];
    if (t.fn == Fn::None) {
      if (is_full_wildcard(t.text)) break;
      b += t.text;
    } else {
      const std::string& s = at(static_cast<size_t>(t.src_tokens.empty() ? 0 : t.src_tokens[0]));
      const int n = t.int_arg;
      const int len = static_cast<int>(s.size());
      switch (t.fn) {
        case Fn::Wildcard: b += s; break;
        case Fn::Partition: {
          std::string key;
          for (int idx : t.src_tokens) key += at(static_cast<size_t>(idx));
          b += std::to_string(fnv1a(key) % static_cast<uint32_t>(n));
          break;
        }
        case Fn::SplitFromLeft:
          if (n > 0 && n < len) b += s.substr(0, n) + "." + s.substr(n);
          else b += s;
          break;
        case Fn::SplitFromRight:
          if (n > 0 && n < len) b += s.substr(0, len - n) + "." + s.substr(len - n);
          else b += s;
          break;
        case Fn::SliceFromLeft:
          if (n > 0 && n < len) {
            for (int j = 0; j + n <= len; j += n) {
              if (j != 0) b += '.';
              b += s.substr(j, n);
              if (j + n != len && j + n + n > len) {
                b += "." + s.substr(j + n);
                break;
              }
            }
          } else {
            b += s;
          }
          break;
        case Fn::SliceFromRight:
          if (n > 0 && n < len) {
            int rem = len % n;
            if (rem > 0) b += s.substr(0, rem) + ".";
            for (int j = rem; j + n <= len; j += n) {
              b += s.substr(j, n);
              if (j + n < len) b += '.';
            }
          } else {
            b += s;
          }
          break;
        case Fn::Split: {
          std::vector<std::string> parts;
          const std::string& d = t.string_arg;
          if (d.empty()) {
            for (char c : s) parts.emplace_back(1, c);
          } else {
            size_t start = 0;
            for (;;) {
              size_t p = s.find(d, start);
              parts.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
              if (p == std::string::npos) break;
              start = p + d.size();
            }
          }
          for (size_t j = 0; j < parts.size(); ++j) {
            b += parts[j];
            if (j + 1 < parts.size() && !parts[j + 1].empty() && !(j == 0 && parts[j].empty())) b += '.';
          }
          break;
        }
        case Fn::None: break;
      }
    }
    if (i + 1 < tokens_.size()) b += '.';
  }
  // A trailing `>` carries the source tokens from the source's `>` on.
  if (!tokens_.empty() && is_full_wildcard(tokens_.back().text)) {
    for (size_t i = src_token_count_ - 1; i < toks.size(); ++i) {
      b += toks[i];
      if (i + 1 < toks.size()) b += '.';
    }
  }
  return b;
}

}  // namespace nats
