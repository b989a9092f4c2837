// Client-protocol tests for proto::Parser.
//
// Behaviour verified against the reference nats-server 2.9.10 (/usr/sbin/nats-server) with
// a raw python3 socket: CONNECT {"verbose":false,"headers":true}, SUB > 99, the case, then
// PING. "closed" = the server closed the connection; "-ERR" = what it sent first.
//
// | input                                   | reference 2.9.10                               |
// |-----------------------------------------|------------------------------------------------|
// | PUB foo 2\r\nhi\r\n                     | delivered                                      |
// | pub foo 2 (lower case op)               | delivered                                      |
// | PUB\tfoo\t\t2 (tabs)                    | delivered                                      |
// | PUB foo 2\nhi\r\n (bare LF on line)     | delivered                                      |
// | PUB foo 2\r\nhi\n (bare LF after body)  | -ERR 'Unknown Protocol Operation', closed       |
// | PUB foo bar 2 (reply)                   | delivered with reply                           |
// | PUB foo (1 arg) / PUB foo a b 2 (4)     | closed, no -ERR                                |
// | PUB foo -2 / 2x / 0000000002 (10 digits)| closed, no -ERR                                |
// | PUB foo 000000002 (9 digits)            | delivered, size 2                              |
// | PUB foo 2\r\nhello\r\n (body too long)  | -ERR 'Unknown Protocol Operation', closed       |
// | PUB foo 2\r\nhiXX                       | -ERR 'Unknown Protocol Operation', closed       |
// | PUB foo 0\r\n\r\n                       | delivered, empty                               |
// | PUB foo 0\r\nX                          | -ERR 'Unknown Protocol Operation', closed       |
// | PUB foo 1048577 (> max_payload)         | -ERR 'Maximum Payload Violation', closed        |
// | PUBfoo 2 (no space)                     | -ERR 'Unknown Protocol Operation', closed       |
// | PUB \r\n                                | closed, no -ERR (argument is "\r": 1 arg)       |
// | PUB \n2\r\n                             | closed, no -ERR (argument "\n2": 1 arg)         |
// | PUB foo\r 2\r\nhi\r\n                   | delivered on subject "foo\r" (CR quirk)         |
// | PUB foo\r 2\nhi\r\n                     | closed (last byte '2' dropped: 1 arg)           |
// | PUB foo 2   \r\n (trailing blanks)      | delivered                                      |
// | XYZ / \r\n / MSG ... / -ERR\r\n         | -ERR 'Unknown Protocol Operation', closed       |
// | RS+ $G foo / A+ $G / a+ x (client)      | -ERR 'Unknown Protocol Operation', closed       |
// | HMSG foo 1 2\r\n\r\n (client)           | accepted, nothing delivered                    |
// | HMSG foo 1 2\r\nhi\r\n (client)         | -ERR 'Unknown Protocol Operation', closed       |
// | SUB foo (1 arg) / SUB foo q 5 6 (4)     | closed, no -ERR                                |
// | SUB foo q 5 (queue)                     | subscribed                                     |
// | SUB  foo   1  (extra blanks)            | subscribed                                     |
// | SUB foo\r 1X\n                          | subscribed, sid "1" (CR quirk drops 'X')        |
// | UNSUB \r\n / UNSUB 99 2 3               | closed, no -ERR                                |
// | UNSUB 99 x (bad max) / UNSUB 99 0       | unsubscribed at once (max -1 / 0)              |
// | UNSUB 99 2 then 3 PUBs                  | 2 delivered                                    |
// | UNSUB\t99\t1                            | 1 delivered                                    |
// | PINGjunk\r\n / PING\n / PING+10000 junk | PONG (anything up to LF ignored, no limit)     |
// | PONG / +OK / +OKjunk / INFO {} / CONNECT {} again | accepted                            |
// | CONNECT\r\n / CONNECT {x                | closed, no -ERR (bad JSON: the handler's job)   |
// | CONNECT{} / CONNECT\t{}                 | accepted (no space needed after CONNECT)        |
// | -ERR 'x' (from a client)                | closed, no -ERR (the handler's job)             |
// | HPUB foo 12 14 + headers                | delivered                                      |
// | HPUB foo 14 12 (hdr > total), 2 or 5 args, hdr -1 | closed, no -ERR                      |
// | HPUB foo 12 1048577                     | -ERR 'Maximum Payload Violation', closed        |
// | HPUB without "headers":true in CONNECT  | closed, no -ERR                                |
// | SUB <5000 bytes> (one send or split)    | -ERR 'maximum control line exceeded', closed    |
// | SUB arg 4095 bytes (split)              | accepted                                       |
// | SUB arg 4096/4097 bytes + PING (split)  | -ERR 'maximum control line exceeded' (line > 4096)|
// | CONNECT with 5000-byte JSON             | -ERR 'maximum control line exceeded', closed    |
// | PING\r\nX\r\n                           | PONG then -ERR 'Unknown Protocol Operation'     |
// | auth required: PING or SUB first        | -ERR 'Authorization Violation', closed          |
// | auth required: cONNECT {good} then PING | +OK PONG                                       |
//
// Where the reference checks the control-line limit only at some read boundaries, this
// parser checks every completed line and every partial one (deterministic for any split).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "recorder.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::proto::test::NATS_TEST_FILE_ID {
namespace {

using Ev = std::vector<std::string>;

FeedSetup client() { return FeedSetup{}; }

// Checks that feeding `in` whole, byte by byte, cut at every single position, and cut at
// random positions always gives the same outcome, and returns it.
Outcome split_invariant(const FeedSetup& st, std::string_view in) {
  const Outcome whole = feed_whole(st, in);
  EXPECT_EQ(feed_bytes(st, in), whole) << "byte-at-a-time differs for: " << in.substr(0, 80);
  for (size_t c = 1; c < in.size(); ++c) {
    Outcome o = feed(st, in, {c});
    EXPECT_EQ(o, whole) << "split at " << c << " differs";
    if (!(o == whole)) break;
  }
  std::mt19937 rng(12345);
  for (int round = 0; round < 20 && in.size() > 2; ++round) {
    std::vector<size_t> cuts;
    size_t pos = 0;
    while (true) {
      pos += 1 + rng() % 7;
      if (pos >= in.size()) break;
      cuts.push_back(pos);
    }
    EXPECT_EQ(feed(st, in, cuts), whole) << "random split round " << round;
  }
  return whole;
}

TEST(ParserClient, EveryOp) {
  const std::string in =
      "CONNECT {\"verbose\":false}\r\n"
      "INFO {\"x\":1}\r\n"
      "PUB foo 2\r\nhi\r\n"
      "PUB foo bar 5\r\nhello\r\n"
      "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
      "HPUB foo rep 12 12\r\nNATS/1.0\r\n\r\n\r\n"
      "SUB foo 1\r\n"
      "SUB foo q 2\r\n"
      "UNSUB 1\r\n"
      "UNSUB 2 5\r\n"
      "PING\r\n"
      "PONG\r\n"
      "+OK\r\n"
      "-ERR 'Stale Connection'\r\n";
  const Outcome o = split_invariant(client(), in);
  EXPECT_EQ(o.status, ParseStatus::Ok);
  EXPECT_TRUE(o.idle);
  const Ev want = {
      "CONNECT {\"verbose\":false}",
      "INFO {\"x\":1}",
      "PUB foo||hi",
      "PUB foo|bar|hello",
      "HPUB foo||NATS/1.0\r\n\r\n|hi",
      "HPUB foo|rep|NATS/1.0\r\n\r\n|",
      "SUB foo||1",
      "SUB foo|q|2",
      "UNSUB 1|-1",
      "UNSUB 2|5",
      "PING",
      "PONG",
      "OK",
      "ERR 'Stale Connection'",
  };
  EXPECT_EQ(o.ev, want);
}

TEST(ParserClient, LexicalQuirksMatchReference) {
  struct Case { std::string in; Ev want; };
  const std::vector<Case> cases = {
      {"pub foo 2\r\nhi\r\n", {"PUB foo||hi"}},
      {"pUb\tfoo\t\t2\r\nhi\r\n", {"PUB foo||hi"}},
      {"PUB foo 2\nhi\r\n", {"PUB foo||hi"}},
      {"PUB foo 000000002\r\nhi\r\n", {"PUB foo||hi"}},
      {"PUB foo 0\r\n\r\n", {"PUB foo||"}},
      {"PUB foo 2   \r\nhi\r\n", {"PUB foo||hi"}},
      {"PUB    foo 2\r\nhi\r\n", {"PUB foo||hi"}},
      {"PUB foo\r 2\r\nhi\r\n", {"PUB foo\r||hi"}},
      {"SUB  foo   1  \r\n", {"SUB foo||1"}},
      {"SUB foo\r 1X\n", {"SUB foo||1"}},
      {"UNSUB 99 x\r\n", {"UNSUB 99|-1"}},
      {"UNSUB 99 0\r\n", {"UNSUB 99|0"}},
      {"UNSUB\t99\t1\r\n", {"UNSUB 99|1"}},
      {"PINGjunk\r\nping\n", {"PING", "PING"}},
      {"PING" + std::string(10000, 'x') + "\r\n", {"PING"}},
      {"+OKjunk\r\n", {"OK"}},
      {"CONNECT{}\r\nconnect\t{}\r\n", {"CONNECT {}", "CONNECT {}"}},
      {"CONNECT\r\n", {"CONNECT \r"}},
      {"HMSG foo 1 2\r\n\r\nPING\r\n", {"PING"}},
  };
  for (const auto& c : cases) {
    const Outcome o = split_invariant(client(), c.in);
    EXPECT_EQ(o.status, ParseStatus::Ok) << c.in;
    EXPECT_EQ(o.ev, c.want) << c.in;
  }
}

TEST(ParserClient, ErrorsMatchReference) {
  struct Case { std::string in; ParseErrorKind kind; Ev before; };
  using K = ParseErrorKind;
  const std::vector<Case> cases = {
      {"PUB foo 2\r\nhi\n", K::UnknownOp, {}},
      {"PUB foo\r\n", K::BadArgs, {}},
      {"PUB foo a b 2\r\n", K::BadArgs, {}},
      {"PUB foo -2\r\nhi\r\n", K::BadArgs, {}},
      {"PUB foo 2x\r\nhi\r\n", K::BadArgs, {}},
      {"PUB foo 0000000002\r\nhi\r\n", K::BadArgs, {}},
      {"PUB foo 2\r\nhello\r\n", K::UnknownOp, {}},
      {"PUB foo 2\r\nhiXX", K::UnknownOp, {}},
      {"PUB foo 0\r\nX", K::UnknownOp, {}},
      {"PUB foo 1048577\r\n", K::MaxPayload, {}},
      {"PUBfoo 2\r\nhi\r\n", K::UnknownOp, {}},
      {"PUB \r\n", K::BadArgs, {}},
      {"PUB \n2\r\n", K::BadArgs, {}},
      {"PUB foo\r 2\nhi\r\n", K::BadArgs, {}},
      {"XYZ\r\n", K::UnknownOp, {}},
      {"\r\n", K::UnknownOp, {}},
      {"MSG foo 1 2\r\nhi\r\n", K::UnknownOp, {}},
      {"RS+ $G foo\r\n", K::UnknownOp, {}},
      {"A+ $G\r\n", K::UnknownOp, {}},
      {"a+ x\r\n", K::UnknownOp, {}},
      {"-ERR\r\n", K::UnknownOp, {}},
      {"HMSG foo 1 2\r\nhi\r\n", K::UnknownOp, {}},
      {"SUB foo\r\n", K::BadArgs, {}},
      {"SUB foo q 5 6\r\n", K::BadArgs, {}},
      {"UNSUB \r\n", K::BadArgs, {}},
      {"UNSUB 99 2 3\r\n", K::BadArgs, {}},
      {"HPUB foo 14 12\r\n", K::BadArgs, {}},
      {"HPUB foo 12\r\n", K::BadArgs, {}},
      {"HPUB foo a b 12 14\r\n", K::BadArgs, {}},
      {"HPUB foo -1 14\r\n", K::BadArgs, {}},
      {"HPUB foo 12 1048577\r\n", K::MaxPayload, {}},
      {"PING\r\nX\r\n", K::UnknownOp, {"PING"}},
      {"SUB a 1\r\nPUB a 1\r\nxy\r\n", K::UnknownOp, {"SUB a||1"}},
      {"PIG\r\n", K::UnknownOp, {}},
      {"CONNECX\r\n", K::UnknownOp, {}},
      {"UNSUBX 1\r\n", K::UnknownOp, {}},
  };
  for (const auto& c : cases) {
    const Outcome o = split_invariant(client(), c.in);
    EXPECT_EQ(o.status, ParseStatus::Error) << c.in;
    EXPECT_EQ(o.kind, c.kind) << c.in;
    EXPECT_EQ(o.ev, c.before) << c.in;
  }
}

TEST(ParserClient, ErrorTexts) {
  EXPECT_EQ(error_text(ParseErrorKind::UnknownOp), "Unknown Protocol Operation");
  EXPECT_EQ(error_text(ParseErrorKind::MaxControlLine), "maximum control line exceeded");
  EXPECT_EQ(error_text(ParseErrorKind::MaxPayload), "Maximum Payload Violation");
  EXPECT_EQ(error_text(ParseErrorKind::AuthViolation), "Authorization Violation");
  EXPECT_TRUE(error_text(ParseErrorKind::BadArgs).empty());
  EXPECT_TRUE(error_text(ParseErrorKind::HeadersNotSupported).empty());

  Recorder r;
  Parser<Recorder> p(Kind::Client);
  const std::string in = "PING\r\nXYZ\r\n";
  ParseResult res = p.parse(in.data(), in.size(), r);
  EXPECT_TRUE(res.error());
  EXPECT_EQ(res.err_text, "Unknown Protocol Operation");
  EXPECT_EQ(res.consumed, 6u);  // points at the offending byte
  // A dead parser keeps reporting the error.
  res = p.parse("PING\r\n", 6, r);
  EXPECT_TRUE(res.error());
  EXPECT_EQ(r.ev, Ev{"PING"});
}

TEST(ParserClient, HeadersMustBeEnabled) {
  FeedSetup st;
  st.headers = false;
  const Outcome o = split_invariant(st, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
  EXPECT_EQ(o.kind, ParseErrorKind::HeadersNotSupported);

  // Enabled from on_connect, applies to the HPUB in the same buffer.
  Recorder r;
  Parser<Recorder> p(Kind::Client);
  r.parser = &p;
  r.enable_headers_on_connect = true;
  const std::string in = "CONNECT {\"headers\":true}\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n";
  EXPECT_TRUE(p.parse(in.data(), in.size(), r).ok());
  ASSERT_EQ(r.ev.size(), 2u);
  EXPECT_EQ(r.ev[1], "HPUB foo||NATS/1.0\r\n\r\n|hi");
}

TEST(ParserClient, RequireConnect) {
  FeedSetup st;
  st.require_connect = true;
  for (const char* in : {"PING\r\n", "SUB foo 1\r\n", "PUB foo 0\r\n\r\n"}) {
    const Outcome o = split_invariant(st, in);
    EXPECT_EQ(o.kind, ParseErrorKind::AuthViolation) << in;
    EXPECT_TRUE(o.ev.empty());
  }
  // The handler accepts the CONNECT and lifts the requirement mid-buffer.
  Recorder r;
  Parser<Recorder> p(Kind::Client);
  p.set_require_connect(true);
  r.parser = &p;
  r.clear_require_connect_on_connect = true;
  const std::string in = "cONNECT {\"user\":\"a\"}\r\nPING\r\n";
  EXPECT_TRUE(p.parse(in.data(), in.size(), r).ok());
  EXPECT_EQ(r.ev, (Ev{"CONNECT {\"user\":\"a\"}", "PING"}));
}

TEST(ParserClient, MaxControlLine) {
  const std::string ok_line = "SUB " + std::string(4093, 'a') + " 1\r\n";  // arg 4095
  Outcome o = split_invariant(client(), ok_line);
  EXPECT_EQ(o.status, ParseStatus::Ok);
  EXPECT_EQ(o.ev.size(), 1u);

  const std::string edge = "SUB " + std::string(4094, 'a') + " 1\r\n";  // arg 4096: allowed
  EXPECT_EQ(feed_whole(client(), edge).status, ParseStatus::Ok);

  for (size_t n : {4095u, 5000u}) {
    const std::string bad = "SUB " + std::string(n, 'a') + " 1\r\n";  // arg > 4096
    o = feed_whole(client(), bad);
    EXPECT_EQ(o.kind, ParseErrorKind::MaxControlLine);
    EXPECT_EQ(feed_bytes(client(), bad).kind, ParseErrorKind::MaxControlLine);
    EXPECT_EQ(feed(client(), bad, {3000}).kind, ParseErrorKind::MaxControlLine);
  }
  // A line that never ends is refused without buffering it all.
  {
    Recorder r;
    Parser<Recorder> p(Kind::Client);
    std::string chunk = "CONNECT {\"name\":\"" + std::string(3000, 'n');
    EXPECT_TRUE(p.parse(chunk.data(), chunk.size(), r).ok());
    chunk.assign(3000, 'n');
    ParseResult res = p.parse(chunk.data(), chunk.size(), r);
    EXPECT_EQ(res.kind, ParseErrorKind::MaxControlLine);
    EXPECT_EQ(res.err_text, "maximum control line exceeded");
  }
  // Configurable.
  FeedSetup st;
  st.limits.max_control_line = 10;
  EXPECT_EQ(feed_whole(st, "SUB abcdefghi 1\r\n").kind, ParseErrorKind::MaxControlLine);
  EXPECT_EQ(feed_whole(st, "SUB abcdef 1\r\n").status, ParseStatus::Ok);
}

TEST(ParserClient, MaxPayloadSettable) {
  Recorder r;
  Parser<Recorder> p(Kind::Client, ParserLimits{4096, 4});
  std::string in = "PUB a 4\r\nabcd\r\n";
  EXPECT_TRUE(p.parse(in.data(), in.size(), r).ok());
  p.set_max_payload(8);
  in = "PUB a 8\r\nabcdefgh\r\nPUB a 9\r\n";
  ParseResult res = p.parse(in.data(), in.size(), r);
  EXPECT_EQ(res.kind, ParseErrorKind::MaxPayload);
  EXPECT_EQ(r.ev, (Ev{"PUB a||abcd", "PUB a||abcdefgh"}));

  FeedSetup unlimited;
  unlimited.limits.max_payload = -1;
  std::string big = "PUB a 2000000\r\n" + std::string(2000000, 'z') + "\r\n";
  EXPECT_EQ(feed_whole(unlimited, big).status, ParseStatus::Ok);
}

TEST(ParserClient, BigPayloadSplit) {
  FeedSetup st;
  st.limits.max_payload = 8 << 20;
  std::string body(300000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  const std::string in = "PING\r\nPUB big.subj reply.x " + std::to_string(body.size()) + "\r\n" +
                         body + "\r\nHPUB h 12 " + std::to_string(12 + body.size()) +
                         "\r\nNATS/1.0\r\n\r\n" + body + "\r\nPONG\r\n";
  const Outcome whole = feed_whole(st, in);
  ASSERT_EQ(whole.status, ParseStatus::Ok);
  const Ev want = {"PING", "PUB big.subj|reply.x|" + body, "HPUB h||NATS/1.0\r\n\r\n|" + body,
                   "PONG"};
  EXPECT_EQ(whole.ev, want);
  for (size_t chunk : {1u, 2u, 3u, 7u, 100u, 4096u, 65536u, 250000u}) {
    std::vector<size_t> cuts;
    for (size_t c = chunk; c < in.size(); c += chunk) cuts.push_back(c);
    EXPECT_EQ(feed(st, in, cuts), whole) << "chunk " << chunk;
  }
  // Cuts at every position around the message boundaries.
  const size_t first_body = in.find("\r\n", 6) + 2;
  for (size_t c = first_body - 20; c < first_body + 20; ++c)
    EXPECT_EQ(feed(st, in, {c}), whole) << c;
  const size_t end_body = first_body + body.size();
  for (size_t c = end_body - 3; c < end_body + 30; ++c)
    EXPECT_EQ(feed(st, in, {c}), whole) << c;
}

TEST(ParserClient, PipelinedRandomSplits) {
  std::string in;
  Ev want;
  for (int i = 0; i < 200; ++i) {
    const std::string subj = "s." + std::to_string(i);
    const std::string body(static_cast<size_t>(i % 37), static_cast<char>('A' + i % 26));
    switch (i % 5) {
      case 0:
        in += "PUB " + subj + " " + std::to_string(body.size()) + "\r\n" + body + "\r\n";
        want.push_back("PUB " + subj + "||" + body);
        break;
      case 1:
        in += "SUB " + subj + " q " + std::to_string(i) + "\r\n";
        want.push_back("SUB " + subj + "|q|" + std::to_string(i));
        break;
      case 2:
        in += "HPUB " + subj + " in.x 12 " + std::to_string(12 + body.size()) +
              "\r\nNATS/1.0\r\n\r\n" + body + "\r\n";
        want.push_back("HPUB " + subj + "|in.x|NATS/1.0\r\n\r\n|" + body);
        break;
      case 3:
        in += "PING\r\n";
        want.push_back("PING");
        break;
      case 4:
        in += "UNSUB " + std::to_string(i) + " 3\r\n";
        want.push_back("UNSUB " + std::to_string(i) + "|3");
        break;
    }
  }
  const Outcome whole = feed_whole(client(), in);
  EXPECT_EQ(whole.ev, want);
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    for (size_t pos = 0;;) {
      pos += 1 + rng() % (round % 2 ? 5 : 300);
      if (pos >= in.size()) break;
      cuts.push_back(pos);
    }
    ASSERT_EQ(feed(client(), in, cuts), whole) << "round " << round;
  }
  EXPECT_EQ(feed_bytes(client(), in), whole);
}

TEST(ParserClient, HandlerStopsMidBuffer) {
  const std::string in = "CONNECT {}\r\nPUB a 1\r\nx\r\nPING\r\nSUB b 1\r\n";
  for (size_t stop_at = 1; stop_at <= 4; ++stop_at) {
    Recorder r;
    r.stop_at = stop_at;
    Parser<Recorder> p(Kind::Client);
    ParseResult res = p.parse(in.data(), in.size(), r);
    ASSERT_TRUE(res.stopped());
    EXPECT_EQ(r.ev.size(), stop_at);
    EXPECT_TRUE(p.idle());
    // Resuming from `consumed` yields the rest, as if nothing had happened.
    r.stop_at = 0;
    res = p.parse(in.data() + res.consumed, in.size() - res.consumed, r);
    EXPECT_TRUE(res.ok());
    EXPECT_EQ(r.ev, (Ev{"CONNECT {}", "PUB a||x", "PING", "SUB b||1"}));
  }
}

TEST(ParserClient, TraceView) {
  struct Tracer : ParserHandlerBase {
    Parser<Tracer>* p = nullptr;
    std::vector<std::string> lines;
    void on_sub(std::string_view, std::string_view, std::string_view) {
      lines.push_back(std::string(op_name(p->current_op(), p->kind())) + " " +
                      std::string(p->current_args()));
    }
    void on_pub(std::string_view, std::string_view, std::string_view) {
      lines.push_back(std::string(op_name(p->current_op(), p->kind())) + " " +
                      std::string(p->current_args()));
    }
  };
  Tracer t;
  Parser<Tracer> p(Kind::Client);
  t.p = &p;
  const std::string in = "SUB foo  1\r\nPUB foo 3\r\nabc\r\n";
  for (char c : in) ASSERT_TRUE(p.parse(&c, 1, t).ok());
  EXPECT_EQ(t.lines, (std::vector<std::string>{"SUB foo  1", "PUB foo 3"}));
}

TEST(ParserClient, VoidHandlerCompiles) {
  struct Counting : ParserHandlerBase {
    int pubs = 0;
    void on_pub(std::string_view, std::string_view, std::string_view) { ++pubs; }
  };
  Counting c;
  Parser<Counting> p(Kind::Client);
  const std::string in = "PUB a 1\r\nx\r\nPUB b 0\r\n\r\n";
  EXPECT_TRUE(p.parse(in.data(), in.size(), c).ok());
  EXPECT_EQ(c.pubs, 2);
}

}  // namespace
}  // namespace nats::proto::test::NATS_TEST_FILE_ID
