// Helpers shared by the JetStream commands (streams, consumers, KV): stored-message decoding,
// header blocks, acknowledged publishes and stream configuration from flags.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "cli/connection.h"

namespace nats::cli {

class Columns;

std::string base64_decode(const std::string& in);
std::string base64_encode(const std::string& in);
// Parses "NATS/1.0\r\nK: V\r\n\r\n" into pairs.
std::vector<std::pair<std::string, std::string>> parse_header_block(const std::string& block);

struct StoredMsg {
  std::string subject;
  uint64_t seq = 0;
  std::string time;  // RFC3339 from the server
  std::string data;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& k) const;
};
// STREAM.MSG.GET with the given request body; nullopt-like: ok=false when not found (10037).
bool get_stored(Connection& c, const std::string& stream, const nlohmann::json& req, StoredMsg& out);

// Publishes and waits for the JetStream PubAck; returns it (throws on error / no stream).
nlohmann::json js_publish(Connection& c, const std::string& subj, const std::string& data,
                          const std::vector<std::pair<std::string, std::string>>& hdrs = {});

// "2024-01-02 15:04:05" local rendering of an RFC3339 time (natscli's f(time.Time)).
std::string local_time(const std::string& rfc3339);
// Splits "a,b c" the way natscli's splitCLISubjects does.
std::vector<std::string> split_list(const std::vector<std::string>& in);
// natscli's --republish-source/--republish-destination/--republish-headers (stream add and
// kv add): the stream config's `republish` object, or null when no destination is given.
nlohmann::json republish_from_flags(const Invocation& inv);
std::vector<FlagSpec> republish_flags();
// The "Republishing[ Headers]: <src> to <dest>" line of stream and bucket info.
void add_republish_line(Columns& cols, const nlohmann::json& cfg);
// The stream info screen of `nats stream info` (cmd_stream.cpp), for commands that end on it.
void show_stream_info(const nlohmann::json& info);
// `nats stream backup` and `nats stream restore` (cmd_stream_backup.cpp).
void register_stream_backup_commands(Registry& r);
// Lists all stream names (paging STREAM.NAMES).
std::vector<std::string> stream_names(Connection& c, const std::string& subject_filter = "");

}  // namespace nats::cli
