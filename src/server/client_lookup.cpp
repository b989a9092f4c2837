// A client's CONNECT whose account JWT this server does not have (operator mode with a FULL
// or CACHE resolver): as the reference's DirAccResolver.Fetch, the JWT is first asked of the
// other servers ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP, first answer wins, `timeout` 1.9 s by
// default); with the URL resolver it is fetched over HTTP (url_account_lookup.cpp). The
// reference blocks the client's read loop meanwhile; here the connection stops reading its
// socket (hold_reading), the CONNECT and what came in the same read are kept and handled, in
// order, on the client's loop once the lookup is over (answered or not: authentication then
// decides as usual), and reading resumes.
#include "server/conn_tag.h"
#include "server/client.h"
#include "server/jwt_claims.h"
#include "server/server.h"
#include "server/url_account_fetcher.h"
#include "sys/system_services.h"
#include "util/log.h"

namespace nats {

bool ClientConnection::start_account_lookup(std::string_view connect_json, const std::string& user_jwt) {
  auto* store = server_.account_resolver();
  auto* sys = server_.system_services();
  if (!store || !(store->is_url() || (store->is_dir() && sys))) return false;
  // Only to learn which account to ask for: the signature is checked by authentication.
  auto decoded = decode_user_claims(user_jwt);
  auto* uc = std::get_if<UserClaims>(&decoded);
  if (!uc) return false;
  const std::string& key = uc->issuer_account.empty() ? uc->base.issuer : uc->issuer_account;
  if (server_.lookup_account(key) || store->fetch(key)) return false;
  lookup_pending_ = true;
  pending_connect_ = std::string(connect_json);
  hold_reading();
  std::weak_ptr<ClientConnection> weak = std::static_pointer_cast<ClientConnection>(shared_from_this());
  net::EventLoop* loop = &loop_;
  auto resume = [weak, loop] {
    loop->post([weak] {
      if (auto c = weak.lock()) c->resume_after_lookup();
    });
  };
  if (store->is_url()) {
    log::debug("{} - fetching account {} from the resolver URL", conn_tag(*this), key);
    url_lookup_account(server_, key, std::move(resume));
  } else {
    log::debug("{} - looking up account {} from the other servers", conn_tag(*this), key);
    sys->lookup_account_jwt(key, std::move(resume));
  }
  return true;
}

void ClientConnection::resume_after_lookup() {
  if (!lookup_pending_ || closing()) return;
  lookup_pending_ = false;
  lookup_done_ = true;
  std::string json = std::move(pending_connect_), held = std::move(held_input_);
  pending_connect_.clear();
  held_input_.clear();
  if (on_connect(json) && !closing() && !held.empty()) on_data(held.data(), held.size());
  Connection::flush_touched();
  release_reading();
}

}  // namespace nats
