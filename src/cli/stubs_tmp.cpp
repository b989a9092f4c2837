#include "cli/command.h"
namespace nats::cli {
void register_bench_commands(Registry&) {}
}
