// Tiered JetStream limits (an account JWT's `tiered_limits`), as 2.9.10: the limits of an
// account are either one untiered set (tier "", config accounts and untiered JWTs) or one
// set per tier, the tier of a stream being named by its replica count ("R1", "R3", the
// reference's tierName). Every limit check of a stream uses the set its tier selects
// (selectLimits); a stream whose tier has no limits is refused with 10120. Usage, stream
// counts and reservations are then counted per tier.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/options.h"

namespace nats {
class Account;
}

namespace nats::jetstream {

struct StreamConfig;

// "R<replicas>" (replicas 0 counts as 1).
std::string tier_name(int replicas);

struct SelectedLimits {
  bool found = false;  // false: no default and no limits for the stream's tier (10120)
  bool tiered = false;
  std::string tier;    // "" for the untiered limits
  JsAccountLimits limits;
};
// The limits a stream of `replicas` replicas of `acc` is held to (the reference's selectLimits).
SelectedLimits select_limits(const Account& acc, int replicas);

// Whether `acc` has tiered limits: then only streams of the same tier count together.
bool account_tiered(const Account& acc);
// Keeps in `others` only the streams that count with `cfg` toward its limits (all of them
// for an untiered account, the streams with cfg's replica count otherwise).
void keep_same_tier(const Account& acc, std::vector<StreamConfig>& others, const StreamConfig& cfg);

// The tiers' limits of a tiered account, by name (empty for an untiered one).
std::map<std::string, JsAccountLimits> account_tiers(const Account& acc);

// An account's limits as $JS.API.INFO renders them (the reference's JetStreamAccountLimits).
nlohmann::ordered_json account_limits_json(const JsAccountLimits& l);

// Account info of a tiered account: one stream's share (bytes: with every replica counted
// where the reference counts them, i.e. in a cluster).
struct TierStreamUsage {
  int replicas = 1;
  bool memory = false;
  uint64_t bytes = 0;
  uint64_t consumers = 0;
};
// Sets the tiered fields of `info` (the account info being built, totals already in it):
// top-level limits all zero and a `tiers` object, per tier with limits or streams, of
// memory, storage, streams, consumers and limits (2.9.10's JetStreamUsage). No-op for an
// untiered account.
void add_tiers_json(const Account& acc, const std::vector<TierStreamUsage>& streams, nlohmann::ordered_json& info);

}  // namespace nats::jetstream
