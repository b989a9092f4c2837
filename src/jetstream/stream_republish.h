// RePublish (stream config `republish {src, dest, headers_only}`): every message stored
// whose subject matches src is published again, once stored, to dest (a subject transform
// of the stored subject) with headers telling where it sits in the stream. Only the stream
// leader republishes (a local stream is its own leader), once per stored message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "subject/subject_transform.h"

namespace nats::jetstream {

struct StreamConfig;

// The config's `republish` object rewritten as the reference renders it ({src, dest,
// headers_only} with its omitempty rules). False on a field of the wrong type (the caller
// answers invalid JSON).
bool normalize_republish_json(nlohmann::ordered_json& republish);

// The reference's checks at create: "" when acceptable, else the description of its
// JSStreamInvalidConfig error. Fills in src (">" when empty).
std::string check_republish(nlohmann::ordered_json& republish, const std::vector<std::string>& subjects);

class Republisher {
 public:
  // Null when the config has no (valid) republish.
  static std::unique_ptr<Republisher> from_config(const StreamConfig& cfg);

  // The subject `subject` is republished to, or nullopt when src does not match it.
  std::optional<std::string> destination(std::string_view subject) const;
  bool headers_only() const { return headers_only_; }

 private:
  Republisher(SubjectTransform t, bool headers_only) : transform_(std::move(t)), headers_only_(headers_only) {}
  SubjectTransform transform_;
  bool headers_only_;
};

// The republished message's header block, byte for byte as 2.9.10 builds it: the stored
// headers (if any) followed by Nats-Stream, Nats-Subject, Nats-Sequence, Nats-Last-Sequence
// (the previous sequence of this exact subject, 0 if none) and, with headers_only,
// Nats-Msg-Size (the payload's length).
std::string republish_headers(std::string_view stored_headers, std::string_view stream, std::string_view subject,
                              uint64_t seq, uint64_t last_seq, std::optional<size_t> msg_size);

}  // namespace nats::jetstream
