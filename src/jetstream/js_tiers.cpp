// Tiered JetStream limits: which set of an account's limits a stream is held to.
#include "jetstream/js_tiers.h"

#include <algorithm>

#include "jetstream/stream_config.h"
#include "server/account.h"
#include "server/jwt_claims.h"

namespace nats::jetstream {

std::string tier_name(int replicas) { return "R" + std::to_string(std::max(1, replicas)); }

std::map<std::string, JsAccountLimits> account_tiers(const Account& acc) {
  // Only an account JWT has tiers (its claims are replaced whole by an update).
  auto claims = acc.claims();
  if (!claims) return {};
  return claims->js_tiers;
}

bool account_tiered(const Account& acc) {
  auto claims = acc.claims();
  // A tier named "" is the default for every stream, as the reference's lookup of "" first.
  return claims && !claims->js_tiers.empty() && !claims->js_tiers.count("");
}

SelectedLimits select_limits(const Account& acc, int replicas) {
  SelectedLimits out;
  auto claims = acc.claims();
  if (!claims || claims->js_tiers.empty()) {
    out.found = true;
    out.limits = acc.js_limits();
    return out;
  }
  if (auto it = claims->js_tiers.find(""); it != claims->js_tiers.end()) {
    out.found = true;
    out.limits = it->second;
    return out;
  }
  out.tiered = true;
  out.tier = tier_name(replicas);
  if (auto it = claims->js_tiers.find(out.tier); it != claims->js_tiers.end()) {
    out.found = true;
    out.limits = it->second;
  }
  return out;
}

void keep_same_tier(const Account& acc, std::vector<StreamConfig>& others, const StreamConfig& cfg) {
  if (!account_tiered(acc)) return;
  int r = std::max(1, cfg.num_replicas);
  std::erase_if(others, [r](const StreamConfig& c) { return std::max(1, c.num_replicas) != r; });
}

}  // namespace nats::jetstream

namespace nats::jetstream {

nlohmann::ordered_json account_limits_json(const JsAccountLimits& l) {
  return {{"max_memory", l.max_memory},
          {"max_storage", l.max_store},
          {"max_streams", l.max_streams},
          {"max_consumers", l.max_consumers},
          {"max_ack_pending", l.max_ack_pending},
          {"memory_max_stream_bytes", l.memory_max_stream_bytes},
          {"storage_max_stream_bytes", l.store_max_stream_bytes},
          {"max_bytes_required", l.max_bytes_required}};
}

void add_tiers_json(const Account& acc, const std::vector<TierStreamUsage>& streams, nlohmann::ordered_json& info) {
  if (!account_tiered(acc)) return;
  struct Tier {
    uint64_t memory = 0, storage = 0, streams = 0, consumers = 0;
    JsAccountLimits limits{0, 0, 0, 0, 0, 0, 0, false};  // none: all zero, as the reference
  };
  std::map<std::string, Tier> tiers;  // sorted by name, as Go renders a map
  for (const auto& [name, l] : account_tiers(acc)) tiers[name].limits = l;
  for (const auto& s : streams) {
    Tier& t = tiers[tier_name(s.replicas)];
    (s.memory ? t.memory : t.storage) += s.bytes;
    ++t.streams;
    t.consumers += s.consumers;
  }
  // With tiers, the account-wide limits are left unset (zero).
  info["limits"] = account_limits_json(JsAccountLimits{0, 0, 0, 0, 0, 0, 0, false});
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [name, t] : tiers)
    j[name] = {{"memory", t.memory},
               {"storage", t.storage},
               {"streams", t.streams},
               {"consumers", t.consumers},
               {"limits", account_limits_json(t.limits)}};
  info["tiers"] = std::move(j);
}

}  // namespace nats::jetstream
