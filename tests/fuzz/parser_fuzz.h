// Shared body of the protocol parser fuzz targets (client, route, gateway): each input is
// parsed twice: whole, and cut into random-sized chunks (each chunk in its own exact-size
// heap block, scribbled over after use, so keeping a view into an old read shows up under
// ASan). Every view a callback gets is read in full. The two runs must produce the same
// callbacks and the same final status: parsing must not depend on how reads split the
// stream.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "proto/parser.h"

namespace nats_fuzz {

using nats::proto::Kind;
using nats::proto::Parser;
using nats::proto::ParserHandlerBase;
using nats::proto::ParserLimits;
using nats::proto::QueueNames;

struct Log : ParserHandlerBase {
  std::string out;
  void add(std::string_view tag, std::initializer_list<std::string_view> parts) {
    out.append(tag);
    for (std::string_view p : parts) {
      out.push_back('|');
      out.append(p.data(), p.size());  // reads every byte of the view
    }
    out.push_back('\n');
  }
  void on_connect(std::string_view j) { add("C", {j}); }
  void on_info(std::string_view j) { add("I", {j}); }
  void on_err(std::string_view t) { add("E", {t}); }
  void on_ping() { add("PI", {}); }
  void on_pong() { add("PO", {}); }
  void on_ok() { add("OK", {}); }
  void on_pub(std::string_view s, std::string_view r, std::string_view p) { add("P", {s, r, p}); }
  void on_hpub(std::string_view s, std::string_view r, std::string_view h, std::string_view p) {
    add("HP", {s, r, h, p});
  }
  void on_sub(std::string_view s, std::string_view q, std::string_view id) { add("S", {s, q, id}); }
  void on_unsub(std::string_view id, int64_t max) { add("U", {id, std::to_string(max)}); }
  void on_rsub(std::string_view a, std::string_view s, std::string_view q, int32_t w) {
    add("RS+", {a, s, q, std::to_string(w)});
  }
  void on_runsub(std::string_view a, std::string_view s, std::string_view q) {
    add("RS-", {a, s, q});
  }
  std::string queues(QueueNames q) {
    std::string r;
    for (std::string_view n : q) { r.append(n); r.push_back(','); }
    return r;
  }
  void on_rmsg(std::string_view a, std::string_view s, std::string_view r, QueueNames q,
               std::string_view p) {
    add("RM", {a, s, r, queues(q), p});
  }
  void on_hrmsg(std::string_view a, std::string_view s, std::string_view r, QueueNames q,
                std::string_view h, std::string_view p) {
    add("HM", {a, s, r, queues(q), h, p});
  }
  void on_account_sub(std::string_view a) { add("A+", {a}); }
  void on_account_unsub(std::string_view a) { add("A-", {a}); }
  void on_lsub(std::string_view o, std::string_view a, std::string_view s, std::string_view q,
               int32_t w) {
    add("LS+", {o, a, s, q, std::to_string(w)});
  }
  void on_lunsub(std::string_view a, std::string_view s, std::string_view q) {
    add("LS-", {a, s, q});
  }
  void on_lmsg(std::string_view o, std::string_view a, std::string_view s, std::string_view r,
               QueueNames q, std::string_view h, std::string_view p) {
    add("LM", {o, a, s, r, queues(q), h, p});
  }
};

struct Config {
  Kind kind;
  ParserLimits limits;
  bool headers;
  bool pinned;
};

struct Run {
  std::string log;
  int status;
  int kind;
};

inline Run run(const Config& cfg, const uint8_t* data, size_t size, uint32_t seed, bool chunked) {
  Log h;
  Parser<Log> p(cfg.kind, cfg.limits);
  p.set_headers(cfg.headers);
  if (cfg.pinned) p.set_pinned_account("PINNED");
  Run r{{}, 0, 0};
  size_t off = 0;
  uint32_t x = seed | 1;
  while (off < size || size == 0) {
    size_t n = size - off;
    if (chunked) {
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;  // xorshift32
      const size_t cap = (x >> 24) < 64 ? 1 : (x >> 24) < 160 ? 8 : 300;
      n = std::min<size_t>(n, 1 + x % cap);
    }
    char* chunk = static_cast<char*>(std::malloc(n ? n : 1));
    if (n) std::memcpy(chunk, data + off, n);
    const auto res = p.parse(chunk, n, h);
    std::memset(chunk, '#', n);
    std::free(chunk);
    off += n;
    if (!res.ok()) {
      r.status = static_cast<int>(res.status);
      r.kind = static_cast<int>(res.kind);
      break;
    }
    if (size == 0) break;
  }
  r.log = std::move(h.out);
  return r;
}

}  // namespace nats_fuzz

namespace nats_fuzz {

// Byte 0: bit 2 headers off, bit 3 pinned account, bits 4-6 limits (bits 0-1 are unused:
// the target fixes the connection kind); byte 1 tiny limits; bytes 2-3 the chunking seed.
inline int fuzz_parser(const uint8_t* data, size_t size, nats::proto::Kind kind) {
  if (size < 4) return 0;
  Config cfg;
  const uint8_t b0 = data[0];
  cfg.kind = kind;
  cfg.headers = (b0 & 4) == 0;
  cfg.pinned = (b0 & 8) != 0;
  // Mostly default limits; sometimes tiny ones to reach the limit paths.
  cfg.limits.max_control_line = (b0 & 16) ? 4096 : 1 + data[1] % 64;
  cfg.limits.max_payload = (b0 & 32) ? 1024 * 1024 : (b0 & 64) ? -1 : data[1] % 128;
  const uint32_t seed = static_cast<uint32_t>(data[2]) << 8 | data[3];
  data += 4;
  size -= 4;

  const Run whole = run(cfg, data, size, seed, false);
  const Run chunked = run(cfg, data, size, seed, true);
  if (whole.log != chunked.log || whole.status != chunked.status || whole.kind != chunked.kind)
    std::abort();
  return 0;
}

}  // namespace nats_fuzz
