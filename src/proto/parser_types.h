// Plain types shared by the wire-protocol parser and its callers: which side of the
// protocol a connection speaks, the limits it enforces, and what a parse() call reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nats::proto {

// The connection kind decides which operations are legal: RS+/RS-/RMSG/HMSG(routed)/A+/A-
// are only understood on Route and Gateway connections, LS+/LS-/LMSG only on Route ones;
// elsewhere they are "Unknown Protocol Operation", exactly as in the reference. A Leaf
// connection is bound to one account, so its LS+/LS-/LMSG/HMSG carry no account (the
// parser reports the bound one, see Parser::set_pinned_account) and no origin.
enum class Kind : uint8_t { Client, Route, Gateway, Leaf };

struct ParserLimits {
  // Longest control-line argument (the bytes after the op name) a Client may send.
  // Route and Gateway connections get 16x this, as the reference allows (their RMSG
  // lines carry accounts, replies and queue lists).
  int32_t max_control_line = 4096;
  // Largest PUB/HPUB size (header + body). Negative means no limit. Routed messages
  // (RMSG/HMSG from a route or gateway) are not checked, like the reference.
  int64_t max_payload = 1024 * 1024;
};

enum class ParseStatus : uint8_t {
  Ok,       // everything handed in was consumed
  Error,    // protocol violation: the caller sends -ERR (if err_text non-empty) and closes
  Stopped,  // a handler callback asked to stop; `consumed` says where
};

enum class ParseErrorKind : uint8_t {
  None,
  UnknownOp,            // -ERR 'Unknown Protocol Operation' (garbage, bad payload end)
  MaxControlLine,       // -ERR 'maximum control line exceeded'
  MaxPayload,           // -ERR 'Maximum Payload Violation'
  AuthViolation,        // -ERR 'Authorization Violation' (op other than CONNECT first)
  BadArgs,              // wrong argument count / bad size: closed without -ERR
  HeadersNotSupported,  // HPUB on a connection without headers: closed without -ERR
};

// The exact -ERR text the reference server sends for each kind (empty: none is sent).
constexpr std::string_view error_text(ParseErrorKind k) {
  switch (k) {
    case ParseErrorKind::UnknownOp: return "Unknown Protocol Operation";
    case ParseErrorKind::MaxControlLine: return "maximum control line exceeded";
    case ParseErrorKind::MaxPayload: return "Maximum Payload Violation";
    case ParseErrorKind::AuthViolation: return "Authorization Violation";
    default: return {};
  }
}

struct ParseResult {
  ParseStatus status = ParseStatus::Ok;
  ParseErrorKind kind = ParseErrorKind::None;
  // Text for `-ERR '<err_text>'`; empty means close without sending -ERR.
  std::string_view err_text;
  // A static description for logs (e.g. "processPub Parse Error"); never sent.
  std::string_view detail;
  // Bytes of this call's input that were processed. On Stopped, the parser sits between
  // operations and the caller may resume with parse(data + consumed, len - consumed).
  size_t consumed = 0;

  bool ok() const { return status == ParseStatus::Ok; }
  bool error() const { return status == ParseStatus::Error; }
  bool stopped() const { return status == ParseStatus::Stopped; }
};

// The operation a control line carries, for tracing (Parser::current_op()).
enum class Op : uint8_t {
  None, Pub, Hpub, Sub, Unsub, Connect, Info, Err, Ping, Pong, Ok,
  Rmsg,      // RMSG on routes/gateways
  Hmsg,      // HMSG: routed header message (on a Client it is accepted and ignored)
  AccSub,    // A+
  AccUnsub,  // A-
  Lsub,      // LS+ on routes: a leaf node's interest, with its origin cluster
  Lunsub,    // LS- on routes
  Lmsg,      // LMSG on routes: a message with its origin cluster (header semantics)
};

std::string_view op_name(Op op, Kind kind);

}  // namespace nats::proto
