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
#include "server/server.h"
#include "util/log.h"

namespace nats {

bool ClientConnection::start_account_lookup(std::string_view connect_json, const std::string& user_jwt) {
  auto self = std::static_pointer_cast<ClientConnection>(shared_from_this());
  std::string key = user_jwt_account(user_jwt);
  if (!lookup_.start(server_, key, loop_, call_if_alive(self, &ClientConnection::resume_after_lookup),
                     std::string(connect_json)))
    return false;
  log::debug("{} - waiting for account {}", conn_tag(*this), key);
  hold_reading();
  return true;
}

void ClientConnection::resume_after_lookup() {
  if (!lookup_.pending() || closing()) return;
  auto [json, held] = lookup_.finish();
  if (on_connect(json) && !closing() && !held.empty()) on_data(held.data(), held.size());
  Connection::flush_touched();
  release_reading();
}

}  // namespace nats
