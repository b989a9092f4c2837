#pragma once
// STREAM.LIST in a cluster: the meta leader knows every stream but hosts few, so it asks each
// stream's host for its info (`$JS.API.STREAM.INFO.<name>` from inside the account, to a
// private inbox) and answers once all came back or 2 s passed. A stream whose host did not
// answer is listed under "missing", as the reference's list response does.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "jetstream/cluster/assignment.h"

namespace nats::jetstream {

class JetStream;
struct ApiRequest;

void gather_stream_list(JetStream& js, const ApiRequest& req, std::vector<StreamAssignment> streams, uint64_t offset);

// The same gathering for every stream of `streams` (no paging): `done` gets the infos that
// came back (silent hosts left out) on a server thread.
void gather_stream_infos(JetStream& js, const ApiRequest& req, const std::vector<StreamAssignment>& streams,
                         std::function<void(std::vector<nlohmann::ordered_json>&)> done);

// The answers to `subjects` (full API subjects, asked from inside the request's account),
// gathered the same way: `done` gets those that came back without an error, by position.
void gather_api_infos(JetStream& js, const ApiRequest& req, std::vector<std::string> subjects,
                      std::function<void(std::map<size_t, nlohmann::ordered_json>&)> done);

}  // namespace nats::jetstream
