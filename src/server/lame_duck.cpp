// Lame duck mode, as the reference runs it (server.go lameDuckMode): the client listener
// closes so no new client arrives, connected clients get an INFO with "ldm":true (clients
// use it to move elsewhere) and the $SYS LAMEDUCK event goes out; after the grace period the
// clients are closed one by one, at most a second apart and spread over lame_duck_duration,
// so that they do not all reconnect to the rest of the cluster at once; then the server
// shuts down. A SIGTERM/SIGINT meanwhile cuts the drain short.
#include <random>

#include "server/client.h"
#include "server/server.h"
#include "sys/system_services.h"
#include "util/log.h"

namespace nats {

void Server::enter_lame_duck_mode() {
  if (shutting_down_.load() || ldm_.exchange(true)) return;
  log::notice("Entering lame duck mode, stop accepting new clients");
  if (sys_services_) sys_services_->send_lame_duck();
  stop_accepting();
  ldm_thread_ = std::thread([this] { lame_duck_drain(); });
}

void Server::lame_duck_drain() {
  auto clients = clients_snapshot();
  if (clients.empty()) {
    shutdown();
    return;
  }
  auto grace = opts_.lame_duck_grace_period;
  if (grace < Duration{0}) grace = -grace;
  int64_t dur = (opts_.lame_duck_duration - grace).count();
  if (dur <= 0) dur = std::chrono::nanoseconds(std::chrono::seconds(1)).count();
  int64_t n = static_cast<int64_t>(clients.size());
  // Interval between two closes, capped at one second; with more clients than nanoseconds
  // (never in practice) several are closed per interval.
  int64_t interval = dur / n;
  int64_t batch = 1;
  if (interval < 1) {
    interval = 1;
    batch = n / dur;
  } else if (interval > 1'000'000'000) {
    interval = 1'000'000'000;
  }
  // Tell every client (the INFO now carries "ldm":true).
  for (auto& c : clients)
    if (c->connect_options().protocol >= 1) c->send_now(client_info_line(c->cid(), c->peer_ip(), false, "", c->websocket()));

  auto wait = [this](Duration d) {
    std::unique_lock lk(ldm_mu_);
    return !ldm_cv_.wait_for(lk, d, [this] { return shutting_down_.load(); });
  };
  if (!wait(grace)) return;
  log::notice("Closing existing clients");
  std::mt19937_64 rng(std::random_device{}());
  for (size_t i = 0; i < clients.size(); ++i) {
    clients[i]->close(CloseReason::ServerShutdown);
    if (i + 1 == clients.size()) break;
    if (batch == 1 || static_cast<int64_t>(i) % batch == 0) {
      // A random pause in [interval/2, interval), as the reference.
      int64_t v = std::uniform_int_distribution<int64_t>(interval / 2, std::max(interval / 2, interval - 1))(rng);
      if (!wait(Duration(v))) return;
    }
  }
  shutdown();
}

}  // namespace nats
