// What the managers of every server-to-server link kind (routes, gateways, leaf nodes)
// share: the list of their connections, registered or not (so that a shutdown reaches the
// ones still in their handshake), the listener, the thread that dials remotes, and an
// orderly stop. Each manager derives from it and adds its remotes, its registry of
// registered links and its interest bookkeeping.
// Header only: a new library file would reshuffle the unity batches.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster/cluster_util.h"
#include "config/options.h"
#include "net/tls.h"
#include "net/event_loop.h"
#include "server/connection.h"

namespace nats {
class Server;
}

namespace nats::cluster {

template <class Conn>
class LinkManagerBase {
 public:
  // The accepting side's TLS (null without a `tls` block).
  const net::TlsContext* tls_context() const { return tls_.get(); }

 protected:
  // tls: the kind's block (cluster, gateway or leafnodes { tls }).
  LinkManagerBase(Server& s, const TlsOptions& tls) : server_(s) {
    if (tls.enabled) tls_ = std::make_unique<net::TlsContext>(tls.cert_file, tls.key_file, tls.ca_file, tls.verify);
  }
  ~LinkManagerBase() = default;

  // A new connection (dialled or accepted) joins the list and starts on `loop`; false when
  // the manager is stopping (then `c`, once released, closes its socket).
  bool adopt(net::EventLoop& loop, std::shared_ptr<Conn> c) {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return false;
      all_conns_.push_back(c);
    }
    loop.post([c] { c->start(); });
    return true;
  }
  // The same with mu_ held by the caller (a dialing loop that checked stopping_ itself).
  void adopt_locked(net::EventLoop& loop, std::shared_ptr<Conn> c) {
    all_conns_.push_back(c);
    loop.post([c] { c->start(); });
  }
  // A closed connection leaves the list; mu_ held.
  void forget_locked(const Conn* c) {
    std::erase_if(all_conns_, [c](const auto& x) { return x.get() == c; });
  }

  // Stops dialing (the solicitor thread is woken and joined), closes every connection and
  // the listener. Idempotent.
  void stop_links() {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (solicitor_.joinable()) solicitor_.join();
    std::vector<std::shared_ptr<Conn>> conns;
    {
      std::lock_guard lk(mu_);
      conns = all_conns_;
    }
    for (auto& c : conns) c->close(CloseReason::ServerShutdown);
    listener_.stop();
  }

  // A TCP connection to a remote's URL with the links' dial timeout; -1 on failure.
  static int dial(const PeerUrl& u) { return u.ok ? connect_with_timeout(u.host, u.port, kLinkDialTimeout) : -1; }

  Server& server_;
  std::unique_ptr<net::TlsContext> tls_;
  LinkListener listener_;
  // Guards stopping_ and all_conns_, and whatever the kind keeps with them (its remotes,
  // its registry): one lock, so that a dial and a shutdown cannot cross.
  mutable std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Conn>> all_conns_;  // registered or not
  std::condition_variable cv_;                    // wakes the solicitor (stop, a link closed)
  std::thread solicitor_;
};

}  // namespace nats::cluster
