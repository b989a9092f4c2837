// Leaf connections bound to an account this server does not have yet, in operator mode with
// a URL, FULL or CACHE resolver (the reference's LookupAccount, which fetches on a miss): the
// account JWT is looked up first (server/account_lookup.h), as for a client's CONNECT.
// Accepting, the leaf's CONNECT names the account through its user JWT: the connection stops
// reading, keeps the CONNECT and what followed it, and handles them in order once the lookup
// is over (authentication then decides as usual). Soliciting, the remote's `account` is
// looked up before the hub's INFO is read; still missing afterwards, the connection closes
// as the reference's "Unable to lookup account" and the remote retries later.
#include <nlohmann/json.hpp>

#include "cluster/leaf.h"
#include "server/account_lookup.h"
#include "server/server.h"
#include "util/json_fields.h"
#include "util/log.h"

namespace nats::cluster {

bool LeafConnection::start_account_lookup(std::string_view connect_json) {
  if (lookup_.done() || solicited()) return false;
  // A leafnodes authorization block binds its own accounts: nothing named by a JWT.
  const auto& lo = server_.options().leafnode;
  if (!lo.username.empty() || !lo.users.empty()) return false;
  auto j = nlohmann::json::parse(connect_json, nullptr, false);
  if (!j.is_object()) return false;
  std::string user_jwt = util::string_field(j, "jwt");
  if (user_jwt.empty()) return false;
  std::string key = user_jwt_account(user_jwt);
  auto self = std::static_pointer_cast<LeafConnection>(shared_from_this());
  if (!lookup_.start(server_, key, loop_, call_if_alive(self, &LeafConnection::resume_after_lookup),
                     std::string(connect_json)))
    return false;
  log::debug("{}:{} - lid:{} - waiting for account {}", peer_ip_, peer_port_, cid_, key);
  hold_reading();
  return true;
}

void LeafConnection::resume_after_lookup() {
  if (!lookup_.pending() || closing()) return;
  auto [json, held] = lookup_.finish();
  if (on_connect(json) && !closing() && !held.empty()) on_data(held.data(), held.size());
  Connection::flush_touched();
  release_reading();
}

bool LeafConnection::hold_input_for_lookup(const char* data, size_t len) {
  if (!lookup_.pending()) return false;
  // At most what one read brought: the limit is a guard only.
  if (!lookup_.keep(data, len)) close(CloseReason::ProtocolViolation);
  return true;
}

bool LeafConnection::bind_remote_account() {
  if (account_) return true;
  // An account whose JWT the resolver holds (FULL, MEMORY, or just looked up) is registered now.
  if (server_.account_resolver() && server_.jwt_account_claims(account_name_))
    account_ = server_.lookup_account(account_name_);
  if (account_ || lookup_.done()) return account_ != nullptr;
  auto self = std::static_pointer_cast<LeafConnection>(shared_from_this());
  if (!lookup_.start(server_, account_name_, loop_, call_if_alive(self, &LeafConnection::resume_remote_after_lookup)))
    return false;
  hold_reading();
  return true;
}

void LeafConnection::resume_remote_after_lookup() {
  if (!lookup_.pending() || closing()) return;
  lookup_.finish();
  if (!bind_remote_account()) {
    log::error("Unable to lookup account {} for solicited leafnode connection", account_name_);
    close(CloseReason::MissingAccount);
    return;
  }
  release_reading();
}

}  // namespace nats::cluster
