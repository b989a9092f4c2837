#include "server/request_info.h"
#include "jetstream/cluster/stream_list.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "jetstream/api/api_router.h"
#include "jetstream/jetstream.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/ids.h"

namespace nats::jetstream {

using ojson = nlohmann::ordered_json;

namespace {

constexpr uint64_t kListLimit = 256;  // JSApiListLimit

struct Gather : std::enable_shared_from_this<Gather> {
  Gather(JetStream& j, JsAccount& a) : js(j), jsa(a) {}
  JetStream& js;
  JsAccount& jsa;
  std::string reply;
  uint64_t total = 0, offset = 0;
  std::vector<std::string> names;  // the page, in order
  std::mutex mu;
  std::map<size_t, ojson> infos;  // by position in `names`
  std::atomic<bool> done{false};
  SubscriptionPtr sub;
  std::function<void(std::vector<ojson>&)> on_done;  // set: hand the infos over instead of listing
  std::function<void(std::map<size_t, ojson>&)> on_done_indexed;  // set: hand them over by position
  std::vector<std::string> subjects;  // set: the requests (else STREAM.INFO of each name)
  std::map<size_t, ojson> offline;    // by position: placed by hand, not asked (and "missing")
  std::chrono::milliseconds timeout = kInfoGatherTimeout;

  void on_reply(size_t idx, std::string_view payload) {
    auto j = ojson::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.contains("error")) return;
    // The reference's clustered LIST entries carry no domain (its STREAM.INFO does).
    for (const char* k : {"type", "total", "offset", "limit", "domain"}) j.erase(k);
    bool all;
    {
      std::lock_guard lk(mu);
      infos[idx] = std::move(j);
      all = infos.size() + offline.size() == names.size();
    }
    if (all) finish();
  }

  void finish() {
    if (done.exchange(true)) return;
    if (sub) js.server().unsubscribe_internal(jsa.account, sub);
    if (on_done_indexed) {
      std::map<size_t, ojson> got;
      {
        std::lock_guard lk(mu);
        got.swap(infos);
      }
      return on_done_indexed(got);
    }
    if (on_done) {
      std::vector<ojson> got;
      {
        std::lock_guard lk(mu);
        for (auto& [_, j] : infos) got.push_back(std::move(j));
      }
      return on_done(got);
    }
    ojson out;
    out["type"] = api_type("stream_list_response");
    out["total"] = total;
    out["offset"] = offset;
    out["limit"] = kListLimit;
    ojson arr = ojson::array(), missing = ojson::array();
    {
      std::lock_guard lk(mu);
      for (size_t i = 0; i < names.size(); ++i) {
        if (auto it = infos.find(i); it != infos.end()) arr.push_back(it->second);
        else if (auto off = offline.find(i); off != offline.end()) arr.push_back(off->second);
        if (!infos.count(i)) missing.push_back(names[i]);
      }
    }
    if (arr.empty()) out["streams"] = nullptr;
    else out["streams"] = std::move(arr);
    if (!missing.empty()) out["missing"] = std::move(missing);
    ApiRequest req{js.server(), js, jsa.account, jsa, {}, {}, reply, {}, {}};
    reply_json(req, out);
  }
};

}  // namespace

namespace {
void start_gather(JetStream& js, const ApiRequest& req, const std::shared_ptr<Gather>& g) {
  if (g->names.size() == g->offline.size()) return g->finish();
  std::string inbox = "$JSC.LIST." + util::next_nuid();
  auto& srv = js.server();
  std::weak_ptr<Gather> weak = g;
  g->sub = srv.subscribe_internal(req.account, inbox + ".*",
                                  [weak](const Subscription&, std::string_view subject, std::string_view,
                                         std::string_view, std::string_view payload) {
                                    auto self = weak.lock();
                                    if (!self || self->done) return;
                                    auto dot = subject.rfind('.');
                                    size_t idx = std::strtoul(std::string(subject.substr(dot + 1)).c_str(), nullptr, 10);
                                    if (idx < self->names.size()) self->on_reply(idx, payload);
                                  });
  // The timer owns the gather until it fires, so a silent host cannot leak it. Timers are
  // loop-thread only (this runs on whatever thread the request came in on): armed from there.
  srv.pick_loop().run_after(g->timeout, [g] { g->finish(); });
  for (size_t i = 0; i < g->names.size(); ++i)
    if (!g->offline.count(i))
      srv.publish_internal(req.account, g->subjects.empty() ? "$JS.API.STREAM.INFO." + g->names[i] : g->subjects[i],
                         inbox + "." + std::to_string(i), kInternalRequestHeaders, {});
}
}  // namespace

void gather_stream_list(JetStream& js, const ApiRequest& req, std::vector<StreamAssignment> streams, uint64_t offset,
                        const OfflineInfo& offline_info) {
  auto g = std::make_shared<Gather>(js, req.jsa);
  g->reply = std::string(req.reply);
  g->total = streams.size();
  g->offset = std::min<uint64_t>(offset, g->total);
  g->timeout = kListGatherTimeout;
  for (uint64_t i = g->offset; i < g->total && g->names.size() < kListLimit; ++i) {
    if (offline_info)
      if (auto off = offline_info(streams[i]); !off.is_null()) g->offline[g->names.size()] = std::move(off);
    g->names.push_back(streams[i].name());
  }
  start_gather(js, req, g);
}

void gather_stream_infos(JetStream& js, const ApiRequest& req, const std::vector<StreamAssignment>& streams,
                         std::function<void(std::vector<ojson>&)> done) {
  auto g = std::make_shared<Gather>(js, req.jsa);
  g->reply = std::string(req.reply);
  g->on_done = std::move(done);
  for (const auto& sa : streams) g->names.push_back(sa.name());
  start_gather(js, req, g);
}

void gather_api_infos(JetStream& js, const ApiRequest& req, std::vector<std::string> subjects,
                      std::function<void(std::map<size_t, ojson>&)> done, std::chrono::milliseconds timeout) {
  auto g = std::make_shared<Gather>(js, req.jsa);
  g->timeout = timeout;
  g->names = subjects;
  g->subjects = std::move(subjects);
  g->on_done_indexed = std::move(done);
  start_gather(js, req, g);
}

}  // namespace nats::jetstream
