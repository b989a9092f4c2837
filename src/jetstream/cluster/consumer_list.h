#pragma once
// CONSUMER.LIST in a cluster: the stream's host lists every consumer the meta log placed on
// the stream, wherever it runs. Its own consumers it reads directly; the others' infos it asks
// their hosts for (`$JS.API.CONSUMER.INFO.<stream>.<name>`, gathered as STREAM.LIST does).
// As the reference's clustered answer: sorted by name, `total` is the number of infos in the
// answer, and consumers whose host did not answer are named under "missing". `offline`: the
// consumers whose every peer is offline (offline_info.h), by name: listed as given, not
// asked, and named under "missing" too.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "jetstream/consumer.h"

namespace nats::jetstream {

struct ApiRequest;

// `page`: the consumers to list, by name, in order; null: hosted on another server.
void gather_consumer_list(const ApiRequest& req, const std::string& stream,
                          std::vector<std::pair<std::string, ConsumerPtr>> page, uint64_t offset, uint64_t limit,
                          std::map<std::string, nlohmann::ordered_json> offline = {});

}  // namespace nats::jetstream
