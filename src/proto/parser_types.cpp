#include "proto/parser_types.h"

namespace nats::proto {

// Names as the reference's trace lines print them: on routes and gateways SUB/UNSUB
// lines are RS+/RS-.
std::string_view op_name(Op op, Kind kind) {
  const bool remote = kind != Kind::Client;
  switch (op) {
    case Op::Pub: return "PUB";
    case Op::Hpub: return "HPUB";
    case Op::Sub: return remote ? "RS+" : "SUB";
    case Op::Unsub: return remote ? "RS-" : "UNSUB";
    case Op::Connect: return "CONNECT";
    case Op::Info: return "INFO";
    case Op::Err: return "-ERR";
    case Op::Ping: return "PING";
    case Op::Pong: return "PONG";
    case Op::Ok: return "+OK";
    case Op::Rmsg: return "RMSG";
    case Op::Hmsg: return "HMSG";
    case Op::AccSub: return "A+";
    case Op::AccUnsub: return "A-";
    case Op::Lsub: return "LS+";
    case Op::Lunsub: return "LS-";
    case Op::Lmsg: return "LMSG";
    case Op::None: break;
  }
  return "";
}

}  // namespace nats::proto
