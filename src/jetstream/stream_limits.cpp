// JetStream limits at a single server's stream create, as the reference's
// jsNonClusteredStreamLimitsCheck: the account's stream count and consumer limit, then the
// server's storage (`jetstream { max_memory_store, max_file_store }`, checkBytesLimits): a
// stream's max_bytes is reserved from the server's storage of its type; a create whose
// max_bytes (1 when unlimited) does not fit beside every reservation is refused with 10028
// (memory) or 10047 (file). At store time, a server whose stored bytes exceed its configured
// limit refuses messages with 10023.
#include "jetstream/jetstream.h"

#include <atomic>
#include <chrono>

#include "util/log.h"

#include "config/options.h"
#include "server/server.h"
#include "jetstream/stream.h"
#include "server/account.h"

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
      if (s->storage_type() == storage) used += s->store().state().bytes;
  }
  if (used <= static_cast<uint64_t>(configured)) return false;
  // As the reference: logged at most every 10 s.
  static std::atomic<int64_t> last_log{0};
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t prev = last_log.load();
  if (now - prev > 10 && last_log.compare_exchange_strong(prev, now))
    log::error("JetStream resource limits exceeded for server");
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

// As the reference: the stream being re-created counts too (an identical re-create at the
// limit is refused).
ApiError account_limits_error(const Account& acc, size_t streams, const StreamConfig& cfg) {
  if (acc.js_max_streams > 0 && static_cast<int64_t>(streams) >= acc.js_max_streams)
    return api_error(err::MaximumStreamsLimit);
  if (cfg.max_consumers > 0 && acc.js_max_consumers > 0 && cfg.max_consumers > acc.js_max_consumers)
    return api_error(err::MaximumConsumersLimit);
  return {};
}

}  // namespace nats::jetstream
