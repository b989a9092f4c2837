// Validation of a stream's `mirror` and `sources` as the reference's checkStreamCfg does it.
#include <deque>
#include <set>

#include "jetstream/stream_config.h"
#include "subject/subject.h"

namespace nats::jetstream {

namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kApiPrefix = "$JS.API";

ApiError invalid(std::string_view why) { return api_error(err::StreamInvalidConfig, why); }

// The reference's StreamSource JSON: name, then the omitempty fields, external with both keys.
ojson normalized(const ojson& in) {
  ojson out;
  out["name"] = in.value("name", std::string());
  if (auto it = in.find("opt_start_seq"); it != in.end() && it->is_number() && it->get<uint64_t>() > 0)
    out["opt_start_seq"] = *it;
  if (auto it = in.find("opt_start_time"); it != in.end() && it->is_string()) out["opt_start_time"] = *it;
  if (auto it = in.find("filter_subject"); it != in.end() && it->is_string() && !it->get<std::string>().empty())
    out["filter_subject"] = *it;
  if (auto it = in.find("external"); it != in.end() && it->is_object())
    out["external"] = ojson{{"api", it->value("api", std::string())}, {"deliver", it->value("deliver", std::string())}};
  return out;
}

bool valid_publish_subject(const std::string& s) {
  return is_valid_subject(s) && s.find_first_of("*>") == std::string::npos;
}

ApiError check_external(const ojson& src) {
  auto it = src.find("external");
  if (it == src.end()) return {};
  std::string deliver = it->value("deliver", std::string());
  std::string api = it->value("api", std::string());
  if (!deliver.empty() && !valid_publish_subject(deliver))
    return api_error(err::StreamInvalidExternalDeliverySubj, {{"{prefix}", deliver}});
  if (!api.empty()) {
    if (!valid_publish_subject(api))
      return invalid("stream external api prefix \"" + api + "\" must be a valid subject without wildcards");
    if (subjects_collide(api, kApiPrefix))
      return api_error(err::StreamExternalApiOverlap, {{"{prefix}", api}, {"{subject}", kApiPrefix}});
  }
  return {};
}

bool filter_overlaps(const std::string& filter, const std::vector<std::string>& subjects) {
  if (filter.empty() || subjects.empty()) return true;
  for (const auto& s : subjects) {
    if (subjects_collide(s, filter)) return true;
  }
  return false;
}

}  // namespace

ApiError normalize_stream_sources(StreamConfig& cfg) {
  if (cfg.mirror.is_object()) cfg.mirror = normalized(cfg.mirror);
  if (cfg.sources.is_array()) {
    if (cfg.sources.empty()) cfg.sources = nullptr;
    else
      for (auto& s : cfg.sources) s = normalized(s.is_object() ? s : ojson::object());
  }
  if (cfg.mirror.is_object())
    if (auto e = check_external(cfg.mirror); !e.empty()) return e;
  if (cfg.sources.is_array())
    for (const auto& s : cfg.sources)
      if (auto e = check_external(s); !e.empty()) return e;
  return {};
}

ApiError check_stream_origins(StreamConfig& cfg, const StreamConfigLookup& lookup) {
  std::vector<ojson> origins;
  if (cfg.mirror.is_object()) origins.push_back(cfg.mirror);
  else if (cfg.sources.is_array())
    for (const auto& s : cfg.sources) origins.push_back(s);
  std::vector<std::string> origin_subjects;
  for (const auto& src : origins) {
    std::string name = src.value("name", std::string());
    std::string filter = src.value("filter_subject", std::string());
    auto ocfg = lookup(name);
    if (!ocfg) continue;
    origin_subjects.insert(origin_subjects.end(), ocfg->subjects.begin(), ocfg->subjects.end());
    bool mirror = cfg.mirror.is_object();
    if (cfg.max_msg_size > 0 && ocfg->max_msg_size > 0 && cfg.max_msg_size < ocfg->max_msg_size)
      return api_error(mirror ? err::MirrorMaxMessageSizeTooBig : err::SourceMaxMessageSizeTooBig);
    // The reference checks a source's filter against every origin subject seen so far.
    if (!filter_overlaps(filter, mirror ? ocfg->subjects : origin_subjects))
      return invalid(std::string(mirror ? "mirror '" : "source '") + name + "' filter subject '" + filter +
                     "' does not overlap with any origin stream subject");
    if (mirror) cfg.mirror_direct = ocfg->allow_direct;
  }
  for (const auto& src : origins) {
    auto it = src.find("external");
    if (it == src.end()) continue;
    std::string pfx = it->value("deliver", std::string());
    if (pfx.empty()) continue;
    for (const auto& sub : origin_subjects)
      if (subjects_collide(sub, pfx + "." + sub))
        return api_error(err::StreamExternalDelPrefixOverlaps, {{"{prefix}", pfx}, {"{subject}", sub}});
  }
  // Cycles through local sources and mirrors.
  // A stream counts as visited under the name it was reached by, so the walk ends even when
  // a lookup answers with a config of another name.
  std::deque<std::pair<std::string, StreamConfig>> to_visit{{cfg.name, cfg}};
  std::set<std::string> visited;
  while (!to_visit.empty()) {
    auto [reached_as, c] = std::move(to_visit.front());
    to_visit.pop_front();
    visited.insert(reached_as);
    std::vector<ojson> next;
    if (c.sources.is_array())
      for (const auto& s : c.sources) next.push_back(s);
    if (c.mirror.is_object()) next.push_back(c.mirror);
    for (const auto& s : next) {
      if (s.contains("external")) continue;
      std::string name = s.value("name", std::string());
      if (visited.count(name)) return invalid("detected cycle");
      if (auto o = lookup(name)) to_visit.emplace_back(name, std::move(*o));
    }
  }
  return {};
}

}  // namespace nats::jetstream
