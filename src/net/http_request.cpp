#include "net/http_request.h"

#include <ctime>
#include <vector>

#include "util/strings.h"

namespace nats::net::http {

namespace {

// RFC 7230 tchar: what a method or a header name may be made of.
bool http_is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool http_is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!http_is_tchar(c)) return false;
  return true;
}

std::string_view http_trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool http_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Does a comma-separated header value (Connection) hold token, case-insensitively?
bool http_has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (http_iequals(http_trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Go's answer to a request it cannot read: no Date, closes the connection. Only some of
// Go's reasons are shown ("missing required Host header"); the rest is a bare "400 Bad Request".
ParseResult http_fail(int code, std::string_view detail = {}) {
  ParseResult r;
  r.status = ParseResult::Error;
  r.code = code;
  std::string reason = std::to_string(code) + " " + status_text(code);
  if (!detail.empty()) reason.append(": ").append(detail);
  r.response = "HTTP/1.1 " + reason + "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" + reason;
  return r;
}

int http_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One line of the head (without its CRLF or LF); advances pos past it.
std::string_view http_next_line(std::string_view head, size_t& pos) {
  size_t nl = head.find('\n', pos);
  if (nl == std::string_view::npos) nl = head.size();
  std::string_view line = head.substr(pos, nl - pos);
  pos = nl + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The request-target: origin form ("/p?q"), absolute form ("http://h/p?q") or "*".
bool http_split_target(std::string_view target, Request& out) {
  if (target == "*") {
    out.path = "*";
    return true;
  }
  if (target.empty()) return false;
  if (target.front() != '/') {
    size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || scheme == 0) return false;
    for (char c : target.substr(0, scheme))
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
        return false;
    target.remove_prefix(scheme + 3);
    size_t slash = target.find_first_of("/?");
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    if (target.front() == '?') {
      out.path = "/";
      out.raw_query = std::string(target.substr(1));
      return true;
    }
  }
  size_t q = target.find('?');
  if (q != std::string_view::npos) out.raw_query = std::string(target.substr(q + 1));
  return percent_decode(target.substr(0, q), false, out.path);
}

}  // namespace

const char* status_text(int code) {
  switch (code) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

size_t find_head_end(std::string_view buf, size_t from) {
  // The blank line is "\n\n" or "\n\r\n"; back up so that a terminator split across two
  // calls is still found.
  size_t i = from >= 2 ? from - 2 : 0;
  for (;;) {
    size_t nl = buf.find('\n', i);
    if (nl == std::string_view::npos) return std::string_view::npos;
    if (nl + 1 < buf.size() && buf[nl + 1] == '\n') return nl + 2;
    if (nl + 2 < buf.size() && buf[nl + 1] == '\r' && buf[nl + 2] == '\n') return nl + 3;
    i = nl + 1;
  }
}

ParseResult parse_request(std::string_view buf, Request& out, size_t max_header) {
  out = Request{};
  // Empty lines before a request are skipped (RFC 7230 3.5).
  size_t start = 0;
  while (start < buf.size() && (buf[start] == '\r' || buf[start] == '\n')) ++start;
  size_t end = find_head_end(buf, start);
  if (end == std::string_view::npos || end - start > max_header) {
    if (buf.size() - start > max_header) return http_fail(431);
    if (end == std::string_view::npos) return {};
  }
  std::string_view head = buf.substr(0, end);
  size_t pos = start;

  std::string_view line = http_next_line(head, pos);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return http_fail(400);
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!http_is_token(method)) return http_fail(400);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return http_fail(400);
  if (version[5] != '1') return http_fail(505, "unsupported protocol version");
  out.method = std::string(method);
  out.minor = version[7] - '0';
  out.head = method == "HEAD";
  out.keep_alive = out.minor >= 1;
  for (char c : target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return http_fail(400);
  if (!http_split_target(target, out)) return http_fail(400);

  int hosts = 0;
  bool have_length = false;
  for (;;) {
    line = http_next_line(head, pos);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !http_is_token(line.substr(0, colon)))
      return http_fail(400);
    std::string_view name = line.substr(0, colon);
    std::string_view value = http_trim(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 0x7f) return http_fail(400, "invalid header value");
    if (http_iequals(name, "Host")) {
      if (++hosts > 1) return http_fail(400);
    } else if (http_iequals(name, "Connection")) {
      if (http_has_token(value, "close")) out.keep_alive = false;
      else if (out.minor == 0 && http_has_token(value, "keep-alive")) out.keep_alive = true;
    } else if (http_iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 18) return http_fail(400);
      size_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return http_fail(400);
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (have_length && n != out.content_length) return http_fail(400);
      have_length = true;
      out.content_length = n;
    } else if (http_iequals(name, "Transfer-Encoding")) {
      if (!http_iequals(value, "chunked")) {
        ParseResult r = http_fail(501);
        r.response = "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: "
                     "close\r\n\r\nUnsupported transfer encoding";
        return r;
      }
      out.chunked = true;
    }
  }
  if (out.minor >= 1 && hosts == 0) return http_fail(400, "missing required Host header");
  // With both, the chunked framing wins and the length is ignored (as Go does).
  if (out.chunked) out.content_length = 0;
  ParseResult r;
  r.status = ParseResult::Complete;
  r.head_size = end;
  return r;
}

bool percent_decode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = http_hex(in[i + 1]), lo = http_hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::multimap<std::string, std::string> parse_query(std::string_view raw) {
  std::multimap<std::string, std::string> q;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    size_t eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), true, key)) continue;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, value)) continue;
    q.emplace(std::move(key), std::move(value));
  }
  return q;
}

std::string query_get(const std::multimap<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

std::string clean_path(std::string_view p) {
  if (p.empty()) return "/";
  bool rooted = p.front() == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t slash = p.find('/', i);
    if (slash == std::string_view::npos) slash = p.size();
    std::string_view seg = p.substr(i, slash - i);
    if (seg == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else if (!rooted) parts.push_back(seg);
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = slash + 1;
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out.append(parts[k]);
  }
  if (out.empty()) out = rooted ? "/" : ".";
  // ServeMux keeps a trailing slash of the original path.
  if (p.back() == '/' && out != "/") out += '/';
  return out;
}

std::string render_response(int code, std::string_view content_type, std::string_view body, const Request& req,
                            std::string_view extra_headers) {
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tmv{};
  gmtime_r(&now, &tmv);
  size_t dn = std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tmv);
  std::string out;
  out.reserve(160 + extra_headers.size() + (req.head ? 0 : body.size()));
  out.append(req.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(code)).append(" ");
  out.append(status_text(code)).append("\r\n");
  if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
  out.append(extra_headers);
  out.append("Date: ").append(date, dn).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  // HTTP/1.0 closes unless told otherwise, so only keep-alive is said there (as Go).
  if (req.minor == 0) {
    if (req.keep_alive) out.append("Connection: keep-alive\r\n");
  } else if (!req.keep_alive) {
    out.append("Connection: close\r\n");
  }
  out.append("\r\n");
  if (!req.head) out.append(body);
  return out;
}

}  // namespace nats::net::http
