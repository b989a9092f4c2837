#include "jetstream/cluster/consumer_list.h"

#include <map>

#include "jetstream/api/api_router.h"
#include "jetstream/cluster/stream_list.h"
#include "jetstream/consumer_api.h"
#include "jetstream/jetstream.h"

namespace nats::jetstream {

using ojson = nlohmann::ordered_json;

void gather_consumer_list(const ApiRequest& req, const std::string& stream,
                          std::vector<std::pair<std::string, ConsumerPtr>> page, uint64_t offset, uint64_t limit,
                          std::map<std::string, ojson> offline) {
  std::map<std::string, ojson> local;  // by name
  std::vector<std::string> remote, subjects;
  for (const auto& [name, c] : page) {
    if (offline.count(name)) continue;
    if (c) {
      local.emplace(name, consumer_info_json(req.js, c));
    } else {
      remote.push_back(name);
      subjects.push_back("$JS.API.CONSUMER.INFO." + stream + "." + name);
    }
  }
  JetStream& js = req.js;
  JsAccount& jsa = req.jsa;
  std::string reply(req.reply);
  gather_api_infos(js, req, std::move(subjects),
                   [&js, &jsa, reply, local = std::move(local), remote, offset, limit,
                    offline = std::move(offline)](std::map<size_t, ojson>& got) {
                     std::map<std::string, ojson> all = local;
                     ojson missing = ojson::array();
                     // Offline ones: listed (their info names no consumer, so first) and missing.
                     std::vector<ojson> first;
                     for (const auto& [name, info] : offline) {
                       first.push_back(info);
                       missing.push_back(name);
                     }
                     for (size_t i = 0; i < remote.size(); ++i) {
                       if (auto it = got.find(i); it != got.end()) all.emplace(remote[i], std::move(it->second));
                       else missing.push_back(remote[i]);
                     }
                     ojson out;
                     out["type"] = api_type("consumer_list_response");
                     out["total"] = first.size() + all.size();
                     out["offset"] = offset;
                     out["limit"] = limit;
                     ojson arr = ojson::array();
                     for (auto& info : first) arr.push_back(std::move(info));
                     for (auto& [_, info] : all) arr.push_back(std::move(info));
                     out["consumers"] = std::move(arr);
                     if (!missing.empty()) out["missing"] = std::move(missing);
                     ApiRequest answer{js.server(), js, jsa.account, jsa, {}, {}, reply, {}, {}};
                     reply_json(answer, out);
                   },
                   kListGatherTimeout);
}

}  // namespace nats::jetstream
