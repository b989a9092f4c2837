// A client's CONNECT whose account JWT this server does not have (operator mode with a FULL
// or CACHE resolver): as the reference's DirAccResolver.Fetch, the JWT is first asked of the
// other servers ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP, first answer wins, `timeout` 1.9 s by
// default); with the URL resolver it is fetched over HTTP (url_account_lookup.cpp). The
// reference blocks the client's read loop meanwhile; here the connection stops reading its
// socket (hold_reading), the CONNECT and what came in the same read are kept and handled, in
// order, on the client's loop once the lookup is over (answered or not: authentication then
// decides as usual), and reading resumes.
#include "server/account_lookup.h"
#include "server/conn_tag.h"
#include "server/client.h"
#include "server/jwt_claims.h"
#include "server/server.h"
#include "server/url_account_fetcher.h"
#include "sys/system_services.h"
#include "util/log.h"

namespace nats {

bool ClientConnection::start_account_lookup(std::string_view connect_json, const std::string& user_jwt) {
  std::weak_ptr<ClientConnection> weak = std::static_pointer_cast<ClientConnection>(shared_from_this());
  net::EventLoop* loop = &loop_;
  auto resume = [weak, loop] {
    loop->post([weak] {
      if (auto c = weak.lock()) c->resume_after_lookup();
    });
  };
  std::string key = user_jwt_account(user_jwt);
  // The answer is posted to this loop: it is handled after this returns.
  if (!start_missing_account_lookup(server_, key, std::move(resume))) return false;
  log::debug("{} - waiting for account {}", conn_tag(*this), key);
  lookup_pending_ = true;
  pending_connect_ = std::string(connect_json);
  hold_reading();
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
