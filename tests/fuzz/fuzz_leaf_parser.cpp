// Fuzz target: proto::Parser on a leaf-node connection (LS+/LS- with queue weights,
// LMSG/HMSG without account or origin, INFO/CONNECT/PING); see parser_fuzz.h.
#include "parser_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nats_fuzz::fuzz_parser(data, size, nats::proto::Kind::Leaf);
}
