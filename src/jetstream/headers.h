#pragma once
// NATS message headers ("NATS/1.0[ status]\r\nKey: Value\r\n...\r\n") as JetStream reads
// them on ingest (Nats-Msg-Id, Nats-Expected-*, Nats-Rollup) and writes them for direct get.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nats::jetstream {

inline constexpr std::string_view kMsgIdHdr = "Nats-Msg-Id";
inline constexpr std::string_view kExpectedStreamHdr = "Nats-Expected-Stream";
inline constexpr std::string_view kExpectedLastSeqHdr = "Nats-Expected-Last-Sequence";
inline constexpr std::string_view kExpectedLastSubjSeqHdr = "Nats-Expected-Last-Subject-Sequence";
inline constexpr std::string_view kExpectedLastMsgIdHdr = "Nats-Expected-Last-Msg-Id";
inline constexpr std::string_view kRollupHdr = "Nats-Rollup";

// Value of the first header named key (exact, case-sensitive as the reference), trimmed.
std::optional<std::string_view> header_value(std::string_view headers, std::string_view key);
// Unsigned decimal header value; nullopt when absent or not a number.
std::optional<uint64_t> header_uint(std::string_view headers, std::string_view key);
// "NATS/1.0[ <status> <description>]\r\nK: V\r\n...\r\n" with the given entries appended.
std::string build_headers(const std::vector<std::pair<std::string, std::string>>& entries,
                          std::string_view status = {});
// Appends entries to an existing header block (or builds one when empty).
std::string append_headers(std::string_view headers, const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace nats::jetstream
