// A client's CONNECT whose account JWT this server does not have (operator mode with a FULL
// or CACHE resolver): as the reference's DirAccResolver.Fetch, the JWT is first asked of the
// other servers ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP, first answer wins, `timeout` 1.9 s by
// default). The reference blocks the client's goroutine meanwhile; here the CONNECT and
// every byte after it are held and handled, in order, on the client's loop once the lookup
// is over (answered or not: authentication then decides as usual).
#include "server/conn_tag.h"
#include "server/client.h"
#include "server/jwt_claims.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/log.h"

namespace nats {

bool ClientConnection::start_account_lookup(std::string_view connect_json, const std::string& user_jwt) {
  auto* store = server_.account_resolver();
  auto* sys = server_.system_services();
  if (!store || !store->is_dir() || !sys) return false;
  // Only to learn which account to ask for: the signature is checked by authentication.
  auto decoded = decode_user_claims(user_jwt);
  auto* uc = std::get_if<UserClaims>(&decoded);
  if (!uc) return false;
  const std::string& key = uc->issuer_account.empty() ? uc->base.issuer : uc->issuer_account;
  if (server_.lookup_account(key) || store->fetch(key)) return false;
  lookup_pending_ = true;
  pending_connect_ = std::string(connect_json);
  log::debug("{} - looking up account {} from the other servers", conn_tag(*this), key);
  std::weak_ptr<ClientConnection> weak = std::static_pointer_cast<ClientConnection>(shared_from_this());
  net::EventLoop* loop = &loop_;
  sys->lookup_account_jwt(key, [weak, loop] {
    loop->post([weak] {
      if (auto c = weak.lock()) c->resume_after_lookup();
    });
  });
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
}

}  // namespace nats
