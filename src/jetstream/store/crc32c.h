#pragma once
// CRC-32C (Castagnoli) for per-record checksums in the file store. Written here rather
// than taken from a library: the reference uses highwayhash, which is not packaged,
// OpenSSL has no CRC, and a cryptographic digest is overkill for detecting torn or
// bit-flipped records. Uses the SSE4.2 instruction when the CPU has it, else a table.
#include <cstddef>
#include <cstdint>

namespace nats::jetstream {

uint32_t crc32c(const void* data, size_t len, uint32_t crc = 0);

}  // namespace nats::jetstream
