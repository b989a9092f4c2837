#pragma once
// Small helpers the cluster's request routing and the meta leader's handlers share.
#include <string>
#include <string_view>
#include <vector>

#include "jetstream/api/errors.h"
#include "jetstream/stream_config.h"
#include "subject/subject.h"

namespace nats::jetstream::cluster_util {

// Refusal of what needs more than the replication layer has today (scaling up, moves, R>1
// consumers): fail closed, never a silent R1.
inline ApiError not_supported_yet() { return api_error(err::ClusterUnSupportFeature); }

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The tokens after `prefix.` in `rest`.
inline std::vector<std::string> args_after(std::string_view rest, std::string_view prefix) {
  std::vector<std::string> out;
  if (rest.size() <= prefix.size()) return out;
  std::string_view tail = rest.substr(prefix.size() + 1);
  size_t start = 0;
  while (start <= tail.size()) {
    size_t dot = tail.find('.', start);
    if (dot == std::string_view::npos) dot = tail.size();
    out.emplace_back(tail.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

inline bool subjects_overlap(const StreamConfig& a, const StreamConfig& b) {
  for (const auto& x : a.subjects)
    for (const auto& y : b.subjects)
      if (subjects_collide(x, y)) return true;
  return false;
}

// Requests naming a stream as their first argument, answered by the stream's host.
// stream_scoped_prefix gives the longest such prefix of `rest` (subject after "$JS.API."),
// or "" when `rest` is not one of them.
inline constexpr std::string_view kStreamScoped[] = {
    "STREAM.INFO",   "STREAM.MSG.GET",  "STREAM.MSG.DELETE",       "STREAM.PURGE",   "STREAM.SNAPSHOT",
    "STREAM.RESTORE", "CONSUMER.INFO",  "CONSUMER.NAMES",          "CONSUMER.LIST",  "CONSUMER.MSG.NEXT",
    "DIRECT.GET",    "CONSUMER.CREATE", "CONSUMER.DURABLE.CREATE", "CONSUMER.DELETE", "STREAM.LEADER.STEPDOWN",
    "CONSUMER.LEADER.STEPDOWN", "STREAM.PEER.REMOVE"};

inline std::string_view stream_scoped_prefix(std::string_view rest) {
  std::string_view best;
  for (auto p : kStreamScoped)
    if (starts_with(rest, p) && rest.size() > p.size() + 1 && rest[p.size()] == '.' && p.size() > best.size()) best = p;
  return best;
}

}  // namespace nats::jetstream::cluster_util
