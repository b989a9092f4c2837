// Fuzz target: proto::Parser on a client connection; see parser_fuzz.h.
#include "parser_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nats_fuzz::fuzz_parser(data, size, nats::proto::Kind::Client);
}
