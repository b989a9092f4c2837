#pragma once
// STREAM.LIST in a cluster: the meta leader knows every stream but hosts few, so it asks each
// stream's host for its info (`$JS.API.STREAM.INFO.<name>` from inside the account, to a
// private inbox) and answers once all came back or 4 s passed (the reference's timeout). A
// stream whose host did not answer is listed under "missing", as the reference's list
// response does; one whose every peer is known offline is not asked: its offline info
// (offline_info.h) is listed at once, and it is named under "missing" too.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "jetstream/cluster/assignment.h"

namespace nats::jetstream {

class JetStream;
struct ApiRequest;

// LIST gathers (STREAM.LIST, CONSUMER.LIST) wait up to 4 s as 2.9.10's; the others (account
// info, a stream's leader asked before a scale-down or move) 2 s.
constexpr std::chrono::milliseconds kListGatherTimeout{4000};
constexpr std::chrono::milliseconds kInfoGatherTimeout{2000};

// The info to list for an asset without asking (all its peers offline), else null.
using OfflineInfo = std::function<nlohmann::ordered_json(const StreamAssignment&)>;

void gather_stream_list(JetStream& js, const ApiRequest& req, std::vector<StreamAssignment> streams, uint64_t offset,
                        const OfflineInfo& offline_info = {});

// The same gathering for every stream of `streams` (no paging): `done` gets the infos that
// came back (silent hosts left out) on a server thread.
void gather_stream_infos(JetStream& js, const ApiRequest& req, const std::vector<StreamAssignment>& streams,
                         std::function<void(std::vector<nlohmann::ordered_json>&)> done);

// The answers to `subjects` (full API subjects, asked from inside the request's account),
// gathered the same way: `done` gets those that came back without an error, by position.
void gather_api_infos(JetStream& js, const ApiRequest& req, std::vector<std::string> subjects,
                      std::function<void(std::map<size_t, nlohmann::ordered_json>&)> done,
                      std::chrono::milliseconds timeout = kInfoGatherTimeout);

}  // namespace nats::jetstream
