// HTTP/1.x request parsing for the monitoring listener (net/http_server.h): the request
// line and headers of one request, with the checks and answers of Go's net/http server
// (what the reference's monitor runs on). Pure: no sockets, fuzzed (tests/fuzz/fuzz_http_request.cpp).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace nats::net::http {

// The reference's MaxHeaderBytes (1 MiB) plus the 4 KiB slack Go's server adds to it.
constexpr size_t kMaxHeaderBytes = (1u << 20) + 4096;

struct Request {
  std::string method;     // as sent: Go serves any method token on the monitor's paths
  std::string path;       // percent-decoded path ("/varz"), also from an absolute-form target
  std::string raw_query;  // what followed '?', undecoded
  int minor = 1;          // HTTP/1.<minor>
  bool keep_alive = true; // the connection stays open after the answer
  bool head = false;      // HEAD: the answer's headers only
  size_t content_length = 0;
  bool chunked = false;   // a chunked body follows (not read: the connection closes after it)
};

struct ParseResult {
  enum Status { Incomplete, Complete, Error } status = Incomplete;
  size_t head_size = 0;  // bytes of the request line and headers, blank line included (Complete)
  // Error: the status and its reason ("Bad Request: missing required Host header"), and the
  // whole answer to send before closing, in Go's form.
  int code = 0;
  std::string response;
};

// Where the blank line that ends the headers ends in buf (searching from `from`, which lets a
// caller that gets data piece by piece scan each byte once), or npos. Accepts CRLF and bare LF.
size_t find_head_end(std::string_view buf, size_t from = 0);

// Parses the request at the start of buf. Incomplete while the blank line has not arrived
// (an Error once buf passes max_header bytes without it: 431); Error for a malformed request.
ParseResult parse_request(std::string_view buf, Request& out, size_t max_header = kMaxHeaderBytes);

// Go's url.ParseQuery: pairs split on '&', key and value '+'- and %XX-decoded; pairs that do
// not decode, or whose key holds ';', are left out.
std::multimap<std::string, std::string> parse_query(std::string_view raw);
// The first value of key in a parsed query, or "" (Go's Values.Get).
std::string query_get(const std::multimap<std::string, std::string>& q, const std::string& key);

// %XX decoding (and '+' as space for query parts); false on a malformed escape.
bool percent_decode(std::string_view in, bool plus_is_space, std::string& out);

// Go's path.Clean for a request path: "." and ".." resolved, slashes collapsed, a trailing
// slash kept (ServeMux redirects to this form when the path differs from it).
std::string clean_path(std::string_view p);

// A complete answer: status line, the given headers, Date, Content-Length, Connection (when
// the connection closes after it, or HTTP/1.0 keep-alive) and, unless head, the body.
std::string render_response(int code, std::string_view content_type, std::string_view body, const Request& req,
                            std::string_view extra_headers = {});
const char* status_text(int code);

}  // namespace nats::net::http
