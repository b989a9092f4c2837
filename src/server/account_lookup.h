// Looking up an account JWT this server lacks, for whoever needs that account: a client's or
// a leaf's CONNECT (the user JWT names it), a leaf remote bound to it, a route's interest in
// it. As the reference's fetch on a resolver miss: with the URL resolver the JWT is fetched
// over HTTP (url_account_lookup.cpp); with a FULL or CACHE resolver it is asked of the other
// servers ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP). MEMORY has nothing to look up.
#pragma once

#include <functional>
#include <string>

namespace nats {

class Server;

// The account a user JWT binds to (its issuer_account, else its issuer); empty when the
// token is not a user JWT. Only to know what to look up: authentication checks signatures.
std::string user_jwt_account(const std::string& user_jwt);

// Starts looking up `key` when the server neither has the account nor its JWT and its
// resolver can look one up; `done` then runs once the lookup is over, answered or not, on
// another thread (callers post back to their loop). False, and `done` never runs, when there
// is nothing to wait for.
bool start_missing_account_lookup(Server& server, const std::string& key, std::function<void()> done);

}  // namespace nats
