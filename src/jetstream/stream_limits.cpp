// JetStream limits at a single server's stream create, as the reference's
// jsNonClusteredStreamLimitsCheck: the account's stream count and consumer limit, then the
// server's storage (`jetstream { max_memory_store, max_file_store }`, checkBytesLimits): a
// stream's max_bytes is reserved from the server's storage of its type; a create whose
// max_bytes (1 when unlimited) does not fit beside every reservation is refused with 10028
// (memory) or 10047 (file). At store time, a server whose stored bytes exceed its configured
// limit refuses messages with 10023.
#include "jetstream/jetstream.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "util/log.h"

#include "config/options.h"
#include "server/server.h"
#include "jetstream/stream.h"
#include "server/account.h"
#include "jetstream/js_tiers.h"
#include "jetstream/cluster/meta_group.h"

namespace nats::jetstream {

int64_t JetStream::reserved_bytes(StorageType storage) const {
  int64_t total = 0;
  for (JsAccount* jsa : accounts_snapshot()) {
    std::lock_guard lk(jsa->mu);
    for (const auto& [name, s] : jsa->streams) {
      StreamConfig c = s->config();
      if (c.storage == storage && c.max_bytes > 0) total += c.max_bytes;
    }
  }
  return total;
}

bool JetStream::storage_exceeded(StorageType storage) const {
  const auto& o = server().options().jetstream;
  int64_t configured = storage == StorageType::memory ? o.max_memory : o.max_file;
  if (configured < 0) return false;
  uint64_t used = 0;
  for (JsAccount* jsa : accounts_snapshot()) {
    std::lock_guard lk(jsa->mu);
    for (const auto& [name, s] : jsa->streams)
      if (s->storage_type() == storage) used += s->store().fast_state().bytes;
  }
  if (used <= static_cast<uint64_t>(configured)) return false;
  // As the reference: logged at most every 10 s.
  static std::atomic<int64_t> last_log{0};
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t prev = last_log.load();
  if (now - prev > 10 && last_log.compare_exchange_strong(prev, now)) {
    log::error("JetStream resource limits exceeded for server");
    // As the reference's resourcesExeededError: with each such alert, a meta leader gives
    // up its leadership (a server out of storage should not place new assets).
    if (auto* meta = server().meta_group()) meta->step_down();
  }
  return true;
}

ApiError JetStream::check_server_reservation(const StreamConfig& cfg) const {
  int64_t add = cfg.max_bytes < 0 ? 1 : cfg.max_bytes;
  // Every stream counts, this one's earlier self too (an identical re-create is refused when
  // twice its reservation does not fit, as in the reference).
  if (cfg.storage == StorageType::memory) {
    if (reserved_bytes(cfg.storage) + add > limits().max_memory) return api_error(err::MemoryResourcesExceeded);
  } else if (reserved_bytes(cfg.storage) + add > limits().max_store) {
    return api_error(err::StorageResourcesExceeded);
  }
  return {};
}

ApiError JetStream::check_server_update_reservation(const StreamConfig& old, const StreamConfig& cfg) const {
  // As the reference: the reservations (this stream's old max_bytes included) plus the
  // growth, not multiplied by replicas here.
  int64_t add = std::max<int64_t>(0, cfg.max_bytes - old.max_bytes);
  if (cfg.storage == StorageType::memory) {
    if (reserved_bytes(cfg.storage) + add > limits().max_memory) return api_error(err::MemoryResourcesExceeded);
  } else if (reserved_bytes(cfg.storage) + add > limits().max_store) {
    return api_error(err::StorageResourcesExceeded);
  }
  return {};
}

ApiError account_update_limits_error(const Account& acc, int64_t reserved, const StreamConfig& old,
                                     const StreamConfig& cfg) {
  // The new replica count's tier, else (a tier changing) the old one's, as the reference.
  SelectedLimits sel = select_limits(acc, cfg.num_replicas);
  if (!sel.found && old.num_replicas != cfg.num_replicas) sel = select_limits(acc, old.num_replicas);
  if (!sel.found) return api_error(err::NoLimits);
  const JsAccountLimits& l = sel.limits;
  if (cfg.max_consumers > 0 && l.max_consumers > 0 && cfg.max_consumers > l.max_consumers)
    return api_error(err::MaximumConsumersLimit);
  int64_t grow = std::max<int64_t>(0, cfg.max_bytes - old.max_bytes);
  int64_t offset = 0;
  if (old.max_bytes > 0 && cfg.num_replicas > old.num_replicas)
    offset = old.max_bytes * (cfg.num_replicas - old.num_replicas);
  // The old max_bytes counts as reserved (as in the reference, an unlimited -1 takes one
  // byte per replica off, which the growth from -1 adds back).
  int64_t total_reserved = reserved + static_cast<int64_t>(std::max(1, old.num_replicas)) * old.max_bytes;
  int64_t add = grow * std::max(1, cfg.num_replicas) + offset;
  if (cfg.storage == StorageType::memory) {
    if (l.max_memory >= 0 && total_reserved + add > l.max_memory) return api_error(err::MemoryResourcesExceeded);
  } else if (l.max_store >= 0 && total_reserved + add > l.max_store) {
    return api_error(err::StorageResourcesExceeded);
  }
  return {};
}

// As the reference: the stream being re-created counts too (an identical re-create at the
// limit is refused). Then the account's byte limit of the stream's storage type against the
// max_bytes (1 when unlimited) of this stream plus the reservations of the others
// (checkBytesLimits; a limit of 0 refuses every stream of that storage).
ApiError account_limits_error(const Account& acc, size_t streams, int64_t reserved, const StreamConfig& cfg) {
  SelectedLimits sel = select_limits(acc, cfg.num_replicas);
  if (!sel.found) return api_error(err::NoLimits);
  const JsAccountLimits& l = sel.limits;
  if (l.max_streams > 0 && static_cast<int64_t>(streams) >= l.max_streams) return api_error(err::MaximumStreamsLimit);
  if (cfg.max_consumers > 0 && l.max_consumers > 0 && cfg.max_consumers > l.max_consumers)
    return api_error(err::MaximumConsumersLimit);
  int64_t add = (cfg.max_bytes < 0 ? 1 : cfg.max_bytes) * std::max(1, cfg.num_replicas);
  if (cfg.storage == StorageType::memory) {
    if (l.max_memory >= 0 && reserved + add > l.max_memory) return api_error(err::MemoryResourcesExceeded);
  } else if (l.max_store >= 0 && reserved + add > l.max_store) {
    return api_error(err::StorageResourcesExceeded);
  }
  return {};
}

int64_t account_reservation(const std::vector<StreamConfig>& others, const StreamConfig& cfg) {
  int64_t total = 0;
  for (const auto& c : others)
    if (c.max_bytes > 0 && c.storage == cfg.storage && c.name != cfg.name)
      total += static_cast<int64_t>(std::max(1, c.num_replicas)) * c.max_bytes;
  return total;
}

ApiError stream_max_bytes_error(const Account& acc, const StreamConfig& cfg) {
  // No limits for the stream's tier: nothing to check here (the reference's maxBytesLimits).
  SelectedLimits sel = select_limits(acc, cfg.num_replicas);
  if (!sel.found) return {};
  const JsAccountLimits& l = sel.limits;
  int64_t limit = cfg.storage == StorageType::memory ? l.memory_max_stream_bytes : l.store_max_stream_bytes;
  if (l.max_bytes_required && cfg.max_bytes <= 0) return api_error(err::StreamMaxBytesRequired);
  if (limit > 0 && cfg.max_bytes > limit) return api_error(err::StreamMaxStreamBytesExceeded);
  return {};
}

bool account_has_byte_limit(const JsAccountLimits& l, StorageType storage) {
  return storage == StorageType::memory ? l.max_memory >= 0 || l.memory_max_stream_bytes > 0
                                        : l.max_store >= 0 || l.store_max_stream_bytes > 0;
}

bool account_bytes_exceeded(const JsAccountLimits& l, StorageType storage, uint64_t used) {
  auto over = [used](int64_t limit) { return limit >= 0 && used > static_cast<uint64_t>(limit); };
  if (storage == StorageType::memory) return (l.memory_max_stream_bytes > 0 && over(l.memory_max_stream_bytes)) || over(l.max_memory);
  return (l.store_max_stream_bytes > 0 && over(l.store_max_stream_bytes)) || over(l.max_store);
}

void log_account_limits_exceeded(const std::string& account) {
  static std::atomic<int64_t> last_log{0};
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t prev = last_log.load();
  if (now - prev > 10 && last_log.compare_exchange_strong(prev, now))
    log::warn("JetStream resource limits exceeded for account: \"{}\"", account);
}

uint64_t JetStream::account_usage(const Account& acc, StorageType storage, const Stream* except, bool by_replicas,
                                  int only_replicas) const {
  JsAccount* jsa = account(acc.name());
  if (!jsa) return 0;
  std::vector<StreamPtr> streams;
  {
    std::lock_guard lk(jsa->mu);
    for (const auto& [name, s] : jsa->streams)
      if (s.get() != except && s->storage_type() == storage) streams.push_back(s);
  }
  if (only_replicas > 0) {  // one tier's streams
    std::erase_if(streams, [only_replicas](const StreamPtr& s) {
      return std::max(1, s->config().num_replicas) != only_replicas;
    });
  }
  uint64_t used = 0;
  for (const auto& s : streams) {
    uint64_t b = s->store().fast_state().bytes;
    used += by_replicas ? b * static_cast<uint64_t>(std::max(1, s->config().num_replicas)) : b;
  }
  return used;
}

}  // namespace nats::jetstream
