// Fuzz target: the monitoring listener's HTTP request parser (net/http_request.h) and the
// query and path helpers applied to what it accepts: anything a client sends to the monitor
// port. Nothing may crash; finding the end of the head piece by piece (as the server does
// while data arrives) must agree with finding it in one go; a request that parses is never
// longer than its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http_request.h"

using namespace nats::net::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 32;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A small header limit on some inputs reaches the 431 path without megabytes of input.
  size_t limit = (data[0] & 0x80) ? 64 : kMaxHeaderBytes;

  size_t whole = find_head_end(in);
  size_t pieces = std::string_view::npos, scanned = 0;
  for (size_t have = std::min(step, in.size());; have = std::min(have + step, in.size())) {
    pieces = find_head_end(in.substr(0, have), scanned);
    if (pieces != std::string_view::npos || have == in.size()) break;
    scanned = have;
  }
  if (whole != pieces) std::abort();

  Request req;
  ParseResult r = parse_request(in, req, limit);
  if (r.status == ParseResult::Complete) {
    if (r.head_size > in.size()) std::abort();
    auto q = parse_query(req.raw_query);
    (void)query_get(q, "callback");
    std::string clean = clean_path(req.path);
    if (clean.empty()) std::abort();
    (void)render_response(200, "application/json", req.path, req);
  } else if (r.status == ParseResult::Error) {
    if (r.response.empty() || r.code < 400) std::abort();
  }
  return 0;
}
