#pragma once
// `$JS.API.ACCOUNT.PURGE.<account>` (2.9.10 jsLeaderAccountPurgeRequest), a system account
// request: every stream of the named account is deleted (with its consumers and the
// delete advisories) and its store directory removed; the answer is
// {"type":"io.nats.jetstream.api.v1.account_purge_response","initiated":true}, also for an
// account without streams or an unknown one. Clustered, the meta leader alone answers, once
// it proposed the deletes. An account may also purge itself (2.9.10 answers it through the
// account's API import); naming another account from a non-system account is not answered
// (2.9.10 would purge it).
#include <string_view>

namespace nats::jetstream {

struct ApiRequest;

// `req` is the system account's request (its subject names the account to purge).
void handle_account_purge(const ApiRequest& req);

}  // namespace nats::jetstream
