#include "cli/command.h"
namespace nats::cli {
void register_stream_commands(Registry&) {}
void register_kv_commands(Registry&) {}
void register_bench_commands(Registry&) {}
}
