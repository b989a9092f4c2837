// The NATS wire-protocol parser: one state machine for client, route and gateway
// connections, fed whatever bytes a read returned.
//
// It parses in place: callbacks get string_views into the caller's buffer. Only when a
// control line or a payload is cut by the end of a read does it copy the partial bytes
// into its own buffers (and then the control line too, so the arguments of a split
// message stay valid). Those buffers keep their capacity, so steady-state parsing does
// not allocate. Any split of the input, down to one byte per call, produces the same
// callbacks.
//
// Semantics follow nats-server 2.9.10 (checked against the binary; see the table in
// tests/unit/proto/parser_test.cpp), including its quirks:
//  - op names are case-insensitive; arguments are separated by spaces and tabs;
//  - a line ends at LF; if a CR occurs anywhere in the argument after its first byte,
//    the byte before the LF is dropped (normally that CR);
//  - the first argument byte is taken as is, so "PUB \r\n" has the argument "\r";
//  - PING, PONG and +OK ignore everything up to the LF;
//  - a payload must be followed by exactly CR LF.
//
// Handler: any type with the callbacks below (derive from ParserHandlerBase to get no-op
// defaults). A callback may return void, or bool where false stops parsing right after
// that operation (ParseStatus::Stopped; resume later from `consumed`). The views are only
// valid during the call.
//   on_connect(json) on_info(json) on_err(text) on_ping() on_pong() on_ok()
//   on_pub(subject, reply, payload)
//   on_hpub(subject, reply, headers, payload)   headers = "NATS/1.0...\r\n\r\n"
//   on_sub(subject, queue, sid)                  queue empty if none
//   on_unsub(sid, max)                           max: -1 if absent or not a number
//   Route/Gateway only:
//   on_rsub(account, subject, queue, weight)     RS+ (also SUB); weight 0 if no queue,
//                                                -1 if not a number (the reference keeps it)
//   on_runsub(account, subject, queue)           RS- (also UNSUB)
//   on_rmsg(account, subject, reply, QueueNames, payload)            RMSG
//   on_hrmsg(account, subject, reply, QueueNames, headers, payload)  HMSG
//   on_account_sub(account) on_account_unsub(account)                A+ / A-
//   Route only (leaf-node interest and messages relayed with their origin cluster):
//   on_lsub(origin, account, subject, queue, weight)                 LS+
//   on_lunsub(account, subject, queue)                               LS- (no origin)
//   on_lmsg(origin, account, subject, reply, QueueNames, headers, payload)   LMSG
//                                     (header semantics: headers empty when hdr size is 0)
//   Leaf (one bound account, reported as the pinned account):
//   LS+ <subject> [<queue> <weight>]  -> on_rsub     LS- <subject> [<queue>] -> on_runsub
//   LMSG <subject> [reply|+ reply queues|"|" queues] <size>  -> on_rmsg
//   HMSG <subject> ... <hdr> <size>                          -> on_hrmsg
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "proto/parser_args.h"
#include "proto/parser_types.h"

namespace nats::proto {

// No-op callbacks; a handler derives from this and hides the ones it cares about.
struct ParserHandlerBase {
  void on_connect(std::string_view) {}
  void on_info(std::string_view) {}
  void on_err(std::string_view) {}
  void on_ping() {}
  void on_pong() {}
  void on_ok() {}
  void on_pub(std::string_view, std::string_view, std::string_view) {}
  void on_hpub(std::string_view, std::string_view, std::string_view, std::string_view) {}
  void on_sub(std::string_view, std::string_view, std::string_view) {}
  void on_unsub(std::string_view, int64_t) {}
  void on_rsub(std::string_view, std::string_view, std::string_view, int32_t) {}
  void on_runsub(std::string_view, std::string_view, std::string_view) {}
  void on_rmsg(std::string_view, std::string_view, std::string_view, QueueNames,
               std::string_view) {}
  void on_hrmsg(std::string_view, std::string_view, std::string_view, QueueNames,
                std::string_view, std::string_view) {}
  void on_account_sub(std::string_view) {}
  void on_account_unsub(std::string_view) {}
  void on_lsub(std::string_view, std::string_view, std::string_view, std::string_view,
               int32_t) {}
  void on_lunsub(std::string_view, std::string_view, std::string_view) {}
  void on_lmsg(std::string_view, std::string_view, std::string_view, std::string_view,
               QueueNames, std::string_view, std::string_view) {}
};

template <class Handler>
class Parser {
 public:
  Parser(Kind kind, ParserLimits limits = {})
      : kind_(kind), limits_(limits), headers_(kind != Kind::Client) {}

  // max_payload changes after CONNECT/INFO; the new limits apply from the next line.
  void set_limits(ParserLimits l) { limits_ = l; }
  void set_max_payload(int64_t v) { limits_.max_payload = v; }
  void set_max_control_line(int32_t v) { limits_.max_control_line = v; }
  const ParserLimits& limits() const { return limits_; }
  Kind kind() const { return kind_; }

  // While set, any operation but CONNECT is an Authorization Violation (a client that
  // must authenticate, an inbound gateway before its CONNECT). Clear it from on_connect
  // once the CONNECT is accepted; it is read at the start of every operation.
  void set_require_connect(bool v) { require_connect_ = v; }
  // HPUB is refused (closed, no -ERR) unless headers are on. Off for clients until their
  // CONNECT says "headers":true; on by default for routes and gateways.
  void set_headers(bool v) { headers_ = v; }
  // Route pooling (2.10+): on a route pinned to one account, RS+/RS-/RMSG/HMSG/LS+/LMSG
  // omit the account, and the parser reports this one instead. Empty: the account is in
  // the line. Ignored on gateways.
  void set_pinned_account(std::string acc) { pinned_account_ = std::move(acc); }
  // Whether lines omit the account: always on a leaf, on a route once pinned.
  bool account_pinned() const {
    return kind_ == Kind::Leaf || (kind_ == Kind::Route && !pinned_account_.empty());
  }

  // For tracing, during a callback: the op and its argument bytes (after the op name,
  // without the line ending). Empty for PING/PONG/+OK.
  Op current_op() const { return op_; }
  std::string_view current_args() const { return cur_args_; }

  // True between operations (nothing partial buffered).
  bool idle() const { return state_ == State::Start; }
  // The size announced by the last PUB/HPUB line (for the max payload error's log line).
  int64_t last_msg_size() const { return msg_.size; }

  ParseResult parse(const char* data, size_t len, Handler& h);

 private:
  enum class State : uint8_t {
    Start, Lit, OpP, OpH, OpR, OpRS, OpA, OpL, OpLS, NeedSpace, SkipSpace, Arg, SkipLine,
    Payload, EndR, EndN, Dead,
  };

  // Arguments of the message whose payload is being read (offsets into its line).
  struct MsgArgs {
    Span origin, account, subject, reply, queues;
    int64_t hdr = -1;  // -1: no header block
    int64_t size = 0;
    bool account_pinned = false;
    bool deliver = true;  // false: a client's HMSG, which the reference reads and ignores

    // Field by field: assigning a fresh MsgArgs{} compiled to a slow temporary copy.
    void reset() {
      origin = account = subject = reply = queues = Span{};
      hdr = -1;
      size = 0;
      account_pinned = false;
      deliver = true;
    }
  };

  template <class F>
  static bool call(F&& f) {
    if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
      f();
      return true;
    } else {
      return static_cast<bool>(f());
    }
  }

  ParseResult fail(ParseErrorKind k, std::string_view detail, size_t at) {
    state_ = State::Dead;
    dead_kind_ = k;
    dead_detail_ = detail;
    return ParseResult{ParseStatus::Error, k, error_text(k), detail, at};
  }

  int64_t effective_mcl() const {
    int64_t m = limits_.max_control_line;
    return kind_ == Kind::Client ? m : m * 16;
  }

  void begin_lit(const char* rest, Op op, State after) {
    lit_ = rest;
    op_ = op;
    after_lit_ = after;
    state_ = State::Lit;
  }

  const char* line_base() const { return line_in_buf_ ? arg_buf_.data() : line_ptr_; }

  void reset_line() {
    arg_in_buf_ = false;
    line_in_buf_ = false;
    arg_buf_.clear();
    cur_args_ = {};
  }

  // Handles a complete argument line. Returns false with `err` set on a violation, or
  // with `stop` set when a handler asked to stop.
  bool process_line(std::string_view line, Handler& h, ParseErrorKind& err,
                    std::string_view& detail, bool& stop);
  bool parse_pub(std::string_view line, ParseErrorKind& err, std::string_view& detail);
  bool parse_hpub(std::string_view line, ParseErrorKind& err, std::string_view& detail);
  bool parse_routed(std::string_view line, bool with_hdr, bool with_origin,
                    std::string_view& detail);
  bool deliver(Handler& h);

  static constexpr size_t kKeepCapacity = 64 * 1024;

  Kind kind_;
  ParserLimits limits_;
  bool headers_;
  bool require_connect_ = false;
  std::string pinned_account_;

  State state_ = State::Start;
  State after_lit_ = State::Start;
  const char* lit_ = "";
  Op op_ = Op::None;
  ParseErrorKind dead_kind_ = ParseErrorKind::None;
  std::string_view dead_detail_;

  // Control line: in place at data[as] or, once split, accumulated in arg_buf_.
  bool arg_in_buf_ = false;
  std::string arg_buf_;
  std::string_view cur_args_;

  // The line of the message whose payload is pending (in place or in arg_buf_).
  const char* line_ptr_ = nullptr;
  uint32_t line_len_ = 0;
  bool line_in_buf_ = false;
  MsgArgs msg_;

  // Payload: in place at pay_ptr_ or, once split, accumulated in msg_buf_.
  const char* pay_ptr_ = nullptr;
  int64_t pay_have_ = 0;
  bool msg_in_buf_ = false;
  std::string msg_buf_;
};

// ---------------------------------------------------------------------------------------

template <class Handler>
ParseResult Parser<Handler>::parse(const char* data, size_t len, Handler& h) {
  if (state_ == State::Dead) return ParseResult{ParseStatus::Error, dead_kind_,
                                                error_text(dead_kind_), dead_detail_, 0};
  size_t i = 0;
  size_t as = 0;  // start of the argument in this buffer (when not in arg_buf_)
  while (i < len) {
    switch (state_) {
      case State::Start: {
        const char b = data[i];
        if (require_connect_ && b != 'C' && b != 'c')
          return fail(ParseErrorKind::AuthViolation, "operation before CONNECT", i);
        // Fast path for the most common op: "PUB " or "PUB\t" in one step.
        if (len - i >= 4 && (data[i] | 0x20) == 'p' && (data[i + 1] | 0x20) == 'u' &&
            (data[i + 2] | 0x20) == 'b' && (data[i + 3] == ' ' || data[i + 3] == '\t')) {
          op_ = Op::Pub;
          state_ = State::SkipSpace;
          i += 4;
          break;
        }
        ++i;
        switch (b) {
          case 'P': case 'p': state_ = State::OpP; break;
          case 'H': case 'h': state_ = State::OpH; break;
          case 'S': case 's': begin_lit("ub", Op::Sub, State::NeedSpace); break;
          case 'U': case 'u': begin_lit("nsub", Op::Unsub, State::NeedSpace); break;
          case 'C': case 'c': begin_lit("onnect", Op::Connect, State::SkipSpace); break;
          case 'I': case 'i': begin_lit("nfo", Op::Info, State::SkipSpace); break;
          case '+': begin_lit("ok", Op::Ok, State::SkipLine); break;
          case '-': begin_lit("err", Op::Err, State::NeedSpace); break;
          case 'R': case 'r':
            if (kind_ == Kind::Client) return fail(ParseErrorKind::UnknownOp, "R op", i - 1);
            state_ = State::OpR;
            break;
          case 'A': case 'a':
            if (kind_ == Kind::Client) return fail(ParseErrorKind::UnknownOp, "A op", i - 1);
            state_ = State::OpA;
            break;
          case 'L': case 'l':
            if (kind_ != Kind::Route && kind_ != Kind::Leaf) return fail(ParseErrorKind::UnknownOp, "L op", i - 1);
            state_ = State::OpL;
            break;
          default:
            return fail(ParseErrorKind::UnknownOp, "unknown op", i - 1);
        }
        break;
      }
      case State::Lit: {
        while (*lit_ != '\0') {
          if (i == len) goto out;
          if (static_cast<char>(data[i] | 0x20) != *lit_)
            return fail(ParseErrorKind::UnknownOp, "unknown op", i);
          ++lit_;
          ++i;
        }
        state_ = after_lit_;
        break;
      }
      case State::OpP: {
        const char b = static_cast<char>(data[i] | 0x20);
        if (b == 'u') begin_lit("b", Op::Pub, State::NeedSpace);
        else if (b == 'i') begin_lit("ng", Op::Ping, State::SkipLine);
        else if (b == 'o') begin_lit("ng", Op::Pong, State::SkipLine);
        else return fail(ParseErrorKind::UnknownOp, "unknown op", i);
        ++i;
        break;
      }
      case State::OpH: {
        const char b = static_cast<char>(data[i] | 0x20);
        if (b == 'p') begin_lit("ub", Op::Hpub, State::NeedSpace);
        else if (b == 'm') begin_lit("sg", Op::Hmsg, State::NeedSpace);
        else return fail(ParseErrorKind::UnknownOp, "unknown op", i);
        ++i;
        break;
      }
      case State::OpR: {
        const char b = static_cast<char>(data[i] | 0x20);
        if (b == 's') state_ = State::OpRS;
        else if (b == 'm') begin_lit("sg", Op::Rmsg, State::NeedSpace);
        else return fail(ParseErrorKind::UnknownOp, "unknown op", i);
        ++i;
        break;
      }
      case State::OpRS: {
        const char b = data[i];
        if (b == '+') op_ = Op::Sub;
        else if (b == '-') op_ = Op::Unsub;
        else return fail(ParseErrorKind::UnknownOp, "unknown op", i);
        state_ = State::NeedSpace;
        ++i;
        break;
      }
      case State::OpL: {
        const char b = static_cast<char>(data[i] | 0x20);
        if (b == 's') state_ = State::OpLS;
        else if (b == 'm') begin_lit("sg", kind_ == Kind::Leaf ? Op::Rmsg : Op::Lmsg, State::NeedSpace);
        else return fail(ParseErrorKind::UnknownOp, "unknown op", i);
        ++i;
        break;
      }
      case State::OpLS: {
        const char b = data[i];
        // On a leaf connection LS+/LS- have the shape of a pinned RS+/RS-.
        if (b == '+') op_ = kind_ == Kind::Leaf ? Op::Sub : Op::Lsub;
        else if (b == '-') op_ = kind_ == Kind::Leaf ? Op::Unsub : Op::Lunsub;
        else return fail(ParseErrorKind::UnknownOp, "unknown op", i);
        state_ = State::NeedSpace;
        ++i;
        break;
      }
      case State::OpA: {
        const char b = data[i];
        // The reference also takes a lower-case 'u' here (and only lower-case).
        if (b == '+') op_ = Op::AccSub;
        else if (b == '-' || b == 'u') op_ = Op::AccUnsub;
        else return fail(ParseErrorKind::UnknownOp, "unknown op", i);
        state_ = State::NeedSpace;
        ++i;
        break;
      }
      case State::NeedSpace: {
        if (data[i] != ' ' && data[i] != '\t')
          return fail(ParseErrorKind::UnknownOp, "missing space after op", i);
        ++i;
        state_ = State::SkipSpace;
        break;
      }
      case State::SkipSpace: {
        while (i < len && (data[i] == ' ' || data[i] == '\t')) ++i;
        if (i == len) goto out;
        // The first argument byte is taken whatever it is (even CR or LF).
        as = i++;
        arg_in_buf_ = false;
        state_ = State::Arg;
        if (i == len) {  // the line goes on in a later read
          arg_buf_.assign(data + as, 1);
          arg_in_buf_ = true;
        }
        break;
      }
      case State::Arg: {
        const void* nlp = std::memchr(data + i, '\n', len - i);
        if (nlp == nullptr) {
          // The line continues in a later read: keep what we have.
          if (!arg_in_buf_) {
            arg_buf_.assign(data + as, len - as);
            arg_in_buf_ = true;
          } else {
            arg_buf_.append(data + i, len - i);
          }
          i = len;
          // Checked on the partial line too, so a peer cannot make us buffer without end.
          // The last byte may still be dropped (CR quirk), hence the -1 slack.
          if (static_cast<int64_t>(arg_buf_.size()) - 1 > effective_mcl())
            return fail(ParseErrorKind::MaxControlLine, "partial control line too long", i);
          goto out;
        }
        const size_t nl = static_cast<const char*>(nlp) - data;
        std::string_view line;
        if (arg_in_buf_) {
          arg_buf_.append(data + i, nl - i);
          line = arg_buf_;
        } else {
          line = std::string_view(data + as, nl - as);
        }
        i = nl + 1;
        // The reference drops the byte before LF if it saw a CR anywhere after the first
        // argument byte; normally that byte is the CR itself.
        if (line.size() > 1 &&
            (line.back() == '\r' || std::memchr(line.data() + 1, '\r', line.size() - 1)))
          line.remove_suffix(1);
        if (static_cast<int64_t>(line.size()) > effective_mcl())
          return fail(ParseErrorKind::MaxControlLine, "control line too long", i);
        ParseErrorKind err = ParseErrorKind::None;
        std::string_view detail;
        bool stop = false;
        line_in_buf_ = arg_in_buf_;
        line_ptr_ = line.data();
        line_len_ = static_cast<uint32_t>(line.size());
        if (!process_line(line, h, err, detail, stop)) {
          if (stop) {
            reset_line();
            state_ = State::Start;
            return ParseResult{ParseStatus::Stopped, ParseErrorKind::None, {}, {}, i};
          }
          return fail(err, detail, i);
        }
        if (state_ == State::Payload) {
          pay_ptr_ = data + i;
          pay_have_ = 0;
          msg_in_buf_ = false;
          // Fast path: the whole payload and its CR LF are in this read.
          const size_t sz = static_cast<size_t>(msg_.size);
          if (!line_in_buf_ && len - i >= sz + 2 && data[i + sz] == '\r' &&
              data[i + sz + 1] == '\n') {
            pay_have_ = msg_.size;
            i += sz + 2;
            state_ = State::Start;
            const bool go = deliver(h);
            reset_line();
            if (!go) return ParseResult{ParseStatus::Stopped, ParseErrorKind::None, {}, {}, i};
          }
        } else {
          reset_line();
        }
        break;
      }
      case State::SkipLine: {
        const void* nlp = std::memchr(data + i, '\n', len - i);
        if (nlp == nullptr) { i = len; goto out; }
        i = static_cast<const char*>(nlp) - data + 1;
        state_ = State::Start;
        cur_args_ = {};
        bool go = true;
        switch (op_) {
          case Op::Ping: go = call([&] { return h.on_ping(); }); break;
          case Op::Pong: go = call([&] { return h.on_pong(); }); break;
          default: go = call([&] { return h.on_ok(); }); break;
        }
        if (!go) return ParseResult{ParseStatus::Stopped, ParseErrorKind::None, {}, {}, i};
        break;
      }
      case State::Payload: {
        const int64_t want = msg_.size - pay_have_;
        const int64_t take = std::min<int64_t>(want, static_cast<int64_t>(len - i));
        if (msg_in_buf_) msg_buf_.append(data + i, static_cast<size_t>(take));
        pay_have_ += take;
        i += static_cast<size_t>(take);
        if (pay_have_ == msg_.size) state_ = State::EndR;
        break;
      }
      case State::EndR: {
        if (data[i] != '\r') return fail(ParseErrorKind::UnknownOp, "payload not followed by CR", i);
        ++i;
        state_ = State::EndN;
        break;
      }
      case State::EndN: {
        if (data[i] != '\n') return fail(ParseErrorKind::UnknownOp, "payload not followed by LF", i);
        ++i;
        state_ = State::Start;
        const bool go = deliver(h);
        reset_line();
        if (msg_in_buf_) {
          msg_in_buf_ = false;
          if (msg_buf_.capacity() > kKeepCapacity) std::string().swap(msg_buf_);
          else msg_buf_.clear();
        }
        if (!go) return ParseResult{ParseStatus::Stopped, ParseErrorKind::None, {}, {}, i};
        break;
      }
      case State::Dead:
        return ParseResult{ParseStatus::Error, dead_kind_, error_text(dead_kind_), dead_detail_, i};
    }
  }
out:
  // A message cut by the end of this read: its line and payload so far move into our
  // buffers, because the caller's buffer will be reused.
  if (state_ == State::Payload || state_ == State::EndR || state_ == State::EndN) {
    if (!line_in_buf_) {
      arg_buf_.assign(line_ptr_, line_len_);
      line_in_buf_ = true;
      arg_in_buf_ = true;
    }
    if (!msg_in_buf_) {
      // Reserve for the whole payload, but not blindly for a huge announced size that may
      // never arrive (routes have no max_payload): beyond 1 MiB the buffer grows as data does.
      const size_t want = std::min<size_t>(static_cast<size_t>(msg_.size), size_t{1} << 20);
      if (msg_buf_.capacity() < want) msg_buf_.reserve(want);
      msg_buf_.assign(pay_ptr_, static_cast<size_t>(pay_have_));
      msg_in_buf_ = true;
    }
  }
  return ParseResult{ParseStatus::Ok, ParseErrorKind::None, {}, {}, len};
}

template <class Handler>
bool Parser<Handler>::process_line(std::string_view line, Handler& h, ParseErrorKind& err,
                                   std::string_view& detail, bool& stop) {
  cur_args_ = line;
  bool go = true;
  switch (op_) {
    case Op::Pub:
      if (!parse_pub(line, err, detail)) return false;
      state_ = State::Payload;
      return true;
    case Op::Hpub:
      if (!parse_hpub(line, err, detail)) return false;
      state_ = State::Payload;
      return true;
    case Op::Hmsg:
      if (kind_ == Kind::Client) {
        // The reference reads a client's HMSG line, processes nothing, and expects an
        // empty payload (CR LF) after it.
        msg_.reset();
        msg_.deliver = false;
        state_ = State::Payload;
        return true;
      }
      [[fallthrough]];
    case Op::Rmsg:
    case Op::Lmsg:
      if (!parse_routed(line, op_ != Op::Rmsg, op_ == Op::Lmsg, detail)) {
        err = ParseErrorKind::BadArgs;
        return false;
      }
      state_ = State::Payload;
      return true;
    case Op::Sub: {
      Tokens<true> t(line);
      if (kind_ == Kind::Client) {
        std::string_view subj, queue, sid;
        if (t.n == 2) {
          subj = t.at(0).in(line.data());
          sid = t.at(1).in(line.data());
        } else if (t.n == 3) {
          subj = t.at(0).in(line.data());
          queue = t.at(1).in(line.data());
          sid = t.at(2).in(line.data());
        } else {
          err = ParseErrorKind::BadArgs;
          detail = "processSub Parse Error";
          return false;
        }
        go = call([&] { return h.on_sub(subj, queue, sid); });
      } else {
        const bool pinned = account_pinned();
        const size_t off = pinned ? 1 : 0;
        const size_t n = t.n + off;
        auto arg = [&](size_t k) { return t.at(k - off).in(line.data()); };
        std::string_view acc = pinned ? std::string_view(pinned_account_) : arg(0);
        std::string_view subj, queue;
        int32_t weight = 0;
        if (n == 2) {
          subj = arg(1);
        } else if (n == 4) {
          subj = arg(1);
          queue = arg(2);
          weight = static_cast<int32_t>(parse_size(arg(3)));
        } else {
          err = ParseErrorKind::BadArgs;
          detail = "processRemoteSub Parse Error";
          return false;
        }
        go = call([&] { return h.on_rsub(acc, subj, queue, weight); });
      }
      break;
    }
    case Op::Lsub: {
      // LS+ <origin> <account> <subject> [<queue> <weight>]
      Tokens<true> t(line);
      const bool pinned = !pinned_account_.empty();
      const size_t n = t.n + (pinned ? 1 : 0);
      auto arg = [&](size_t k) {  // logical argument k; a pinned account sits at 1
        if (pinned && k == 1) return std::string_view(pinned_account_);
        return t.at(pinned && k > 1 ? k - 1 : k).in(line.data());
      };
      std::string_view queue;
      int32_t weight = 0;
      if (n == 5) {
        queue = arg(3);
        weight = static_cast<int32_t>(parse_size(arg(4)));
      } else if (n != 3) {
        err = ParseErrorKind::BadArgs;
        detail = "processRemoteSub Parse Error";
        return false;
      }
      const std::string_view origin = arg(0), acc = arg(1), subj = arg(2);
      go = call([&] { return h.on_lsub(origin, acc, subj, queue, weight); });
      break;
    }
    case Op::Unsub:
    case Op::Lunsub: {  // LS- carries no origin: the same arguments as RS-
      Tokens<true> t(line);
      if (kind_ == Kind::Client) {
        std::string_view sid;
        int64_t max = -1;
        if (t.n == 1) {
          sid = t.at(0).in(line.data());
        } else if (t.n == 2) {
          sid = t.at(0).in(line.data());
          max = parse_size(t.at(1).in(line.data()));
        } else {
          err = ParseErrorKind::BadArgs;
          detail = "processUnsub Parse Error";
          return false;
        }
        go = call([&] { return h.on_unsub(sid, max); });
      } else {
        const bool pinned = account_pinned();
        const size_t off = pinned ? 1 : 0;
        const size_t n = t.n + off;
        auto arg = [&](size_t k) { return t.at(k - off).in(line.data()); };
        if (n != 2 && n != 3) {
          err = ParseErrorKind::BadArgs;
          detail = "processRemoteUnsub parse error";
          return false;
        }
        std::string_view acc = pinned ? std::string_view(pinned_account_) : arg(0);
        std::string_view subj = arg(1);
        std::string_view queue = n == 3 ? arg(2) : std::string_view();
        if (op_ == Op::Lunsub) go = call([&] { return h.on_lunsub(acc, subj, queue); });
        else go = call([&] { return h.on_runsub(acc, subj, queue); });
      }
      break;
    }
    case Op::Connect: go = call([&] { return h.on_connect(line); }); break;
    case Op::Info: go = call([&] { return h.on_info(line); }); break;
    case Op::Err: go = call([&] { return h.on_err(line); }); break;
    case Op::AccSub: go = call([&] { return h.on_account_sub(line); }); break;
    case Op::AccUnsub: go = call([&] { return h.on_account_unsub(line); }); break;
    default: break;
  }
  state_ = State::Start;
  if (!go) {
    stop = true;
    return false;
  }
  return true;
}

template <class Handler>
bool Parser<Handler>::parse_pub(std::string_view line, ParseErrorKind& err,
                                std::string_view& detail) {
  Tokens<false> t(line);
  msg_.reset();
  if (t.n == 2) {
    msg_.subject = t.at(0);
    msg_.size = parse_size(t.at(1).in(line.data()));
  } else if (t.n == 3) {
    msg_.subject = t.at(0);
    msg_.reply = t.at(1);
    msg_.size = parse_size(t.at(2).in(line.data()));
  } else {
    err = ParseErrorKind::BadArgs;
    detail = "processPub Parse Error";
    return false;
  }
  if (msg_.size < 0) {
    err = ParseErrorKind::BadArgs;
    detail = "processPub Bad or Missing Size";
    return false;
  }
  if (limits_.max_payload >= 0 && msg_.size > limits_.max_payload) {
    err = ParseErrorKind::MaxPayload;
    detail = "maximum payload exceeded";
    return false;
  }
  return true;
}

template <class Handler>
bool Parser<Handler>::parse_hpub(std::string_view line, ParseErrorKind& err,
                                 std::string_view& detail) {
  if (!headers_) {
    err = ParseErrorKind::HeadersNotSupported;
    detail = "message headers not supported";
    return false;
  }
  Tokens<false> t(line);
  msg_.reset();
  if (t.n == 3) {
    msg_.subject = t.at(0);
    msg_.hdr = parse_size(t.at(1).in(line.data()));
    msg_.size = parse_size(t.at(2).in(line.data()));
  } else if (t.n == 4) {
    msg_.subject = t.at(0);
    msg_.reply = t.at(1);
    msg_.hdr = parse_size(t.at(2).in(line.data()));
    msg_.size = parse_size(t.at(3).in(line.data()));
  } else {
    err = ParseErrorKind::BadArgs;
    detail = "processHeaderPub Parse Error";
    return false;
  }
  err = ParseErrorKind::BadArgs;
  if (msg_.hdr < 0) { detail = "processHeaderPub Bad or Missing Header Size"; return false; }
  if (msg_.size < 0) { detail = "processHeaderPub Bad or Missing Total Size"; return false; }
  if (msg_.hdr > msg_.size) {
    detail = "processHeaderPub Header Size larger then TotalSize";
    return false;
  }
  if (limits_.max_payload >= 0 && msg_.size > limits_.max_payload) {
    err = ParseErrorKind::MaxPayload;
    detail = "maximum payload exceeded";
    return false;
  }
  err = ParseErrorKind::None;
  return true;
}

// RMSG <acc> <subj> [<reply>] <size>
// RMSG <acc> <subj> + <reply> <q1> ... <size>   |   RMSG <acc> <subj> | <q1> ... <size>
// HMSG the same with <hdr_size> before <size>; LMSG like HMSG with <origin> first.
// A pinned route omits <acc>.
template <class Handler>
bool Parser<Handler>::parse_routed(std::string_view line, bool with_hdr, bool with_origin,
                                   std::string_view& detail) {
  Tokens<true> t(line);
  msg_.reset();
  const bool pinned = account_pinned();
  const size_t b = with_origin ? 1 : 0;  // logical index of <acc>
  const size_t n = t.n + (pinned ? 1 : 0);
  // Logical argument k as a span of the line; never called for a pinned <acc>.
  auto at = [&](size_t k) { return t.at(pinned && k > b ? k - 1 : k); };
  auto num = [&](size_t k) { return parse_size(at(k).in(line.data())); };
  const size_t sizes = with_hdr ? 2 : 1;  // trailing numeric arguments
  if (n < b + 2 + sizes) {
    detail = "routed message Parse Error";
    return false;
  }
  if (n == b + 2 + sizes) {
    // no reply, no queues
  } else if (n == b + 3 + sizes) {
    msg_.reply = at(b + 2);
  } else {
    const Span ind = at(b + 2);
    const char c = ind.len == 1 ? line[ind.off] : '\0';
    size_t first_q;
    if (c == '+') {
      msg_.reply = at(b + 3);
      first_q = b + 4;
    } else if (c == '|') {
      first_q = b + 3;
    } else {
      detail = "Bad or Missing Reply Indicator";
      return false;
    }
    const size_t last_q = n - sizes - 1;
    if (first_q <= last_q) {
      const Span qa = at(first_q), qb = at(last_q);
      msg_.queues = Span{qa.off, qb.off + qb.len - qa.off};
    }
  }
  if (with_hdr) {
    msg_.hdr = num(n - 2);
    if (msg_.hdr < 0) { detail = "Bad or Missing Header Size"; return false; }
  }
  msg_.size = num(n - 1);
  if (msg_.size < 0) { detail = "Bad or Missing Size"; return false; }
  if (with_hdr && msg_.hdr > msg_.size) { detail = "Header Size larger then TotalSize"; return false; }
  if (with_origin) msg_.origin = at(0);
  msg_.account_pinned = pinned;
  if (!pinned) msg_.account = at(b);
  msg_.subject = at(b + 1);
  return true;
}

template <class Handler>
bool Parser<Handler>::deliver(Handler& h) {
  if (!msg_.deliver) return true;
  const char* lb = line_base();
  cur_args_ = std::string_view(lb, line_len_);
  const std::string_view all(msg_in_buf_ ? msg_buf_.data() : pay_ptr_,
                             static_cast<size_t>(msg_.size));
  const std::string_view subj = msg_.subject.in(lb);
  const std::string_view reply = msg_.reply.in(lb);
  if (op_ == Op::Pub) return call([&] { return h.on_pub(subj, reply, all); });
  const size_t hdr = msg_.hdr < 0 ? 0 : static_cast<size_t>(msg_.hdr);
  if (op_ == Op::Hpub)
    return call([&] { return h.on_hpub(subj, reply, all.substr(0, hdr), all.substr(hdr)); });
  const std::string_view acc =
      msg_.account_pinned ? std::string_view(pinned_account_) : msg_.account.in(lb);
  const QueueNames queues(msg_.queues.in(lb));
  if (op_ == Op::Rmsg) return call([&] { return h.on_rmsg(acc, subj, reply, queues, all); });
  if (op_ == Op::Lmsg) {
    const std::string_view origin = msg_.origin.in(lb);
    return call([&] {
      return h.on_lmsg(origin, acc, subj, reply, queues, all.substr(0, hdr), all.substr(hdr));
    });
  }
  return call(
      [&] { return h.on_hrmsg(acc, subj, reply, queues, all.substr(0, hdr), all.substr(hdr)); });
}

}  // namespace nats::proto
