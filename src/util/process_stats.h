// Process figures the monitor reports: resident memory, CPU use, cores.
#pragma once

#include <cstdint>

namespace nats::util {

int64_t resident_memory_bytes();
int num_cores();
// CPU use of this process in percent since the previous call (the first call measures
// since process start), as /varz "cpu".
double cpu_percent();

}  // namespace nats::util
