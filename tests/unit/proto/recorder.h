// Test helpers: a handler that records every callback as a line of text, and drivers
// that feed one input to a fresh parser in different chunkings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proto/parser.h"

namespace nats::proto::test {

struct Recorder : ParserHandlerBase {
  std::vector<std::string> ev;
  // Stop (return false) at the n-th callback, counting from 1; 0: never.
  size_t stop_at = 0;
  Parser<Recorder>* parser = nullptr;  // for tests that change parser settings mid-stream
  bool clear_require_connect_on_connect = false;
  bool enable_headers_on_connect = false;

  bool rec(std::string s) {
    ev.push_back(std::move(s));
    return stop_at == 0 || ev.size() != stop_at;
  }
  static std::string s(std::string_view v) { return std::string(v); }

  bool on_connect(std::string_view j) {
    if (parser && clear_require_connect_on_connect) parser->set_require_connect(false);
    if (parser && enable_headers_on_connect) parser->set_headers(true);
    return rec("CONNECT " + s(j));
  }
  bool on_info(std::string_view j) { return rec("INFO " + s(j)); }
  bool on_err(std::string_view t) { return rec("ERR " + s(t)); }
  bool on_ping() { return rec("PING"); }
  bool on_pong() { return rec("PONG"); }
  bool on_ok() { return rec("OK"); }
  bool on_pub(std::string_view subj, std::string_view reply, std::string_view p) {
    return rec("PUB " + s(subj) + "|" + s(reply) + "|" + s(p));
  }
  bool on_hpub(std::string_view subj, std::string_view reply, std::string_view hdr,
               std::string_view p) {
    return rec("HPUB " + s(subj) + "|" + s(reply) + "|" + s(hdr) + "|" + s(p));
  }
  bool on_sub(std::string_view subj, std::string_view q, std::string_view sid) {
    return rec("SUB " + s(subj) + "|" + s(q) + "|" + s(sid));
  }
  bool on_unsub(std::string_view sid, int64_t max) {
    return rec("UNSUB " + s(sid) + "|" + std::to_string(max));
  }
  bool on_rsub(std::string_view acc, std::string_view subj, std::string_view q, int32_t w) {
    return rec("RS+ " + s(acc) + "|" + s(subj) + "|" + s(q) + "|" + std::to_string(w));
  }
  bool on_runsub(std::string_view acc, std::string_view subj, std::string_view q) {
    return rec("RS- " + s(acc) + "|" + s(subj) + "|" + s(q));
  }
  static std::string qs(QueueNames q) {
    std::string out;
    for (std::string_view n : q) {
      if (!out.empty()) out += ",";
      out += n;
    }
    return out;
  }
  bool on_rmsg(std::string_view acc, std::string_view subj, std::string_view reply,
               QueueNames q, std::string_view p) {
    return rec("RMSG " + s(acc) + "|" + s(subj) + "|" + s(reply) + "|" + qs(q) + "|" + s(p));
  }
  bool on_hrmsg(std::string_view acc, std::string_view subj, std::string_view reply,
                QueueNames q, std::string_view hdr, std::string_view p) {
    return rec("HMSG " + s(acc) + "|" + s(subj) + "|" + s(reply) + "|" + qs(q) + "|" + s(hdr) +
               "|" + s(p));
  }
  bool on_account_sub(std::string_view a) { return rec("A+ " + s(a)); }
  bool on_account_unsub(std::string_view a) { return rec("A- " + s(a)); }
  bool on_lsub(std::string_view o, std::string_view acc, std::string_view subj,
               std::string_view q, int32_t w) {
    return rec("LS+ " + s(o) + "|" + s(acc) + "|" + s(subj) + "|" + s(q) + "|" +
               std::to_string(w));
  }
  bool on_lunsub(std::string_view acc, std::string_view subj, std::string_view q) {
    return rec("LS- " + s(acc) + "|" + s(subj) + "|" + s(q));
  }
  bool on_lmsg(std::string_view o, std::string_view acc, std::string_view subj,
               std::string_view reply, QueueNames q, std::string_view hdr, std::string_view p) {
    return rec("LMSG " + s(o) + "|" + s(acc) + "|" + s(subj) + "|" + s(reply) + "|" + qs(q) +
               "|" + s(hdr) + "|" + s(p));
  }
};

struct Outcome {
  std::vector<std::string> ev;
  ParseStatus status = ParseStatus::Ok;
  ParseErrorKind kind = ParseErrorKind::None;
  bool idle = true;

  bool operator==(const Outcome& o) const {
    return ev == o.ev && status == o.status && kind == o.kind && idle == o.idle;
  }
};

struct FeedSetup {
  Kind kind = Kind::Client;
  ParserLimits limits{};
  bool headers = true;
  bool require_connect = false;
  std::string pinned;
};

// Feeds `in` cut at the given offsets (ascending) into one fresh parser. Stops at the
// first error; copies every chunk into its own heap buffer so that reading past a chunk
// or keeping a pointer into an old chunk shows up under the sanitizers.
inline Outcome feed(const FeedSetup& st, std::string_view in, const std::vector<size_t>& cuts) {
  Recorder r;
  Parser<Recorder> p(st.kind, st.limits);
  p.set_headers(st.headers);
  p.set_require_connect(st.require_connect);
  if (!st.pinned.empty()) p.set_pinned_account(st.pinned);
  r.parser = &p;
  Outcome o;
  size_t prev = 0;
  std::vector<size_t> all = cuts;
  all.push_back(in.size());
  for (size_t c : all) {
    if (c < prev) continue;
    std::vector<char> chunk(in.begin() + prev, in.begin() + c);
    const ParseResult res = p.parse(chunk.data(), chunk.size(), r);
    // Scribble over the chunk: the parser must not keep views into it.
    std::fill(chunk.begin(), chunk.end(), '#');
    prev = c;
    if (!res.ok()) {
      o.status = res.status;
      o.kind = res.kind;
      break;
    }
  }
  o.ev = std::move(r.ev);
  o.idle = p.idle();
  return o;
}

inline Outcome feed_whole(const FeedSetup& st, std::string_view in) { return feed(st, in, {}); }

inline Outcome feed_bytes(const FeedSetup& st, std::string_view in) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < in.size(); ++i) cuts.push_back(i);
  return feed(st, in, cuts);
}

}  // namespace nats::proto::test
