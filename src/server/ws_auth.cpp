// Authentication of WebSocket clients: the websocket block's `authorization { user,
// password, token, timeout }` and `no_auth_user` override the top-level ones for them, as
// in the reference (processClientOrLeafAuthentication); the users and NKey users stay the
// server's. Also the admission of an upgraded client against max_connections.
#include "server/auth.h"
#include "server/client.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {
// The reference's authOverride: any of these in the websocket block.
bool has_override(const WebsocketOptions& w) {
  return !w.username.empty() || !w.token.empty() || !w.no_auth_user.empty();
}
}  // namespace

void Server::make_ws_authenticator(const Options& o) {
  if (!has_override(o.websocket)) {
    std::atomic_store(&ws_auth_, std::shared_ptr<const Authenticator>());
    return;
  }
  Options w = o;
  w.username = o.websocket.username;
  w.password = o.websocket.password;
  w.authorization = o.websocket.token;
  w.no_auth_user = o.websocket.no_auth_user;
  auto a = std::make_shared<const Authenticator>(w, [this](const std::string& key) { return jwt_account_claims(key); });
  std::atomic_store(&ws_auth_, std::shared_ptr<const Authenticator>(std::move(a)));
}

std::shared_ptr<const Authenticator> Server::authenticator_for(bool websocket) const {
  if (websocket) {
    if (auto a = std::atomic_load(&ws_auth_)) return a;
  }
  return authenticator();
}

bool Server::admit_websocket_client(const std::shared_ptr<ClientConnection>& c) {
  std::lock_guard lk(conns_mu_);
  if (static_cast<int>(clients_.size()) >= live_.max_connections.load()) return false;
  clients_[c->cid()] = c;
  // As the reference, which only makes a client of the connection after its upgrade.
  stats_.total_connections++;
  return true;
}

}  // namespace nats
