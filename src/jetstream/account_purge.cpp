#include "jetstream/account_purge.h"

#include <filesystem>

#include "jetstream/advisories.h"
#include "jetstream/api/api_router.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "jetstream/cluster/js_cluster.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

void handle_account_purge(const ApiRequest& req) {
  constexpr std::string_view kPrefix = "$JS.API.ACCOUNT.PURGE.";
  if (!req.subject.starts_with(kPrefix)) return;
  std::string name(req.subject.substr(kPrefix.size()));
  if (name.empty() || name.find('.') != std::string::npos) return;
  // 2.9.10 serves this subject in the system account, which every JetStream account's API
  // import reaches: an account may purge itself there, and (a hole we do not copy) any other
  // account. Only the system account may name another account here; such requests go
  // unanswered.
  if (&req.account != req.server.system_account().get() && name != req.account.name()) return;
  nlohmann::ordered_json j;
  j["type"] = api_type("account_purge_response");
  if (auto* c = req.js.cluster()) {
    if (!c->purge_account(name)) return;  // not the meta leader: it answers
    j["initiated"] = true;
    return reply_json(req, j);
  }
  JsAccount* jsa = req.js.account(name);
  std::vector<StreamPtr> streams;
  if (jsa) {
    std::lock_guard lk(jsa->mu);
    for (auto& [n, s] : jsa->streams) streams.push_back(s);
  }
  log::notice("Purge request for account {} (streams: {}, hasAccount: {})", name, streams.size(),
              req.server.lookup_account(name) != nullptr);
  for (auto& s : streams) {
    // As a stream delete: each consumer's delete advisory, then the stream's.
    std::vector<std::string> consumers;
    for (auto& c : s->consumers()) consumers.push_back(c->consumer_name());
    std::string owner = s->config().template_owner;
    if (!req.js.delete_stream(*jsa, s->name())) continue;
    for (auto& c : consumers) send_consumer_action(req.server, jsa->account, s->name(), c, AdvisoryAction::remove);
    send_stream_action(req.server, jsa->account, s->name(), AdvisoryAction::remove, owner);
  }
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(req.js.store_root()) / name, ec);
  if (ec) return reply_error(req, "account_purge_response", api_error(err::StreamGeneral, ec.message()));
  j["initiated"] = true;
  reply_json(req, j);
}

}  // namespace nats::jetstream
