// Hand-written parser for the NATS config language; see parser.h for why. It is a
// recursive-descent parser that works directly on characters (no separate token
// stream): the language is context sensitive (what ends a bare string, or whether a
// newline may follow a key, depends on being at top level, in a map or in an array),
// so keeping the context on the C++ call stack is the simplest faithful model.
// Error messages follow the reference server's wording where one exists.
#include "config/parser.h"
#include "util/strings.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace nats::config {

namespace {

constexpr int kMaxNesting = 200;
constexpr int kMaxEnvDepth = 8;
// Copying values through `$var` can grow the tree exponentially (a: [1,1], b: [$a,$a],
// c: [$b,$b], ...); cap the copied nodes so hostile input cannot exhaust memory.
constexpr size_t kMaxCopiedNodes = 1 << 20;

size_t count_nodes(const Value& v) {
  size_t n = 1;
  if (v.is_array())
    for (const auto& x : v.as_array()) n += count_nodes(x);
  else if (v.is_map())
    for (const auto& e : v.entries()) n += count_nodes(e.value);
  return n;
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }
bool is_nl(char c) { return c == '\n' || c == '\r'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_key_sep(char c) { return c == ':' || c == '='; }

std::string dir_of(const std::string& file) {
  auto slash = file.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return file.substr(0, slash);
}

// Multiplier of a size suffix such as "k" (1000) or "KiB" (1024); 0 when unknown.
int64_t suffix_multiplier(const std::string& suffix) {
  static const char* const kLetters = "kmgtpe";
  if (suffix.empty()) return 1;
  const char* at = std::strchr(kLetters, suffix[0]);
  if (at == nullptr || suffix[0] == '\0') return 0;
  int power = static_cast<int>(at - kLetters) + 1;
  std::string rest = suffix.substr(1);
  bool binary;
  if (rest.empty()) binary = false;
  else if (rest == "b" || rest == "i" || rest == "ib") binary = true;
  else return 0;
  int64_t m = 1;
  for (int i = 0; i < power; ++i) m *= binary ? 1024 : 1000;
  return m;
}

class Parser {
 public:
  Parser(std::string_view src, std::string file, const ParseOptions& opts, int include_depth,
         int env_depth)
      : src_(src), file_(std::move(file)), opts_(opts), include_depth_(include_depth),
        env_depth_(env_depth) {}

  Value parse() {
    Value root = Value::make_map(here());
    scopes_.push_back(&root);
    parse_top(root);
    scopes_.pop_back();
    return root;
  }

 private:
  enum class Ctx { Top, Map, Array };

  struct Mark {
    size_t pos;
    int line, col;
  };

  // ---- character access -------------------------------------------------------
  bool eof() const { return pos_ >= src_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  char advance() {
    char c = src_[pos_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    return c;
  }
  Position here() const { return Position{file_, line_, col_}; }
  Mark mark() const { return Mark{pos_, line_, col_}; }
  void reset(const Mark& m) {
    pos_ = m.pos;
    line_ = m.line;
    col_ = m.col;
  }

  [[noreturn]] void fail(const std::string& msg) const { throw ConfigError(here(), msg); }
  [[noreturn]] void fail_at(const Position& p, const std::string& msg) const {
    throw ConfigError(p, msg);
  }

  // The character at the cursor as the reference prints it in messages.
  std::string current_char() const {
    if (eof()) return "";
    char c = peek();
    if (c == '\n') return "\\n";
    size_t len = 1;
    auto uc = static_cast<unsigned char>(c);
    if (uc >= 0xF0) len = 4;
    else if (uc >= 0xE0) len = 3;
    else if (uc >= 0xC0) len = 2;
    return std::string(src_.substr(pos_, std::min(len, src_.size() - pos_)));
  }

  bool at_comment() const { return peek() == '#' || (peek() == '/' && peek(1) == '/'); }
  void skip_comment() {
    while (!eof() && !is_nl(peek())) advance();
  }
  // Skips blanks, newlines and comments.
  void skip_space_and_comments() {
    for (;;) {
      if (!eof() && is_space(peek())) advance();
      else if (!eof() && at_comment()) skip_comment();
      else return;
    }
  }
  void skip_ws() {
    while (!eof() && is_ws(peek())) advance();
  }

  void enter() {
    if (++nesting_ > kMaxNesting) fail("maximum nesting depth exceeded");
  }
  void leave() { --nesting_; }

  // ---- structure --------------------------------------------------------------
  void parse_top(Value& root) {
    for (;;) {
      skip_space_and_comments();
      if (eof()) return;
      // The reference tolerates the whole file being wrapped in braces.
      if (peek() == '{' || peek() == '}') {
        advance();
        continue;
      }
      if (!parse_entry(root, Ctx::Top)) return;
      top_value_end();
    }
  }

  void top_value_end() {
    skip_ws();
    if (eof()) return;
    if (at_comment()) {
      skip_comment();
      return;
    }
    char c = peek();
    if (is_nl(c) || c == ';' || c == ',' || c == '}') {
      advance();
      return;
    }
    fail("Expected a top-level value to end with a new line, comment or EOF, but got '" +
         current_char() + "' instead.");
  }

  Value parse_map() {
    enter();
    Value m = Value::make_map(here());
    advance();  // '{'
    scopes_.push_back(&m);
    for (;;) {
      skip_space_and_comments();
      if (eof()) fail("Unexpected EOF processing map.");
      if (peek() == '}') {
        advance();
        break;
      }
      if (!parse_entry(m, Ctx::Map)) break;  // a dangling key closed the map
      if (map_value_end()) break;
    }
    scopes_.pop_back();
    leave();
    return m;
  }

  // After a map value: returns true when the map's '}' was consumed.
  bool map_value_end() {
    for (;;) {
      skip_ws();
      if (eof()) fail("Unexpected EOF processing map.");
      if (at_comment()) {
        skip_comment();
        continue;
      }
      char c = peek();
      if (c == ';' || c == ',' || is_nl(c)) {
        advance();
        return false;
      }
      if (c == '}') {
        advance();
        return true;
      }
      fail("Expected a map value terminator \",\" or a map terminator \"}\", but got '" +
           current_char() + "' instead.");
    }
  }

  Value parse_array() {
    enter();
    Value a = Value::make_array(here());
    advance();  // '['
    for (;;) {
      skip_space_and_comments();
      if (eof()) fail("Unexpected EOF processing array.");
      char c = peek();
      if (c == ',') fail("Unexpected array value terminator ','.");
      if (c == ']') {
        advance();
        break;
      }
      a.mutable_array().push_back(parse_value(Ctx::Array));
      if (array_value_end()) break;
    }
    leave();
    return a;
  }

  // After an array element: returns true when the array's ']' was consumed.
  bool array_value_end() {
    for (;;) {
      skip_ws();
      if (eof()) fail("Unexpected EOF processing array.");
      if (at_comment()) {
        skip_comment();
        continue;
      }
      char c = peek();
      if (c == ',' || is_nl(c)) {
        advance();
        return false;
      }
      if (c == ']') {
        advance();
        return true;
      }
      fail("Expected an array value terminator \",\" or an array terminator \"]\", but got '" +
           current_char() + "' instead.");
    }
  }

  // One `key [sep] value` (or `include path`) into `target`. Returns false when no
  // value followed the key: at top level at EOF (the reference ignores such a key),
  // or in a map when '}' came right after the key (then the '}' has been consumed).
  bool parse_entry(Value& target, Ctx ctx) {
    Position key_pos = here();
    char c = peek();
    if (is_key_sep(c))
      fail(std::string("Unexpected key separator '") + c + (ctx == Ctx::Map ? "'." : "'"));
    if (ctx == Ctx::Map && c == ']') fail("Unexpected array end ']' processing map.");

    std::string key;
    if (c == '"' || c == '\'') {
      char q = advance();
      while (!eof() && peek() != q) key.push_back(advance());
      if (eof()) fail(ctx == Ctx::Map ? (q == '"' ? "Unexpected EOF processing double quoted map key."
                                                    : "Unexpected EOF processing quoted map key.")
                                       : "Unexpected EOF.");
      advance();
    } else {
      while (!eof() && !is_space(peek()) && !is_key_sep(peek()) && peek() != '{' &&
             peek() != '[') {
        key.push_back(advance());
      }
      if (eof() && ctx == Ctx::Map) fail("Unexpected EOF processing map key.");
      if (!eof() && is_space(peek()) && util::ascii_lower(key) == "include") {
        parse_include(target, key_pos);
        return true;
      }
    }

    // Between key and separator any whitespace, newlines included, is allowed.
    while (!eof() && is_space(peek())) advance();
    if (eof()) {
      if (ctx == Ctx::Map) fail("Unexpected EOF processing map.");
      return false;
    }
    if (is_key_sep(peek())) advance();
    if (ctx == Ctx::Map) {
      // A map value may start on a later line; a top-level one may not.
      while (!eof() && is_space(peek())) advance();
      if (eof()) fail("Unexpected EOF processing map.");
      if (peek() == ',') fail("Unexpected map value terminator \",\".");
      if (peek() == '}') {
        advance();
        return false;
      }
    }
    Value v = parse_value(ctx);
    target.set(std::move(key), std::move(key_pos), std::move(v));
    return true;
  }

  // ---- include ----------------------------------------------------------------
  void parse_include(Value& target, const Position& at) {
    skip_ws();
    std::string name;
    char c = peek();
    if (c == '\'' || c == '"') {
      char q = advance();
      while (!eof() && peek() != q) name.push_back(advance());
      if (eof()) fail(q == '"' ? "Unexpected EOF in double quoted include" : "Unexpected EOF in quoted include");
      advance();
    } else {
      if (c == '[') fail("Expected include value but found start of an array");
      if (c == '{') fail("Expected include value but found start of a map");
      if (c == '(') fail("Expected include value but found start of a block");
      if (is_digit(c) || c == '-') fail("Expected include value but found start of a number");
      if (c == '\\') fail("Expected include value but found escape sequence");
      if (is_nl(c)) fail("Expected include value but found new line");
      while (!eof() && !is_nl(peek()) && peek() != ';' && peek() != '}' && !is_ws(peek()) &&
             peek() != '\'') {
        name.push_back(advance());
      }
    }
    if (!opts_.allow_include)
      fail_at(at, "error parsing include file '" + name + "', includes are disabled");
    if (include_depth_ >= opts_.max_include_depth)
      fail_at(at, "error parsing include file '" + name + "', too many nested includes");
    // Like the reference (Go's filepath.Join), the path is always taken relative to the
    // including file's directory, even when it starts with '/'.
    std::string path = dir_of(file_) + "/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      int err = errno;
      fail_at(at, "error parsing include file '" + name + "', open " + path + ": " +
                      std::strerror(err ? err : ENOENT));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    Parser sub(text, path, opts_, include_depth_ + 1, env_depth_);
    Value m = sub.parse();
    for (auto& e : m.mutable_entries())
      target.set(std::move(e.key), std::move(e.key_pos), std::move(e.value));
  }

  // ---- values -----------------------------------------------------------------
  Value parse_value(Ctx ctx) {
    skip_ws();
    Position p = here();
    if (eof()) return Value::make_string("", p);
    char c = peek();
    switch (c) {
      case '[': return parse_array();
      case '{': return parse_map();
      case '\'': return parse_single_quoted();
      case '"': return parse_double_quoted();
      case '-': return parse_negative_number();
      case '(': return parse_block();
      case '.': fail("Floats must start with a digit");
      case '\n':
      case '\r': fail("Expected value but found new line");
      default: break;
    }
    if (is_digit(c)) return parse_number();
    return parse_bare(mark());
  }

  Value parse_single_quoted() {
    Position p = here();
    advance();
    std::string s;
    while (!eof() && peek() != '\'') s.push_back(advance());
    if (eof()) fail("Unexpected EOF.");
    advance();
    return Value::make_string(std::move(s), p);
  }

  // Reads one escape sequence after a backslash (already consumed) into `out`.
  void parse_escape(std::string& out) {
    if (eof()) fail("Unexpected EOF.");
    char c = peek();
    switch (c) {
      case 't': advance(); out.push_back('\t'); return;
      case 'n': advance(); out.push_back('\n'); return;
      case 'r': advance(); out.push_back('\r'); return;
      case '"': advance(); out.push_back('"'); return;
      case '\\': advance(); out.push_back('\\'); return;
      case 'x': {
        advance();
        Position hex_pos = here();
        std::string hex;
        for (int i = 0; i < 2; ++i) {
          if (eof() || is_nl(peek()))
            fail("Expected two hexadecimal digits after '\\x', but hit end of line");
          hex.push_back(advance());
        }
        auto hexval = [](char h) {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        int hi = hexval(hex[0]), lo = hexval(hex[1]);
        if (hi < 0 || lo < 0)
          fail_at(hex_pos, "Expected two hexadecimal digits after '\\x', but got '" + hex + "'");
        out.push_back(static_cast<char>(hi * 16 + lo));
        return;
      }
      default:
        fail("Invalid escape character '" + current_char() +
             "'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.");
    }
  }

  Value parse_double_quoted() {
    Position p = here();
    advance();
    std::string s;
    for (;;) {
      if (eof()) fail("Unexpected EOF.");
      char c = peek();
      if (c == '"') break;
      advance();
      if (c == '\\') parse_escape(s);
      else s.push_back(c);
    }
    advance();
    return Value::make_string(std::move(s), p);
  }

  // `( ... )`: raw text up to a ')' alone on its line; keeps the newline before it.
  Value parse_block() {
    Position p = here();
    advance();  // '('
    size_t start = pos_;
    for (;;) {
      if (eof()) fail("Unexpected EOF processing block.");
      if (peek() == ')' && pos_ > start && src_[pos_ - 1] == '\n' &&
          (pos_ + 1 >= src_.size() || src_[pos_ + 1] == '\n')) {
        std::string s(src_.substr(start, pos_ - start));
        advance();
        return Value::make_string(std::move(s), p);
      }
      advance();
    }
  }

  // An unquoted string starting at `m`; it may turn out to be a bool or a variable.
  Value parse_bare(const Mark& m) {
    reset(m);
    Position p = here();
    std::string s;
    bool escaped = false;
    for (;;) {
      if (eof()) break;
      char c = peek();
      if (is_nl(c) || c == ';' || c == ',' || c == ']' || c == '}' || is_ws(c)) break;
      if (c == '\'') {  // the reference ends a bare string at a quote and drops it
        advance();
        return Value::make_string(std::move(s), p);
      }
      advance();
      if (c == '\\') {
        parse_escape(s);
        escaped = true;
      } else {
        s.push_back(c);
      }
    }
    if (escaped) return Value::make_string(std::move(s), p);
    std::string l = util::ascii_lower(s);
    if (l == "true" || l == "yes" || l == "on") return Value::make_bool(true, p);
    if (l == "false" || l == "no" || l == "off") return Value::make_bool(false, p);
    if (!s.empty() && s[0] == '$') return lookup_variable(s.substr(1), p);
    return Value::make_string(std::move(s), p);
  }

  static bool number_end(char c, bool at_eof) {
    return at_eof || is_nl(c) || c == '}' || c == ']' || c == ';' || c == ',' || is_ws(c);
  }
  static bool is_suffix_letter(char c) {
    return c != '\0' && std::strchr("kKmMgGtTpPeE", c) != nullptr;
  }

  // A value starting with a digit: integer (maybe with a size suffix), float, Zulu
  // datetime, IP address, or, once a non-number character shows up, a bare string
  // (e.g. "500ms", "127.0.0.1:4222" is an IP form, "4222abc" is a string).
  Value parse_number() {
    Mark start = mark();
    Position p = here();
    int digits = 0;
    while (!eof() && is_digit(peek())) {
      advance();
      ++digits;
    }
    char c = peek();
    if (!eof() && c == '-') {
      if (digits != 4) fail("All ISO8601 dates must be in full Zulu form.");
      advance();
      static const char kFormat[] = "00-00T00:00:00Z";
      for (const char* f = kFormat; *f; ++f) {
        std::string got = current_char();
        if (*f == '0') {
          if (eof() || !is_digit(peek()))
            fail("Expected digit in ISO8601 datetime, but found '" + got + "' instead.");
        } else if (eof() || peek() != *f) {
          fail(std::string("Expected '") + *f + "' in ISO8601 datetime, but found '" + got +
               "' instead.");
        }
        advance();
      }
      return Value::make_string(std::string(src_.substr(start.pos, pos_ - start.pos)), p);
    }
    if (!eof() && c == '.') return parse_fraction(start, p);
    if (is_suffix_letter(c)) {
      advance();
      while (!eof() && std::strchr("bBiI", peek()) != nullptr) advance();
      if (number_end(peek(), eof()) || is_digit(peek())) return make_integer(start, p);
      return parse_bare(start);
    }
    if (number_end(c, eof())) return make_integer(start, p);
    return parse_bare(start);
  }

  Value parse_negative_number() {
    Mark start = mark();
    Position p = here();
    advance();  // '-'
    if (eof() || !is_digit(peek())) {
      if (peek() == '.' && !eof()) fail("Floats must start with a digit, not '.'.");
      fail("Expected a digit but got '" + current_char() + "'.");
    }
    while (!eof() && is_digit(peek())) advance();
    char c = peek();
    if (!eof() && c == '.') return parse_fraction(start, p);
    if (is_suffix_letter(c)) {
      advance();
      while (!eof() && std::strchr("bBiI", peek()) != nullptr) advance();
      if (number_end(peek(), eof()) || is_digit(peek())) return make_integer(start, p);
      return parse_bare(start);
    }
    return make_integer(start, p);
  }

  // At the '.' of a float; an extra '.' makes it an IP address string.
  Value parse_fraction(const Mark& start, const Position& p) {
    advance();  // '.'
    if (eof() || !is_digit(peek()))
      fail("Floats must have a digit after the '.', but got '" + current_char() + "' instead.");
    while (!eof() && is_digit(peek())) advance();
    if (!eof() && peek() == '.') {
      while (!eof() && (is_digit(peek()) || peek() == '.' || peek() == ':' || peek() == '-'))
        advance();
      return Value::make_string(std::string(src_.substr(start.pos, pos_ - start.pos)), p);
    }
    std::string text(src_.substr(start.pos, pos_ - start.pos));
    errno = 0;
    double d = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE) fail_at(p, "Float '" + text + "' is out of the range.");
    return Value::make_float(d, p);
  }

  Value make_integer(const Mark& start, const Position& p) {
    std::string text(src_.substr(start.pos, pos_ - start.pos));
    size_t ndig = 0;
    while (ndig < text.size() && (is_digit(text[ndig]) || text[ndig] == '-')) ++ndig;
    std::string digits = text.substr(0, ndig);
    std::string suffix = util::ascii_lower(text.substr(ndig));
    errno = 0;
    char* endp = nullptr;
    long long n = std::strtoll(digits.c_str(), &endp, 10);
    if (errno == ERANGE) fail_at(p, "integer '" + text + "' is out of the range");
    if (endp == digits.c_str() || *endp != '\0')
      fail_at(p, "Expected integer, but got '" + text + "'.");
    int64_t mult = suffix_multiplier(suffix);
    if (mult == 0) fail_at(p, "Expected integer, but got '" + text + "'.");
    int64_t result;
    if (__builtin_mul_overflow(static_cast<int64_t>(n), mult, &result))
      fail_at(p, "integer '" + text + "' is out of the range");
    return Value::make_int(result, p);
  }

  // ---- variables --------------------------------------------------------------
  Value lookup_variable(const std::string& name, const Position& at) {
    // A bcrypt hash written bare ("$2a$11$...") is a password, not a variable.
    if (name.rfind("2a$", 0) == 0) return Value::make_string("$" + name, at);
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      for (auto& e : (*it)->mutable_entries()) {
        if (e.key == name) {
          e.used_as_variable = true;
          copied_nodes_ += count_nodes(e.value);
          if (copied_nodes_ > kMaxCopiedNodes)
            fail_at(at, "variable expansion makes the configuration too large");
          Value v = e.value;
          v.set_position(at);
          return v;
        }
      }
    }
    if (opts_.use_environment && env_depth_ < kMaxEnvDepth) {
      if (const char* env = std::getenv(name.c_str())) {
        // An environment value is parsed as if written in the file, so PORT=4222 is an
        // integer. A value that does not parse is treated as undefined.
        std::string text = std::string("pk=") + env;
        ParseOptions sub_opts = opts_;
        sub_opts.allow_include = false;
        try {
          Parser sub(text, file_, sub_opts, include_depth_, env_depth_ + 1);
          Value m = sub.parse();
          if (const Value* v = m.find("pk")) {
            Value copy = *v;
            copy.set_position(at);
            return copy;
          }
        } catch (const ConfigError&) {
        }
      }
    }
    fail_at(at, "variable reference for '" + name + "' on line " + std::to_string(at.line) +
                    " can not be found");
  }

  std::string_view src_;
  std::string file_;
  const ParseOptions& opts_;
  int include_depth_;
  int env_depth_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
  int nesting_ = 0;
  size_t copied_nodes_ = 0;
  std::vector<Value*> scopes_;  // maps being built, innermost last: variable scopes
};

}  // namespace

Value parse_config_string(std::string_view text, const std::string& file_name,
                          const ParseOptions& options) {
  Parser p(text, file_name, options, 0, 0);
  return p.parse();
}

Value parse_config_file(const std::string& path, const ParseOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    throw ConfigError(Position{path, 0, 0},
                      "open " + path + ": " + std::strerror(err ? err : ENOENT));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  Parser p(text, path, options, 0, 0);
  return p.parse();
}

}  // namespace nats::config
